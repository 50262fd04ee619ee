//! The event names in use, so that every page shows every message.
//!
//! A browser's `EventSource` hands a named event (`event: note`) only to a
//! listener registered for that name: a page that does not know the name
//! drops the message without a trace. So the chat keeps the names known:
//!
//! - **Announced in the log.** Before a message with a name that was not
//!   announced in the last [`REANNOUNCE_AFTER`], the chat publishes an
//!   [`ANNOUNCEMENT`] event whose data is the name, to the same topic. A
//!   page adds a listener while it handles the announcement, and the
//!   message, dispatched after it, finds it. Replay is the same read of the
//!   log, so a page that reconnects meets the announcement before the
//!   message too.
//! - **Recorded beside the log.** Once its announcement is in the log, a
//!   name is recorded with the time in the registry (`registry.rs`) of
//!   the chat's store (in this process, or in Redis beside the log, on
//!   Redis's clock), which forgets names after [`REMEMBERED`]. The registry
//!   decides whether a name needs an announcement, for every server on the
//!   store alike.
//! - **Told to a page that loads.** `GET /event-names` answers a position
//!   of the log this server has read up to, and the names recorded in the
//!   last [`REMEMBERED`] with those this server read in the log
//!   (`{"names": [...], "lastEventId": "<id>"}`). The page listens to those
//!   names, then opens its stream after that position.
//!
//! Why a page misses no message, even from a server that started after the
//! store trimmed a name's first announcement, or after Redis lost the
//! registry: a message's name was announced, and recorded, at most
//! [`REANNOUNCE_AFTER`] before its server asked the registry (or is
//! announced right then). A page streams after a position `P` its server
//! had read before it asked the registry. If the announcement is after
//! `P`, it is in the page's stream; if it is before, the server read it
//! (it is among the names it read) or, recorded at most
//! [`REANNOUNCE_AFTER`] before the message, it is still in the registry
//! (which keeps names for [`REMEMBERED`], leaving 50 minutes for a publish
//! that takes long). Only the registry's clock is compared with itself. An
//! announcement more is harmless (a page ignores a name it knows); one too
//! few would lose messages, which is why a name is recorded only after its
//! announcement is published: a request that fails or is dropped before
//! leaves the name to be announced next time.
//!
//! - **Bounded.** At most [`MAX_EVENT_NAMES`] names announced in the last
//!   [`REANNOUNCE_AFTER`] (as the registry has them): a message with a name
//!   that needs an announcement past that is refused with `409 Conflict`
//!   (the names in use still work), and a name unused for that long gives
//!   its place back. Requests announcing new names at the same moment can
//!   take the count past the bound by as many as there are. A name is at
//!   most [`MAX_EVENT_NAME_BYTES`] long (`400` beyond). A page lists at most
//!   the names announced in the last [`REMEMBERED`].

use std::time::Duration;

use futures_util::StreamExt;
use sse_engine::decode::{DecodedEvent, Decoder};
use sse_engine::hub::{Hub, Position, Subscription};
use sse_engine::{Event, LastEventId};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::registry::{Claim, NameRegistry};
use crate::{ChatError, TOPIC};

/// The event type of an announcement: its data is an event name that
/// messages use from then on. Reserved: no message may have it.
pub const ANNOUNCEMENT: &str = "event-name";

/// The most event names in use (announced in the last
/// [`REANNOUNCE_AFTER`]); see the [module docs](self).
pub const MAX_EVENT_NAMES: usize = 100;

/// The longest event name a message may have, in bytes: every page loads
/// the list of names, so a name is a word, not a payload.
pub const MAX_EVENT_NAME_BYTES: usize = 64;

/// How long after its last announcement a name may be used without
/// announcing it again; see the [module docs](self).
pub const REANNOUNCE_AFTER: Duration = Duration::from_secs(10 * 60);

/// How long the registry keeps a name, and a server the names it read, to
/// tell pages that load: [`REANNOUNCE_AFTER`] and a margin; see the
/// [module docs](self).
pub const REMEMBERED: Duration = Duration::from_secs(60 * 60);

/// How long `GET /event-names?lastEventId=<id>` waits for this server to
/// have read the log up to `<id>`.
const CATCH_UP: Duration = Duration::from_secs(1);

/// Whether messages named `name` need an announcement: a page always
/// listens to `message`, which is also what an empty name dispatches as.
pub(crate) fn needs_announcement(name: &str) -> bool {
    !name.is_empty() && name != "message"
}

/// The announcement of `name`.
pub(crate) fn announcement(name: &str) -> Event {
    Event::new().event(ANNOUNCEMENT).data(name.to_owned())
}

/// The event names of a chat; see the [module docs](self). Cheap to clone.
#[derive(Debug, Clone)]
pub(crate) struct EventNames {
    state: watch::Sender<State>,
    registry: NameRegistry,
}

/// What a server has read of the log.
#[derive(Debug)]
struct State {
    /// The names whose announcements this server read in the last
    /// [`REMEMBERED`] (by when it read them), in the order it first read
    /// them: told to pages with the registry's, so that a name recorded
    /// late is not missed.
    names: Vec<(String, Instant)>,
    /// The last event read.
    through: Position,
}

impl EventNames {
    /// Follows the chat's topic of `hub` from the start of its log, in a
    /// task of the current tokio runtime that ends when the hub closes;
    /// names are recorded in `registry`.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, or when the hub is closed already.
    pub(crate) fn follow(hub: &Hub, registry: NameRegistry) -> Self {
        let start = Position::new(hub.epoch(), 0);
        let subscription = hub
            .subscribe(&[TOPIC], cursor(start))
            .expect("a chat's hub is open when the chat starts");
        let (state, _) = watch::channel(State {
            names: Vec::new(),
            through: start,
        });
        let names = Self { state, registry };
        tokio::spawn(names.clone().read(hub.clone(), subscription));
        names
    }

    /// Reads the log for good: resubscribes after a closed topic, ends with
    /// the hub.
    async fn read(self, hub: Hub, mut subscription: Subscription) {
        let mut decoder = Decoder::new();
        loop {
            while let Some(event) = subscription.next().await {
                if decoder.push(event.as_bytes()).is_err() {
                    // Not an event stream the hub writes; start afresh.
                    decoder = Decoder::new();
                }
                while let Some(event) = decoder.next_event() {
                    self.state.send_modify(|state| state.read(&event));
                }
            }
            // The topic was closed (it is made again when next used), or
            // the hub: go on after what was read, or stop.
            let through = self.state.borrow().through;
            match hub.subscribe(&[TOPIC], cursor(through)) {
                Ok(next) => subscription = next,
                Err(_) => return,
            }
        }
    }

    /// Before a message named `name` is published: whether it needs an
    /// announcement first (then [`EventNames::record`] it once published).
    ///
    /// # Errors
    ///
    /// `409` when it needs one and [`MAX_EVENT_NAMES`] are in use; `503`
    /// when the registry cannot be reached.
    pub(crate) async fn needs_announcing(&self, name: &str) -> Result<bool, ChatError> {
        match self.registry.claim(name).await? {
            Claim::InUse => Ok(false),
            Claim::Announce => Ok(true),
            Claim::Full => Err(ChatError::too_many_names()),
        }
    }

    /// Records that `name`'s announcement is in the log. A failure is
    /// logged and otherwise harmless: the name is announced again next
    /// time, and this server, having published it, lists it to its pages.
    pub(crate) async fn record(&self, name: &str) {
        if let Err(error) = self.registry.record(name).await {
            tracing::warn!(
                name,
                reason = error.reason,
                "an event name was not recorded"
            );
        }
    }

    /// `{"names": [...], "lastEventId": "<id>"}`: the names a page must
    /// listen to before it opens its stream after the event `<id>`. With
    /// `after` (a client's cursor of this log), not before this server has
    /// read up to it, or for [`CATCH_UP`] at most.
    ///
    /// # Errors
    ///
    /// `503` when the registry cannot be reached.
    pub(crate) async fn snapshot(&self, after: Option<Position>) -> Result<String, ChatError> {
        if let Some(after) = after {
            let mut changes = self.state.subscribe();
            let caught_up = changes.wait_for(|state| {
                state.through.epoch() != after.epoch() || state.through.seq() >= after.seq()
            });
            let _ = tokio::time::timeout(CATCH_UP, caught_up).await;
        }
        // The position first, then the registry: a name recorded after it
        // was read is announced after the position.
        let (through, mut names) = {
            let state = self.state.borrow();
            let now = Instant::now();
            let names: Vec<String> = state
                .names
                .iter()
                .filter(|(_, read)| now.duration_since(*read) <= REMEMBERED)
                .map(|(name, _)| name.clone())
                .collect();
            (state.through, names)
        };
        for name in self.registry.recent().await? {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        Ok(serde_json::json!({
            "names": names,
            "lastEventId": through.to_string(),
        })
        .to_string())
    }
}

impl State {
    fn read(&mut self, event: &DecodedEvent) {
        if let Some(position) = Position::parse(event.last_event_id()) {
            self.through = position;
        }
        if event.event_type() != ANNOUNCEMENT {
            return;
        }
        let name = event.data();
        let now = Instant::now();
        match self.names.iter_mut().find(|(known, _)| known == name) {
            Some((_, read)) => *read = now,
            None => self.names.push((name.to_owned(), now)),
        }
        self.names
            .retain(|(_, read)| now.duration_since(*read) <= REMEMBERED);
    }
}

/// A position as the cursor to subscribe from.
fn cursor(position: Position) -> Option<LastEventId> {
    LastEventId::parse(position.to_string().as_bytes())
        .ok()
        .flatten()
}

/// The position a request's `lastEventId` query parameter names, if it is
/// one of a hub's.
pub(crate) fn requested(query: Option<&str>) -> Option<Position> {
    let id = LastEventId::from_parts(std::iter::empty(), query).ok()??;
    Position::parse(id.as_str())
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;
    use crate::Chat;

    /// Publishes a message as `POST /messages` does.
    async fn post(chat: &Chat, message: &str) {
        let answer = chat.post(Ok(message.as_bytes())).await;
        assert_eq!(answer.status, 200, "{}", answer.body);
    }

    /// What `names` says to a page that loads once it has read the whole
    /// log: the names, and the position to stream after.
    async fn snapshot(names: &EventNames, hub: &Hub) -> (HashSet<String>, Position) {
        let answer = names.snapshot(Some(hub.head())).await.unwrap();
        let answer: serde_json::Value = serde_json::from_str(&answer).unwrap();
        let known = answer["names"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap().to_owned())
            .collect();
        let after = Position::parse(answer["lastEventId"].as_str().unwrap()).unwrap();
        (known, after)
    }

    /// Every message a page reads after `after`, up to the head, has a name
    /// it listens to: `known`, or one announced in the stream before it.
    async fn a_page_shows_every_message(hub: &Hub, mut known: HashSet<String>, after: Position) {
        known.insert("message".to_owned());
        let mut stream = hub.subscribe(&[TOPIC], cursor(after)).unwrap();
        let mut decoder = Decoder::new();
        let head = hub.head();
        let mut read = after;
        while read.seq() < head.seq() {
            decoder
                .push(stream.next().await.unwrap().as_bytes())
                .unwrap();
            while let Some(event) = decoder.next_event() {
                read = Position::parse(event.last_event_id()).unwrap();
                if event.event_type() == ANNOUNCEMENT {
                    known.insert(event.data().to_owned());
                } else {
                    assert!(
                        known.contains(event.event_type()),
                        "the page drops {:?} ({}): it does not listen to {:?}",
                        event.data(),
                        event.last_event_id(),
                        event.event_type(),
                    );
                }
            }
        }
    }

    /// Two servers on one log and one registry (as two processes on one
    /// Redis); the second starts after the first announcement of a name
    /// has left the log. A page that loads from it listens to the name:
    /// the registry has it.
    #[tokio::test]
    async fn a_server_that_starts_late_misses_no_name_in_use() {
        let hub = crate::hub();
        let registry = NameRegistry::local();
        let first = Chat::with_registry(hub.clone(), registry.clone());
        post(&first, r#"{"data":"hello","event":"note"}"#).await;
        // More than the log keeps (1,000 events).
        for _ in 0..1_200 {
            post(&first, r#"{"data":"filler"}"#).await;
        }
        let _ = snapshot(&first.names, &hub).await;
        let late = EventNames::follow(&hub, registry);
        let (known, after) = snapshot(&late, &hub).await;
        post(&first, r#"{"data":"again","event":"note"}"#).await;
        a_page_shows_every_message(&hub, known, after).await;
    }

    /// A name unused for [`REANNOUNCE_AFTER`] no longer counts against
    /// [`MAX_EVENT_NAMES`], and is announced again before its next message;
    /// pages that load after the registry forgot it still show that
    /// message.
    #[tokio::test(start_paused = true)]
    async fn names_out_of_use_give_their_place_back() {
        let hub = crate::hub();
        let chat = Chat::new(hub.clone());
        for n in 0..MAX_EVENT_NAMES {
            post(&chat, &format!(r#"{{"data":"x","event":"name-{n}"}}"#)).await;
        }
        let _ = snapshot(&chat.names, &hub).await;
        let refused = chat
            .post(Ok(br#"{"data":"x","event":"one-too-many"}"#))
            .await;
        assert_eq!(refused.status, 409, "{}", refused.body);

        tokio::time::advance(REANNOUNCE_AFTER + Duration::from_secs(1)).await;
        post(&chat, r#"{"data":"x","event":"one-too-many"}"#).await;
        let (known, after) = snapshot(&chat.names, &hub).await;
        assert!(known.contains("name-0") && known.contains("one-too-many"));
        post(&chat, r#"{"data":"x","event":"name-0"}"#).await;
        a_page_shows_every_message(&hub, known, after).await;

        tokio::time::advance(REMEMBERED).await;
        let (known, after) = snapshot(&chat.names, &hub).await;
        assert!(!known.contains("name-1"), "forgotten: {known:?}");
        post(&chat, r#"{"data":"x","event":"name-1"}"#).await;
        a_page_shows_every_message(&hub, known, after).await;
    }

    /// A server that starts while an old announcement is still in the log
    /// reads it then, long after it was published: that does not make the
    /// name count as announced for it. A page that loads on the first
    /// server after the registry forgot the name still shows a message the
    /// late server posts with it. (Found by review: the decision was once
    /// made on when a server read the announcement.)
    #[tokio::test(start_paused = true)]
    async fn an_old_announcement_read_late_is_not_taken_as_new() {
        let hub = crate::hub();
        let registry = NameRegistry::local();
        let first = Chat::with_registry(hub.clone(), registry.clone());
        post(&first, r#"{"data":"hello","event":"note"}"#).await;
        let _ = snapshot(&first.names, &hub).await;

        tokio::time::advance(Duration::from_secs(59 * 60)).await;
        let late = Chat::with_registry(hub.clone(), registry.clone());
        let _ = snapshot(&late.names, &hub).await;

        tokio::time::advance(Duration::from_secs(6 * 60)).await;
        let (known, after) = snapshot(&first.names, &hub).await;
        post(&late, r#"{"data":"again","event":"note"}"#).await;
        a_page_shows_every_message(&hub, known, after).await;
    }

    /// A request that asks and then fails or is dropped before its
    /// announcement is published leaves no trace: the name is announced
    /// by the next message that uses it.
    #[tokio::test]
    async fn a_name_is_recorded_only_once_announced() {
        let hub = crate::hub();
        let chat = Chat::new(hub.clone());
        assert!(chat.names.needs_announcing("note").await.unwrap());
        // Dropped here: no announcement, nothing recorded.
        let (known, after) = snapshot(&chat.names, &hub).await;
        assert!(known.is_empty());
        post(&chat, r#"{"data":"x","event":"note"}"#).await;
        a_page_shows_every_message(&hub, known, after).await;
        assert!(!chat.names.needs_announcing("note").await.unwrap());
    }
}

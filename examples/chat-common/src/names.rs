//! The event names in use, so that every page shows every message.
//!
//! A browser's `EventSource` hands a named event (`event: note`) only to a
//! listener registered for that name: a page that does not know the name
//! drops the message without a trace. So the chat keeps the names known:
//!
//! - **Announced in the log.** Before a message with a name that is new to
//!   its server, or whose last announcement that server read more than
//!   [`REANNOUNCE_AFTER`] ago, the chat publishes an [`ANNOUNCEMENT`] event
//!   whose data is the name, to the same topic. A page adds a listener
//!   while it handles the announcement, and the message, dispatched after
//!   it, finds it. Replay is the same read of the log, so a page that
//!   reconnects meets the announcement before the message too.
//! - **Recorded where the log is.** Before its announcement is published, a
//!   name is recorded in the [registry](crate::registry) of the chat's
//!   store (in memory, or in Redis beside the log) with the time, and the
//!   registry forgets names unused for [`REMEMBERED`].
//! - **Told to a page that loads.** `GET /event-names` answers the names
//!   recorded in the last [`REMEMBERED`] and those this server read in the
//!   log in that time, and a position of the log up to which it has read
//!   (`{"names": [...], "lastEventId": "<id>"}`). The page listens to those
//!   names, then opens its stream after that position.
//! - **Learned from the log, not from the requests.** Each server follows
//!   the topic with a subscription of its own and learns the names from the
//!   announcements it reads, its own and those of other servers on the same
//!   store.
//!
//! Why a page misses no message, even from a server that started after the
//! store trimmed a name's first announcement: a name is recorded before its
//! announcement is in the log, and its server announces it again once it
//! has gone [`REANNOUNCE_AFTER`] without reading an announcement of it. A
//! message's name was therefore recorded at most that long before the
//! message (plus how far its server's reading lagged behind the log, for
//! which [`REMEMBERED`] leaves 50 minutes). A page that streams after
//! position `P` was told every name recorded before its server read `P`
//! and recorded in the last [`REMEMBERED`]; a name recorded later is
//! announced after `P`, in its stream. An announcement more is harmless (a
//! page ignores a name it knows); one too few would lose messages.
//!
//! - **Bounded.** At most [`MAX_EVENT_NAMES`] names announced in the last
//!   [`REANNOUNCE_AFTER`] as a server has read them: a message with a name
//!   past that is refused with `409 Conflict` (the names in use still
//!   work), and a name unused for that long gives its place back. Several
//!   servers on one store, each checking what it has read, can take the
//!   count a little past the bound together. A request that fails, or
//!   whose client goes away, before its announcement is published gives its
//!   place back. A name is at most [`MAX_EVENT_NAME_BYTES`] long (`400`
//!   beyond).

use std::time::Duration;

use futures_util::StreamExt;
use sse_engine::decode::{DecodedEvent, Decoder};
use sse_engine::hub::{Hub, Position, Subscription};
use sse_engine::{Event, LastEventId};
use tokio::sync::watch;
use tokio::time::Instant;

use crate::registry::NameRegistry;
use crate::{ChatError, TOPIC};

/// The event type of an announcement: its data is an event name that
/// messages use from then on. Reserved: no message may have it.
pub const ANNOUNCEMENT: &str = "event-name";

/// The most event names a chat announces; see the [module docs](self).
pub const MAX_EVENT_NAMES: usize = 100;

/// The longest event name a message may have, in bytes: every page loads
/// the list of names, so a name is a word, not a payload.
pub const MAX_EVENT_NAME_BYTES: usize = 64;

/// How long after a server read a name's last announcement it may use the
/// name without announcing it again; see the [module docs](self).
pub const REANNOUNCE_AFTER: Duration = Duration::from_secs(10 * 60);

/// How long the names recorded and read are told to pages that load; see
/// the [module docs](self). [`REANNOUNCE_AFTER`] and a margin for a server
/// whose reading lags behind the log.
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
    /// [`REMEMBERED`], in the order it first read them, each with when it
    /// read the latest.
    names: Vec<(String, Instant)>,
    /// The last event read.
    through: Position,
    /// New names this server is announcing, not read back yet, with how
    /// many requests hold a place for each: counted against the bound
    /// until read back, or until the last of them gives its place back.
    announcing: Vec<(String, usize)>,
}

impl EventNames {
    /// Follows the chat's topic of `hub` from the start of its log, in a
    /// task of the current tokio runtime that ends when the hub closes;
    /// records new names in `registry`.
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
            announcing: Vec::new(),
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

    /// Before a message named `name` is published: `None` when the name is
    /// known, or a place among the names being announced, which the
    /// caller announces (and gives back by dropping it, if it does not).
    ///
    /// # Errors
    ///
    /// `409` when the name needs an announcement and [`MAX_EVENT_NAMES`]
    /// are in use.
    pub(crate) fn before_use(&self, name: &str) -> Result<Option<Place>, ChatError> {
        let mut answer = Ok(None);
        self.state.send_if_modified(|state| {
            let now = Instant::now();
            if state.is_in_use(name, now) {
                return false;
            }
            if let Some((_, holders)) = state.announcing.iter_mut().find(|(new, _)| new == name) {
                // Being announced by another request, perhaps not yet in
                // the log: announce it again rather than overtake it.
                *holders += 1;
            } else if state.in_use(now) + state.announcing.len() >= MAX_EVENT_NAMES {
                answer = Err(ChatError::too_many_names());
                return false;
            } else {
                state.announcing.push((name.to_owned(), 1));
            }
            answer = Ok(Some(Place {
                names: self.clone(),
                name: name.to_owned(),
                announced: false,
            }));
            false
        });
        answer
    }

    /// Records `name` in the registry, before its announcement is
    /// published.
    ///
    /// # Errors
    ///
    /// `503` when the registry cannot be reached.
    pub(crate) async fn record(&self, name: &str) -> Result<(), ChatError> {
        self.registry.record(name).await
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
        self.announcing.retain(|(new, _)| new != name);
        match self.names.iter_mut().find(|(known, _)| known == name) {
            Some((_, read)) => *read = now,
            None => self.names.push((name.to_owned(), now)),
        }
        // The list holds what a page may still be told: the names read in
        // the last `REMEMBERED`.
        self.names
            .retain(|(_, read)| now.duration_since(*read) <= REMEMBERED);
    }

    /// Whether `name` may be used without an announcement: this server read
    /// one in the last [`REANNOUNCE_AFTER`].
    fn is_in_use(&self, name: &str, now: Instant) -> bool {
        self.names
            .iter()
            .any(|(known, read)| known == name && now.duration_since(*read) <= REANNOUNCE_AFTER)
    }

    /// The names announced in the last [`REANNOUNCE_AFTER`].
    fn in_use(&self, now: Instant) -> usize {
        self.names
            .iter()
            .filter(|(_, read)| now.duration_since(*read) <= REANNOUNCE_AFTER)
            .count()
    }
}

/// A request's place among the names being announced
/// ([`EventNames::before_use`]): given back when dropped before
/// [`Place::announced`], whether the request failed or was dropped itself
/// (its client went away), so that no request keeps a place it did not use.
#[derive(Debug)]
pub(crate) struct Place {
    names: EventNames,
    name: String,
    announced: bool,
}

impl Place {
    pub(crate) fn name(&self) -> &str {
        &self.name
    }

    /// The announcement is in the log: the place goes when it is read back.
    pub(crate) fn announced(mut self) {
        self.announced = true;
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if self.announced {
            return;
        }
        self.names.state.send_if_modified(|state| {
            if let Some(index) = state
                .announcing
                .iter()
                .position(|(new, _)| *new == self.name)
            {
                let holders = &mut state.announcing[index].1;
                *holders -= 1;
                if *holders == 0 {
                    state.announcing.remove(index);
                }
            }
            false
        });
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

    /// Places held by requests count against the bound until they are
    /// announced or given back; a request dropped before its announcement
    /// (its client went away) gives its place back, and one of several
    /// requests announcing the same name does not free the others' place.
    #[tokio::test]
    async fn places_not_announced_are_given_back() {
        let hub = crate::hub();
        let names = EventNames::follow(&hub, NameRegistry::local());
        let mut places: Vec<Place> = (0..MAX_EVENT_NAMES)
            .map(|n| names.before_use(&format!("name-{n}")).unwrap().unwrap())
            .collect();
        let refused = names.before_use("one-too-many").unwrap_err();
        assert_eq!(refused.status, 409);

        // A second request for a name being announced holds it too.
        let again = names.before_use("name-0").unwrap().unwrap();
        drop(places.remove(0));
        assert_eq!(names.before_use("one-too-many").unwrap_err().status, 409);
        drop(again);
        let new = names
            .before_use("one-too-many")
            .unwrap()
            .expect("a place is free");

        // An announced place stays until the announcement is read back.
        new.announced();
        assert_eq!(names.before_use("yet-another").unwrap_err().status, 409);
    }
}

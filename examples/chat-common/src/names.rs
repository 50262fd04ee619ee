//! The event names in use, so that every page shows every message.
//!
//! A browser's `EventSource` hands a named event (`event: note`) only to a
//! listener registered for that name: a page that does not know the name
//! drops the message without a trace. So the chat keeps the names known:
//!
//! - **Announced in the log.** Before the first message with a new name, the
//!   chat publishes an [`ANNOUNCEMENT`] event whose data is the name, to the
//!   same topic. A page adds a listener while it handles the announcement,
//!   and the message, dispatched after it, finds it. Replay is the same read
//!   of the log, so a page that reconnects meets the announcement before the
//!   message too.
//! - **Told to a page that loads.** `GET /event-names` answers the names
//!   announced up to a position of the log, and that position
//!   (`{"names": [...], "lastEventId": "<id>"}`). The page listens to those
//!   names, then opens its stream after that position: every announcement it
//!   was not told of is in the stream.
//! - **Learned from the log, not from the requests.** Each server follows
//!   the topic with a subscription of its own and learns the names from the
//!   announcements it reads, its own and those of other servers on the same
//!   store. "Known" means "announced in the log before this position",
//!   whoever published it. A name it has not read yet is announced again:
//!   an announcement more is harmless, one too few would lose messages.
//! - **Bounded.** At most [`MAX_EVENT_NAMES`] names: a message with a new
//!   name past that is refused with `409 Conflict` (the names in use still
//!   work). Several servers on one store, each checking what it has read,
//!   can take the count a little past the bound together. A request that
//!   fails, or whose client goes away, before its announcement is
//!   published gives its place back. A name is at most
//!   [`MAX_EVENT_NAME_BYTES`] long (`400` beyond).

use std::time::Duration;

use futures_util::StreamExt;
use sse_engine::decode::{DecodedEvent, Decoder};
use sse_engine::hub::{Hub, Position, Subscription};
use sse_engine::{Event, LastEventId};
use tokio::sync::watch;

use crate::{ChatError, TOPIC};

/// The event type of an announcement: its data is an event name that
/// messages use from then on. Reserved: no message may have it.
pub const ANNOUNCEMENT: &str = "event-name";

/// The most event names a chat announces; see the [module docs](self).
pub const MAX_EVENT_NAMES: usize = 100;

/// The longest event name a message may have, in bytes: every page loads
/// the list of names, so a name is a word, not a payload.
pub const MAX_EVENT_NAME_BYTES: usize = 64;

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
}

/// What a server has read of the log.
#[derive(Debug)]
struct State {
    /// Every name announced up to `through`, in the order of their first
    /// announcement.
    names: Vec<String>,
    /// The last event read.
    through: Position,
    /// New names this server is announcing, not read back yet, with how
    /// many requests hold a place for each: counted against the bound
    /// until read back, or until the last of them gives its place back.
    announcing: Vec<(String, usize)>,
}

impl EventNames {
    /// Follows the chat's topic of `hub` from the start of its log, in a
    /// task of the current tokio runtime that ends when the hub closes.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime, or when the hub is closed already.
    pub(crate) fn follow(hub: &Hub) -> Self {
        let start = Position::new(hub.epoch(), 0);
        let subscription = hub
            .subscribe(&[TOPIC], cursor(start))
            .expect("a chat's hub is open when the chat starts");
        let (state, _) = watch::channel(State {
            names: Vec::new(),
            through: start,
            announcing: Vec::new(),
        });
        let names = Self { state };
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
    /// `409` when the name is new and [`MAX_EVENT_NAMES`] are in use.
    pub(crate) fn before_use(&self, name: &str) -> Result<Option<Place>, ChatError> {
        let mut answer = Ok(None);
        self.state.send_if_modified(|state| {
            if state.names.iter().any(|known| known == name) {
                return false;
            }
            if let Some((_, holders)) = state.announcing.iter_mut().find(|(new, _)| new == name) {
                // Being announced by another request, perhaps not yet in
                // the log: announce it again rather than overtake it.
                *holders += 1;
            } else if state.names.len() + state.announcing.len() >= MAX_EVENT_NAMES {
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

    /// `{"names": [...], "lastEventId": "<id>"}`: the names announced up to
    /// the event `<id>`. With `after` (a client's cursor of this log), not
    /// before this server has read up to it, or for [`CATCH_UP`] at most.
    pub(crate) async fn snapshot(&self, after: Option<Position>) -> String {
        if let Some(after) = after {
            let mut changes = self.state.subscribe();
            let caught_up = changes.wait_for(|state| {
                state.through.epoch() != after.epoch() || state.through.seq() >= after.seq()
            });
            let _ = tokio::time::timeout(CATCH_UP, caught_up).await;
        }
        let state = self.state.borrow();
        serde_json::json!({
            "names": state.names,
            "lastEventId": state.through.to_string(),
        })
        .to_string()
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
        self.announcing.retain(|(new, _)| new != name);
        if !self.names.iter().any(|known| known == name) {
            self.names.push(name.to_owned());
        }
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
    use super::*;

    /// Places held by requests count against the bound until they are
    /// announced or given back; a request dropped before its announcement
    /// (its client went away) gives its place back, and one of several
    /// requests announcing the same name does not free the others' place.
    #[tokio::test]
    async fn places_not_announced_are_given_back() {
        let hub = crate::hub();
        let names = EventNames::follow(&hub);
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

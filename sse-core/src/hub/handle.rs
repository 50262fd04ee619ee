//! [`Hub`]: a cloneable handle to named topics; publishing, subscribing, closing.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::shared::Shared;
use super::{Epoch, HubStats, Position, SubscribeError, Subscription, TopicStats};
use crate::{Event, LastEventId, RequestCursor};

/// Publish once, deliver to every subscriber, resume from `Last-Event-ID`.
///
/// A hub holds named topics. Each topic is a bounded log of encoded events;
/// a subscriber is a cursor into the logs of its topics, so replaying what a
/// reconnecting client missed and delivering live events are the same read,
/// with no window in between. A subscriber that reads slowly costs nothing but
/// its cursor, and never slows the publisher. See the [module docs](super).
///
/// Cloning a hub is cheap: clones share the topics.
#[derive(Clone)]
pub struct Hub {
    pub(crate) inner: Arc<Shared>,
}

impl Default for Hub {
    fn default() -> Self {
        Self::new()
    }
}

impl Hub {
    /// A hub with default limits that creates topics when they are first used.
    pub fn new() -> Self {
        Self::builder().build()
    }

    /// This hub's epoch: the first part of every id it gives.
    pub fn epoch(&self) -> Epoch {
        self.inner.epoch()
    }

    /// The position of the newest event this hub's subscribers can read
    /// now: every event up to it is in its topics' logs, and a subscription
    /// with this cursor receives only what comes after. With a shared store,
    /// the newest event its feed has brought so far.
    ///
    /// It is what a "state, then stream" page needs: answer a snapshot with
    /// this position, and the page opens its stream after it, missing
    /// nothing and reading nothing twice. It is also where a reader that
    /// wants the last few events starts: `head.seq() - n`.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use sse_engine::Event;
    /// use sse_engine::hub::{Hub, Position};
    ///
    /// let hub = Hub::new();
    /// assert_eq!(hub.head(), Position::new(hub.epoch(), 0));
    /// let id = hub.publish("news", Event::new().data("one")).await.unwrap();
    /// assert_eq!(hub.head(), id);
    /// # }
    /// ```
    pub fn head(&self) -> Position {
        Position::new(self.epoch(), self.inner.head())
    }

    /// Subscribes to `topics`, resuming strictly after `last_event_id` when
    /// the client sent one; see [`Subscription`].
    ///
    /// - No cursor: the subscription starts with the next event published.
    /// - A cursor of this hub still covered by the log: every event after it,
    ///   then live events, with nothing lost or repeated in between.
    /// - A cursor whose events were evicted, from another epoch, or never
    ///   issued: a [`Gap`](super::Gap) signal first, then live events (never
    ///   the whole log).
    ///
    /// # Errors
    ///
    /// When no topic is named, a name is invalid (or unknown, for a hub that
    /// does not create topics), or the hub is closed.
    pub fn subscribe(
        &self,
        topics: &[&str],
        last_event_id: Option<LastEventId>,
    ) -> Result<Subscription, SubscribeError> {
        let cursor = match last_event_id {
            Some(id) => RequestCursor::Valid(id),
            None => RequestCursor::Absent,
        };
        self.subscribe_with(topics, cursor)
    }

    /// Subscribes to `topics` for a request: its cursor is read with
    /// [`LastEventId::from_request`] (header, or else query parameter). A
    /// cursor that is present but unusable (too long, not UTF-8, repeated)
    /// is treated like an unknown one: the client gets a gap signal, not a
    /// silent fresh start.
    ///
    /// ```
    /// use http::{HeaderMap, Uri};
    /// use sse_engine::hub::Hub;
    ///
    /// let hub = Hub::new();
    /// let uri: Uri = "/events?lastEventId=abc".parse().unwrap();
    /// let subscription = hub.subscribe_request(&["chat"], &HeaderMap::new(), &uri).unwrap();
    /// # drop(subscription);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Hub::subscribe`].
    pub fn subscribe_request(
        &self,
        topics: &[&str],
        headers: &http::HeaderMap,
        uri: &http::Uri,
    ) -> Result<Subscription, SubscribeError> {
        self.subscribe_with(topics, RequestCursor::from_request(headers, uri))
    }

    /// Subscribes to `topics` for a cursor already read from a request (by
    /// the `sse-tower` layer, or an extractor). An [`Invalid`](RequestCursor::Invalid)
    /// cursor gets a gap signal, as in [`Hub::subscribe_request`].
    ///
    /// # Errors
    ///
    /// As [`Hub::subscribe`].
    pub fn subscribe_with(
        &self,
        topics: &[&str],
        cursor: RequestCursor,
    ) -> Result<Subscription, SubscribeError> {
        if let RequestCursor::Invalid(error) = &cursor {
            tracing::debug!(%error, "unusable Last-Event-ID; the client is told of a gap");
        }
        if self.inner.is_closed() {
            return Err(SubscribeError::Closed);
        }
        let topics = self
            .inner
            .resolve(topics)
            .map_err(SubscribeError::InvalidTopic)?;
        let subscription = Subscription::new(self.inner.clone(), topics, cursor);
        if let Err(SubscribeError::Full { limit, topic }) = &subscription {
            self.inner.count_refusal(topic.is_some());
            tracing::debug!(limit, topic, "subscription refused: full");
        }
        subscription
    }

    /// Counters and gauges of the hub. Deliveries are counted by each
    /// subscriber on its own (no counter shared by all of them on the hot
    /// path) and summed here: a call takes time in proportion to the
    /// subscribers alive.
    pub fn stats(&self) -> HubStats {
        self.inner.stats()
    }

    /// The names of the topics that exist now.
    pub fn topic_names(&self) -> Vec<String> {
        self.inner.topic_names()
    }

    /// The size of a topic's log and its subscribers, if the topic exists.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use sse_engine::Event;
    /// use sse_engine::hub::Hub;
    ///
    /// let hub = Hub::new();
    /// hub.publish("news", Event::new().data("hello")).await.unwrap();
    /// let news = hub.topic_stats("news").unwrap();
    /// assert_eq!((news.events, news.subscribers), (1, 0));
    /// assert!(hub.topic_stats("sports").is_none());
    /// # }
    /// ```
    pub fn topic_stats(&self, name: &str) -> Option<TopicStats> {
        let topic = self.inner.topic(name)?;
        let state = topic.lock();
        Some(TopicStats {
            events: state.len(),
            bytes: state.bytes(),
            subscribers: state.subscribers(),
        })
    }

    /// Events and encoded bytes in a topic's log, and its subscribers.
    #[deprecated(
        since = "0.1.0",
        note = "use `topic_stats`, which names the three sizes"
    )]
    pub fn topic_len(&self, name: &str) -> Option<(usize, usize, usize)> {
        let stats = self.topic_stats(name)?;
        Some((stats.events, stats.bytes, stats.subscribers))
    }

    /// Closes one topic: its subscribers receive what they have not read yet,
    /// then the stream ends. The name can be used again, for a new topic.
    pub fn close_topic(&self, name: &str) {
        if let Some(woken) = self.inner.close_topic(name) {
            tracing::debug!(topic = name, woken, "topic closed");
        }
    }

    /// Ends topic `name` for good: its subscribers receive what they have
    /// not read yet, then their streams end, as with [`Hub::close_topic`];
    /// but the name is not used again. A client that comes back for it is
    /// refused with [`TopicError::Ended`](super::TopicError::Ended), which
    /// an endpoint answers with `204 No Content`: the WHATWG way to tell an
    /// `EventSource` to stop reconnecting. A publish to it fails the same
    /// way (`410 Gone` over HTTP). It may be called before the topic exists.
    ///
    /// In this process only (a hub on a shared store tells its other
    /// processes nothing), and for the newest ended names up to the hub's
    /// limit on topics ([`HubBuilder::max_topics`](super::HubBuilder::max_topics)):
    /// each costs its name, and the oldest is forgotten past that.
    ///
    /// ```
    /// use sse_engine::hub::{Hub, SubscribeError, TopicError};
    ///
    /// let hub = Hub::new();
    /// let _live = hub.subscribe(&["auction-17"], None).unwrap();
    /// hub.end_topic("auction-17");
    /// let refused = hub.subscribe(&["auction-17"], None).unwrap_err();
    /// assert_eq!(refused.status(), http::StatusCode::NO_CONTENT);
    /// assert!(matches!(refused, SubscribeError::InvalidTopic(TopicError::Ended(_))));
    /// ```
    pub fn end_topic(&self, name: &str) {
        let woken = self.inner.end_topic(name);
        tracing::debug!(topic = name, woken = ?woken, "topic ended for good");
    }

    /// Closes the hub: nothing more is published, every subscriber receives
    /// what it has not read yet, then `final_event` if there is one, then its
    /// stream ends.
    pub fn close(&self, final_event: Option<Event>) {
        let woken = self.inner.close(final_event.map(Event::encode));
        tracing::info!(woken, "hub closed");
    }

    /// Closes the hub, then waits until every subscription is gone (their
    /// clients have received the end of the stream) or `grace` has passed.
    /// Returns the subscriptions still open after the grace period.
    pub async fn shutdown(&self, final_event: Option<Event>, grace: Duration) -> usize {
        self.close(final_event);
        let deadline = Instant::now() + grace;
        loop {
            let idle = self.inner.idle();
            if self.inner.subscribers() == 0 {
                return 0;
            }
            if tokio::time::timeout_at(deadline, idle).await.is_err() {
                let open = self.inner.subscribers();
                tracing::warn!(
                    open,
                    "hub shutdown: grace period over with subscriptions open"
                );
                return open;
            }
        }
    }
}

impl fmt::Debug for Hub {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Hub")
            .field("epoch", &self.inner.epoch())
            .field("limits", self.inner.limits())
            .field("stats", &self.stats())
            .finish_non_exhaustive()
    }
}

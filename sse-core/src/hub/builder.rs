//! [`HubBuilder`]: how a [`Hub`] is configured and built.

use std::fmt;
use std::sync::Arc;

use super::shared::{Settings, Shared};
use super::{Epoch, Hub, LagPolicy, LogLimits, MemoryStore, Store};
use crate::{IntoText, InvalidField, Text};

impl Hub {
    /// Configures a hub.
    pub fn builder() -> HubBuilder {
        HubBuilder {
            settings: Settings {
                limits: LogLimits::new(),
                lag_policy: LagPolicy::default(),
                gap_event: Text::from_static("gap"),
                create_topics: true,
                max_topics: 10_000,
                max_subscribers: usize::MAX,
                max_subscribers_per_topic: usize::MAX,
            },
            store: None,
            topics: Vec::new(),
        }
    }
}

/// Configures a [`Hub`].
///
/// ```
/// use sse_engine::hub::{Hub, LagPolicy, LogLimits};
///
/// let hub = Hub::builder()
///     .log_limits(LogLimits::new().max_events(500))
///     .lag_policy(LagPolicy::Close)
///     .create_topics(false)
///     .topic("news")
///     .build();
/// assert!(hub.topic_names().contains(&"news".to_owned()));
/// ```
#[must_use]
pub struct HubBuilder {
    settings: Settings,
    store: Option<Arc<dyn Store>>,
    topics: Vec<Text>,
}

impl fmt::Debug for HubBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HubBuilder")
            .field("limits", &self.settings.limits)
            .field("lag_policy", &self.settings.lag_policy)
            .field("create_topics", &self.settings.create_topics)
            .field("max_topics", &self.settings.max_topics)
            .field("max_subscribers", &self.settings.max_subscribers)
            .field(
                "max_subscribers_per_topic",
                &self.settings.max_subscribers_per_topic,
            )
            .field("epoch", &self.store.as_ref().map(|store| store.epoch()))
            .finish_non_exhaustive()
    }
}

impl HubBuilder {
    /// Bounds of every topic's log.
    pub fn log_limits(mut self, limits: LogLimits) -> Self {
        self.settings.limits = limits;
        self
    }

    /// What happens to subscribers the log overtakes.
    pub fn lag_policy(mut self, policy: LagPolicy) -> Self {
        self.settings.lag_policy = policy;
        self
    }

    /// The event name of the gap signal (`gap` unless set).
    ///
    /// # Errors
    ///
    /// When the name holds a line break.
    pub fn gap_event_name(mut self, name: impl IntoText) -> Result<Self, InvalidField> {
        let name = Text::new(name);
        crate::field::check_single_line(crate::FieldName::Event, &name)?;
        self.settings.gap_event = name;
        Ok(self)
    }

    /// Whether publishing or subscribing to a topic that does not exist
    /// creates it (yes unless set). When not, only topics made with
    /// [`HubBuilder::topic`] exist, and naming another one is an error.
    pub fn create_topics(mut self, create: bool) -> Self {
        self.settings.create_topics = create;
        self
    }

    /// The most topics the hub holds (10,000 unless set), so that clients
    /// naming topics cannot grow it without bound.
    pub fn max_topics(mut self, max: usize) -> Self {
        self.settings.max_topics = max;
        self
    }

    /// The most subscriptions the hub admits at once (no limit unless set).
    /// Past it, [`Hub::subscribe`](super::Hub::subscribe) refuses with
    /// [`SubscribeError::Full`](super::SubscribeError::Full): no
    /// subscription is made, the refusal is counted
    /// ([`HubStats::refused`](super::HubStats::refused)), and an endpoint
    /// answers `503` with a `Retry-After` spread at random, so that the
    /// clients refused together do not come back together.
    ///
    /// A browser's `EventSource` takes a `503` as final: it closes and does
    /// not reconnect by itself (it cannot read `Retry-After`). A page that
    /// should come back opens a new `EventSource` after a while when the
    /// old one's `readyState` is `CLOSED` (the chat example's page does).
    ///
    /// ```
    /// use sse_engine::hub::{Hub, SubscribeError};
    ///
    /// let hub = Hub::builder().max_subscribers(1).build();
    /// let first = hub.subscribe(&["news"], None).unwrap();
    /// let refused = hub.subscribe(&["news"], None).unwrap_err();
    /// assert!(matches!(refused, SubscribeError::Full { limit: 1, .. }));
    /// assert_eq!(refused.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    /// drop(first);
    /// assert!(hub.subscribe(&["news"], None).is_ok());
    /// assert_eq!(hub.stats().refused, 1);
    /// ```
    pub fn max_subscribers(mut self, max: usize) -> Self {
        self.settings.max_subscribers = max;
        self
    }

    /// The most subscriptions each topic admits at once (no limit unless
    /// set); as [`HubBuilder::max_subscribers`], for one topic. A
    /// subscription to several topics is refused when any of them is full.
    pub fn max_subscribers_per_topic(mut self, max: usize) -> Self {
        self.settings.max_subscribers_per_topic = max;
        self
    }

    /// Creates a topic now. Names that are empty or too long are ignored.
    pub fn topic(mut self, name: impl IntoText) -> Self {
        self.topics.push(Text::new(name));
        self
    }

    /// Uses a [`MemoryStore`] with a given epoch instead of a random one
    /// (for tests, mostly). Replaces a store set before.
    pub fn epoch(mut self, epoch: Epoch) -> Self {
        self.store = Some(Arc::new(MemoryStore::with_epoch(epoch)));
        self
    }

    /// Where ids come from and old events are replayed from (a
    /// [`MemoryStore`] unless set). The hub's epoch is the store's.
    pub fn store(mut self, store: impl Store) -> Self {
        self.store = Some(Arc::new(store));
        self
    }

    /// The hub.
    ///
    /// # Panics
    ///
    /// With a store that has a [feed](Store::feed), outside a tokio runtime:
    /// the feed runs on it.
    pub fn build(self) -> Hub {
        let store = self.store.unwrap_or_else(|| Arc::new(MemoryStore::new()));
        // The head before the feed, as the Store docs' order has it.
        let head = store.head();
        let feed = store.feed();
        let shared = Arc::new(Shared::new(
            store,
            head,
            self.settings,
            self.topics,
            feed.is_some(),
        ));
        if let Some(feed) = feed {
            tokio::spawn(super::feed::run(Arc::downgrade(&shared), feed));
        }
        Hub { inner: shared }
    }
}

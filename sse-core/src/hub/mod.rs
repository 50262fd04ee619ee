//! Publish once, deliver to every subscriber, resume exactly from
//! `Last-Event-ID`.
//!
//! ```
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! use futures_util::StreamExt;
//! use sse_engine::hub::Hub;
//! use sse_engine::{Event, LastEventId};
//!
//! let hub = Hub::new();
//! let first = hub.publish("chat", Event::new().data("hello")).await.unwrap();
//! hub.publish("chat", Event::new().data("missed while away")).await.unwrap();
//!
//! // A client that reconnects with the id of the first event...
//! let cursor = LastEventId::parse(first.to_string().as_bytes()).unwrap();
//! let mut events = hub.subscribe(&["chat"], cursor).unwrap();
//! // ...gets what came after it, then live events.
//! let replayed = events.next().await.unwrap();
//! assert!(replayed.as_bytes().ends_with(b"data: missed while away\n\n"));
//! # }
//! ```
//!
//! # In a server
//!
//! ```
//! use sse_engine::Event;
//! use sse_engine::hub::{Hub, PublishError, SubscribeError};
//!
//! /// `GET /events`: resumes from the request's `Last-Event-ID` (or `?lastEventId=`).
//! fn events(
//!     hub: &Hub,
//!     request: &http::request::Parts,
//! ) -> Result<http::Response<impl http_body::Body>, SubscribeError> {
//!     let subscription = hub.subscribe_request(&["chat"], &request.headers, &request.uri)?;
//!     Ok(subscription.into_body().into_response())
//! }
//!
//! /// Anywhere else: publish once, to every subscriber; the id is the hub's.
//! async fn say_hello(hub: &Hub) -> Result<String, PublishError> {
//!     let id = hub.publish("chat", Event::new().data("hello")).await?;
//!     Ok(id.to_string())
//! }
//! # fn main() {}
//! ```
//!
//! # The log is the channel
//!
//! Each topic keeps a bounded log ([`LogLimits`]: count, bytes, age) of
//! events encoded once at publish and shared by every subscriber. A
//! [`Subscription`] is a cursor into the logs of its topics: replay and live
//! delivery are the same read, so nothing is lost or sent twice between them,
//! and a slow subscriber holds only its position (and, once it stops
//! reading, the block of at most eight events it was reading, see
//! [`Subscription`]).
//!
//! # Ids
//!
//! The hub gives every event an id `<epoch>-<seq>` ([`Position`]): the
//! sequence number grows across all topics, so one id resumes a subscription
//! to several topics, and an event published to several of them reaches a
//! subscriber once. The epoch is random per hub, so ids from an earlier run
//! are recognised.
//!
//! # Gaps
//!
//! When a cursor cannot be honoured (its events were evicted, it is from
//! another epoch, it was never issued) or the log overtakes a slow
//! subscriber, the subscriber is told with a [`Gap`] event, or what the
//! application's gap handler returns (a snapshot); never a silent skip, and
//! never the whole log by accident.
//!
//! In a subscription to several topics, a gap in one topic is signalled even
//! when the events it evicted are still held by another subscribed topic (an
//! event published to both): the hub does not remember which events a topic
//! evicted. The signal may then be cautious, but no event is skipped: the
//! gap's id moves the client past what is really gone, no further.
//!
//! # Storage
//!
//! Recent events of each topic are always in memory. Ids come from a
//! [`Store`], which can also replay events older than the in-memory log: with
//! a store shared by several server processes, a client can reconnect to any
//! of them. The default [`MemoryStore`] keeps nothing more than the log.
//!
//! # Publishing once
//!
//! A caller that does not learn whether a publish succeeded (its client's
//! `POST` timed out, or a shared store did not answer:
//! [`PublishError::is_outcome_unknown`]) sends it again under the same
//! [`PublishKey`] with [`Hub::publish_keyed`]: the store keeps one event per
//! key, within its window, and the retry answers with the first one's
//! position. HTTP clients send the key in an `Idempotency-Key` header
//! ([`PublishKey::from_headers`]).
//!
//! # Topics
//!
//! Topics are created when first published or subscribed to, up to a limit
//! on their number ([`HubBuilder::max_topics`]), or, with
//! [`HubBuilder::create_topics(false)`](HubBuilder::create_topics), only
//! when the hub is built; naming another one is then an error.

// The internals: `shared` states the hub's shared state, its invariants
// and lock order, and the operations that change it; start there.
mod builder;
mod config;
mod ended;
mod endpoint;
mod error;
mod feed;
mod gap;
mod handle;
mod lock;
mod memory_store;
mod position;
mod publish;
mod publish_key;
mod recorded;
mod refusal;
mod shared;
mod slots;
mod stats;
mod store;
mod subscription;
mod tail;
mod topic;
mod wakers;

pub use self::builder::HubBuilder;

pub use self::config::{LagPolicy, LogLimits};
pub use self::endpoint::{Endpoint, EndpointBody};
pub use self::error::{
    MAX_TOPIC_NAME_BYTES, PublishError, RETRY_AFTER_FULL, RETRY_AFTER_UNAVAILABLE, SubscribeError,
    TopicError,
};
pub use self::gap::{Gap, GapReason};
pub use self::handle::Hub;
pub use self::memory_store::{DEFAULT_KEY_WINDOW, DEFAULT_KEY_WINDOW_KEYS, MemoryStore};
pub use self::position::{Epoch, Position};
pub use self::publish::Published;
pub use self::publish_key::{IDEMPOTENCY_KEY, MAX_PUBLISH_KEY_BYTES, PublishKey, PublishKeyError};
pub use self::recorded::{RecordError, Recorded};
pub use self::refusal::Refusal;
pub use self::stats::{HubStats, TopicStats};
pub use self::store::{
    Appended, FedEvent, Feed, FeedItem, ReplayRound, Store, StoreError, StoreFuture, StoredEvent,
};
pub use self::subscription::{PublishedEvent, Subscription};

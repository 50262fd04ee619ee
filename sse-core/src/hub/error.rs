//! Errors of publishing and subscribing.

use std::error::Error;
use std::fmt;
use std::time::Duration;

use super::StoreError;

/// Why an event was not published. Nothing was stored, and no subscriber
/// sees it, unless the store said it cannot know
/// ([`PublishError::is_outcome_unknown`]).
#[derive(Debug)]
#[non_exhaustive]
pub enum PublishError {
    /// The encoded event is larger than [`LogLimits::max_event_bytes`](super::LogLimits::max_event_bytes).
    TooLarge {
        /// The encoded size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// A topic name is empty or longer than the limit.
    InvalidTopic(TopicError),
    /// The hub or one of the topics is closed.
    Closed,
    /// The store failed to store the event.
    Store(StoreError),
}

/// Why a subscription was not made.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum SubscribeError {
    /// A topic name is empty or longer than the limit, or a topic does not
    /// exist and the hub does not create topics on subscribe.
    InvalidTopic(TopicError),
    /// The hub is closed.
    Closed,
    /// The hub, or a topic, has as many subscribers as it admits
    /// ([`HubBuilder::max_subscribers`](super::HubBuilder::max_subscribers)):
    /// try again later.
    Full {
        /// The limit reached.
        limit: usize,
        /// The topic that is full, or `None` for the hub's own limit.
        topic: Option<String>,
    },
}

/// How long a client refused for the limits on subscribers is asked to wait,
/// before the spread at random ([`SubscribeError::retry_after`]).
pub const RETRY_AFTER_FULL: Duration = Duration::from_secs(2);

/// What is wrong with a topic name or list.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TopicError {
    /// No topic was named.
    NoTopic,
    /// An empty name.
    Empty,
    /// A name longer than [`MAX_TOPIC_NAME_BYTES`].
    TooLong {
        /// The name's length in bytes.
        len: usize,
    },
    /// The topic does not exist, and the hub was built not to create topics
    /// when they are first used.
    Unknown(String),
    /// Creating the topic would pass the hub's limit on the number of topics.
    TooMany {
        /// The limit.
        limit: usize,
    },
    /// The hub is closed: no topic can be used.
    Closed,
    /// The topic was ended for good ([`Hub::end_topic`](super::Hub::end_topic)):
    /// a subscriber is told not to come back (`204 No Content`), a
    /// publisher that it is gone (`410 Gone`).
    Ended(String),
}

impl fmt::Display for TopicError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NoTopic => f.write_str("no topic named"),
            Self::Empty => f.write_str("topic name is empty"),
            Self::TooLong { len } => write!(
                f,
                "topic name is {len} bytes, more than the {MAX_TOPIC_NAME_BYTES} allowed"
            ),
            Self::Unknown(name) => write!(f, "no topic named {name:?}"),
            Self::TooMany { limit } => write!(f, "the hub already has its limit of {limit} topics"),
            Self::Closed => f.write_str("the hub is closed"),
            Self::Ended(name) => write!(f, "topic {name:?} has ended for good"),
        }
    }
}

impl Error for TopicError {}

/// How long a client is told to wait (`Retry-After`) before it tries again
/// a hub that is closed, at its limit of topics, or whose store failed.
pub const RETRY_AFTER_UNAVAILABLE: Duration = Duration::from_secs(5);

impl SubscribeError {
    /// The status an HTTP endpoint answers with: `503 Service Unavailable`
    /// when the hub is closed or at its limit of topics (the client should
    /// come back), `404 Not Found`
    /// for a topic the hub does not have, `204 No Content` for a topic ended
    /// for good (the WHATWG `EventSource` then stops reconnecting), `400 Bad
    /// Request` for a topic name that cannot be one. Every adapter answers
    /// the same.
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::Closed
            | Self::Full { .. }
            | Self::InvalidTopic(TopicError::Closed | TopicError::TooMany { .. }) => {
                http::StatusCode::SERVICE_UNAVAILABLE
            }
            Self::InvalidTopic(TopicError::Unknown(_)) => http::StatusCode::NOT_FOUND,
            // What the WHATWG EventSource takes as "stop reconnecting".
            Self::InvalidTopic(TopicError::Ended(_)) => http::StatusCode::NO_CONTENT,
            Self::InvalidTopic(_) => http::StatusCode::BAD_REQUEST,
        }
    }

    /// The `Retry-After` to answer with: [`RETRY_AFTER_UNAVAILABLE`] with a
    /// `503`; for [`SubscribeError::Full`], [`RETRY_AFTER_FULL`] lengthened
    /// at random by up to twice as much, so that clients refused together
    /// spread out.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Self::Full { .. } => Some(crate::jitter::spread(RETRY_AFTER_FULL, 2.0)),
            _ => retry_after(self.status()),
        }
    }
}

impl PublishError {
    /// The status an HTTP route that publishes answers with, the same in
    /// every adapter: `413 Content Too Large` for an event over the limit,
    /// `503 Service Unavailable` when the hub is closed, at its limit of
    /// topics, or its store failed (the request may be tried again),
    /// `404 Not Found` for a topic the hub
    /// does not have, `410 Gone` for a topic ended for good, `400 Bad
    /// Request` for a topic name that cannot be one, `501 Not Implemented`
    /// for what the store cannot do at all ([`StoreError::unsupported`]: a
    /// publish key given to a store that cannot deduplicate).
    ///
    /// ```
    /// use sse_engine::hub::PublishError;
    ///
    /// assert_eq!(PublishError::Closed.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    /// assert!(PublishError::Closed.retry_after().is_some());
    /// ```
    pub fn status(&self) -> http::StatusCode {
        match self {
            Self::TooLarge { .. } => http::StatusCode::PAYLOAD_TOO_LARGE,
            Self::Store(error) if error.is_unsupported() => http::StatusCode::NOT_IMPLEMENTED,
            Self::Closed
            | Self::Store(_)
            | Self::InvalidTopic(TopicError::Closed | TopicError::TooMany { .. }) => {
                http::StatusCode::SERVICE_UNAVAILABLE
            }
            Self::InvalidTopic(TopicError::Unknown(_)) => http::StatusCode::NOT_FOUND,
            Self::InvalidTopic(TopicError::Ended(_)) => http::StatusCode::GONE,
            Self::InvalidTopic(_) => http::StatusCode::BAD_REQUEST,
        }
    }

    /// The `Retry-After` to answer with: [`RETRY_AFTER_UNAVAILABLE`] with a `503`.
    pub fn retry_after(&self) -> Option<Duration> {
        retry_after(self.status())
    }

    /// Whether the event may have been published despite the error: the
    /// store sent it and got no answer ([`StoreError::is_outcome_unknown`]).
    /// It may still reach subscribers; send it again only under the same
    /// [`PublishKey`](super::PublishKey)
    /// ([`Hub::publish_keyed`](super::Hub::publish_keyed)), or it may be
    /// delivered twice.
    ///
    /// ```
    /// use sse_engine::hub::{PublishError, StoreError};
    ///
    /// let unanswered = PublishError::Store(StoreError::outcome_unknown("timed out"));
    /// assert!(unanswered.is_outcome_unknown());
    /// assert!(!PublishError::Closed.is_outcome_unknown());
    /// ```
    pub fn is_outcome_unknown(&self) -> bool {
        matches!(self, Self::Store(error) if error.is_outcome_unknown())
    }

    /// The reason to give an HTTP client: the error's text, but for a store
    /// failure, whose text is the backend's (addresses, commands) and belongs
    /// in the server's logs.
    ///
    /// ```
    /// use sse_engine::hub::PublishError;
    ///
    /// assert_eq!(PublishError::Closed.client_message(), PublishError::Closed.to_string());
    /// ```
    pub fn client_message(&self) -> String {
        match self {
            Self::Store(error) if error.is_outcome_unknown() => {
                "the event store did not answer: the event may have been published; \
                 sent again under the same Idempotency-Key it is published once, \
                 sent again without one it may be published twice"
                    .to_owned()
            }
            Self::Store(error) if error.is_unsupported() => {
                "cannot publish: this server's event store cannot honour an Idempotency-Key; \
                 nothing was published"
                    .to_owned()
            }
            Self::Store(_) => "cannot publish: the event store is unavailable".to_owned(),
            other => other.to_string(),
        }
    }
}

fn retry_after(status: http::StatusCode) -> Option<Duration> {
    (status == http::StatusCode::SERVICE_UNAVAILABLE).then_some(RETRY_AFTER_UNAVAILABLE)
}

impl fmt::Display for PublishError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::TooLarge { size, limit } => {
                write!(
                    f,
                    "event is {size} bytes encoded, more than the {limit} allowed"
                )
            }
            Self::InvalidTopic(error) => write!(f, "cannot publish: {error}"),
            Self::Closed => f.write_str("cannot publish: the hub or topic is closed"),
            Self::Store(error) => write!(f, "cannot publish: {error}"),
        }
    }
}

impl Error for PublishError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::InvalidTopic(error) => Some(error),
            Self::Store(error) => Some(error),
            Self::TooLarge { .. } | Self::Closed => None,
        }
    }
}

impl fmt::Display for SubscribeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::InvalidTopic(error) => write!(f, "cannot subscribe: {error}"),
            Self::Closed => f.write_str("cannot subscribe: the hub is closed"),
            Self::Full { limit, topic: None } => write!(
                f,
                "cannot subscribe: the hub has {limit} subscribers, as many as it admits"
            ),
            Self::Full {
                limit,
                topic: Some(topic),
            } => write!(
                f,
                "cannot subscribe: topic {topic:?} has {limit} subscribers, as many as it admits"
            ),
        }
    }
}

impl Error for SubscribeError {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::InvalidTopic(error) => Some(error),
            Self::Closed | Self::Full { .. } => None,
        }
    }
}

/// The longest topic name accepted, in bytes.
pub const MAX_TOPIC_NAME_BYTES: usize = 256;

/// Refuses a topic name that is empty or longer than [`MAX_TOPIC_NAME_BYTES`].
pub(crate) fn check_topic_name(name: &str) -> Result<(), TopicError> {
    if name.is_empty() {
        return Err(TopicError::Empty);
    }
    if name.len() > MAX_TOPIC_NAME_BYTES {
        return Err(TopicError::TooLong { len: name.len() });
    }
    Ok(())
}

//! [`Endpoint`]: how an HTTP endpoint serves a hub's topics, for every
//! framework adapter alike.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::{Hub, SubscribeError, Subscription};
use crate::compression::{Codecs, Compression};
use crate::{InfallibleStream, IntoText, KeepAlive, RequestCursor, SseBody, Text};

/// Which topics of which hub an endpoint serves, and how each stream runs:
/// its `retry`, its maximum lifetime and its keep-alive. The tower `Service`
/// and the framework adapters wrap one of these, so they all behave the same.
///
/// ```
/// use std::time::Duration;
/// use sse_engine::RequestCursor;
/// use sse_engine::hub::{Endpoint, Hub};
///
/// let hub = Hub::new();
/// let endpoint = Endpoint::new(hub, ["chat"]).retry(Duration::from_secs(2));
/// let body = endpoint.open(RequestCursor::Absent).unwrap();
/// # drop(body);
/// ```
#[derive(Clone)]
pub struct Endpoint {
    hub: Hub,
    topics: Arc<[Text]>,
    retry: Option<Duration>,
    max_lifetime: Option<Duration>,
    keep_alive: Option<KeepAlive>,
    codecs: Option<Codecs>,
}

/// The response body of an [`Endpoint`]'s stream.
pub type EndpointBody = SseBody<InfallibleStream<Subscription>>;

impl Endpoint {
    /// Serves `topics` of `hub`.
    pub fn new<T: IntoText>(hub: Hub, topics: impl IntoIterator<Item = T>) -> Self {
        Self {
            hub,
            topics: topics.into_iter().map(Text::new).collect(),
            retry: None,
            max_lifetime: None,
            keep_alive: None,
            codecs: None,
        }
    }

    /// Sends `retry:` first, lengthened at random by up to a half so that
    /// clients that lose the server together come back spread out.
    #[must_use]
    pub fn retry(mut self, base: Duration) -> Self {
        self.retry = Some(base);
        self
    }

    /// Ends each stream after about `lifetime` (shortened at random by up to a
    /// tenth); clients reconnect with their last id and lose nothing.
    #[must_use]
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = Some(lifetime);
        self
    }

    /// Sets the keep-alive interval and comment (15 s and an empty comment
    /// unless set). On servers that notice a departed client only when they
    /// next write to it (actix-web), this also bounds how long its
    /// subscription lives on.
    #[must_use]
    pub fn keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.keep_alive = Some(keep_alive);
        self
    }

    /// Compresses each stream with one of `codecs`, negotiated from the
    /// request's `Accept-Encoding` (see [`crate::compression`]); off unless
    /// set. Each subscriber's stream has its own compressor: it costs memory
    /// and CPU per subscriber (measured in `BENCHMARKS.md`).
    #[must_use]
    pub fn compression(mut self, codecs: Codecs) -> Self {
        self.codecs = Some(codecs);
        self
    }

    /// The codecs set with [`compression`](Self::compression).
    pub fn codecs(&self) -> Option<Codecs> {
        self.codecs
    }

    /// The compression for a request with these headers: identity when
    /// [`compression`](Self::compression) is not set.
    pub fn negotiate(&self, request_headers: &http::HeaderMap) -> Compression {
        self.codecs.map_or(Compression::identity(), |codecs| {
            codecs.negotiate(request_headers)
        })
    }

    /// The stream for a request's cursor, with the hub's gap signal when the
    /// cursor cannot be honoured.
    ///
    /// # Errors
    ///
    /// As [`Hub::subscribe_with`]; [`SubscribeError::status`] is the answer.
    pub fn open(&self, cursor: RequestCursor) -> Result<EndpointBody, SubscribeError> {
        let topics: Vec<&str> = self.topics.iter().map(Text::as_str).collect();
        let mut subscription = self.hub.subscribe_with(&topics, cursor)?;
        if let Some(retry) = self.retry {
            subscription = subscription.retry(retry);
        }
        if let Some(lifetime) = self.max_lifetime {
            subscription = subscription.max_lifetime(lifetime);
        }
        let body = subscription.into_body();
        Ok(match &self.keep_alive {
            Some(keep_alive) => body.keep_alive(keep_alive.clone()),
            None => body,
        })
    }
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Endpoint")
            .field("topics", &self.topics)
            .field("retry", &self.retry)
            .field("max_lifetime", &self.max_lifetime)
            .field("keep_alive", &self.keep_alive)
            .field("codecs", &self.codecs)
            .finish_non_exhaustive()
    }
}

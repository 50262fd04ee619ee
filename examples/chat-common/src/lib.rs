//! What the chat examples (`example-axum-chat`, `example-actix-chat`) share,
//! so that both answer the same HTTP interface byte for byte:
//!
//! - `GET /`: [`PAGE`], a page that connects with `EventSource`.
//! - `GET /events`: the hub topic [`TOPIC`], with resume.
//! - `GET /event-names`: the event names in use, for a page that loads
//!   ([`Chat::event_names`]; see [`names`]).
//! - `POST /messages`: `{"data": "<any string>", "event": "<optional name>"}`,
//!   checked by [`parse_message`], published by [`Chat::post`] (after an
//!   [`ANNOUNCEMENT`] when the name is new), answered with
//!   `{"id": "<assigned id>"}`, or an error as `{"error": "<reason>"}` with
//!   its status. With an `Idempotency-Key: <key>` header (1 to 128 visible
//!   ASCII characters, [`idempotency_key`]), a message posted again under
//!   the same key within the store's window is published once: the retry
//!   answers `200` with the first message's id ([`Chat::post_keyed`]).

mod backend;
#[cfg(feature = "suite")]
pub mod browser;
#[cfg(feature = "suite")]
pub mod churn;
#[cfg(all(feature = "suite", feature = "nats"))]
pub mod cluster;
#[cfg(feature = "suite")]
pub mod compressed;
mod idempotency;
#[cfg(feature = "suite")]
pub mod matrix;
pub mod names;
#[cfg(feature = "nats")]
mod nats_names;
pub mod observe;
#[cfg(feature = "suite")]
mod participants;
mod registry;
#[cfg(feature = "suite")]
pub mod retried_posts;
#[cfg(feature = "suite")]
pub mod scrape;
pub mod stalled;
#[cfg(feature = "suite")]
pub mod stop;
#[cfg(feature = "suite")]
pub mod suite;
#[cfg(feature = "suite")]
pub mod two_instances;

use std::time::Duration;

use serde::Deserialize;
use sse_engine::Event;
use sse_engine::hub::{Endpoint, Hub, HubBuilder, LogLimits, Position, PublishError, PublishKey};

pub use backend::{chat_from_env, without_credentials};
pub use idempotency::idempotency_key;
use names::EventNames;
pub use names::{ANNOUNCEMENT, MAX_EVENT_NAME_BYTES, MAX_EVENT_NAMES};
use registry::NameRegistry;

/// The page served at `/`.
pub const PAGE: &str = include_str!("page.html");

/// The hub topic the chat publishes to and streams.
pub const TOPIC: &str = "chat";

/// The largest `POST /messages` body accepted, in bytes; larger ones get
/// `413 Payload Too Large`.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;

/// How long a client may take to send a `POST /messages` body, from the end
/// of its headers; a slower one is answered `408` (a client that sends a
/// body a byte at a time would otherwise hold its connection for good).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// How long a client may take to send a request's headers: both servers
/// close the connection of a slower one.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest event the hub keeps, encoded, in bytes: a message of
/// [`MAX_MESSAGE_BYTES`] of JSON can encode to more (each escaped line break
/// is a `data:` line).
pub const MAX_EVENT_BYTES: usize = 2 * MAX_MESSAGE_BYTES;

/// The hub of a chat server: the last 1,000 messages are kept for clients
/// that reconnect.
pub fn hub() -> Hub {
    hub_builder().build()
}

/// The settings of [`hub`], for a hub on another store.
pub fn hub_builder() -> HubBuilder {
    Hub::builder().log_limits(
        LogLimits::new()
            .max_events(1_000)
            .max_event_bytes(MAX_EVENT_BYTES),
    )
}

/// A chat: its hub (built by [`hub`] or [`hub_builder`]), and the event
/// names in use, which it follows in a task of its own. Cheap to clone: one
/// per server, shared by its workers.
#[derive(Debug, Clone)]
pub struct Chat {
    hub: Hub,
    names: EventNames,
    body_read_timeout: Duration,
}

impl Chat {
    /// The chat over `hub`.
    ///
    /// # Panics
    ///
    /// Outside a tokio runtime (the chat follows its topic in a task), or
    /// when the hub is closed already.
    pub fn new(hub: Hub) -> Self {
        Self::with_registry(hub, NameRegistry::local())
    }

    /// The chat over `hub`, whose servers record the event names in
    /// `registry`.
    pub(crate) fn with_registry(hub: Hub, registry: NameRegistry) -> Self {
        let names = EventNames::follow(&hub, registry);
        Self {
            hub,
            names,
            body_read_timeout: BODY_READ_TIMEOUT,
        }
    }

    /// The same chat, with a `POST /messages` body to be read within
    /// `timeout` ([`BODY_READ_TIMEOUT`] unless set).
    #[must_use]
    pub fn with_body_read_timeout(mut self, timeout: Duration) -> Self {
        self.body_read_timeout = timeout;
        self
    }

    /// How long a `POST /messages` body may take to arrive.
    pub fn body_read_timeout(&self) -> Duration {
        self.body_read_timeout
    }

    /// The chat's hub.
    pub fn hub(&self) -> &Hub {
        &self.hub
    }

    /// `POST /messages` after the body was read (or refused while reading,
    /// for being too large or unreadable): checks the message, publishes it
    /// (after an [`ANNOUNCEMENT`] when its event name is new), and gives the
    /// status and JSON body to answer, and the `Retry-After` (in seconds)
    /// of a `503`. A refused message is not published.
    pub async fn post(&self, body: Result<&[u8], ChatError>) -> Answer {
        self.post_keyed(Ok(None), body).await
    }

    /// [`Chat::post`] with the request's `Idempotency-Key` as
    /// [`idempotency_key`] read it: a message under a key already published
    /// (within the store's window) is not published again, and the answer
    /// is the first one's id. A malformed key is refused with `400` before
    /// the message is looked at.
    pub async fn post_keyed(
        &self,
        key: Result<Option<PublishKey>, ChatError>,
        body: Result<&[u8], ChatError>,
    ) -> Answer {
        let published = match key {
            Ok(key) => self.publish(key.as_ref(), body).await,
            Err(error) => Err(error),
        };
        published.map(|id| self::published(&id)).into()
    }

    async fn publish(
        &self,
        key: Option<&PublishKey>,
        body: Result<&[u8], ChatError>,
    ) -> Result<Position, ChatError> {
        let event = body.and_then(parse_message)?;
        let name = event
            .get_event()
            .map(|name| name.as_str())
            .filter(|name| names::needs_announcement(name));
        if let Some(name) = name
            && self.names.needs_announcing(name).await?
        {
            // Checked before the announcement: a message the hub would
            // refuse announces nothing.
            self.fits(&event)?;
            self.hub
                .publish(TOPIC, names::announcement(name))
                .await
                .map_err(|error| ChatError::from_publish(&error))?;
            // Only once it is in the log: a request that fails or is
            // dropped before leaves the name to be announced next time.
            self.names.record(name).await;
        }
        let published = match key {
            Some(key) => self
                .hub
                .publish_keyed(TOPIC, key, event)
                .await
                .map(|published| published.position()),
            None => self.hub.publish(TOPIC, event).await,
        };
        published.map_err(|error| ChatError::from_publish(&error))
    }

    /// Whether the hub takes `event`, with the longest id it could give it.
    fn fits(&self, event: &Event) -> Result<(), ChatError> {
        let longest_id = Position::new(self.hub.epoch(), u64::MAX).to_event_id();
        let size = event.clone().id(longest_id).encode().len();
        if size > MAX_EVENT_BYTES {
            let error = PublishError::TooLarge {
                size,
                limit: MAX_EVENT_BYTES,
            };
            return Err(ChatError::from_publish(&error));
        }
        Ok(())
    }

    /// `GET /event-names`, with the request's query string: the JSON
    /// `{"names": [...], "lastEventId": "<id>"}`, the names announced up to
    /// the event `<id>`, for a page to listen to before it opens its stream
    /// after `<id>`. With `?lastEventId=<id of this log>` (a page that
    /// resumes), the names are those read up to that id at least. A `503`
    /// when the names cannot be read (Redis unavailable).
    pub async fn event_names(&self, query: Option<&str>) -> Answer {
        self.names.snapshot(names::requested(query)).await.into()
    }
}

/// `GET /events` of a chat with the default [`StreamSettings`].
pub fn endpoint(hub: Hub) -> Endpoint {
    StreamSettings::default().endpoint(hub)
}

/// How the chat's event streams run, from environment variables:
///
/// | variable | meaning | default |
/// | --- | --- | --- |
/// | `RETRY_MS` | the `retry:` clients are sent (spread at random above it) | 2000 |
/// | `KEEP_ALIVE_MS` | the idle time after which a keep-alive comment is sent | 3000 |
/// | `MAX_LIFETIME_MS` | the longest a stream lives before clients reconnect | unset: no limit |
///
/// Keep-alive is short because some servers (actix-web) notice that a
/// client has gone only when they next write to it: this bounds how long a
/// departed client's subscription lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamSettings {
    /// The base of the `retry:` sent first.
    pub retry: Duration,
    /// The keep-alive interval.
    pub keep_alive: Duration,
    /// The maximum lifetime of a stream.
    pub max_lifetime: Option<Duration>,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            retry: Duration::from_secs(2),
            keep_alive: Duration::from_secs(3),
            max_lifetime: None,
        }
    }
}

impl StreamSettings {
    /// The settings from the process's environment.
    ///
    /// # Errors
    ///
    /// When a variable is set to something that is not a number of
    /// milliseconds.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The settings from `var`, a lookup by variable name.
    ///
    /// ```
    /// use std::time::Duration;
    /// use example_chat_common::StreamSettings;
    ///
    /// let settings = StreamSettings::from_vars(|name| (name == "KEEP_ALIVE_MS").then(|| "50".into())).unwrap();
    /// assert_eq!(settings.keep_alive, Duration::from_millis(50));
    /// assert!(StreamSettings::from_vars(|_| Some("soon".into())).is_err());
    /// ```
    ///
    /// # Errors
    ///
    /// As [`StreamSettings::from_env`].
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let millis = |name: &str| -> Result<Option<Duration>, String> {
            var(name)
                .map(|value| {
                    value.parse().map(Duration::from_millis).map_err(|_| {
                        format!("{name} must be a number of milliseconds, not {value:?}")
                    })
                })
                .transpose()
        };
        let defaults = Self::default();
        Ok(Self {
            retry: millis("RETRY_MS")?.unwrap_or(defaults.retry),
            keep_alive: millis("KEEP_ALIVE_MS")?.unwrap_or(defaults.keep_alive),
            max_lifetime: millis("MAX_LIFETIME_MS")?,
        })
    }

    /// `GET /events` of a chat: the [`TOPIC`] of `hub`, with these settings,
    /// compressed for a client that accepts it (`Accept-Encoding`) with the
    /// codecs of this crate's features, in sse-engine's order of preference
    /// (zstd, br, gzip); a client that asks for none gets the stream as it is.
    pub fn endpoint(&self, hub: Hub) -> Endpoint {
        let endpoint = Endpoint::new(hub, [TOPIC])
            .retry(self.retry)
            .keep_alive(sse_engine::KeepAlive::new().interval(self.keep_alive))
            .compression(sse_engine::compression::Codecs::new());
        match self.max_lifetime {
            Some(lifetime) => endpoint.max_lifetime(lifetime),
            None => endpoint,
        }
    }
}

/// Waits for the signal to stop: Ctrl-C (SIGINT) or, on Unix, SIGTERM,
/// which `docker stop`, systemd and Kubernetes send. Either starts the
/// graceful shutdown, so every client receives [`final_event`].
pub async fn stop_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut terminate) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = terminate.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// How long a stopping chat server waits for its clients to receive the
/// final event before it ends the streams that are left.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// The event every client receives when the server stops.
pub fn final_event() -> Event {
    Event::new().event("bye").data("server restarting")
}

/// Closes the chat's hub as a stopping server does: every stream sends what
/// its client has not read, then [`final_event`], and ends; waits for them
/// up to [`SHUTDOWN_GRACE`]. Returns how many streams were still open then
/// (a client that stopped reading); says so on standard output.
pub async fn close_hub(hub: &Hub) -> usize {
    let left = hub.shutdown(Some(final_event()), SHUTDOWN_GRACE).await;
    if left > 0 {
        // A server says why it stops: printing is its job.
        #[allow(clippy::print_stdout)]
        {
            println!("{left} streams had not ended after the grace period");
        }
    }
    left
}

/// The port from the `PORT` environment variable, or `default`.
///
/// # Errors
///
/// When `PORT` is set but is not a port number.
pub fn port(default: u16) -> Result<u16, String> {
    match std::env::var("PORT") {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("PORT must be a port number, not {value:?}")),
        Err(_) => Ok(default),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Message {
    data: String,
    #[serde(default)]
    event: Option<String>,
}

/// What `POST /messages` and `GET /event-names` answer: the status, the
/// JSON body, and for a `503` (the chat closing, its store unavailable) the
/// seconds a client should wait before trying again (`Retry-After`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Answer {
    /// The HTTP status.
    pub status: u16,
    /// The JSON body.
    pub body: String,
    /// The `Retry-After` header's value, in seconds.
    pub retry_after: Option<u64>,
}

impl From<Result<String, ChatError>> for Answer {
    fn from(result: Result<String, ChatError>) -> Self {
        match result {
            Ok(body) => Self {
                status: 200,
                body,
                retry_after: None,
            },
            Err(error) => Self {
                status: error.status,
                body: error.body(),
                retry_after: error.retry_after.map(|delay| delay.as_secs().max(1)),
            },
        }
    }
}

/// A refused request: its status and its JSON body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatError {
    /// The HTTP status.
    pub status: u16,
    /// Why, for the client.
    pub reason: String,
    /// How long to wait before trying again, for a refusal that passes.
    pub retry_after: Option<Duration>,
}

impl ChatError {
    pub(crate) fn new(status: u16, reason: impl Into<String>) -> Self {
        Self {
            status,
            reason: reason.into(),
            retry_after: None,
        }
    }

    /// `{"error": "<reason>"}`.
    pub fn body(&self) -> String {
        serde_json::json!({ "error": self.reason }).to_string()
    }

    /// A body larger than [`MAX_MESSAGE_BYTES`].
    pub fn too_large() -> Self {
        Self::new(
            413,
            format!("the message is larger than {MAX_MESSAGE_BYTES} bytes"),
        )
    }

    /// A message with a new event name when [`MAX_EVENT_NAMES`] are in use.
    pub fn too_many_names() -> Self {
        Self::new(
            409,
            format!(
                "the chat has {MAX_EVENT_NAMES} event names already: use one of them (GET /event-names) or none"
            ),
        )
    }

    /// A dependency of the chat (its store) that cannot be reached now:
    /// `503`, to try again after `retry_after`.
    pub fn unavailable(retry_after: Duration) -> Self {
        Self {
            retry_after: Some(retry_after),
            ..Self::new(503, "the chat's store cannot be reached; try again later")
        }
    }

    /// A body that did not arrive within `timeout`.
    pub fn too_slow(timeout: Duration) -> Self {
        Self::new(
            408,
            format!(
                "the message did not arrive within {} ms",
                timeout.as_millis()
            ),
        )
    }

    /// A body that could not be read.
    pub fn unreadable(reason: impl std::fmt::Display) -> Self {
        Self::new(400, format!("the request body could not be read: {reason}"))
    }

    /// What a failed publish tells the client: the status of sse-engine's
    /// policy ([`PublishError::status`]) and its reason (for a message that
    /// fits the body limit but not the log's, its encoded size).
    pub fn from_publish(error: &PublishError) -> Self {
        let reason = match error {
            PublishError::Closed => "the chat is shutting down".to_owned(),
            other => other.client_message(),
        };
        Self {
            retry_after: error.retry_after(),
            ..Self::new(error.status().as_u16(), reason)
        }
    }
}

/// Event names a message may not have: `EventSource` dispatches `open` and
/// `error` to the page's own handlers, and the server sends `gap`, `bye` and
/// [`ANNOUNCEMENT`] itself; a message with one of them would pass for the
/// server.
pub const RESERVED_EVENT_NAMES: [&str; 5] = ["open", "error", "gap", "bye", ANNOUNCEMENT];

/// Checks a `POST /messages` body and makes its event. Any string is allowed
/// in `data` (several lines, CR, CRLF, empty, leading spaces, any Unicode); the
/// event name may not hold a line break.
///
/// ```
/// use example_chat_common::parse_message;
///
/// assert!(parse_message(br#"{"data": "hi\r\nthere", "event": "note"}"#).is_ok());
/// assert_eq!(parse_message(br#"{"data": "x", "event": "a\nb"}"#).unwrap_err().status, 400);
/// assert_eq!(parse_message(b"not json").unwrap_err().status, 400);
/// ```
///
/// # Errors
///
/// `413` for a body over [`MAX_MESSAGE_BYTES`]; `400` for anything else that
/// is not a message.
pub fn parse_message(body: &[u8]) -> Result<Event, ChatError> {
    if body.len() > MAX_MESSAGE_BYTES {
        return Err(ChatError::too_large());
    }
    let message: Message = serde_json::from_slice(body)
        .map_err(|error| ChatError::new(400, format!("the body is not a message: {error}")))?;
    let event = Event::new().data(message.data);
    match message.event {
        None => Ok(event),
        Some(name) if name.len() > MAX_EVENT_NAME_BYTES => Err(ChatError::new(
            400,
            format!("an event name is at most {MAX_EVENT_NAME_BYTES} bytes"),
        )),
        Some(name) if RESERVED_EVENT_NAMES.contains(&name.as_str()) => Err(ChatError::new(
            400,
            format!("the event name {name:?} is the server's or the browser's own"),
        )),
        Some(name) => event
            .try_event(name)
            .map_err(|error| ChatError::new(400, format!("bad event name: {error}"))),
    }
}

/// `{"id": "<id>"}`: the answer to a published message.
pub fn published(id: &impl std::fmt::Display) -> String {
    serde_json::json!({ "id": id.to_string() }).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn data_of(event: &Event) -> &str {
        event.get_data().map_or("", |d| d.as_str())
    }

    #[test]
    fn event_names_are_short() {
        let longest = "n".repeat(MAX_EVENT_NAME_BYTES);
        assert!(parse_message(format!(r#"{{"data":"x","event":"{longest}"}}"#).as_bytes()).is_ok());
        let error = parse_message(format!(r#"{{"data":"x","event":"{longest}n"}}"#).as_bytes())
            .expect_err("a name one byte too long");
        assert_eq!(error.status, 400);
    }

    #[test]
    fn any_data_is_accepted() {
        for data in [
            "",
            "  leading",
            "a\nb",
            "a\rb",
            "a\r\nb",
            "€😀",
            "data: x\n\nid: 9",
        ] {
            let body = serde_json::json!({ "data": data }).to_string();
            let event = parse_message(body.as_bytes()).unwrap();
            assert_eq!(data_of(&event), data);
        }
    }

    #[test]
    fn refusals_have_a_status_and_a_json_reason() {
        let cases: [(&[u8], u16); 9] = [
            (b"{", 400),
            (b"[]", 400),
            (br#"{"event": "x"}"#, 400),
            (br#"{"data": 5}"#, 400),
            (br#"{"data": "x", "event": "a\r\nb"}"#, 400),
            (br#"{"data": "x", "extra": 1}"#, 400),
            (br#"{"data": "x", "event": "bye"}"#, 400),
            (br#"{"data": "x", "event": "event-name"}"#, 400),
            (&[b' '; MAX_MESSAGE_BYTES + 1], 413),
        ];
        for (body, status) in cases {
            let error = parse_message(body).unwrap_err();
            assert_eq!(error.status, status);
            let json: serde_json::Value = serde_json::from_str(&error.body()).unwrap();
            assert!(json["error"].is_string());
        }
    }
}

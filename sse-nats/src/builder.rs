//! [`NatsStoreBuilder`]: the servers, the stream and its limits, and how
//! patiently the store publishes and reconnects.

use std::collections::HashMap;
use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_nats::ConnectOptions;
use async_nats::jetstream;

use crate::error::ConnectError;
use crate::open::{self, StreamSettings};
use crate::shared::{Follows, Shared};
use crate::store::NatsStore;
use crate::subject::Subjects;

/// Configures and connects a [`NatsStore`]; see [`NatsStore::builder`].
///
/// Its `Debug` form leaves the connect options out (they may hold
/// credentials).
#[must_use]
pub struct NatsStoreBuilder {
    servers: Vec<String>,
    options: Option<ConnectOptions>,
    stream: StreamSettings,
    prefix: String,
    ack_timeout: Duration,
    publish_attempts: u32,
    fetch_bytes: usize,
    replay_bytes: usize,
    backoff: (Duration, Duration),
}

impl fmt::Debug for NatsStoreBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsStoreBuilder")
            .field("servers", &self.servers)
            .field("stream", &self.stream)
            .field("prefix", &self.prefix)
            .field("ack_timeout", &self.ack_timeout)
            .field("publish_attempts", &self.publish_attempts)
            .field("fetch_bytes", &self.fetch_bytes)
            .field("replay_bytes", &self.replay_bytes)
            .field("backoff", &self.backoff)
            .finish_non_exhaustive()
    }
}

impl NatsStore {
    /// A builder for a store on the NATS servers at `servers`
    /// (`nats://host:4222`, `tls://host:4222`; several for a cluster, the
    /// client also learns the others from the server).
    pub fn builder<I>(servers: I) -> NatsStoreBuilder
    where
        I: IntoIterator,
        I::Item: Into<String>,
    {
        NatsStoreBuilder::new(servers.into_iter().map(Into::into).collect())
    }
}

impl NatsStoreBuilder {
    fn new(servers: Vec<String>) -> Self {
        Self {
            servers,
            options: None,
            stream: StreamSettings {
                name: "SSE".to_owned(),
                prefix: "sse".to_owned(),
                replicas: 1,
                max_messages: Some(100_000),
                max_bytes: None,
                max_age: None,
                duplicate_window: Duration::from_secs(120),
                memory: false,
            },
            prefix: "sse".to_owned(),
            ack_timeout: Duration::from_secs(2),
            publish_attempts: 2,
            fetch_bytes: 1 << 20,
            replay_bytes: 1 << 20,
            backoff: (Duration::from_millis(100), Duration::from_secs(5)),
        }
    }

    /// The client's options: credentials (`user_and_password`, `token`,
    /// `credentials_file` with the `nkeys` feature), TLS
    /// (`require_tls`, `add_root_certificates`, `add_client_certificate`),
    /// a connection name. The store keeps reconnecting for ever whatever
    /// `max_reconnects` says: its reader depends on it.
    ///
    /// ```
    /// use async_nats::ConnectOptions;
    /// use sse_nats::NatsStore;
    ///
    /// let builder = NatsStore::builder(["nats://n1:4222", "nats://n2:4222"]).connect_options(
    ///     ConnectOptions::with_user_and_password("app".into(), "secret".into())
    ///         .require_tls(true)
    ///         .name("chat"),
    /// );
    /// # drop(builder);
    /// ```
    pub fn connect_options(mut self, options: ConnectOptions) -> Self {
        self.options = Some(options);
        self
    }

    /// The stream's name (`SSE` unless set): processes share a log when they
    /// use the same stream. Letters, digits, `-` and `_`.
    pub fn stream(mut self, name: impl Into<String>) -> Self {
        self.stream.name = name.into();
        self
    }

    /// The first tokens of every subject the store publishes on (`sse`
    /// unless set); the stream captures `<prefix>.<epoch>.>`, which must not
    /// overlap another stream's subjects.
    pub fn prefix(mut self, prefix: impl Into<String>) -> Self {
        self.prefix = prefix.into();
        self.stream.prefix = self.prefix.clone();
        self
    }

    /// How many servers keep each event (1 unless set; 3 survives the loss
    /// of one node, with JetStream clustered): a publish is acknowledged
    /// once a majority of them stored it.
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.stream.replicas = replicas.max(1);
        self
    }

    /// Keeps at most this many events in the stream, all topics together
    /// (100,000 unless set; `None`: no count limit). Like the hub's
    /// [`LogLimits`](sse_engine::hub::LogLimits), but for the whole stream:
    /// give it about the hub's `max_events` times the number of topics a
    /// client may need to resume.
    pub fn max_messages(mut self, max: impl Into<Option<u64>>) -> Self {
        self.stream.max_messages = max.into();
        self
    }

    /// Keeps at most this many bytes of events in the stream (no limit
    /// unless set).
    pub fn max_bytes(mut self, max: impl Into<Option<u64>>) -> Self {
        self.stream.max_bytes = max.into();
        self
    }

    /// Drops events older than this (kept until a count or byte limit
    /// unless set).
    pub fn max_age(mut self, max: impl Into<Option<Duration>>) -> Self {
        self.stream.max_age = max.into();
        self
    }

    /// How long JetStream remembers a publish's message id, so that one
    /// sent again is not stored again (2 minutes unless set).
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        // JetStream takes the window in nanoseconds as an i64: a longer one
        // would reach it truncated (`Duration::MAX` as -1 ns). 100 years,
        // as sse-redis's publish key window.
        const LONGEST: Duration = Duration::from_secs(100 * 365 * 24 * 60 * 60);
        self.stream.duplicate_window = window.clamp(Duration::from_millis(100), LONGEST);
        self
    }

    /// Keeps the stream in memory instead of files (for tests: a restarted
    /// server has lost it).
    pub fn memory_storage(mut self, memory: bool) -> Self {
        self.stream.memory = memory;
        self
    }

    /// How long one attempt of a publish waits for JetStream's
    /// acknowledgement (2 s unless set), and how many attempts, with the
    /// same message id, it makes before reporting an error (2 unless set).
    pub fn publish_timeout(mut self, timeout: Duration, attempts: u32) -> Self {
        self.ack_timeout = timeout.max(Duration::from_millis(10));
        self.publish_attempts = attempts.max(1);
        self
    }

    /// The most bytes one fetch of the reader or of a replay brings (1 MiB
    /// unless set, and never less than the server's largest message, so
    /// that one event always fits).
    pub fn fetch_bytes(mut self, bytes: usize) -> Self {
        self.fetch_bytes = bytes.max(1024);
        self
    }

    /// About how many bytes of events one replay round gives the hub (1 MiB
    /// unless set): a round ends before the event that would pass it, and
    /// always holds at least one event, however large; the hub asks again
    /// from there.
    pub fn replay_bytes(mut self, bytes: usize) -> Self {
        self.replay_bytes = bytes.max(1);
        self
    }

    /// The reader's reconnection delays: from `min`, doubling to `max`
    /// (100 ms to 5 s unless set).
    pub fn backoff(mut self, min: Duration, max: Duration) -> Self {
        let min = min.max(Duration::from_millis(1));
        self.backoff = (min, max.max(min));
        self
    }

    /// Connects, opens (or creates) the stream, and reads its epoch and how
    /// far its sequence has gone.
    ///
    /// # Errors
    ///
    /// When no server can be reached, JetStream is not enabled, or the
    /// stream cannot be created or captures other subjects.
    pub async fn connect(self) -> Result<NatsStore, ConnectError> {
        if self.prefix.is_empty()
            || self
                .prefix
                .split('.')
                .any(|token| token.is_empty() || token.contains(['*', '>', ' ', '\t', '\r', '\n']))
        {
            return Err(ConnectError::new(format!(
                "{:?} is not a subject prefix",
                self.prefix
            )));
        }
        let options = self
            .options
            .unwrap_or_default()
            .max_reconnects(None)
            .reconnect_delay_callback(backoff_callback(self.backoff));
        let client = options
            .connect(&self.servers)
            .await
            .map_err(ConnectError::new)?;
        // A fetch asks for at least one whole message: the server refuses
        // one larger than the bytes asked for.
        let fetch_bytes = self
            .fetch_bytes
            .max(client.server_info().max_payload + (64 << 10));
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(self.ack_timeout)
            .build(client);
        let opened = open::open(&jetstream, &self.stream).await?;
        tracing::debug!(
            stream = self.stream.name,
            head = opened.head,
            "connected to JetStream"
        );
        let shared = Shared {
            jetstream,
            stream: self.stream.name,
            subjects: Subjects::new(&self.prefix, opened.epoch),
            epoch: opened.epoch,
            head: opened.head,
            publish_attempts: self.publish_attempts,
            fetch_bytes,
            replay_bytes: self.replay_bytes,
            backoff: self.backoff,
            replaced: AtomicBool::new(false),
            read: AtomicU64::new(opened.head),
            follows: Mutex::new(Follows {
                topics: HashMap::new(),
                reported_through: opened.head,
            }),
            leader_scan_warned: Mutex::new(None),
        };
        Ok(NatsStore::new(Arc::new(shared)))
    }
}

/// The client's delays between reconnection attempts: the reader's backoff,
/// so that a server away is not asked for in a busy loop.
fn backoff_callback(
    (min, max): (Duration, Duration),
) -> impl Fn(usize) -> Duration + Send + Sync + 'static {
    move |attempts| {
        let doublings = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(u32::MAX)
            .min(16);
        min.saturating_mul(1 << doublings).min(max)
    }
}

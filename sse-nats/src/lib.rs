//! A NATS JetStream [`Store`](sse_engine::hub::Store) for the `sse-engine`
//! hub: several server processes share one replay log, replicated across
//! machines, so a client that reconnects to another instance behind the
//! load balancer resumes from its `Last-Event-ID` there, and losing one
//! NATS node (of a three-node cluster, with `replicas(3)`) loses nothing
//! that was acknowledged.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use sse_engine::Event;
//! use sse_engine::hub::Hub;
//! use sse_nats::NatsStore;
//!
//! let store = NatsStore::builder(["nats://127.0.0.1:4222"]).connect().await?;
//! let hub = Hub::builder().store(store).build();
//! let id = hub.publish("news", Event::new().data("stored in JetStream")).await?;
//! println!("published {id}");
//! # Ok(())
//! # }
//! ```
//!
//! # How events map onto the stream
//!
//! - **One stream for the hub** (`SSE` unless
//!   [`stream`](NatsStoreBuilder::stream) says otherwise), capturing
//!   `<prefix>.<epoch>.>`: the prefix is `sse` unless
//!   [`prefix`](NatsStoreBuilder::prefix) says otherwise, the epoch is the
//!   stream's, in 12 hex digits (below), for example
//!   `sse.0f3a9c01b7e4.>`. Write `<base>` for `<prefix>.<epoch>`.
//! - **One message per event**, whatever its number of topics. Its stream
//!   sequence number is the event's: ids are `<epoch>-<stream sequence>`, one
//!   total order across topics, so one id resumes a multi-topic subscription,
//!   and an event in several topics is stored, and delivered, once.
//! - **Subjects**: an event in one topic is published on
//!   `<base>.t.<topic token>`; an event in several on `<base>.m`. Every
//!   message also carries its topics' tokens in the `Sse-Topics` header,
//!   separated by spaces. A topic token is the topic's name with ASCII
//!   letters, digits and `-` kept, and every other byte (`_` too) written
//!   `_` and two upper-case hex digits: `chat:room-1` is `chat_3Aroom-1`,
//!   `a.b` is `a_2Eb`, the empty topic is `_`. So any topic name is one
//!   valid subject token, and names never collide.
//! - **The epoch** is the stream's: the process that creates the stream
//!   writes a random epoch in its description (`sse hub log;
//!   epoch=0f3a9c01b7e4`), and every process that opens it reads that. An id
//!   from another stream, another deployment, or a stream deleted and
//!   created again has another epoch: the client gets the hub's gap signal,
//!   never a position read in the wrong log. The epoch is in the subjects
//!   too, so a process still holding an old stream's epoch cannot publish
//!   into a stream created again under the same name: no stream captures
//!   its subjects, and its publish fails. A stream made by hand for this
//!   store needs that description and those subjects.
//! - **Publishing** waits for JetStream's acknowledgement (`PubAck`; with
//!   replicas, once a majority stored it). Each append has one
//!   `Nats-Msg-Id`, kept when the store sends it again after a lost
//!   acknowledgement, so the stream's duplicate window stores it once.
//!   A publish key the caller gives (`Hub::publish_keyed`) is the
//!   `Nats-Msg-Id` itself (prefixed `publish-key:`), so a retried publish,
//!   from any process, is stored once within the stream's
//!   [`duplicate_window`](NatsStoreBuilder::duplicate_window) (2 minutes
//!   unless set; see [`NatsStore`]'s "Publish keys").
//!   A publish that is not acknowledged returns an error; one sent but not
//!   acknowledged says that it may still be stored. While the client is
//!   disconnected nothing is sent (the client would hold the message and
//!   send it after the error was reported).
//! - **One reader per process**: an ephemeral pull consumer over `<base>.>`
//!   reads every event, in sequence order, and feeds the hub's in-memory logs
//!   (events of topics the hub does not have are read and dropped); clients
//!   read those logs, never NATS.
//! - **Replay**: a cursor older than the hub's in-memory log is served from
//!   the stream by a short-lived consumer filtered on the topic's subject
//!   and on `<base>.m`, in rounds and fetches bounded by count (the hub's
//!   log limit) and by bytes
//!   ([`fetch_bytes`](NatsStoreBuilder::fetch_bytes) per fetch,
//!   [`replay_bytes`](NatsStoreBuilder::replay_bytes) per round): one round
//!   gives the hub at most `replay_bytes` of events (one event when a single
//!   one is larger), and holds at most twice that, plus one fetch, while it
//!   merges the topic's own and multi-topic events. When the stream no
//!   longer holds the whole range (trimmed by its limits, purged, messages
//!   deleted in the middle), the client gets a gap signal.
//! - **Limits**: [`max_messages`](NatsStoreBuilder::max_messages),
//!   [`max_bytes`](NatsStoreBuilder::max_bytes) and
//!   [`max_age`](NatsStoreBuilder::max_age) become the stream's limits
//!   (discarding the oldest events), like the hub's
//!   [`LogLimits`](sse_engine::hub::LogLimits) but for all topics together.
//!   A process that opens an existing stream with other limits updates them.
//!
//! # When servers go away
//!
//! Subscribers keep their connections. Publishing fails at once while the
//! client is disconnected, and after the acknowledgement timeout when the
//! stream cannot store (no quorum). The reader makes a new consumer with
//! backoff, from after the last sequence number it read: nothing is
//! delivered twice, and whatever the stream dropped meanwhile is reported as
//! a gap to the subscribers of every topic the process has (the reader
//! cannot know whose events they were), never skipped in silence.
//!
//! In a cluster, making a consumer needs the JetStream meta group's leader:
//! while it is elected (a few seconds after it was lost, longer when a
//! second node is lost before the first one came back up to date), and when
//! JetStream 2.9 places the consumer on a node that is down, the request is
//! not answered, and times out after the acknowledgement timeout. The
//! reader then makes another one, with a name of its own, and deletes the
//! one not answered, so that none is left behind. A replay reads through
//! short-lived consumers (one per scan of a subject), each deleted however
//! the replay ends, its client gone halfway included; one whose making was
//! not answered goes after 30 s of inactivity. A replay that cannot make
//! its consumer (not answered, as when JetStream 2.9 places it on a node
//! that is down, or refused, as at the stream's consumer limit) asks the
//! stream's leader for each message instead: slower (a request per
//! message on its subject, other topics' multi-topic events included),
//! and whole; it says so at `warn`, once a minute at most.
//!
//! # Limits
//!
//! - Every process reads every event of the stream, whichever topics it
//!   has.
//! - A replay round scans the multi-topic events of its range to find the
//!   topic's: its memory is bounded by the hub's replay limit and
//!   [`fetch_bytes`](NatsStoreBuilder::fetch_bytes), but its time grows
//!   with the number of multi-topic events between the cursor and the head.
//! - A message deleted from the middle of the stream makes every cursor
//!   before it a gap, whichever topic it was in; and a cursor older than the
//!   stream's first event is a gap even when its topic had no event among
//!   those dropped (the stream's limits are for all topics together).
//! - A stream deleted and created again under running processes, or rolled
//!   back (a server restored from an older copy of its files, or a single
//!   server that lost writes it had not synced to disk): the running
//!   processes notice (their reader finds another epoch, or a last sequence
//!   number below what it read; a publish is numbered at or below what was
//!   read), stop publishing (errors) and reading, and must be restarted, so
//!   that no id is given twice for different events. A process started
//!   after a rollback cannot notice it: use replicas, or JetStream's
//!   `sync_interval: always` on a single server, where that matters.
//! - Events are NATS messages: the server's `max_payload` (1 MiB unless
//!   configured) bounds an event's size, headers included; keep the hub's
//!   [`LogLimits::max_event_bytes`](sse_engine::hub::LogLimits::max_event_bytes)
//!   below it.
//! - A process that opens an existing stream with other limits, duplicate
//!   window or replicas changes the stream's to its own: give every process
//!   of a deployment the same settings.
//! - The stream is the store's: another application publishing on its
//!   subjects breaks the mapping.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod builder;
mod consumer;
mod epoch;
mod error;
mod feed;
mod gaps;
mod open;
mod replay;
mod shared;
mod store;
mod subject;

pub use self::builder::NatsStoreBuilder;
pub use self::error::ConnectError;
pub use self::store::NatsStore;

//! [`NatsStore`]: the hub's [`Store`] on a JetStream stream.

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use async_nats::connection::State;
use async_nats::header::{HeaderMap, NATS_EXPECTED_STREAM, NATS_MESSAGE_ID};
use async_nats::jetstream::message::PublishMessage;
use bytes::Bytes;
use sse_engine::Text;
use sse_engine::hub::{
    Appended, Epoch, Feed, PublishKey, ReplayRound, Store, StoreError, StoreFuture, StoredEvent,
};
use tokio::task::JoinHandle;

use crate::shared::Shared;
use crate::subject::{self, SENT_BY, TOPICS};

/// A [`Store`] on a NATS JetStream stream: every server process that uses
/// the same stream shares one sequence of ids and one replay log, so a
/// client can resume on any of them; see the [crate docs](crate) for how
/// events map onto the stream, and what happens when servers go away.
///
/// # Publish keys
///
/// A publish key the caller gives (`Hub::publish_keyed`) becomes the
/// message's `Nats-Msg-Id`, as `publish-key:<key>` (the store's own ids
/// are hex digits first, so the two never collide): JetStream stores one
/// message per id within the stream's duplicate window
/// ([`duplicate_window`](crate::NatsStoreBuilder::duplicate_window), two
/// minutes unless set, and never longer than the stream's `max_age`, as the
/// builder sets it on the stream it creates or updates), whichever process
/// publishes it, and answers a message id already stored with the first
/// one's sequence number (`"duplicate": true`), which the store returns as
/// the event's. Past the window, the key is new again.
///
/// ```no_run
/// # async fn run() -> Result<(), sse_nats::ConnectError> {
/// use std::time::Duration;
///
/// use sse_engine::hub::Hub;
/// use sse_nats::NatsStore;
///
/// let store = NatsStore::builder(["nats://n1:4222", "nats://n2:4222", "nats://n3:4222"])
///     .stream("CHAT")
///     .prefix("chat")
///     .replicas(3)
///     .max_messages(100_000)
///     .max_age(Duration::from_secs(24 * 3600))
///     .connect()
///     .await?;
/// let hub = Hub::builder().store(store).build();
/// # drop(hub);
/// # Ok(())
/// # }
/// ```
pub struct NatsStore {
    shared: Arc<Shared>,
    /// Distinguishes this store's message ids from every other's.
    id_prefix: String,
    next_id: AtomicU64,
    feed_task: Mutex<Option<JoinHandle<()>>>,
}

impl NatsStore {
    pub(crate) fn new(shared: Arc<Shared>) -> Self {
        Self {
            id_prefix: format!(
                "{:012x}-{:012x}",
                shared.epoch.bits(),
                Epoch::random().bits()
            ),
            shared,
            next_id: AtomicU64::new(1),
            feed_task: Mutex::new(None),
        }
    }

    /// The stream's name.
    pub fn stream(&self) -> &str {
        &self.shared.stream
    }

    /// Publishes once, with the same message id however many attempts: the
    /// caller's key when there is one, else one of this store's.
    async fn publish(
        &self,
        topics: &[Text],
        event: &Bytes,
        key: Option<&PublishKey>,
    ) -> Result<Appended, StoreError> {
        let shared = &*self.shared;
        if shared.is_replaced() {
            return Err(StoreError::new(
                "the stream was created again or rolled back; this store no longer publishes",
            ));
        }
        let subject = match topics {
            [] => return Err(StoreError::new("an event needs a topic")),
            [topic] => shared.subjects.topic(topic),
            _ => shared.subjects.multi(),
        };
        let call = format!(
            "{}-{}",
            self.id_prefix,
            self.next_id.fetch_add(1, Ordering::Relaxed)
        );
        let id = match key {
            Some(key) => format!("{PUBLISH_KEY_PREFIX}{key}"),
            None => call.clone(),
        };
        let names: Vec<String> = topics.iter().map(|topic| subject::encode(topic)).collect();
        let mut headers = HeaderMap::new();
        headers.insert(TOPICS, names.join(" ").as_str());
        headers.insert(NATS_MESSAGE_ID, id.as_str());
        if key.is_some() {
            // Tells this call's own attempts apart from an earlier publish
            // under the same key, when JetStream answers "duplicate".
            headers.insert(SENT_BY, call.as_str());
        }
        headers.insert(NATS_EXPECTED_STREAM, shared.stream.as_str());
        let client = shared.jetstream.client();
        let read_before = shared.has_read();
        let mut sent = false;
        let mut failure: Option<StoreError> = None;
        for _ in 0..shared.publish_attempts {
            // Not sent while disconnected: the client would hold it and send
            // it when back, after this call reported an error.
            if client.connection_state() != State::Connected {
                failure.get_or_insert_with(|| StoreError::new("not connected to NATS"));
                break;
            }
            let message = PublishMessage::build()
                .payload(event.clone())
                .headers(headers.clone());
            let sent_before = sent;
            let acknowledged = match shared
                .jetstream
                .send_publish(subject.clone(), message)
                .await
            {
                Ok(ack) => {
                    sent = true;
                    ack.await.map_err(StoreError::new)
                }
                Err(error) => Err(StoreError::new(error)),
            };
            match acknowledged {
                Ok(ack) if ack.stream != shared.stream => {
                    return Err(StoreError::new(format!(
                        "stored in the stream {:?}, not {:?}",
                        ack.stream, shared.stream
                    )));
                }
                // A message id already stored: JetStream answers with the
                // first message's sequence number, which may be long before
                // what the reader has read (no rollback).
                Ok(ack) if ack.duplicate => {
                    if ack.sequence == 0 {
                        failure = Some(StoreError::new(
                            "JetStream answered a duplicate without its sequence number",
                        ));
                        // The first copy is still being replicated: asked
                        // again at once, every attempt would be spent on it.
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                    let ours =
                        sent_before && key.is_some() && self.sent_by(ack.sequence, &call).await;
                    return Ok(if key.is_none() || ours {
                        // This call's own earlier attempt was stored.
                        Appended::new(ack.sequence)
                    } else {
                        Appended::duplicate_of(ack.sequence)
                    });
                }
                // Stored after everything the reader had read before the
                // first attempt was sent (the reader may read it before its
                // acknowledgement comes): lower means the stream went back,
                // and the number belongs to another event.
                Ok(ack) if ack.sequence <= read_before => {
                    tracing::error!(
                        stream = shared.stream,
                        seq = ack.sequence,
                        "the stream was rolled back: this store stops; restart the process"
                    );
                    shared.mark_replaced();
                    return Err(StoreError::new(format!(
                        "the stream numbered this event {}, an id already given: it was rolled back",
                        ack.sequence
                    )));
                }
                Ok(ack) => return Ok(Appended::new(ack.sequence)),
                Err(error) => {
                    tracing::debug!(%error, id, "publish not acknowledged; sending it again with the same id");
                    failure = Some(error);
                }
            }
        }
        let failure = failure.unwrap_or_else(|| StoreError::new("not acknowledged"));
        if sent {
            // It may still be stored (and then delivered): the caller is
            // told that the outcome is unknown, not that nothing happened.
            Err(StoreError::outcome_unknown(format!(
                "not acknowledged by JetStream; it may still be stored ({failure})"
            )))
        } else {
            Err(failure)
        }
    }
}

impl NatsStore {
    /// Whether the message `seq` was sent by the call `call` (its
    /// [`SENT_BY`] header): a duplicate that one of this call's earlier
    /// attempts stored is no duplicate to the caller. `false` when the
    /// stream no longer holds it or cannot be asked.
    async fn sent_by(&self, seq: u64, call: &str) -> bool {
        let shared = &*self.shared;
        let Ok(stream) = shared.jetstream.get_stream_no_info(&shared.stream).await else {
            return false;
        };
        match stream.get_raw_message(seq).await {
            Ok(message) => message
                .headers
                .get(SENT_BY)
                .is_some_and(|value| value.as_str() == call),
            Err(error) => {
                tracing::debug!(%error, seq, "cannot read a duplicate's first message");
                false
            }
        }
    }
}

/// What a publish key's `Nats-Msg-Id` starts with: the store's own ids
/// start with hex digits, so the two never collide.
const PUBLISH_KEY_PREFIX: &str = "publish-key:";

impl Store for NatsStore {
    fn epoch(&self) -> Epoch {
        self.shared.epoch
    }

    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let appended = self.publish(topics, event, None).await?;
            Ok(appended.seq)
        })
    }

    /// Stores the event once per `key` within the stream's duplicate
    /// window; see [Publish keys](NatsStore#publish-keys).
    fn append_keyed<'a>(
        &'a self,
        topics: &'a [Text],
        event: &'a Bytes,
        key: &'a PublishKey,
    ) -> StoreFuture<'a, Appended> {
        Box::pin(self.publish(topics, event, Some(key)))
    }

    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        Box::pin(crate::replay::replay(
            &self.shared,
            topic,
            after,
            before,
            limit,
        ))
    }

    fn replay_round<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<ReplayRound>> {
        Box::pin(crate::replay::round(
            &self.shared,
            topic,
            after,
            before,
            limit,
            self.shared.replay_bytes,
        ))
    }

    fn head(&self) -> u64 {
        self.shared.head
    }

    fn head_now(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move {
            let stream = self
                .shared
                .jetstream
                .get_stream_no_info(&self.shared.stream)
                .await
                .map_err(StoreError::new)?;
            let info = stream.get_info().await.map_err(StoreError::new)?;
            Ok(info.state.last_sequence)
        })
    }

    fn feed(&self) -> Option<Feed> {
        let (sender, receiver) = tokio::sync::mpsc::channel(64);
        let task = tokio::spawn(crate::feed::run(self.shared.clone(), sender));
        let previous = self
            .feed_task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .replace(task);
        if let Some(previous) = previous {
            previous.abort();
        }
        Some(Box::pin(crate::feed::Receiver(receiver)))
    }

    fn follow(&self, topic: &Text, after: u64) -> u64 {
        let mut follows = self.shared.follows();
        // Reports already sent past `after` left this topic out: it starts
        // where they end, and the hub replays what is older. A topic
        // followed again starts here too.
        let start = after.max(follows.reported_through);
        let followed = follows.topics.entry(topic.clone()).or_insert(start);
        *followed = (*followed).max(start);
        start
    }
}

impl Drop for NatsStore {
    fn drop(&mut self) {
        // The reader holds a consumer; it ends with the store.
        if let Some(task) = self
            .feed_task
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}

impl fmt::Debug for NatsStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsStore")
            .field("stream", &self.shared.stream)
            .field("subjects", &self.shared.subjects)
            .field("epoch", &self.shared.epoch)
            .finish_non_exhaustive()
    }
}

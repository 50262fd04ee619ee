//! The scripted shared store the loss tests share (`hub_lost.rs`,
//! `hub_lost_interleavings.rs`, `hub_lost_interleavings_2.rs`): a feed the
//! test writes, a store that answers replays atomically and can lose
//! events, and helpers to read a subscription as text.
#![allow(dead_code, unreachable_pub, missing_docs)]

pub use std::collections::BTreeMap;
pub use std::sync::{Arc, Mutex};
pub use std::task::{Context, Poll};

pub use bytes::Bytes;
pub use futures_util::StreamExt;
pub use sse_engine::decode::{DecodedEvent, Decoder};
pub use sse_engine::hub::{
    Epoch, FedEvent, Feed, FeedItem, Hub, LagPolicy, LogLimits, Store, StoreFuture, StoredEvent,
    Subscription,
};
pub use sse_engine::{EncodedEvent, Text};
pub use tokio::sync::mpsc;

/// A shared store whose feed the test writes. Its replay holds every event
/// in `kept`, and can give none from before `lost_through` (the events it
/// lost): `None` for a request that starts before it, as the Redis store's
/// REPLAY does.
pub struct Fed {
    pub feed: Mutex<Option<mpsc::UnboundedReceiver<FeedItem>>>,
    pub kept: Mutex<BTreeMap<u64, Bytes>>,
    pub lost_through: Mutex<u64>,
    pub replays: Mutex<Vec<(u64, u64)>>,
    /// When set, a replay waits until it holds `true`.
    pub gate: Mutex<Option<tokio::sync::watch::Receiver<bool>>>,
    /// When set, a replay yields this many times before it answers (a round
    /// trip during which the feed goes on).
    pub delay: std::sync::atomic::AtomicUsize,
}

impl Store for Fed {
    fn epoch(&self) -> Epoch {
        Epoch::from_bits(7)
    }
    fn append<'a>(&'a self, _: &'a [Text], _: &'a Bytes) -> StoreFuture<'a, u64> {
        Box::pin(async { Ok(1) })
    }
    fn replay<'a>(
        &'a self,
        _: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        self.replays.lock().unwrap().push((after, before));
        let gate = self.gate.lock().unwrap().clone();
        let delay = self.delay.load(std::sync::atomic::Ordering::Relaxed);
        Box::pin(async move {
            for _ in 0..delay {
                tokio::task::yield_now().await;
            }
            if let Some(mut gate) = gate {
                let _ = gate.wait_for(|open| *open).await;
            }
            // The check and the read under one lock (`kept`), as `lose`
            // changes both under it: the store answers atomically.
            let kept = self.kept.lock().unwrap();
            let lost = *self.lost_through.lock().unwrap();
            let answer = (after >= lost).then(|| {
                kept.range(after + 1..before)
                    .take(limit)
                    .map(|(&seq, event)| StoredEvent {
                        seq,
                        event: event.clone(),
                    })
                    .collect()
            });
            Ok(answer)
        })
    }
    fn head(&self) -> u64 {
        0
    }
    fn head_now(&self) -> StoreFuture<'_, u64> {
        Box::pin(async move { Ok(0) })
    }
    fn feed(&self) -> Option<Feed> {
        let mut receiver = self.feed.lock().unwrap().take()?;
        Some(Box::pin(futures_util::stream::poll_fn(move |cx| {
            receiver.poll_recv(cx)
        })))
    }
}

pub struct Harness {
    pub feed: mpsc::UnboundedSender<FeedItem>,
    pub store: Arc<Fed>,
}

impl Harness {
    pub fn new() -> Self {
        let (feed, receiver) = mpsc::unbounded_channel();
        let store = Arc::new(Fed {
            feed: Mutex::new(Some(receiver)),
            kept: Mutex::new(BTreeMap::new()),
            lost_through: Mutex::new(0),
            replays: Mutex::new(Vec::new()),
            gate: Mutex::new(None),
            delay: std::sync::atomic::AtomicUsize::new(0),
        });
        Self { feed, store }
    }

    pub fn hub(&self, max_events: usize, policy: LagPolicy) -> Hub {
        Hub::builder()
            .store(self.store.clone())
            .log_limits(LogLimits::new().max_events(max_events))
            .lag_policy(policy)
            .topic("t")
            .build()
    }

    /// Appends `seqs` to the store and reports them through the feed.
    pub fn publish(&self, seqs: std::ops::RangeInclusive<u64>) {
        let through = *seqs.end();
        let mut kept = self.store.kept.lock().unwrap();
        let events = seqs
            .map(|seq| {
                let event = Bytes::from(format!("data: {seq}\n\n"));
                kept.insert(seq, event.clone());
                FedEvent {
                    seq,
                    topic: Text::from_static("t"),
                    event,
                }
            })
            .collect();
        self.feed
            .send(FeedItem::Events { events, through })
            .unwrap();
    }

    /// The store loses everything up to `through` and the feed says so.
    pub fn lose(&self, through: u64) {
        let mut kept = self.store.kept.lock().unwrap();
        kept.retain(|&seq, _| seq > through);
        *self.store.lost_through.lock().unwrap() = through;
        drop(kept);
        self.feed
            .send(FeedItem::Lost {
                topic: Text::from_static("t"),
                through,
            })
            .unwrap();
    }
}

pub async fn let_the_feed_task_run() {
    for _ in 0..50 {
        tokio::task::yield_now().await;
    }
}

pub fn decode(events: &[EncodedEvent]) -> Vec<DecodedEvent> {
    let mut decoder = Decoder::new();
    for event in events {
        decoder.push(event.as_bytes()).unwrap();
    }
    std::iter::from_fn(|| decoder.next_event()).collect()
}

/// Polls until pending (letting replays resolve), at most `max` events.
pub async fn read(subscription: &mut Subscription, max: usize) -> Vec<String> {
    let mut out = Vec::new();
    for _ in 0..200 {
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        match subscription.poll_next_unpin(&mut cx) {
            Poll::Ready(Some(event)) => {
                for decoded in decode(&[event]) {
                    out.push(describe(&decoded));
                }
                if out.len() >= max {
                    break;
                }
            }
            Poll::Ready(None) => {
                out.push("END".to_owned());
                break;
            }
            Poll::Pending => tokio::task::yield_now().await,
        }
    }
    out
}

pub fn describe(event: &DecodedEvent) -> String {
    let seq = event.last_event_id().rsplit('-').next().unwrap_or("");
    if event.event_type() == "gap" {
        format!("gap@{seq} {}", event.data())
    } else {
        event.data().to_owned()
    }
}

pub fn fed(seq: u64, topic: &'static str) -> FedEvent {
    FedEvent {
        seq,
        topic: Text::from_static(topic),
        event: Bytes::from(format!("data: {topic}{seq}\n\n")),
    }
}

pub fn two_topic_hub(h: &Harness, max_events: usize, policy: LagPolicy) -> Hub {
    Hub::builder()
        .store(h.store.clone())
        .log_limits(LogLimits::new().max_events(max_events))
        .lag_policy(policy)
        .topic("t")
        .topic("u")
        .build()
}

pub fn lost(topic: &'static str, through: u64) -> FeedItem {
    FeedItem::Lost {
        topic: Text::from_static(topic),
        through,
    }
}

/// Events' ids strictly increase; a gap's id is at least the previous
/// item's (it may equal the last event's: the cursor did not move), and
/// whatever follows a gap is past it.
pub fn assert_ids_increase(got: &[String]) {
    let mut last: Option<(u64, bool)> = None;
    for e in got.iter().filter(|e| *e != "END") {
        let gap = e.starts_with("gap@");
        let digits: String = e
            .trim_start_matches("gap@")
            .trim_start_matches(|c: char| c.is_ascii_alphabetic())
            .chars()
            .take_while(char::is_ascii_digit)
            .collect();
        let seq: u64 = digits.parse().unwrap();
        if let Some((prev, prev_gap)) = last {
            let ok = if gap && !prev_gap {
                seq >= prev
            } else {
                seq > prev
            };
            assert!(ok, "ids do not increase at {e}: {got:?}");
        }
        last = Some((seq, gap));
    }
}

/// One topic's events in [`Fed2`], and how far it lost them.
pub type TopicLog = (BTreeMap<u64, Bytes>, u64);

/// A store with a log per topic, answering atomically.
#[derive(Default)]
pub struct Fed2 {
    pub feed: Mutex<Option<mpsc::UnboundedReceiver<FeedItem>>>,
    /// Per topic: its events, and how far it lost them.
    pub kept: Mutex<std::collections::HashMap<&'static str, TopicLog>>,
}

impl Store for Fed2 {
    fn epoch(&self) -> Epoch {
        Epoch::from_bits(7)
    }
    fn append<'a>(&'a self, _: &'a [Text], _: &'a Bytes) -> StoreFuture<'a, u64> {
        Box::pin(async { Ok(1) })
    }
    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        Box::pin(async move {
            tokio::task::yield_now().await;
            let kept = self.kept.lock().unwrap();
            let Some((events, lost)) = kept.get(topic.as_str()) else {
                return Ok(Some(Vec::new()));
            };
            Ok((after >= *lost).then(|| {
                events
                    .range(after + 1..before)
                    .take(limit)
                    .map(|(&seq, event)| StoredEvent {
                        seq,
                        event: event.clone(),
                    })
                    .collect()
            }))
        })
    }
    fn feed(&self) -> Option<Feed> {
        let mut receiver = self.feed.lock().unwrap().take()?;
        Some(Box::pin(futures_util::stream::poll_fn(move |cx| {
            receiver.poll_recv(cx)
        })))
    }
}

/// A two-topic hub on [`Fed2`] and a sender that keeps what it reports.
pub fn fed2_hub(
    max_events: usize,
    policy: LagPolicy,
) -> (Hub, Arc<Fed2>, mpsc::UnboundedSender<FeedItem>) {
    let (feed, receiver) = mpsc::unbounded_channel();
    let store = Arc::new(Fed2 {
        feed: Mutex::new(Some(receiver)),
        ..Fed2::default()
    });
    let hub = Hub::builder()
        .store(store.clone())
        .log_limits(LogLimits::new().max_events(max_events))
        .lag_policy(policy)
        .topic("t")
        .topic("u")
        .build();
    (hub, store, feed)
}

pub fn send2(
    store: &Fed2,
    feed: &mpsc::UnboundedSender<FeedItem>,
    events: Vec<FedEvent>,
    through: u64,
) {
    let mut kept = store.kept.lock().unwrap();
    for event in &events {
        let topic = if event.topic == "t" { "t" } else { "u" };
        kept.entry(topic)
            .or_default()
            .0
            .insert(event.seq, event.event.clone());
    }
    drop(kept);
    feed.send(FeedItem::Events { events, through }).unwrap();
}

//! Test doubles and helpers several hub test files share: a shared store
//! whose feed the test writes by hand, a store that keeps every event, a
//! waker that counts its wakes, and reading what a subscription has ready.
// Each test file is its own crate and uses only part of this module.
#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::task::noop_waker_ref;
use sse_engine::decode::{DecodedEvent, Decoder};
use sse_engine::hub::{
    Epoch, FedEvent, Feed, FeedItem, Hub, LogLimits, Store, StoreFuture, StoredEvent, Subscription,
};
use sse_engine::{EncodedEvent, Text};
use tokio::sync::mpsc;

/// A shared store whose feed the test writes by hand; it replays nothing.
pub(crate) struct Scripted {
    feed: Mutex<Option<mpsc::UnboundedReceiver<FeedItem>>>,
}

impl Store for Scripted {
    fn epoch(&self) -> Epoch {
        Epoch::from_bits(7)
    }
    fn append<'a>(&'a self, _: &'a [Text], _: &'a Bytes) -> StoreFuture<'a, u64> {
        Box::pin(async { Ok(1) })
    }
    fn replay<'a>(
        &'a self,
        _: &'a Text,
        _: u64,
        _: u64,
        _: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        Box::pin(async { Ok(None) })
    }
    fn feed(&self) -> Option<Feed> {
        let mut receiver = self.feed.lock().unwrap().take()?;
        Some(Box::pin(futures_util::stream::poll_fn(move |cx| {
            receiver.poll_recv(cx)
        })))
    }
}

/// A store that keeps every event (not shared), so that old cursors are
/// replayed; it counts the replays asked of it.
#[derive(Default)]
pub(crate) struct Keeping {
    events: Mutex<Vec<(u64, Vec<Text>, Bytes)>>,
    replays: AtomicUsize,
}

impl Keeping {
    /// How many replays were asked of it.
    pub(crate) fn replays(&self) -> usize {
        self.replays.load(Ordering::SeqCst)
    }
}

impl Store for Keeping {
    fn epoch(&self) -> Epoch {
        Epoch::from_bits(9)
    }
    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        let mut events = self.events.lock().unwrap();
        let seq = events.len() as u64 + 1;
        events.push((seq, topics.to_vec(), event.clone()));
        Box::pin(async move { Ok(seq) })
    }
    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        self.replays.fetch_add(1, Ordering::SeqCst);
        let events: Vec<_> = self
            .events
            .lock()
            .unwrap()
            .iter()
            .filter(|(seq, topics, _)| *seq > after && *seq < before && topics.contains(topic))
            .take(limit)
            .map(|(seq, _, event)| StoredEvent {
                seq: *seq,
                event: event.clone(),
            })
            .collect();
        Box::pin(async move { Ok(Some(events)) })
    }
}

/// A hub on a [`Scripted`] store, and the sender of its feed.
pub(crate) fn scripted_hub() -> (mpsc::UnboundedSender<FeedItem>, Hub) {
    scripted_hub_with(LogLimits::new())
}

/// [`scripted_hub`] with these log limits.
pub(crate) fn scripted_hub_with(limits: LogLimits) -> (mpsc::UnboundedSender<FeedItem>, Hub) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let hub = Hub::builder()
        .store(Scripted {
            feed: Mutex::new(Some(receiver)),
        })
        .log_limits(limits)
        .build();
    (sender, hub)
}

/// Event `seq` of `topic`, as a feed reports it.
pub(crate) fn fed(seq: u64, topic: &'static str) -> FedEvent {
    FedEvent {
        seq,
        topic: Text::from_static(topic),
        event: Bytes::from(format!("data: {seq}\n\n")),
    }
}

/// Lets the hub's feed task take what was sent to it.
pub(crate) async fn let_the_feed_task_run() {
    for _ in 0..10 {
        tokio::task::yield_now().await;
    }
}

/// A waker that counts its wakes; its `Arc`'s count tells how many copies
/// of it are held.
#[derive(Default)]
pub(crate) struct Counting(AtomicUsize);

impl Counting {
    pub(crate) fn count(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }
}

impl Wake for Counting {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        self.0.fetch_add(1, Ordering::SeqCst);
    }
}

/// The events `events` hold, decoded.
pub(crate) fn decode(events: &[EncodedEvent]) -> Vec<DecodedEvent> {
    let mut decoder = Decoder::new();
    for event in events {
        decoder.push(event.as_bytes()).unwrap();
    }
    std::iter::from_fn(|| decoder.next_event()).collect()
}

/// Everything the subscription has ready now, polled with `waker`.
pub(crate) fn ready_with(subscription: &mut Subscription, waker: &Waker) -> Vec<EncodedEvent> {
    let mut cx = Context::from_waker(waker);
    let mut out = Vec::new();
    while let Poll::Ready(Some(event)) = subscription.poll_next_unpin(&mut cx) {
        out.push(event);
    }
    out
}

/// Everything the subscription has ready now, without waiting.
pub(crate) fn ready(subscription: &mut Subscription) -> Vec<EncodedEvent> {
    ready_with(subscription, noop_waker_ref())
}

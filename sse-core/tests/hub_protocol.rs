//! What the hub's protocol (sse-core/src/hub/shared.rs) promises stores and
//! wakers, where a review of its restructuring found the code and the
//! words apart: the order a store is asked for its head and feed, a cursor
//! ahead of the feed that meets evicted events, no wake-up under a lock.
#![allow(missing_docs)]

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_util::{FutureExt, StreamExt};
use sse_engine::decode::{DecodedEvent, Decoder};
use sse_engine::hub::{
    Epoch, FedEvent, Feed, FeedItem, Hub, LogLimits, Position, Store, StoreFuture, StoredEvent,
};
use sse_engine::{EncodedEvent, Event, LastEventId, Text};
use tokio::sync::mpsc;

/// A shared store whose feed the test writes; it records the order in which
/// the hub calls `head` and `feed`, answers `head_now` with a fixed head and
/// replays nothing (`Some(vec![])`, or `None` when it has lost everything).
struct Fed {
    feed: Mutex<Option<mpsc::UnboundedReceiver<FeedItem>>>,
    head_now: u64,
    replay_some: bool,
    calls: Mutex<Vec<&'static str>>,
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
        _: u64,
        _: u64,
        _: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        let some = self.replay_some;
        Box::pin(async move { Ok(some.then(Vec::new)) })
    }
    fn head(&self) -> u64 {
        self.calls.lock().unwrap().push("head");
        0
    }
    fn head_now(&self) -> StoreFuture<'_, u64> {
        let head = self.head_now;
        Box::pin(async move { Ok(head) })
    }
    fn feed(&self) -> Option<Feed> {
        self.calls.lock().unwrap().push("feed");
        let mut receiver = self.feed.lock().unwrap().take()?;
        Some(Box::pin(futures_util::stream::poll_fn(move |cx| {
            receiver.poll_recv(cx)
        })))
    }
}

fn fed_store(head_now: u64, replay_some: bool) -> (mpsc::UnboundedSender<FeedItem>, Arc<Fed>) {
    let (sender, receiver) = mpsc::unbounded_channel();
    let store = Arc::new(Fed {
        feed: Mutex::new(Some(receiver)),
        head_now,
        replay_some,
        calls: Mutex::new(Vec::new()),
    });
    (sender, store)
}

async fn let_the_feed_task_run() {
    for _ in 0..20 {
        tokio::task::yield_now().await;
    }
}

fn cursor(seq: u64) -> (String, Option<LastEventId>) {
    let id = Position::new(Epoch::from_bits(7), seq).to_string();
    let parsed = LastEventId::parse(id.as_bytes()).unwrap();
    (id, parsed)
}

fn decode(events: &[EncodedEvent]) -> Vec<DecodedEvent> {
    let mut decoder = Decoder::new();
    for event in events {
        decoder.push(event.as_bytes()).unwrap();
    }
    std::iter::from_fn(|| decoder.next_event()).collect()
}

fn batch(seqs: std::ops::RangeInclusive<u64>) -> FeedItem {
    let through = *seqs.end();
    FeedItem::Events {
        events: seqs
            .map(|seq| FedEvent {
                seq,
                topic: Text::from_static("t"),
                event: Bytes::from(format!("data: {seq}\n\n")),
            })
            .collect(),
        through,
    }
}

/// A read that finds evicted events while a cursor ahead of the feed is
/// being checked replays them and keeps the check: after the round, a
/// cursor the store never gave is still signalled `unknown`.
#[tokio::test(start_paused = true)]
async fn a_cursor_ahead_is_still_checked_after_a_replay_round() {
    // The store's head is 5: cursor 10 was never given.
    let (feed, store) = fed_store(5, true);
    let hub = Hub::builder().store(store.clone()).topic("t").build();
    feed.send(FeedItem::Lost {
        topic: Text::from_static("t"),
        through: 20,
    })
    .unwrap();
    let_the_feed_task_run().await;
    let (_, requested) = cursor(10);
    let mut subscription = hub.subscribe(&["t"], requested).unwrap();
    let first = tokio::time::timeout(Duration::from_secs(30), subscription.next())
        .await
        .expect("the cursor-ahead check is still made after the replay round");
    let events = decode(&[first.unwrap()]);
    assert_eq!(events[0].event_type(), "gap");
    assert!(
        events[0].data().contains(r#""reason":"unknown""#),
        "{}",
        events[0].data()
    );
}

/// `Store::head` is asked before `Store::feed`, as the trait documents.
#[tokio::test]
async fn the_hub_asks_the_store_for_its_head_before_its_feed() {
    let (_feed, store) = fed_store(0, true);
    let _hub = Hub::builder().store(store.clone()).build();
    assert_eq!(*store.calls.lock().unwrap(), ["head", "feed"]);
}

/// A client whose resumed cursor is ahead of this process's feed, and whose
/// events the catching-up batch evicts before it reads any, is told
/// `evicted` with its cursor, as it would be arriving a moment later (the
/// reads made while waiting are not its first).
#[tokio::test(start_paused = true)]
async fn a_resumed_cursor_ahead_of_the_feed_whose_events_are_evicted_is_evicted_not_lagged() {
    let (feed, store) = fed_store(100, false);
    let hub = Hub::builder()
        .store(store.clone())
        .log_limits(LogLimits::new().max_events(4))
        .topic("t")
        .build();
    feed.send(batch(1..=4)).unwrap();
    let_the_feed_task_run().await;
    let (id, requested) = cursor(10);
    let mut subscription = hub.subscribe(&["t"], requested).unwrap();
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(
        subscription.poll_next_unpin(&mut cx).is_pending(),
        "waits for the feed"
    );
    feed.send(batch(5..=20)).unwrap();
    let_the_feed_task_run().await;
    let first = subscription.poll_next_unpin(&mut cx);
    let std::task::Poll::Ready(Some(first)) = first else {
        panic!("a gap is ready: {first:?}");
    };
    let events = decode(&[first]);
    assert_eq!(events[0].event_type(), "gap");
    let expected = format!(r#"{{"reason":"evicted","lastEventId":"{id}"}}"#);
    assert_eq!(events[0].data(), expected);
}

/// No waker is woken while a lock is held, `publish_order` included: a
/// waker that publishes at once finds nothing taken.
#[tokio::test]
async fn no_waker_is_woken_while_publish_order_is_held() {
    struct Probe {
        hub: Hub,
        woke: AtomicBool,
        found_held: AtomicBool,
    }
    impl Wake for Probe {
        fn wake(self: Arc<Self>) {
            self.wake_by_ref();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            if self.woke.swap(true, Ordering::SeqCst) {
                return;
            }
            let published = self
                .hub
                .publish("other", Event::new().data("x"))
                .now_or_never();
            self.found_held.store(published.is_none(), Ordering::SeqCst);
        }
    }
    let hub = Hub::new();
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    let probe = Arc::new(Probe {
        hub: hub.clone(),
        woke: AtomicBool::new(false),
        found_held: AtomicBool::new(false),
    });
    let waker = Waker::from(probe.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(subscription.poll_next_unpin(&mut cx).is_pending());
    hub.publish("t", Event::new().data("1")).await.unwrap();
    assert!(probe.woke.load(Ordering::SeqCst));
    assert!(
        !probe.found_held.load(Ordering::SeqCst),
        "woken while publish_order was held"
    );
}

/// Whatever the body does with the last event its subscription had ready
/// (it hands the frame out without asking again), nothing published
/// before or after is held back or lost, in bursts or one at a time.
#[tokio::test]
async fn events_read_from_the_tail_all_go_out_whether_or_not_more_follow() {
    let hub = Hub::new();
    let mut body = std::pin::pin!(hub.subscribe(&["t"], None).unwrap().into_body());
    // Caught up, reading the tail from here on.
    assert!(ready(body.as_mut()).is_empty());
    for n in 1..=3 {
        hub.publish("t", Event::new().data(n.to_string()))
            .await
            .unwrap();
    }
    assert_eq!(ready(body.as_mut()), ["1", "2", "3"], "a burst");
    for n in 4..=6 {
        hub.publish("t", Event::new().data(n.to_string()))
            .await
            .unwrap();
        assert_eq!(ready(body.as_mut()), [n.to_string()], "one at a time");
    }
}

/// The data of every event the body has ready, polled until it answers
/// pending.
fn ready<B>(mut body: std::pin::Pin<&mut B>) -> Vec<String>
where
    B: http_body::Body<Data = Bytes>,
{
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    let mut bytes = Vec::new();
    loop {
        match body.as_mut().poll_frame(&mut cx) {
            std::task::Poll::Ready(Some(Ok(frame))) => {
                bytes.extend_from_slice(&frame.into_data().unwrap_or_default());
            }
            std::task::Poll::Ready(_) => panic!("the stream ended"),
            std::task::Poll::Pending => break,
        }
    }
    decode_frame(&Bytes::from(bytes))
        .iter()
        .map(|event| event.data().to_owned())
        .collect()
}

fn decode_frame(frame: &Bytes) -> Vec<DecodedEvent> {
    let mut decoder = Decoder::new();
    decoder.push(frame).unwrap();
    std::iter::from_fn(|| decoder.next_event()).collect()
}

/// A store that loses events (a Redis restarted without persistence)
/// reports it through its feed. A subscriber that was caught up and reading
/// is told `lost`: it did not lag, so it is not counted as lagged, and a
/// hub that closes lagging streams keeps it open.
#[tokio::test(start_paused = true)]
async fn a_store_that_lost_events_is_a_lost_gap_never_a_lagged_one() {
    use sse_engine::hub::LagPolicy;

    for policy in [LagPolicy::SignalGap, LagPolicy::Close] {
        let (feed, store) = fed_store(0, false);
        let hub = Hub::builder()
            .store(store.clone())
            .lag_policy(policy)
            .topic("t")
            .build();
        let mut subscription = hub.subscribe(&["t"], None).unwrap();
        let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
        assert!(subscription.poll_next_unpin(&mut cx).is_pending());
        feed.send(batch(1..=3)).unwrap();
        let_the_feed_task_run().await;
        let mut read = Vec::new();
        while let std::task::Poll::Ready(Some(event)) = subscription.poll_next_unpin(&mut cx) {
            read.push(event);
        }
        assert_eq!(decode(&read).len(), 3, "caught up");

        // The store restarted empty: whatever it held up to 10 is gone.
        feed.send(FeedItem::Lost {
            topic: Text::from_static("t"),
            through: 10,
        })
        .unwrap();
        feed.send(batch(11..=11)).unwrap();
        let_the_feed_task_run().await;
        let mut after = Vec::new();
        while let std::task::Poll::Ready(Some(event)) = subscription.poll_next_unpin(&mut cx) {
            after.push(event);
        }
        let events = decode(&after);
        assert_eq!(events.len(), 2, "{policy:?}: the gap, then the next event");
        assert_eq!(events[0].event_type(), "gap");
        assert_eq!(events[0].data(), r#"{"reason":"lost","lastEventId":""}"#);
        assert_eq!(events[1].data(), "11");
        let stats = hub.stats();
        assert_eq!(stats.lagged, 0, "{policy:?}: nobody lagged");
        assert_eq!(stats.gaps, 1);
    }
}

/// A client that resumed and has read live since is no longer resuming
/// when its store loses events: the `lost` gap names no cursor (it would be
/// the one it connected with, long ago).
#[tokio::test(start_paused = true)]
async fn a_lost_gap_after_the_resume_names_no_cursor() {
    let (feed, store) = fed_store(5, false);
    let hub = Hub::builder().store(store.clone()).topic("t").build();
    feed.send(batch(1..=5)).unwrap();
    let_the_feed_task_run().await;
    let (_, requested) = cursor(3);
    let mut subscription = hub.subscribe(&["t"], requested).unwrap();
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    let mut drain = |subscription: &mut sse_engine::hub::Subscription| {
        let mut events = Vec::new();
        while let std::task::Poll::Ready(Some(event)) = subscription.poll_next_unpin(&mut cx) {
            events.push(event);
        }
        decode(&events)
    };
    let resumed = drain(&mut subscription);
    assert_eq!(
        resumed.iter().map(DecodedEvent::data).collect::<Vec<_>>(),
        ["4", "5"]
    );
    feed.send(batch(6..=8)).unwrap();
    let_the_feed_task_run().await;
    assert_eq!(drain(&mut subscription).len(), 3, "live");

    feed.send(FeedItem::Lost {
        topic: Text::from_static("t"),
        through: 20,
    })
    .unwrap();
    feed.send(batch(21..=21)).unwrap();
    let_the_feed_task_run().await;
    let events = drain(&mut subscription);
    assert_eq!(events[0].data(), r#"{"reason":"lost","lastEventId":""}"#);
    assert_eq!(events[1].data(), "21");
}

/// The body asks the subscription once per event it had ready, not once
/// more after the last: the subscription says which event was the last one
/// ready when it read it from its tail. (Without that, a wake-up costs a
/// second poll of the subscription that finds nothing.)
#[tokio::test]
async fn the_body_asks_the_subscription_once_per_event_ready() {
    use std::sync::atomic::AtomicUsize;

    use http_body::Body;
    use sse_engine::SseBody;

    /// Counts the polls of the stream it wraps.
    struct Counting<S> {
        inner: S,
        polls: Arc<AtomicUsize>,
    }

    impl<S: futures_util::Stream + Unpin> futures_util::Stream for Counting<S> {
        type Item = S::Item;
        fn poll_next(
            mut self: std::pin::Pin<&mut Self>,
            cx: &mut Context<'_>,
        ) -> std::task::Poll<Option<S::Item>> {
            self.polls.fetch_add(1, Ordering::SeqCst);
            self.inner.poll_next_unpin(cx)
        }
    }

    let hub = Hub::new();
    let polls = Arc::new(AtomicUsize::new(0));
    let counting = Counting {
        inner: hub.subscribe(&["t"], None).unwrap(),
        polls: polls.clone(),
    };
    let mut body = std::pin::pin!(SseBody::from_infallible_stream(counting));
    let mut cx = Context::from_waker(futures_util::task::noop_waker_ref());
    assert!(body.as_mut().poll_frame(&mut cx).is_pending(), "caught up");

    for burst in [1, 2, 3] {
        for n in 0..burst {
            hub.publish("t", Event::new().data(n.to_string()))
                .await
                .unwrap();
        }
        polls.store(0, Ordering::SeqCst);
        let mut events = 0;
        while let std::task::Poll::Ready(Some(Ok(frame))) = body.as_mut().poll_frame(&mut cx) {
            let frame: http_body::Frame<Bytes> = frame;
            events += decode_frame(&frame.into_data().unwrap()).len();
        }
        assert_eq!(events, burst);
        // One poll per event, and the one that finds nothing once the body
        // is asked again after handing the frames out.
        assert_eq!(polls.load(Ordering::SeqCst), burst + 1, "burst of {burst}");
    }
}

//! Subscribers reading the topics' tails without a lock: exact sequences
//! across sealed and re-sealed blocks, gaps only where the log evicted, closes,
//! age limits, replays, fed hubs, wakers that change, and a seeded
//! multi-thread stress run.

mod scripted;
mod support;

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use futures_util::task::noop_waker_ref;
use scripted::{
    Counting, Keeping, decode, fed, let_the_feed_task_run, ready, ready_with, scripted_hub,
    scripted_hub_with,
};
use sse_engine::decode::Decoder;
use sse_engine::hub::{
    Epoch, FeedItem, Hub, LagPolicy, LogLimits, Position, Store, StoreFuture, StoredEvent,
    Subscription,
};
use sse_engine::{EncodedEvent, Event, LastEventId, Text};
use support::Rng;

// ---------------------------------------------------------------- helpers

/// (event type, sequence number of its id) of each event.
fn kinds(events: &[EncodedEvent]) -> Vec<(String, u64)> {
    decode(events)
        .iter()
        .map(|event| {
            let seq = Position::parse(event.last_event_id()).unwrap().seq();
            (event.event_type().to_owned(), seq)
        })
        .collect()
}

/// The sequence numbers of plain events (`message`).
fn seqs(events: &[EncodedEvent]) -> Vec<u64> {
    kinds(events)
        .into_iter()
        .map(|(kind, seq)| {
            assert_eq!(kind, "message", "no gap expected");
            seq
        })
        .collect()
}

async fn publish(hub: &Hub, topics: &[&str]) -> u64 {
    hub.publish_to(topics, Event::new().data("x"))
        .await
        .unwrap()
        .seq()
}

// ------------------------------------------------- deterministic behaviour

/// Everything ready now, and whether the stream then ended.
fn ready_and_end(subscription: &mut Subscription) -> (Vec<EncodedEvent>, bool) {
    let mut cx = Context::from_waker(noop_waker_ref());
    let mut out = Vec::new();
    loop {
        match subscription.poll_next_unpin(&mut cx) {
            Poll::Ready(Some(event)) => out.push(event),
            Poll::Ready(None) => return (out, true),
            Poll::Pending => return (out, false),
        }
    }
}

fn message(seq: u64) -> (String, u64) {
    ("message".to_owned(), seq)
}

fn gap(seq: u64) -> (String, u64) {
    ("gap".to_owned(), seq)
}

#[tokio::test]
async fn caught_up_readers_follow_the_tail_through_sealed_and_re_sealed_blocks() {
    let plan: [&[&str]; 3] = [&["a"], &["b"], &["a", "b"]];
    for max_events in [1usize, 2, 3, 7, 8, 9, 16, 17] {
        for batch in 1..=max_events.min(9) {
            let hub = Hub::builder()
                .log_limits(LogLimits::new().max_events(max_events))
                .build();
            let mut a = hub.subscribe(&["a"], None).unwrap();
            let mut b = hub.subscribe(&["b"], None).unwrap();
            let mut both = hub.subscribe(&["a", "b"], None).unwrap();
            for subscription in [&mut a, &mut b, &mut both] {
                assert!(ready(subscription).is_empty());
            }
            let mut n = 0;
            for round in 0..30 {
                let (mut in_a, mut in_b, mut in_both) = (Vec::new(), Vec::new(), Vec::new());
                for _ in 0..batch {
                    let topics = plan[n % 3];
                    n += 1;
                    let seq = publish(&hub, topics).await;
                    if topics.contains(&"a") {
                        in_a.push(seq);
                    }
                    if topics.contains(&"b") {
                        in_b.push(seq);
                    }
                    in_both.push(seq);
                }
                let context = format!("max_events {max_events}, batch {batch}, round {round}");
                assert_eq!(seqs(&ready(&mut a)), in_a, "a: {context}");
                assert_eq!(seqs(&ready(&mut b)), in_b, "b: {context}");
                assert_eq!(seqs(&ready(&mut both)), in_both, "both: {context}");
            }
        }
    }
}

#[tokio::test]
async fn a_reader_that_stops_is_told_of_a_gap_exactly_where_the_log_evicted() {
    for policy in [LagPolicy::SignalGap, LagPolicy::Close] {
        for max_events in [1u64, 2, 3, 5, 8, 9, 17] {
            for pause in 0..=26u64 {
                let hub = Hub::builder()
                    .log_limits(LogLimits::new().max_events(max_events as usize))
                    .lag_policy(policy)
                    .build();
                let mut subscription = hub.subscribe(&["t"], None).unwrap();
                assert!(ready(&mut subscription).is_empty());
                // Caught up, reading the tail.
                for seq in 1..=3 {
                    assert_eq!(publish(&hub, &["t"]).await, seq);
                    assert_eq!(seqs(&ready(&mut subscription)), [seq]);
                }
                for _ in 0..pause {
                    publish(&hub, &["t"]).await;
                }
                let last = 3 + pause;
                let context = format!("{policy:?}, max_events {max_events}, pause {pause}");
                let (events, ended) = ready_and_end(&mut subscription);
                let seen = kinds(&events);
                if pause <= max_events {
                    let expected: Vec<_> = (4..=last).map(message).collect();
                    assert_eq!((seen, ended), (expected, false), "{context}");
                } else if policy == LagPolicy::Close {
                    assert_eq!((seen, ended), (vec![], true), "{context}");
                    continue;
                } else {
                    let evicted = last - max_events;
                    let mut expected = vec![gap(evicted)];
                    expected.extend((evicted + 1..=last).map(message));
                    assert_eq!((seen, ended), (expected, false), "{context}");
                }
                // And on from the tail again.
                let next = publish(&hub, &["t"]).await;
                assert_eq!(seqs(&ready(&mut subscription)), [next], "{context}");
            }
        }
    }
}

#[tokio::test]
async fn a_reader_that_falls_off_the_tail_reads_the_rest_from_the_log() {
    // More than the tail's two blocks, fewer than the log holds: no gap.
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(100))
        .build();
    let mut subscription = hub.subscribe(&["a", "b"], None).unwrap();
    assert!(ready(&mut subscription).is_empty());
    let first = publish(&hub, &["a"]).await;
    assert_eq!(seqs(&ready(&mut subscription)), [first]);
    let mut expected = Vec::new();
    for n in 0..90 {
        let topics: &[&str] = match n % 3 {
            0 => &["a"],
            1 => &["b"],
            _ => &["a", "b"],
        };
        expected.push(publish(&hub, topics).await);
    }
    assert_eq!(seqs(&ready(&mut subscription)), expected);
    let next = publish(&hub, &["b"]).await;
    assert_eq!(seqs(&ready(&mut subscription)), [next]);
}

#[tokio::test]
async fn a_subscriber_moved_to_another_task_is_woken_there() {
    let hub = Hub::new();
    let mut subscription = hub.subscribe(&["a", "b"], None).unwrap();
    let (first, second) = (Arc::new(Counting::default()), Arc::new(Counting::default()));
    let (on_first, on_second) = (Waker::from(first.clone()), Waker::from(second.clone()));
    assert!(ready_with(&mut subscription, &on_first).is_empty());
    let one = publish(&hub, &["a"]).await;
    assert_eq!(first.count(), 1);
    assert_eq!(seqs(&ready_with(&mut subscription, &on_first)), [one]);
    // Polled by another task, with nothing to read: that task is woken.
    assert!(ready_with(&mut subscription, &on_second).is_empty());
    let two = publish(&hub, &["b"]).await;
    assert_eq!(second.count(), 1, "the new task is woken");
    // Back to the first task while an event waits: it is read at once.
    let three = publish(&hub, &["a"]).await;
    assert_eq!(
        seqs(&ready_with(&mut subscription, &on_first)),
        [two, three]
    );
    let woken = first.count();
    let four = publish(&hub, &["b"]).await;
    assert_eq!(first.count(), woken + 1, "the first task is woken again");
    // Moved with an event read from the tail but not yet its successor.
    let five = publish(&hub, &["a"]).await;
    let mut cx = Context::from_waker(&on_first);
    let Poll::Ready(Some(event)) = subscription.poll_next_unpin(&mut cx) else {
        panic!("event {four} is readable");
    };
    assert_eq!(seqs(&[event]), [four]);
    assert_eq!(seqs(&ready_with(&mut subscription, &on_second)), [five]);
    let six = publish(&hub, &["a", "b"]).await;
    assert!(second.count() >= 2, "woken for {six}");
    assert_eq!(seqs(&ready_with(&mut subscription, &on_second)), [six]);
}

#[tokio::test]
async fn closes_end_streams_that_read_the_tails() {
    let hub = Hub::new();
    let mut only_a = hub.subscribe(&["a"], None).unwrap();
    let mut both = hub.subscribe(&["a", "b"], None).unwrap();
    let mut only_b = hub.subscribe(&["b"], None).unwrap();
    let counter = Arc::new(Counting::default());
    let waker = Waker::from(counter.clone());
    for subscription in [&mut only_a, &mut both, &mut only_b] {
        assert!(ready_with(subscription, &waker).is_empty());
    }
    let one = publish(&hub, &["a"]).await;
    let two = publish(&hub, &["b"]).await;
    assert_eq!(seqs(&ready_with(&mut both, &waker)), [one, two]);
    assert_eq!(seqs(&ready_with(&mut only_a, &waker)), [one]);
    assert_eq!(seqs(&ready_with(&mut only_b, &waker)), [two]);
    let three = publish(&hub, &["a"]).await;
    assert_eq!(seqs(&ready_with(&mut only_a, &waker)), [three]);
    assert_eq!(seqs(&ready_with(&mut both, &waker)), [three]);
    // Both wait, reading the tails: the close must wake them.
    let woken = counter.count();
    hub.close_topic("a");
    assert!(
        counter.count() >= woken + 2,
        "the close wakes its subscribers"
    );
    let (events, ended) = ready_and_end(&mut only_a);
    assert_eq!((events.len(), ended), (0, true));
    let (events, ended) = ready_and_end(&mut both);
    assert_eq!((events.len(), ended), (0, true));
    let (events, ended) = ready_and_end(&mut only_b);
    assert_eq!((events.len(), ended), (0, false));

    // Events not read yet come before the end.
    let four = publish(&hub, &["b"]).await;
    let five = publish(&hub, &["b"]).await;
    hub.close(Some(Event::new().event("bye").data("")));
    let (events, ended) = ready_and_end(&mut only_b);
    assert_eq!(
        (kinds(&events), ended),
        (
            vec![message(four), message(five), ("bye".to_owned(), five)],
            true
        ),
    );
}

#[tokio::test(start_paused = true)]
async fn the_age_limit_holds_for_events_read_from_the_tail() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_age(Duration::from_secs(10)))
        .build();
    let mut one = hub.subscribe(&["t"], None).unwrap();
    let mut two = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(ready(&mut one).is_empty());
    assert!(ready(&mut two).is_empty());
    let first = publish(&hub, &["t"]).await;
    assert_eq!(seqs(&ready(&mut one)), [first]);
    assert_eq!(seqs(&ready(&mut two)), [first]);
    // Too old when read: a gap, not the event.
    let old = publish(&hub, &["t"]).await;
    tokio::time::advance(Duration::from_secs(11)).await;
    assert_eq!(kinds(&ready(&mut one)), [gap(old)]);
    // One too old, the next not.
    let older = publish(&hub, &["t"]).await;
    tokio::time::advance(Duration::from_secs(5)).await;
    let recent = publish(&hub, &["u"]).await;
    tokio::time::advance(Duration::from_secs(6)).await;
    assert_eq!(kinds(&ready(&mut one)), [gap(older)]);
    let seen = kinds(&ready(&mut two));
    assert_eq!(seen.last(), Some(&message(recent)), "{seen:?}");
    assert!(
        seen.iter()
            .all(|(kind, seq)| kind == "gap" || *seq == recent),
        "nothing older than the limit: {seen:?}"
    );
    let after = publish(&hub, &["t"]).await;
    assert_eq!(seqs(&ready(&mut one)), [after]);
    assert_eq!(seqs(&ready(&mut two)), [after]);
}

#[tokio::test]
async fn replayed_events_then_the_tails_make_one_sequence() {
    let store = Arc::new(Keeping::default());
    let hub = Hub::builder()
        .store(store.clone())
        .log_limits(LogLimits::new().max_events(3))
        .build();
    let plan: [&[&str]; 3] = [&["a"], &["b"], &["a", "b"]];
    let mut published: Vec<(u64, &[&str])> = Vec::new();
    for n in 0..30 {
        published.push((publish(&hub, plan[n % 3]).await, plan[n % 3]));
    }
    let expected_of = |published: &[(u64, &[&str])], topics: &[&str], after: u64| -> Vec<u64> {
        published
            .iter()
            .filter(|(seq, in_topics)| *seq > after && in_topics.iter().any(|t| topics.contains(t)))
            .map(|(seq, _)| *seq)
            .collect()
    };
    let cursor = |seq: u64| LastEventId::parse(format!("000000000009-{seq}").as_bytes()).unwrap();
    for topics in [&["a"][..], &["b"], &["a", "b"]] {
        let mut subscription = hub.subscribe(topics, cursor(2)).unwrap();
        let mut seen = Vec::new();
        // Replay rounds are polled out; new events come in between.
        for round in 0..40 {
            seen.extend(seqs(&next_ready(&mut subscription).await));
            if round % 4 == 0 {
                let topics = plan[round % 3];
                published.push((publish(&hub, topics).await, topics));
            }
        }
        assert_eq!(seen, expected_of(&published, topics, 2), "{topics:?}");
    }
}

/// What the subscription has ready after the tasks it woke have run (a
/// replay from the store is a future of its own).
async fn next_ready(subscription: &mut Subscription) -> Vec<EncodedEvent> {
    let mut out = Vec::new();
    for _ in 0..3 {
        tokio::task::yield_now().await;
        out.extend(ready(subscription));
    }
    out
}

#[tokio::test(flavor = "current_thread")]
async fn a_fed_hub_delivers_topics_followed_late_and_cursors_ahead_of_its_feed() {
    let (feed, hub) = scripted_hub();
    let mut x = hub.subscribe(&["x"], None).unwrap();
    assert!(ready(&mut x).is_empty());
    feed.send(FeedItem::Events {
        events: vec![fed(1, "x"), fed(2, "x")],
        through: 2,
    })
    .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(seqs(&ready(&mut x)), [1, 2]);
    // "late" is followed now, from the hub's head.
    let mut both = hub.subscribe(&["late", "x"], None).unwrap();
    assert!(ready(&mut both).is_empty());
    // A client whose cursor another process gave a moment ago.
    let ahead = LastEventId::parse(Position::new(hub.epoch(), 7).to_string().as_bytes()).unwrap();
    let mut ahead = hub.subscribe(&["late", "x"], ahead).unwrap();
    assert!(ready(&mut ahead).is_empty());
    feed.send(FeedItem::Events {
        events: vec![fed(3, "late"), fed(4, "x"), fed(5, "late"), fed(5, "x")],
        through: 5,
    })
    .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(seqs(&ready(&mut both)), [3, 4, 5]);
    assert_eq!(seqs(&ready(&mut x)), [4, 5]);
    assert!(ready(&mut ahead).is_empty(), "nothing after its cursor yet");
    feed.send(FeedItem::Events {
        events: vec![fed(6, "x"), fed(7, "late")],
        through: 7,
    })
    .unwrap();
    feed.send(FeedItem::Events {
        events: vec![fed(8, "late")],
        through: 9,
    })
    .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(seqs(&ready(&mut both)), [6, 7, 8]);
    assert_eq!(seqs(&ready(&mut ahead)), [8]);
    assert_eq!(seqs(&ready(&mut x)), [6]);
    feed.send(FeedItem::Events {
        events: vec![fed(10, "x")],
        through: 10,
    })
    .unwrap();
    let_the_feed_task_run().await;
    for subscription in [&mut x, &mut both, &mut ahead] {
        assert_eq!(seqs(&ready(subscription)), [10]);
    }
}

// ------------------------------------------------------------ stress test

/// What a reader saw: (event type, sequence number of the id, and for a gap
/// the last sequence number the store had given when it was read).
type Seen = Vec<(String, u64, u64)>;

/// A store that only numbers events, and tells how far it has.
#[derive(Clone)]
struct Numbering(Arc<AtomicU64>);

impl Store for Numbering {
    fn epoch(&self) -> Epoch {
        Epoch::from_bits(0x57)
    }
    fn append<'a>(&'a self, _: &'a [Text], _: &'a Bytes) -> StoreFuture<'a, u64> {
        let seq = self.0.fetch_add(1, Ordering::SeqCst) + 1;
        Box::pin(async move { Ok(seq) })
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
}

/// A reader between two tasks: its subscription, its place, its randomness.
struct Roaming {
    hub: Hub,
    store: Numbering,
    topics: Vec<&'static str>,
    subscription: Option<Subscription>,
    cursor: u64,
    seen: Seen,
    rng: Rng,
    ended: bool,
}

/// Reads a few events in this task, pausing now and then; returns to be
/// carried on by another task (so polled with another waker), or to
/// reconnect with its last id.
async fn read_a_while(mut roaming: Roaming) -> Roaming {
    let subscription = roaming.subscription.get_or_insert_with(|| {
        let id = Position::new(roaming.hub.epoch(), roaming.cursor).to_string();
        let id = LastEventId::parse(id.as_bytes()).unwrap();
        roaming.hub.subscribe(&roaming.topics, id).unwrap()
    });
    let mut decoder = Decoder::new();
    for _ in 0..1 + roaming.rng.below(60) {
        // The timer first: a lost wake-up fails instead of being rescued.
        let event = tokio::select! {
            biased;
            () = tokio::time::sleep(Duration::from_secs(5)) => {
                panic!("no wake-up for 5 s after {}: {subscription:?}", roaming.cursor)
            }
            event = subscription.next() => event,
        };
        let Some(event) = event else {
            // Closed by the lag policy: reconnect with the last id.
            roaming.subscription = None;
            return roaming;
        };
        decoder.push(event.as_bytes()).unwrap();
        let decoded = decoder.next_event().unwrap();
        let seq = Position::parse(decoded.last_event_id()).unwrap().seq();
        let given = roaming.store.0.load(Ordering::SeqCst);
        let kind = decoded.event_type().to_owned();
        roaming.cursor = seq;
        roaming.ended = kind == "end";
        roaming.seen.push((kind, seq, given));
        if roaming.ended {
            return roaming;
        }
        match roaming.rng.below(100) {
            // A stalled client: the log moves on meanwhile.
            0..=2 => tokio::time::sleep(Duration::from_millis(1 + roaming.rng.below(8))).await,
            3..=9 => tokio::task::yield_now().await,
            _ => {}
        }
    }
    if roaming.rng.below(8) == 0 {
        roaming.subscription = None;
    }
    roaming
}

/// Reads `topics` from the start to the end event, in a new task every few
/// events.
async fn roaming_reader(hub: Hub, store: Numbering, topics: Vec<&'static str>, seed: u64) -> Seen {
    let mut roaming = Roaming {
        hub,
        store,
        topics,
        subscription: None,
        cursor: 0,
        seen: Vec::new(),
        rng: Rng::seeded(seed),
        ended: false,
    };
    while !roaming.ended {
        roaming = tokio::spawn(read_a_while(roaming)).await.unwrap();
    }
    roaming.seen
}

const STRESS_TOPICS: [&[&str]; 7] = [
    &["a"],
    &["b"],
    &["c"],
    &["d"],
    &["a", "b"],
    &["b", "c", "d"],
    &["a", "b", "c", "d"],
];

/// Checks what one reader saw against what was published to its topics.
///
/// Every event is one due to it, after the one before. One due event may be
/// passed over only after a gap: in a single topic, only the events the gap
/// names (up to its id); in several, a gap in one topic may name less than
/// it covers (its id stops before events another topic still holds), so
/// events up to what the store had given when it was read.
fn check(seen: &Seen, due: &[u64], single_topic: bool, gaps_allowed: bool, context: &str) {
    let mut position = 0;
    let mut passable = 0;
    for (kind, seq, given) in seen {
        if kind == "gap" {
            assert!(
                gaps_allowed,
                "no gap with a large log ({context}): {seen:?}"
            );
            assert!(
                *seq >= position,
                "gap at {seq} after {position} ({context})"
            );
            if !single_topic {
                passable = passable.max(*given);
            }
        } else {
            assert!(due.contains(seq), "{seq} is not due ({context})");
            assert!(*seq > position, "{seq} after {position} ({context})");
            let passed: Vec<u64> = due
                .iter()
                .copied()
                .filter(|due| *due > position && *due < *seq && *due > passable)
                .collect();
            assert!(
                passed.is_empty(),
                "{passed:?} lost between {position} and {seq}, no gap covers them ({context}): \
                 seen {:?}",
                seen.iter()
                    .filter(|(_, seen, _)| *seen + 20 >= position && *seen <= *seq + 5)
                    .collect::<Vec<_>>()
            );
        }
        position = *seq;
    }
    assert_eq!(Some(&position), due.last(), "{context}");
}

async fn stress(limits: LogLimits, policy: LagPolicy, seed: u64, gaps_allowed: bool) {
    let store = Numbering(Arc::default());
    let hub = Hub::builder()
        .store(store.clone())
        .log_limits(limits)
        .lag_policy(policy)
        .build();
    let mut rng = Rng::seeded(seed);
    let readers: Vec<_> = (0..10)
        .map(|n| {
            let topics = STRESS_TOPICS[rng.below(STRESS_TOPICS.len() as u64) as usize].to_vec();
            let reader = roaming_reader(hub.clone(), store.clone(), topics.clone(), seed ^ (n + 1));
            (topics, tokio::spawn(reader))
        })
        .collect();
    let publishers: Vec<_> = (0..3)
        .map(|p| {
            let hub = hub.clone();
            let mut rng = Rng::seeded(seed.rotate_left(p * 8 + 1));
            tokio::spawn(async move {
                let mut out = Vec::new();
                for _ in 0..2_000 {
                    let topics = STRESS_TOPICS[rng.below(STRESS_TOPICS.len() as u64) as usize];
                    out.push((publish(&hub, topics).await, topics));
                    match rng.below(64) {
                        0 => tokio::time::sleep(Duration::from_millis(1)).await,
                        1..=8 => tokio::task::yield_now().await,
                        _ => {}
                    }
                }
                out
            })
        })
        .collect();
    let mut published: BTreeMap<u64, &[&str]> = BTreeMap::new();
    for publisher in publishers {
        published.extend(publisher.await.unwrap());
    }
    let end = hub
        .publish_to(&["a", "b", "c", "d"], Event::new().event("end").data(""))
        .await
        .unwrap()
        .seq();
    published.insert(end, &["a", "b", "c", "d"]);
    let mut gaps = 0;
    for (topics, reader) in readers {
        let seen = reader.await.unwrap();
        let due: Vec<u64> = published
            .iter()
            .filter(|(_, in_topics)| in_topics.iter().any(|topic| topics.contains(topic)))
            .map(|(seq, _)| *seq)
            .collect();
        let context = format!("seed {seed:#x}, {policy:?}, reader of {topics:?}");
        check(&seen, &due, topics.len() == 1, gaps_allowed, &context);
        gaps += seen.iter().filter(|(kind, _, _)| kind == "gap").count();
    }
    if gaps_allowed {
        assert!(gaps > 0, "the stalls overran the log at least once");
    }
    assert_eq!(hub.stats().subscribers, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stress_readers_stalling_and_moving_between_tasks_get_their_exact_sequence() {
    // Varied per run by `SSE_TEST_SEED` (see `support::round`).
    let seed = 0x5eed_7a11_u64;
    tokio::time::timeout(Duration::from_secs(60), async {
        // Large: never a gap. Small (blocks sealed, re-sealed, dropped):
        // gaps where the log overran a stalled reader, or closes.
        let large = LogLimits::new().max_events(1_000_000).max_bytes(1 << 30);
        stress(large, LagPolicy::SignalGap, seed, false).await;
        stress(
            LogLimits::new().max_events(5),
            LagPolicy::SignalGap,
            seed + 1,
            true,
        )
        .await;
        stress(
            LogLimits::new().max_events(13),
            LagPolicy::Close,
            seed + 2,
            true,
        )
        .await;
    })
    .await
    .expect("the stress run ends within 60 s");
}

// ------------------------------------------- found in review, with fixes

/// `read_tails` once loaded the hub's horizon after looking at every topic's
/// tail: an event appended to a topic it had already looked at (found
/// empty), followed by one in a topic it looks at later, passed the horizon
/// check and moved the cursor past the first one, skipped for ever.
#[test]
fn a_reader_of_many_topics_never_passes_an_event_of_a_topic_it_looked_at_already() {
    use std::sync::atomic::AtomicBool;

    const TOPICS: usize = 2_048;
    const PAIRS: u64 = 300;
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(1_000_000).max_bytes(1 << 30))
        .build();
    let names: Vec<String> = (0..TOPICS).map(|n| format!("t{n:05}")).collect();
    let refs: Vec<&str> = names.iter().map(String::as_str).collect();
    let mut subscription = hub.subscribe(&refs, None).unwrap();
    assert!(ready(&mut subscription).is_empty());
    let done = Arc::new(AtomicBool::new(false));
    let read_up_to = Arc::new(AtomicU64::new(0));
    let publisher = {
        let (hub, done, read_up_to) = (hub.clone(), done.clone(), read_up_to.clone());
        let (first, last) = (names[0].clone(), names[TOPICS - 1].clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let mut rng = Rng::seeded(0x7a11);
            runtime.block_on(async {
                for _ in 0..PAIRS {
                    // Looked at first, then last.
                    publish(&hub, &[&first]).await;
                    let second = publish(&hub, &[&last]).await;
                    let waiting = std::time::Instant::now();
                    while read_up_to.load(Ordering::SeqCst) < second
                        && waiting.elapsed() < Duration::from_secs(5)
                    {
                        std::hint::spin_loop();
                    }
                    for _ in 0..rng.below(20_000) {
                        std::hint::spin_loop();
                    }
                }
            });
            done.store(true, Ordering::SeqCst);
        })
    };
    let mut cx = Context::from_waker(noop_waker_ref());
    let mut seen = Vec::new();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let finished = done.load(Ordering::SeqCst);
        match subscription.poll_next_unpin(&mut cx) {
            Poll::Ready(Some(event)) => {
                let seq = seqs(&[event])[0];
                seen.push(seq);
                read_up_to.store(seq, Ordering::SeqCst);
            }
            Poll::Ready(None) => panic!("the stream ended"),
            Poll::Pending if finished => break,
            Poll::Pending => std::hint::spin_loop(),
        }
        assert!(std::time::Instant::now() < deadline, "timed out");
    }
    publisher.join().unwrap();
    let expected: Vec<u64> = (1..=2 * PAIRS).collect();
    let missing: Vec<u64> = expected
        .iter()
        .copied()
        .filter(|seq| !seen.contains(seq))
        .collect();
    assert!(
        missing.is_empty(),
        "{} of {} events delivered; missing: {:?}",
        seen.len(),
        expected.len(),
        &missing[..missing.len().min(10)]
    );
    assert_eq!(seen, expected);
}

/// A loss report once released the tail up to the reported point, though
/// the log still held events there: a subscriber of two topics, armed after
/// the gap, then missed the one left in the log. Now the events held are
/// read first, and the loss is told after them, also to a subscriber that
/// reads the tails (the lost topic's tail has nothing after it).
#[tokio::test(flavor = "current_thread")]
async fn an_event_a_loss_report_leaves_in_the_log_reaches_a_subscriber_of_two_topics() {
    let (feed, hub) = scripted_hub();
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(ready(&mut subscription).is_empty());
    feed.send(FeedItem::Events {
        events: vec![fed(1, "u"), fed(2, "t")],
        through: 2,
    })
    .unwrap();
    // Events 3 and 4 of t were appended while the feed was away, and lost.
    feed.send(FeedItem::Lost {
        topic: Text::from_static("t"),
        through: 4,
    })
    .unwrap();
    let_the_feed_task_run().await;
    let mut seen = kinds(&ready(&mut subscription));
    feed.send(FeedItem::Events {
        events: vec![fed(5, "u")],
        through: 5,
    })
    .unwrap();
    let_the_feed_task_run().await;
    seen.extend(kinds(&ready(&mut subscription)));
    // 1 and 2 are still held: read first; then the gap. It resumes after
    // 2, not 4: the loss was reported with the head at 2, and an event of
    // "u" up to 4 could still have come (a loss is reported before the
    // events that follow it).
    assert_eq!(seen, [message(1), message(2), gap(2), message(5)]);
}

/// An eviction once set the evicted mark to the event it dropped, lowering
/// a loss reported past it: the lost events were then passed over without
/// a gap.
#[tokio::test(flavor = "current_thread")]
async fn a_loss_report_is_not_forgotten_by_a_later_eviction() {
    let (feed, hub) = scripted_hub_with(LogLimits::new().max_events(2));
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    assert!(ready(&mut subscription).is_empty());
    feed.send(FeedItem::Events {
        events: vec![fed(1, "t"), fed(2, "t")],
        through: 2,
    })
    .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(seqs(&ready(&mut subscription)), [1, 2]);
    feed.send(FeedItem::Lost {
        topic: Text::from_static("t"),
        through: 10,
    })
    .unwrap();
    feed.send(FeedItem::Events {
        events: vec![fed(11, "t")],
        through: 11,
    })
    .unwrap();
    let_the_feed_task_run().await;
    let seen = kinds(&ready(&mut subscription));
    assert_eq!(
        seen.first().map(|(kind, _)| kind.as_str()),
        Some("gap"),
        "{seen:?}"
    );
    assert_eq!(seen.last(), Some(&message(11)), "{seen:?}");
}

/// A waker that drops a subscription when it is woken.
struct DropsOnWake(Mutex<Option<Subscription>>);

impl Wake for DropsOnWake {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        drop(self.0.lock().unwrap().take());
    }
}

/// Wakers were once woken under the lock that dropping a subscription
/// takes: a waker that drops one (of the topic that wakes it) hung the
/// publish for ever.
#[test]
fn a_waker_may_drop_a_subscription_of_the_topic_that_wakes_it() {
    let hub = Hub::new();
    let mut watched = hub.subscribe(&["t"], None).unwrap();
    let other = hub.subscribe(&["t"], None).unwrap();
    let waker = Waker::from(Arc::new(DropsOnWake(Mutex::new(Some(other)))));
    assert!(ready_with(&mut watched, &waker).is_empty());
    let (done, published) = std::sync::mpsc::channel();
    {
        let hub = hub.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            let _ = done.send(runtime.block_on(publish(&hub, &["t"])));
        });
    }
    let Ok(seq) = published.recv_timeout(Duration::from_secs(10)) else {
        // Dropping them would block too.
        Box::leak(Box::new((watched, hub, waker)));
        panic!("the publish is stuck in its wake-up: deadlocked");
    };
    assert_eq!(seqs(&ready_with(&mut watched, &waker)), [seq]);
    assert_eq!(
        hub.stats().subscribers,
        1,
        "the waker dropped the other one"
    );
}

//! Review of "a subscriber woken and not polled since is not woken again"
//! (the `Wakeup` flag): cases where the flag is left up while the
//! subscription waits with a waker that nobody will wake.
#![allow(missing_docs)]

mod scripted;

use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_util::Stream;
use scripted::Counting;
use sse_engine::hub::{Epoch, Hub, LogLimits, Store, StoreFuture, StoredEvent, Subscription};
use sse_engine::{Event, Text};

type Hook = Box<dyn FnOnce() + Send>;

/// A store that keeps every event; the first replay it is asked for is
/// pending on its first poll, and on its next poll runs `hook` (a publish
/// on another thread, say, landing at that moment) before answering.
#[derive(Default)]
struct Hooked {
    events: Mutex<Vec<(u64, Vec<Text>, Bytes)>>,
    first_replay_done: AtomicBool,
    hook: Mutex<Option<Hook>>,
}

impl Hooked {
    fn set_hook(&self, hook: impl FnOnce() + Send + 'static) {
        *self.hook.lock().unwrap() = Some(Box::new(hook));
    }

    fn stored(&self, topic: &Text, after: u64, before: u64, limit: usize) -> Vec<StoredEvent> {
        self.events
            .lock()
            .unwrap()
            .iter()
            .filter(|(seq, topics, _)| *seq > after && *seq < before && topics.contains(topic))
            .take(limit)
            .map(|(seq, _, event)| StoredEvent {
                seq: *seq,
                event: event.clone(),
            })
            .collect()
    }
}

impl Store for Hooked {
    fn epoch(&self) -> Epoch {
        Epoch::from_bits(11)
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
        let mut pend_once = !self.first_replay_done.swap(true, Ordering::SeqCst);
        Box::pin(std::future::poll_fn(move |_cx| {
            if pend_once {
                pend_once = false;
                // The test polls by hand: nobody needs waking.
                return Poll::Pending;
            }
            if let Some(hook) = self.hook.lock().unwrap().take() {
                hook();
            }
            Poll::Ready(Ok(Some(self.stored(topic, after, before, limit))))
        }))
    }
}

fn poll(subscription: &mut Subscription, waker: &Waker) -> Poll<Option<sse_engine::EncodedEvent>> {
    Pin::new(subscription).poll_next(&mut Context::from_waker(waker))
}

/// Publishes on a thread of its own, as another task of the server would,
/// and returns once the publish (and its wake-ups) are done.
fn publish_elsewhere(hub: &Hub, topic: &'static str, event_type: &'static str) {
    let hub = hub.clone();
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(hub.publish(topic, Event::new().event(event_type).data("x")))
            .unwrap();
    })
    .join()
    .unwrap();
}

/// A subscription that moves to another task (polled with another waker)
/// while a publish lands between the start of its poll (where it takes its
/// wake-up) and the read that registers the new waker: the publish marks
/// it woken and wakes the *old* waker. The new task reads what is there,
/// its filter refuses it, and it waits, with the flag still up. No later
/// publish wakes it: an event it accepts stays readable and unread.
#[test]
fn a_subscription_moved_to_another_task_is_woken_by_the_next_publish() {
    let store = Arc::new(Hooked::default());
    let hub = Hub::builder()
        .store(store.clone())
        .log_limits(LogLimits::new().max_events(2))
        .build();
    let old_task = Arc::new(Counting::default());
    let new_task = Arc::new(Counting::default());
    let (old_waker, new_waker) = (Waker::from(old_task.clone()), Waker::from(new_task.clone()));
    let mut subscription = hub
        .subscribe(&["t"], None)
        .unwrap()
        .filter(|event| event.event_type() != Some("skip"));

    assert!(poll(&mut subscription, &old_waker).is_pending());
    // It falls behind the log (event 1 evicted): its next poll replays.
    for _ in 0..3 {
        publish_elsewhere(&hub, "t", "skip");
    }
    assert_eq!(old_task.count(), 1);
    assert!(
        poll(&mut subscription, &old_waker).is_pending(),
        "waiting on the store's replay"
    );

    // Moved: the next poll comes with the new task's waker; a publish lands
    // while the store answers (before the read that registers the waker).
    let hub_for_hook = hub.clone();
    store.set_hook(move || publish_elsewhere(&hub_for_hook, "t", "skip"));
    assert!(
        poll(&mut subscription, &new_waker).is_pending(),
        "everything readable is refused by the filter"
    );
    assert_eq!(
        old_task.count(),
        2,
        "the publish in the window woke the old task"
    );

    // An event the subscription accepts: its task must be woken.
    publish_elsewhere(&hub, "t", "keep");
    let woken = new_task.count();
    let readable = matches!(poll(&mut subscription, &noop()), Poll::Ready(Some(_)));
    assert!(readable, "the event is readable");
    assert!(
        woken >= 1,
        "lost wake-up: an event became readable, the subscription returned \
         Pending with its new waker, and that waker was never woken \
         (old task woken {} times, new task {} times)",
        old_task.count(),
        woken
    );
}

fn noop() -> Waker {
    futures_util::task::noop_waker()
}

/// The window of the first test without a hook, made frequent: a thread
/// publishes events the filter refuses as fast as it can, and the
/// subscription is polled, each time, with a waker it has never seen (as if
/// handed to a new task); a subscription that returns `Pending` must be
/// woken with that waker by a later publish. Bounded: 5 s of rounds, and a
/// round gives up waiting after 200 ms (then checks that an accepted event
/// published after is readable but still wakes nobody).
/// How many times `task` was woken, waiting up to `limit` for the first.
fn wait_woken(task: &Counting, limit: std::time::Duration) -> usize {
    let started = std::time::Instant::now();
    while task.count() == 0 && started.elapsed() < limit {
        std::thread::sleep(std::time::Duration::from_millis(5));
    }
    task.count()
}

#[test]
fn a_subscription_polled_with_a_new_waker_each_time_is_woken_by_a_later_publish() {
    use std::sync::atomic::AtomicU64;
    use std::time::{Duration, Instant};

    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(1_000_000))
        .build();
    let mut subscription = hub
        .subscribe(&["t"], None)
        .unwrap()
        .filter(|event| event.event_type() == Some("keep"));
    let stop = Arc::new(AtomicBool::new(false));
    let published = Arc::new(AtomicU64::new(0));
    let mut publisher = Some({
        let (hub, stop, published) = (hub.clone(), stop.clone(), published.clone());
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .build()
                .unwrap();
            while !stop.load(Ordering::Relaxed) {
                runtime
                    .block_on(hub.publish("t", Event::new().event("skip").data("x")))
                    .unwrap();
                published.fetch_add(1, Ordering::SeqCst);
            }
        })
    });

    let started = Instant::now();
    let (mut rounds, mut pending_rounds) = (0u64, 0u64);
    let mut failure = None;
    while started.elapsed() < Duration::from_secs(5) && failure.is_none() {
        rounds += 1;
        let task = Arc::new(Counting::default());
        let waker = Waker::from(task.clone());
        if poll(&mut subscription, &waker).is_ready() {
            continue;
        }
        pending_rounds += 1;
        let waited = Instant::now();
        let published_then = published.load(Ordering::SeqCst);
        while task.count() == 0 && waited.elapsed() < Duration::from_millis(200) {
            std::thread::yield_now();
        }
        if task.count() == 0 {
            let since = published.load(Ordering::SeqCst) - published_then;
            stop.store(true, Ordering::Relaxed);
            publisher.take().unwrap().join().unwrap();
            publish_elsewhere(&hub, "t", "keep");
            // Slow is not lost (a starved thread, a busy machine): only an
            // accepted event that wakes nobody within 2 s is a failure.
            let woken = wait_woken(&task, Duration::from_secs(2));
            let readable = matches!(poll(&mut subscription, &noop()), Poll::Ready(Some(_)));
            if woken == 0 && readable {
                failure = Some(format!(
                    "round {rounds} ({pending_rounds} pending): Pending with a new waker, then {since} \
                     publishes in 200 ms and an accepted event: woken {woken} times, the \
                     accepted event readable: {readable}"
                ));
            }
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    if let Some(publisher) = publisher {
        publisher.join().unwrap();
    }
    assert!(failure.is_none(), "lost wake-up: {}", failure.unwrap());
}

/// The same window with no filter, on a fed hub: the change that lands in
/// it is a loss the feed reports of events the subscriber is already past
/// (it rereads and finds nothing for it). Left flagged woken, it is not
/// woken by the next event the feed brings, although that event is
/// readable. Bounded: 5 s of rounds, 200 ms of waiting in a round.
#[test]
fn a_fed_subscription_polled_with_a_new_waker_is_woken_by_the_next_event() {
    use std::time::{Duration, Instant};

    use sse_engine::hub::FeedItem;

    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .build()
        .unwrap();
    let _entered = runtime.enter();
    let (sender, hub) = scripted::scripted_hub();
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let reporter = {
        let (sender, stop) = (sender.clone(), stop.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                for _ in 0..256 {
                    // Nothing this subscriber has not passed: it rereads only.
                    let lost = FeedItem::Lost {
                        topic: Text::from_static("t"),
                        through: 0,
                    };
                    if sender.send(lost).is_err() {
                        return;
                    }
                }
                std::thread::sleep(Duration::from_micros(200));
            }
        })
    };

    let started = Instant::now();
    let mut rounds = 0u64;
    let mut failure = None;
    while started.elapsed() < Duration::from_secs(5) {
        rounds += 1;
        let task = Arc::new(Counting::default());
        let waker = Waker::from(task.clone());
        assert!(poll(&mut subscription, &waker).is_pending());
        let waited = Instant::now();
        while task.count() == 0 && waited.elapsed() < Duration::from_millis(200) {
            std::thread::yield_now();
        }
        if task.count() == 0 {
            stop.store(true, Ordering::Relaxed);
            sender
                .send(FeedItem::Events {
                    events: vec![scripted::fed(1, "t")],
                    through: 1,
                })
                .unwrap();
            let woken = wait_woken(&task, Duration::from_secs(2));
            let readable = matches!(poll(&mut subscription, &noop()), Poll::Ready(Some(_)));
            if woken == 0 && readable {
                failure = Some(format!(
                    "round {rounds}: Pending with a new waker, not woken by 200 ms of \
                     reported losses nor in 2 s by the event after them, which is readable"
                ));
            }
            break;
        }
    }
    stop.store(true, Ordering::Relaxed);
    reporter.join().unwrap();
    assert!(failure.is_none(), "lost wake-up: {}", failure.unwrap());
}

/// A regression test of the protocol with wakers that do not change (each
/// subscription stays in its task): subscribers of one or two topics, with
/// and without a filter, read while two threads publish to random topics,
/// most events refused by the filters, then the hub closes with a final
/// event. Every subscriber must get every event it accepts and the final
/// event, each within 2 s of the last publish (a lost wake-up hangs it).
#[test]
fn subscribers_in_their_own_tasks_miss_no_event_and_no_close() {
    use std::time::Duration;

    use futures_util::StreamExt;

    const TOPICS: [&str; 3] = ["a", "b", "c"];
    const PER_THREAD: u64 = 20_000;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_time()
        .build()
        .unwrap();
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(1_000_000))
        .build();
    let mut readers = Vec::new();
    for n in 0..16usize {
        let topics: Vec<&str> = if n % 2 == 0 {
            vec![TOPICS[n % 3]]
        } else {
            vec![TOPICS[n % 3], TOPICS[(n + 1) % 3]]
        };
        let subscription = hub.subscribe(&topics, None).unwrap();
        let filtered = n % 4 < 2;
        let subscription = if filtered {
            subscription.filter(|event| event.event_type() == Some("keep"))
        } else {
            subscription
        };
        readers.push((
            topics
                .iter()
                .map(|topic| topic.to_string())
                .collect::<Vec<_>>(),
            filtered,
            runtime.spawn(async move {
                let mut subscription = subscription;
                let mut events = Vec::new();
                loop {
                    match tokio::time::timeout(Duration::from_secs(2), subscription.next()).await {
                        Ok(Some(event)) => events.push(event),
                        Ok(None) => return Ok(events),
                        Err(_) => return Err(events.len()),
                    }
                }
            }),
        ));
    }
    let publishers: Vec<_> = (0..2u64)
        .map(|thread| {
            let hub = hub.clone();
            std::thread::spawn(move || {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .unwrap();
                let mut published = Vec::new();
                let mut state = thread.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
                for _ in 0..PER_THREAD {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    let topic = TOPICS[(state % 3) as usize];
                    let keep = state % 16 == 0;
                    let event = Event::new()
                        .event(if keep { "keep" } else { "skip" })
                        .data("x");
                    runtime.block_on(hub.publish(topic, event)).unwrap();
                    published.push((topic, keep));
                }
                published
            })
        })
        .collect();
    let published: Vec<(&str, bool)> = publishers
        .into_iter()
        .flat_map(|publisher| publisher.join().unwrap())
        .collect();
    hub.close(Some(Event::new().event("bye").data("")));
    for (topics, filtered, reader) in readers {
        let expected = published
            .iter()
            .filter(|(topic, keep)| topics.iter().any(|t| t == topic) && (*keep || !filtered))
            .count()
            + 1;
        match runtime.block_on(reader).unwrap() {
            Ok(events) => assert_eq!(
                events.len(),
                expected,
                "subscriber of {topics:?} (filtered: {filtered})"
            ),
            Err(read) => panic!(
                "lost wake-up: subscriber of {topics:?} (filtered: {filtered}) waited 2 s \
                 after {read} of {expected} events"
            ),
        }
    }
}

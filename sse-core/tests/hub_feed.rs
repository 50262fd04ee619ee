//! Hubs over a store shared in the same process, standing in for server
//! processes on one shared backend: the logs hold only what the store's feed
//! reports, so every hub delivers one sequence, and a client resumes on any.

mod support;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use sse_engine::decode::{DecodedEvent, Decoder};
use sse_engine::hub::{
    Epoch, FedEvent, Feed, FeedItem, Hub, Position, Store, StoreFuture, StoredEvent, Subscription,
};
use sse_engine::{Event, LastEventId, Text};
use support::Rng;
use tokio::sync::mpsc;

/// One shared log; every hub built on a handle to it gets a feed of what
/// any of them appends to the topics it follows.
#[derive(Clone, Default)]
struct SharedLog(Arc<Mutex<LogState>>);

#[derive(Default)]
struct LogState {
    last: u64,
    events: BTreeMap<u64, (Vec<Text>, Bytes)>,
    /// Events up to here are gone (trimmed, or lost with the backend).
    lost_through: u64,
    feeds: Vec<FeedHandle>,
}

#[derive(Clone)]
struct FeedHandle {
    follows: Arc<Mutex<Follows>>,
    sender: mpsc::UnboundedSender<FeedItem>,
}

/// The topics a feed reports, and how far it has reported: a topic followed
/// now starts after reports already sent, which could not include it.
#[derive(Default)]
struct Follows {
    topics: BTreeMap<Text, u64>,
    reported: u64,
}

impl FeedHandle {
    /// Reports `seq` in the topics this feed follows (from after their start).
    fn report(&self, seq: u64, topics: &[Text], event: &Bytes) {
        let mut follows = self.follows.lock().unwrap();
        follows.reported = seq;
        let events: Vec<FedEvent> = topics
            .iter()
            .filter(|topic| follows.topics.get(*topic).is_some_and(|after| seq > *after))
            .map(|topic| FedEvent {
                seq,
                topic: topic.clone(),
                event: event.clone(),
            })
            .collect();
        let _ = self.sender.send(FeedItem::Events {
            events,
            through: seq,
        });
    }
}

/// A hub's store on the shared log.
struct SharedStore {
    log: SharedLog,
    follows: Arc<Mutex<Follows>>,
    feed: Mutex<Option<mpsc::UnboundedReceiver<FeedItem>>>,
    head: u64,
}

impl SharedLog {
    fn store(&self) -> SharedStore {
        let (sender, receiver) = mpsc::unbounded_channel();
        let follows = Arc::new(Mutex::new(Follows::default()));
        let mut state = self.0.lock().unwrap();
        state.feeds.push(FeedHandle {
            follows: follows.clone(),
            sender,
        });
        SharedStore {
            log: self.clone(),
            follows,
            feed: Mutex::new(Some(receiver)),
            head: state.last,
        }
    }

    fn hub(&self) -> Hub {
        Hub::builder().store(self.store()).build()
    }
}

impl Store for SharedStore {
    fn epoch(&self) -> Epoch {
        Epoch::from_bits(0x5ade)
    }

    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        Box::pin(async move {
            let mut state = self.log.0.lock().unwrap();
            state.last += 1;
            let seq = state.last;
            state.events.insert(seq, (topics.to_vec(), event.clone()));
            for feed in &state.feeds {
                feed.report(seq, topics, event);
            }
            Ok(seq)
        })
    }

    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        Box::pin(async move {
            let state = self.log.0.lock().unwrap();
            if after < state.lost_through {
                return Ok(None);
            }
            Ok(Some(
                state
                    .events
                    .range(after + 1..before)
                    .filter(|(_, (topics, _))| topics.contains(topic))
                    .map(|(seq, (_, event))| StoredEvent {
                        seq: *seq,
                        event: event.clone(),
                    })
                    .take(limit)
                    .collect(),
            ))
        })
    }

    fn head(&self) -> u64 {
        self.head
    }

    fn feed(&self) -> Option<Feed> {
        let mut receiver = self.feed.lock().unwrap().take()?;
        Some(Box::pin(futures_util::stream::poll_fn(move |cx| {
            receiver.poll_recv(cx)
        })))
    }

    fn follow(&self, topic: &Text, after: u64) -> u64 {
        let mut follows = self.follows.lock().unwrap();
        let start = after.max(follows.reported);
        *follows.topics.entry(topic.clone()).or_insert(start)
    }
}

async fn next_n(subscription: &mut Subscription, n: usize) -> Vec<DecodedEvent> {
    let mut decoder = Decoder::new();
    let mut out = Vec::new();
    while out.len() < n {
        let event = tokio::time::timeout(Duration::from_secs(5), subscription.next())
            .await
            .expect("an event in time")
            .expect("the stream goes on");
        decoder.push(event.as_bytes()).unwrap();
        out.extend(std::iter::from_fn(|| decoder.next_event()));
    }
    out
}

fn cursor(position: Position) -> Option<LastEventId> {
    LastEventId::parse(position.to_string().as_bytes()).unwrap()
}

async fn publish(hub: &Hub, topics: &[&str], data: &str) -> Position {
    hub.publish_to(topics, Event::new().data(data.to_owned()))
        .await
        .unwrap()
}

#[tokio::test]
async fn a_client_resumes_on_another_hub_of_the_same_store() {
    let log = SharedLog::default();
    let (a, b) = (log.hub(), log.hub());
    let mut on_a = a.subscribe(&["chat"], None).unwrap();
    let first = publish(&a, &["chat"], "one").await;
    assert_eq!(next_n(&mut on_a, 1).await[0].data(), "one");
    drop(on_a);
    publish(&b, &["chat"], "two").await;
    publish(&a, &["chat"], "three").await;
    let mut on_b = b.subscribe(&["chat"], cursor(first)).unwrap();
    let resumed: Vec<String> = next_n(&mut on_b, 2)
        .await
        .into_iter()
        .map(DecodedEvent::into_data)
        .collect();
    assert_eq!(resumed, ["two", "three"]);
    assert_eq!(b.stats().gaps, 0);
}

#[tokio::test]
async fn a_hub_started_later_replays_older_cursors_from_the_store() {
    let log = SharedLog::default();
    let a = log.hub();
    let mut positions = Vec::new();
    for n in 1..=5 {
        positions.push(publish(&a, &["news"], &n.to_string()).await);
    }
    let late = log.hub();
    let mut resumed = late.subscribe(&["news"], cursor(positions[1])).unwrap();
    let data: Vec<String> = next_n(&mut resumed, 3)
        .await
        .into_iter()
        .map(DecodedEvent::into_data)
        .collect();
    assert_eq!(data, ["3", "4", "5"]);
    publish(&a, &["news"], "6").await;
    assert_eq!(next_n(&mut resumed, 1).await[0].data(), "6");
}

#[tokio::test]
async fn multi_topic_subscribers_on_every_hub_get_one_order_once() {
    let log = SharedLog::default();
    let (a, b) = (log.hub(), log.hub());
    let mut on_a = a.subscribe(&["x", "y"], None).unwrap();
    let mut on_b = b.subscribe(&["y", "x"], None).unwrap();
    let mut published = Vec::new();
    for n in 0..30 {
        let hub = if n % 2 == 0 { &a } else { &b };
        let topics: &[&str] = match n % 3 {
            0 => &["x"],
            1 => &["y"],
            _ => &["x", "y"],
        };
        published.push(publish(hub, topics, &n.to_string()).await.to_string());
    }
    for subscription in [&mut on_a, &mut on_b] {
        let ids: Vec<String> = next_n(subscription, 30)
            .await
            .iter()
            .map(|event| event.last_event_id().to_owned())
            .collect();
        assert_eq!(ids, published);
    }
}

#[tokio::test]
async fn a_lost_report_gives_subscribers_behind_it_a_gap() {
    let log = SharedLog::default();
    let hub = log.hub();
    let first = publish(&hub, &["t"], "read").await;
    let mut live = hub.subscribe(&["t"], cursor(first)).unwrap();
    // Three events appended while this hub's feed was away, and lost by the
    // backend before it came back: the feed reports the loss instead.
    let (feeds, lost_through) = {
        let mut state = log.0.lock().unwrap();
        state.last += 3;
        state.lost_through = state.last;
        (state.feeds.clone(), state.last)
    };
    for feed in feeds {
        feed.sender
            .send(FeedItem::Lost {
                topic: Text::from_static("t"),
                through: lost_through,
            })
            .unwrap();
    }
    publish(&hub, &["t"], "after").await;
    let events = next_n(&mut live, 2).await;
    assert_eq!(events[0].event_type(), "gap", "{events:?}");
    assert_eq!(events[1].data(), "after");
    // A hub started later tells a client with the same cursor the same.
    let late = log.hub();
    let mut resumed = late.subscribe(&["t"], cursor(first)).unwrap();
    assert_eq!(next_n(&mut resumed, 1).await[0].event_type(), "gap");
    assert_eq!(late.stats().gaps, 1);
}

/// Reads `topics` until it has seen `last`, moving at random to another
/// hub with its last id; every sequence number it received, in order.
async fn roaming_subscriber(
    hubs: Vec<Hub>,
    topics: Vec<&'static str>,
    last: u64,
    seed: u64,
) -> Vec<u64> {
    let mut rng = Rng::seeded(seed);
    let mut seen = Vec::new();
    // From the very start: every event of its topics is due to it.
    let mut position = Position::new(hubs[0].epoch(), 0);
    loop {
        let hub = &hubs[rng.below(hubs.len() as u64) as usize];
        let mut subscription = hub.subscribe(&topics, cursor(position)).unwrap();
        let mut decoder = Decoder::new();
        for _ in 0..1 + rng.below(40) {
            // The timer first: a subscriber that misses its wake-up would
            // still find the event when the timer wakes it, so only this
            // order tells a lost wake-up from a late event.
            let event = tokio::select! {
                biased;
                () = tokio::time::sleep(Duration::from_secs(5)) => {
                    panic!("no wake-up for 5 s after {position}: {subscription:?}")
                }
                event = subscription.next() => event.expect("the stream goes on"),
            };
            decoder.push(event.as_bytes()).unwrap();
            let decoded = decoder.next_event().unwrap();
            assert_ne!(
                decoded.event_type(),
                "gap",
                "no event is lost here: {decoded:?}"
            );
            let read = Position::parse(decoded.last_event_id()).unwrap();
            seen.push(read.seq());
            position = read;
            if read.seq() >= last {
                return seen;
            }
        }
        if rng.below(3) == 0 {
            tokio::task::yield_now().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_roaming_between_hubs_get_each_event_of_their_topics_once_in_order() {
    let log = SharedLog::default();
    let hubs = [log.hub(), log.hub(), log.hub()];
    // Published first in part, so that hubs created later start after it
    // and older cursors are replayed from the store.
    let mut published: Vec<(u64, &'static [&'static str])> = Vec::new();
    let choices: [&'static [&'static str]; 3] = [&["a"], &["b"], &["a", "b"]];
    let mut rng = Rng::seeded(0x5eed);
    for n in 0..50 {
        let topics = choices[rng.below(3) as usize];
        let hub = &hubs[rng.below(3) as usize];
        published.push((publish(hub, topics, &n.to_string()).await.seq(), topics));
    }
    let last_hub = log.hub();
    let hubs = vec![hubs[0].clone(), hubs[1].clone(), hubs[2].clone(), last_hub];
    let total = 400;
    let mut planned = Vec::new();
    for _ in 50..total {
        planned.push(choices[rng.below(3) as usize]);
    }
    // The last event goes to both topics, so that every subscriber sees it.
    planned.push(&["a", "b"]);
    // Readers roam while the rest is published; they stop at the last event,
    // whose sequence number they learn from the store's counter.
    let last = log.0.lock().unwrap().last + planned.len() as u64;
    let mut readers = Vec::new();
    for seed in 1..=12u64 {
        let topics: Vec<&'static str> = choices[(seed % 3) as usize].to_vec();
        readers.push((
            topics.clone(),
            tokio::spawn(roaming_subscriber(hubs.clone(), topics, last, seed)),
        ));
    }
    let publisher = {
        let hubs = hubs.clone();
        tokio::spawn(async move {
            let mut rng = Rng::seeded(0xfeed);
            let mut out = Vec::new();
            for (n, topics) in planned.into_iter().enumerate() {
                let hub = &hubs[rng.below(hubs.len() as u64) as usize];
                out.push((
                    publish(hub, topics, &format!("live {n}")).await.seq(),
                    topics,
                ));
                if rng.below(8) == 0 {
                    tokio::task::yield_now().await;
                }
            }
            out
        })
    };
    let live = publisher.await.unwrap();
    published.extend(live);
    assert_eq!(published.last().unwrap().0, last);
    for (topics, reader) in readers {
        let seen = reader.await.unwrap();
        let expected: Vec<u64> = published
            .iter()
            .filter(|(_, in_topics)| in_topics.iter().any(|topic| topics.contains(topic)))
            .map(|(seq, _)| *seq)
            .collect();
        assert_eq!(seen, expected, "subscriber of {topics:?}");
    }
}

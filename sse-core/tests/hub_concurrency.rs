//! Many publishers and subscribers at once, subscribers dropping and
//! reconnecting with their last seen id at random (seeded) moments. Every
//! subscriber must end up with exactly the published sequence: nothing lost,
//! nothing twice, and a gap signal only where the log really was exceeded.

mod support;

use std::collections::BTreeSet;
use std::time::Duration;

use futures_util::StreamExt;
use sse_engine::decode::Decoder;
use sse_engine::hub::{Hub, LogLimits, Position};
use sse_engine::{Event, LastEventId};
use support::Rng;

/// What a subscriber saw: ("event" | "gap", sequence number of the id).
type Seen = Vec<(String, u64)>;

/// Reads until it has seen `last`, reconnecting at random with its last id.
async fn subscriber(hub: Hub, topics: Vec<&'static str>, last: u64, seed: u64) -> Seen {
    let mut rng = Rng::seeded(seed);
    let mut seen = Seen::new();
    let mut cursor = format!("{}-0", &Position::new(hub.epoch(), 0).to_string()[..12]);
    loop {
        let last_event_id = LastEventId::parse(cursor.as_bytes()).unwrap();
        let mut subscription = hub.subscribe(&topics, last_event_id).unwrap();
        let mut decoder = Decoder::new();
        let budget = 1 + rng.below(300);
        for _ in 0..budget {
            let event = subscription.next().await.unwrap();
            decoder.push(event.as_bytes()).unwrap();
            let decoded = decoder.next_event().unwrap();
            let seq = Position::parse(decoded.last_event_id()).unwrap().seq();
            seen.push((decoded.event_type().to_owned(), seq));
            cursor = decoded.last_event_id().to_owned();
            if seq >= last || decoded.event_type() == "end" {
                return seen;
            }
            if rng.below(50) == 0 {
                // A slow client: stop reading for a while.
                tokio::time::sleep(Duration::from_millis(rng.below(3))).await;
            }
        }
        drop(subscription);
        if rng.below(4) == 0 {
            tokio::task::yield_now().await;
        }
    }
}

async fn publish(hub: Hub, topics: &'static [&'static str], count: usize, seed: u64) -> Vec<u64> {
    let mut rng = Rng::seeded(seed);
    let mut seqs = Vec::with_capacity(count);
    for n in 0..count {
        let position = hub
            .publish_to(topics, Event::new().event("m").data(format!("{n}")))
            .await
            .unwrap();
        seqs.push(position.seq());
        if rng.below(16) == 0 {
            tokio::task::yield_now().await;
        }
    }
    seqs
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_log_large_enough_every_subscriber_gets_every_event_once() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(1_000_000).max_bytes(1 << 30))
        .build();
    let publishers: Vec<_> = (0..4)
        .map(|p| tokio::spawn(publish(hub.clone(), &["t"], 2_000, 11 + p)))
        .collect();
    let total = 8_000;
    let subscribers: Vec<_> = (0..8)
        .map(|s| tokio::spawn(subscriber(hub.clone(), vec!["t"], total, 101 + s)))
        .collect();
    let mut published = BTreeSet::new();
    for publisher in publishers {
        published.extend(publisher.await.unwrap());
    }
    assert_eq!(published, (1..=total).collect());
    for subscriber in subscribers {
        let seen = subscriber.await.unwrap();
        let seqs: Vec<u64> = seen.iter().map(|(_, seq)| *seq).collect();
        assert!(
            seen.iter().all(|(kind, _)| kind == "m"),
            "no gap with a large log"
        );
        assert_eq!(
            seqs,
            (1..=total).collect::<Vec<_>>(),
            "exactly the published sequence"
        );
    }
    assert_eq!(hub.stats().subscribers, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_a_small_log_gaps_are_signalled_exactly_where_events_were_evicted() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(64))
        .build();
    let publishers: Vec<_> = (0..2)
        .map(|p| tokio::spawn(publish(hub.clone(), &["t"], 3_000, 7 + p)))
        .collect();
    let total = 6_000;
    let subscribers: Vec<_> = (0..6)
        .map(|s| tokio::spawn(subscriber(hub.clone(), vec!["t"], total, 202 + s)))
        .collect();
    for publisher in publishers {
        publisher.await.unwrap();
    }
    for subscriber in subscribers {
        let seen = subscriber.await.unwrap();
        let mut position = 0;
        for (kind, seq) in seen {
            match kind.as_str() {
                // A gap names the last evicted event: it must be past what
                // the subscriber had, or nothing was missed.
                "gap" => assert!(seq > position, "gap at {seq} after {position}"),
                // Any other event is exactly the next one: no loss, no repeat.
                _ => assert_eq!(seq, position + 1, "event after {position}"),
            }
            position = seq;
        }
        assert_eq!(position, total);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_of_several_topics_gets_each_of_their_events_once_in_order() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(1_000_000).max_bytes(1 << 30))
        .build();
    // Subscribers run while the publishers do, so reads race appends to
    // either topic; they stop at an "end" event published to both.
    let subscribers: Vec<_> = (0..4)
        .map(|s| tokio::spawn(subscriber(hub.clone(), vec!["a", "b"], u64::MAX, 303 + s)))
        .collect();
    let plan: [&'static [&'static str]; 4] = [&["a"], &["b"], &["a", "b"], &["c"]];
    let publishers: Vec<_> = plan
        .iter()
        .enumerate()
        .map(|(p, topics)| tokio::spawn(publish(hub.clone(), topics, 1_500, 31 + p as u64)))
        .collect();
    let mut expected = BTreeSet::new();
    for (topics, publisher) in plan.iter().zip(publishers) {
        let seqs = publisher.await.unwrap();
        if topics.iter().any(|t| *t == "a" || *t == "b") {
            expected.extend(seqs);
        }
    }
    let end = hub
        .publish_to(&["a", "b"], Event::new().event("end").data(""))
        .await
        .unwrap();
    expected.insert(end.seq());
    for subscriber in subscribers {
        let seqs: Vec<u64> = subscriber
            .await
            .unwrap()
            .into_iter()
            .map(|(_, seq)| seq)
            .collect();
        assert_eq!(seqs, expected.iter().copied().collect::<Vec<_>>());
    }
}

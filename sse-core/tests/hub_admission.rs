//! Admission control: the hub's limits on subscribers, hub-wide and per
//! topic, hold under concurrent subscribes, refuse with a jittered
//! `Retry-After`, count every refusal, and leave nothing behind.
#![allow(missing_docs)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use sse_engine::hub::{Hub, RETRY_AFTER_FULL, SubscribeError};

#[test]
fn a_full_topic_refuses_and_the_other_topics_are_counted_out_again() {
    let hub = Hub::builder().max_subscribers_per_topic(1).build();
    let on_b = hub.subscribe(&["b"], None).unwrap();
    // "a" has room, "b" does not: refused, and "a" keeps no count.
    let refused = hub.subscribe(&["a", "b"], None).unwrap_err();
    assert_eq!(
        refused,
        SubscribeError::Full {
            limit: 1,
            topic: Some("b".to_owned())
        }
    );
    assert_eq!(hub.topic_stats("a").unwrap().subscribers, 0);
    assert_eq!(hub.stats().subscribers, 1);
    assert_eq!(hub.stats().refused, 1);
    // "a" alone is admitted; "b" again when its subscriber leaves.
    let on_a = hub.subscribe(&["a"], None).unwrap();
    drop(on_b);
    let both = hub.subscribe(&["b"], None).unwrap();
    assert_eq!(hub.stats().subscribers, 2);
    drop((on_a, both));
    assert_eq!(hub.stats().subscribers, 0);
}

#[test]
fn the_retry_after_of_a_refusal_is_spread() {
    let refused = SubscribeError::Full {
        limit: 1,
        topic: None,
    };
    let delays: Vec<Duration> = (0..50).map(|_| refused.retry_after().unwrap()).collect();
    assert!(
        delays
            .iter()
            .all(|delay| *delay >= RETRY_AFTER_FULL && *delay <= RETRY_AFTER_FULL * 3)
    );
    assert!(
        delays.iter().any(|delay| *delay != delays[0]),
        "all the same: {delays:?}"
    );
    assert_eq!(refused.status(), http::StatusCode::SERVICE_UNAVAILABLE);
    assert!(
        refused.to_string().contains("as many as it admits"),
        "{refused}"
    );
}

/// Threads subscribe and drop at once: never more alive than the limit, and
/// every refusal counted.
#[test]
fn the_limits_hold_under_concurrent_subscribes() {
    const LIMIT: usize = 5;
    let hub = Hub::builder()
        .max_subscribers(LIMIT)
        .max_subscribers_per_topic(LIMIT - 1)
        .build();
    let alive = Arc::new(AtomicUsize::new(0));
    let on_topic = Arc::new(AtomicUsize::new(0));
    let refusals = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|thread| {
            let (hub, alive, on_topic, refusals) = (
                hub.clone(),
                alive.clone(),
                on_topic.clone(),
                refusals.clone(),
            );
            std::thread::spawn(move || {
                for round in 0..2_000 {
                    let topic = if (thread + round) % 2 == 0 { "t" } else { "u" };
                    match hub.subscribe(&[topic], None) {
                        Ok(subscription) => {
                            let now = alive.fetch_add(1, Ordering::SeqCst) + 1;
                            assert!(now <= LIMIT, "{now} alive, limit {LIMIT}");
                            if topic == "t" {
                                let now = on_topic.fetch_add(1, Ordering::SeqCst) + 1;
                                assert!(now < LIMIT, "{now} on t, limit {}", LIMIT - 1);
                                on_topic.fetch_sub(1, Ordering::SeqCst);
                            }
                            std::thread::yield_now();
                            alive.fetch_sub(1, Ordering::SeqCst);
                            drop(subscription);
                        }
                        Err(SubscribeError::Full { .. }) => {
                            refusals.fetch_add(1, Ordering::SeqCst);
                        }
                        Err(other) => panic!("{other}"),
                    }
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    let stats = hub.stats();
    assert_eq!(stats.subscribers, 0);
    assert_eq!(stats.refused as usize, refusals.load(Ordering::SeqCst));
    assert!(stats.refused > 0, "8 threads never met a limit of 5");
    assert_eq!(hub.topic_stats("t").unwrap().subscribers, 0);
}

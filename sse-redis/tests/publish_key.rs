//! A publish under a key the caller gives (issue 16), on Redis: sent again,
//! from any process, it is stored once and answered with the first
//! position; a publish Redis did not answer is reported as unknown, and
//! the retry under the same key stores nothing more.
#![allow(clippy::print_stderr, missing_docs)]

mod common;
// Steps the sse-nats tests run too, on hubs of either store.
#[path = "../../sse-nats/tests/common/publish_key_steps.rs"]
mod publish_key_steps;

use std::time::Duration;

use sse_engine::hub::{Hub, Subscription};
use sse_engine::{Event, LastEventId};
use sse_redis::RedisStore;

use common::{RedisServer, next_n, quiet};
use publish_key_steps::{
    a_first_keyed_publish, key, retries_are_duplicates_of, the_round_arrives, the_same_key_at_once,
};

async fn stream_len(redis: &RedisServer, key: &str) -> redis::Value {
    redis.command(&["XLEN", key]).await
}

/// One publish first: Redis then has the script (a first `EVALSHA` waiting
/// in a paused Redis would only get `NOSCRIPT`, and run nothing).
async fn warm_up(hub: &Hub, live: &mut Subscription) {
    hub.publish("t", Event::new().data("first")).await.unwrap();
    assert_eq!(next_n(live, 1).await[0].data(), "first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_keyed_publish_sent_again_by_any_process_is_stored_once() {
    let Some(redis) = RedisServer::start("keyed publish, retried") else {
        return;
    };
    let one = redis.hub("keyed:").await;
    let other = redis.hub("keyed:").await;
    let (before, mut live, mut live_other, first) = a_first_keyed_publish(&one, &other).await;
    retries_are_duplicates_of(&first, &[&one, &other], &key("msg-1"), "hello").await;
    for subscription in [&mut live, &mut live_other] {
        let got = next_n(subscription, 1).await;
        assert_eq!(got[0].data(), "hello");
        assert_eq!(got[0].last_event_id(), first.position().to_string());
        quiet(subscription).await;
    }
    assert_eq!(
        stream_len(&redis, "keyed:topic:t").await,
        redis::Value::Int(1)
    );

    // Replayed once, from the store, to a process that never had it.
    let late = redis.hub("keyed:").await;
    let cursor = LastEventId::parse(before.to_string().as_bytes()).unwrap();
    let mut resumed = late.subscribe(&["t"], cursor).unwrap();
    assert_eq!(next_n(&mut resumed, 1).await[0].data(), "hello");
    quiet(&mut resumed).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn different_keys_are_different_events_and_keys_have_their_own_space() {
    let Some(redis) = RedisServer::start("keyed publish, two keys") else {
        return;
    };
    let hub = redis.hub("two:").await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    let a = hub
        .publish_keyed("t", &key("a"), Event::new().data("1"))
        .await
        .unwrap();
    let b = hub
        .publish_keyed("t", &key("b"), Event::new().data("2"))
        .await
        .unwrap();
    assert!(!a.is_duplicate() && !b.is_duplicate());
    assert!(a.position().seq() < b.position().seq());
    let got = next_n(&mut live, 2).await;
    assert_eq!([got[0].data(), got[1].data()], ["1", "2"]);

    // The caller's key lives under its own prefix, with the window as its
    // expiry (2 minutes unless set).
    let ttl = redis.command(&["PTTL", "two:publish-key:a"]).await;
    let redis::Value::Int(ttl) = ttl else {
        panic!("a lifetime: {ttl:?}");
    };
    assert!((110_000..=120_000).contains(&ttl), "{ttl}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_is_new_again_after_the_window() {
    let Some(redis) = RedisServer::start("keyed publish, window") else {
        return;
    };
    let hub = redis
        .hub_with(
            RedisStore::builder(redis.url())
                .prefix("window:")
                .publish_key_window(Duration::from_secs(1)),
        )
        .await;
    let first = hub
        .publish_keyed("t", &key("k"), Event::new().data("1"))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1_300)).await;
    let after = hub
        .publish_keyed("t", &key("k"), Event::new().data("1"))
        .await
        .unwrap();
    assert!(!after.is_duplicate());
    assert!(after.position().seq() > first.position().seq());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unanswered_keyed_publish_is_unknown_and_its_retry_stores_nothing_more() {
    let Some(redis) = RedisServer::start_with("paused redis, keyed publish", false) else {
        return;
    };
    let hub = redis.hub("pausedkey:").await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    warm_up(&hub, &mut live).await;

    redis.pause();
    let unanswered = hub
        .publish_keyed("t", &key("post-7"), Event::new().data("once"))
        .await
        .expect_err("no answer while paused");
    assert!(unanswered.is_outcome_unknown(), "{unanswered}");
    assert!(
        unanswered
            .client_message()
            .contains("may have been published"),
        "{}",
        unanswered.client_message()
    );
    redis.resume();

    // The attempts that waited in Redis run now: the event is stored (once)
    // and delivered.
    let delivered = next_n(&mut live, 1).await;
    assert_eq!(delivered[0].data(), "once");
    // The client retries with the same key: the first event's position,
    // nothing stored or delivered again.
    let retried = hub
        .publish_keyed("t", &key("post-7"), Event::new().data("once"))
        .await
        .unwrap();
    assert!(retried.is_duplicate());
    assert_eq!(retried.position().to_string(), delivered[0].last_event_id());
    quiet(&mut live).await;
    assert_eq!(
        stream_len(&redis, "pausedkey:topic:t").await,
        redis::Value::Int(2),
        "first, and once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_sent_at_once_by_two_processes_is_stored_once() {
    let Some(redis) = RedisServer::start("keyed publish, raced") else {
        return;
    };
    let one = redis.hub("raced:").await;
    let other = redis.hub("raced:").await;
    let mut live = one.subscribe(&["t"], None).unwrap();
    for round in 0..20 {
        let a = the_same_key_at_once(&one, &other, round).await;
        the_round_arrives(&mut live, round, &a).await;
    }
    quiet(&mut live).await;
    assert_eq!(
        stream_len(&redis, "raced:topic:t").await,
        redis::Value::Int(20)
    );
}

//! Redis paused (`SIGSTOP`) while a publish waits for its answer (issue 16):
//! the append is sent again under the same key and stored once; when Redis
//! answers none of the attempts, the publisher is told that the event may
//! have been published, and it is stored once when Redis resumes.
#![allow(clippy::print_stderr, missing_docs)]

mod common;

use std::time::Duration;

use sse_engine::Event;
use sse_engine::hub::{Hub, Subscription};

use common::{RedisServer, next_n, quiet};

async fn stored(redis: &RedisServer, key: &str) -> redis::Value {
    redis.command(&["XLEN", key]).await
}

/// One publish first: Redis then has the script (a first `EVALSHA` waiting
/// in a paused Redis would only get `NOSCRIPT`, and run nothing).
async fn warm_up(hub: &Hub, live: &mut Subscription) {
    hub.publish("t", Event::new().data("first")).await.unwrap();
    assert_eq!(next_n(live, 1).await[0].data(), "first");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_sent_again_while_redis_is_paused_is_stored_once() {
    let Some(redis) = RedisServer::start_with("paused redis, publish retried", false) else {
        return;
    };
    let hub = redis.hub("paused:").await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    warm_up(&hub, &mut live).await;
    redis.pause();
    let publishing = tokio::spawn({
        let hub = hub.clone();
        async move { hub.publish("t", Event::new().data("once")).await }
    });
    // The first attempt times out (500 ms) and the second is on its way.
    tokio::time::sleep(Duration::from_millis(800)).await;
    redis.resume();
    let published = publishing.await.unwrap();
    assert!(published.is_ok(), "{published:?}");
    assert_eq!(next_n(&mut live, 1).await[0].data(), "once");
    quiet(&mut live).await;
    assert_eq!(
        stored(&redis, "paused:topic:t").await,
        redis::Value::Int(2),
        "first, and once"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_redis_never_answered_may_have_been_published_and_is_stored_once() {
    let Some(redis) = RedisServer::start_with("paused redis, no answer", false) else {
        return;
    };
    let hub = redis.hub("unanswered:").await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    warm_up(&hub, &mut live).await;
    redis.pause();
    let published = hub.publish("t", Event::new().data("maybe")).await;
    let error = published.expect_err("no answer while paused").to_string();
    assert!(error.contains("may have been published"), "{error}");
    redis.resume();
    // Every attempt waited in Redis and runs now: the event is stored once.
    assert_eq!(next_n(&mut live, 1).await[0].data(), "maybe");
    quiet(&mut live).await;
    assert_eq!(
        stored(&redis, "unanswered:topic:t").await,
        redis::Value::Int(2),
        "first, and maybe once"
    );
}

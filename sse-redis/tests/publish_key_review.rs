//! Review of publish keys on Redis (issue 16): a window too long for
//! Redis's expiry, a duplicate's id used at once as a cursor on another
//! process, and a publish key Redis holds as something else.
#![allow(clippy::print_stderr, missing_docs)]

mod common;
// Steps the sse-nats tests run too, on hubs of either store.
#[path = "../../sse-nats/tests/common/publish_key_steps.rs"]
mod publish_key_steps;

use std::time::Duration;

use sse_engine::Event;
use sse_redis::RedisStore;

use common::RedisServer;
use publish_key_steps::{a_duplicates_id_resumes_at_once, key, retries_are_duplicates_of};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_very_long_key_window_still_publishes() {
    let Some(redis) = RedisServer::start("keyed publish, long window") else {
        return;
    };
    for (prefix, window) in [
        ("max:", Duration::MAX),
        ("years:", Duration::from_secs(u64::MAX / 1_000)),
    ] {
        let hub = redis
            .hub_with(
                RedisStore::builder(redis.url())
                    .prefix(prefix)
                    .publish_key_window(window),
            )
            .await;
        let first = hub
            .publish_keyed("t", &key("k"), Event::new().data("1"))
            .await;
        // An error must mean that nothing was stored (Redis keeps what a
        // script wrote before it failed).
        let stored = redis.command(&["XLEN", &format!("{prefix}topic:t")]).await;
        let first = first.unwrap_or_else(|error| panic!("{window:?}: {error}; stored: {stored:?}"));
        assert_eq!(stored, redis::Value::Int(1));
        retries_are_duplicates_of(&first, &[&hub], &key("k"), "1").await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicates_id_resumes_at_once_on_the_process_that_answered_it() {
    let Some(redis) = RedisServer::start("keyed publish, resume from duplicate") else {
        return;
    };
    let one = redis.hub("resume:").await;
    let other = redis.hub("resume:").await;
    a_duplicates_id_resumes_at_once(&one, &other).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_publish_key_holding_something_else_is_a_clear_error() {
    let Some(redis) = RedisServer::start("keyed publish, foreign key") else {
        return;
    };
    let hub = redis.hub("foreign:").await;
    redis
        .command(&["HSET", "foreign:publish-key:h", "f", "v"])
        .await;
    redis
        .command(&["SET", "foreign:publish-key:s", "not-a-seq"])
        .await;
    for name in ["h", "s"] {
        let error = hub
            .publish_keyed("t", &key(name), Event::new().data("x"))
            .await
            .expect_err("a key that is not an append");
        assert!(!error.is_outcome_unknown(), "{error}");
        eprintln!("{name}: {error}");
    }
    // Nothing was stored.
    let len = redis.command(&["EXISTS", "foreign:topic:t"]).await;
    assert_eq!(len, redis::Value::Int(0));
}

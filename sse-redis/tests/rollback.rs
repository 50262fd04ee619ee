//! Redis restarted from an older snapshot (its default RDB persistence) lost
//! events it had acknowledged (issue 16): a client whose cursor is before
//! them is told of a gap when it resumes, never left without them in
//! silence.
#![allow(clippy::print_stderr, missing_docs)]

mod common;

use sse_engine::decode::DecodedEvent;
use sse_engine::hub::{Hub, LogLimits, Position};
use sse_engine::{Event, LastEventId};
use sse_redis::RedisStore;

use common::{RedisServer, next_n, publish_when_back};

async fn publish(hub: &Hub, text: &str) -> Position {
    hub.publish("t", Event::new().data(text.to_owned()))
        .await
        .expect("published")
}

fn cursor(position: &Position) -> Option<LastEventId> {
    LastEventId::parse(position.to_string().as_bytes()).expect("a valid id")
}

async fn small_hub(redis: &RedisServer, prefix: &str) -> Hub {
    let store = RedisStore::builder(redis.url())
        .prefix(prefix)
        .connect()
        .await
        .unwrap();
    Hub::builder()
        .store(store)
        .log_limits(LogLimits::new().max_events(2))
        .build()
}

fn data(events: &[DecodedEvent]) -> Vec<(&str, &str)> {
    events.iter().map(|e| (e.event_type(), e.data())).collect()
}

/// Events published between a snapshot and a crash: Redis comes back from
/// the snapshot without them, and new events follow. The topic's stream
/// reads as whole again (its chain was written after the restart); the
/// instance that had read the lost events records what went missing.
#[tokio::test]
async fn a_resume_across_a_snapshot_rollback_is_a_gap() {
    let Some(mut redis) = RedisServer::start_with("snapshot rollback", false) else {
        return;
    };
    let a = redis.hub("rollback:").await;
    let mut live = a.subscribe(&["t"], None).unwrap();
    let kept = publish(&a, "kept").await;
    redis.command(&["SAVE"]).await;
    for n in 0..5 {
        publish(&a, &format!("lost-{n}")).await;
    }
    assert_eq!(next_n(&mut live, 6).await.len(), 6);

    redis.restart();
    publish_when_back(&a, "t", "after").await;
    // The live client on `a` had everything: it goes on.
    assert_eq!(data(&next_n(&mut live, 1).await), [("message", "after")]);

    // A client away across the rollback, resuming on an instance that
    // started after it: the lost events are a gap, not skipped in silence.
    let late = small_hub(&redis, "rollback:").await;
    let mut resumed = late.subscribe(&["t"], cursor(&kept)).unwrap();
    // (The gap covers the whole range the replay was for, "after" too.)
    let events = next_n(&mut resumed, 1).await;
    assert_eq!(events[0].event_type(), "gap", "{:?}", data(&events));
    publish(&a, "later").await;
    assert_eq!(data(&next_n(&mut resumed, 1).await), [("message", "later")]);
    assert_eq!(late.stats().gaps, 1);
}

/// The same rollback with nothing published since: the instance asks Redis
/// for events up to what it read, past everything Redis remembers.
#[tokio::test]
async fn a_replay_past_what_redis_remembers_is_a_gap() {
    let Some(mut redis) = RedisServer::start_with("snapshot rollback, no new event", false) else {
        return;
    };
    let a = small_hub(&redis, "rollback2:").await;
    let mut live = a.subscribe(&["t"], None).unwrap();
    let kept = publish(&a, "kept").await;
    redis.command(&["SAVE"]).await;
    for n in 0..5 {
        publish(&a, &format!("lost-{n}")).await;
    }
    assert_eq!(next_n(&mut live, 6).await.len(), 6);
    redis.restart();
    // Redis answers again (and remembers only "kept").
    let _ = redis.command(&["PING"]).await;

    // The log holds the last two; the three before must come from Redis,
    // which no longer has them.
    let mut resumed = a.subscribe(&["t"], cursor(&kept)).unwrap();
    let events = next_n(&mut resumed, 3).await;
    assert_eq!(events[0].event_type(), "gap", "{:?}", data(&events));
    assert_eq!(
        data(&events[1..]),
        [("message", "lost-3"), ("message", "lost-4")],
        "what the log still holds"
    );
}

/// An entry missing from the middle of a topic's stream, which Redis's own
/// bookkeeping does not show (`max-deleted-entry-id` reset, as in a stream
/// rebuilt or copied without it): the chain of predecessors shows it.
#[tokio::test]
async fn a_hole_in_the_middle_of_the_chain_is_a_gap() {
    let Some(redis) = RedisServer::start_with("hole in the chain", false) else {
        return;
    };
    let a = redis.hub("chain:").await;
    let mut positions = Vec::new();
    for n in 0..5 {
        positions.push(publish(&a, &format!("{n}")).await);
    }
    let epoch = positions[0].to_string();
    let epoch = epoch.split('-').next().unwrap();
    let epoch = u64::from_str_radix(epoch, 16).unwrap();
    let id = |n: usize| format!("{epoch}-{}", positions[n].seq());
    redis.command(&["XDEL", "chain:topic:t", &id(2)]).await;
    redis
        .command(&["XSETID", "chain:topic:t", &id(4), "MAXDELETEDID", "0-1"])
        .await;

    let late = small_hub(&redis, "chain:").await;
    let mut resumed = late.subscribe(&["t"], cursor(&positions[0])).unwrap();
    let events = next_n(&mut resumed, 1).await;
    assert_eq!(events[0].event_type(), "gap", "{:?}", data(&events));
}

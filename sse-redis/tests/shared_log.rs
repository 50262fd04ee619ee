//! Hubs in the same process standing in for server instances, on one real
//! Redis: ids, order and resume are shared; Redis going away loses nothing
//! that was acknowledged, and what it lost is signalled.

mod common;

use std::time::Duration;

use sse_engine::decode::DecodedEvent;
use sse_engine::hub::{Hub, Position, PublishError, Subscription};
use sse_engine::{Event, LastEventId};

use common::{RedisServer, next_n, publish_when_back, quiet};

fn data(events: &[DecodedEvent]) -> Vec<&str> {
    events.iter().map(DecodedEvent::data).collect()
}

fn cursor(position: &Position) -> Option<LastEventId> {
    LastEventId::parse(position.to_string().as_bytes()).expect("a valid id")
}

async fn publish(hub: &Hub, topic: &str, text: &str) -> Position {
    hub.publish(topic, Event::new().data(text.to_owned()))
        .await
        .expect("published")
}

#[tokio::test]
async fn a_client_resumes_on_another_instance_with_exactly_what_it_missed() {
    let Some(redis) = RedisServer::start("resume on another instance") else {
        return;
    };
    let a = redis.hub("resume:").await;
    let b = redis.hub("resume:").await;
    assert_eq!(a.epoch(), b.epoch(), "instances share the epoch");

    let mut on_a = a.subscribe(&["chat"], None).unwrap();
    let first = publish(&a, "chat", "one").await;
    let seen = next_n(&mut on_a, 1).await;
    assert_eq!(seen[0].last_event_id(), first.to_string().as_str());
    drop(on_a);

    publish(&b, "chat", "two").await;
    publish(&a, "chat", "three").await;
    publish(&b, "chat", "four").await;

    let mut on_b = b.subscribe(&["chat"], cursor(&first)).unwrap();
    let resumed = next_n(&mut on_b, 3).await;
    assert_eq!(data(&resumed), ["two", "three", "four"]);
    quiet(&mut on_b).await;
    assert_eq!(b.stats().gaps, 0);
}

#[tokio::test]
async fn a_cursor_older_than_an_instance_is_replayed_from_redis() {
    let Some(redis) = RedisServer::start("replay from redis") else {
        return;
    };
    let a = redis.hub("replay:").await;
    let mut positions = Vec::new();
    for n in 1..=6 {
        positions.push(publish(&a, "news", &format!("{n}")).await);
    }
    // An instance started after all of them: its log is empty, Redis has them.
    let late = redis.hub("replay:").await;
    let mut resumed = late.subscribe(&["news"], cursor(&positions[1])).unwrap();
    let replayed = next_n(&mut resumed, 4).await;
    assert_eq!(data(&replayed), ["3", "4", "5", "6"]);
    let ids: Vec<String> = positions[2..].iter().map(ToString::to_string).collect();
    assert_eq!(
        replayed
            .iter()
            .map(|e| e.last_event_id().to_owned())
            .collect::<Vec<_>>(),
        ids
    );
    publish(&a, "news", "7").await;
    assert_eq!(data(&next_n(&mut resumed, 1).await), ["7"]);
    assert_eq!(late.stats().gaps, 0);
}

#[tokio::test]
async fn every_instance_delivers_one_order_of_ids() {
    let Some(redis) = RedisServer::start("one order") else {
        return;
    };
    let a = redis.hub("order:").await;
    let b = redis.hub("order:").await;
    let mut on_a = a.subscribe(&["x", "y"], None).unwrap();
    let mut on_b = b.subscribe(&["x", "y"], None).unwrap();
    let mut published = Vec::new();
    for n in 0..40 {
        let (hub, topic) = match n % 4 {
            0 => (&a, "x"),
            1 => (&b, "y"),
            2 => (&b, "x"),
            _ => (&a, "y"),
        };
        published.push(publish(hub, topic, &n.to_string()).await.to_string());
    }
    let from_a: Vec<String> = next_n(&mut on_a, 40)
        .await
        .iter()
        .map(|e| e.last_event_id().to_owned())
        .collect();
    let from_b: Vec<String> = next_n(&mut on_b, 40)
        .await
        .iter()
        .map(|e| e.last_event_id().to_owned())
        .collect();
    assert_eq!(from_a, published);
    assert_eq!(from_b, published);
}

#[tokio::test]
async fn redis_killed_and_restarted_loses_nothing_stored_and_acknowledges_nothing_else() {
    let Some(mut redis) = RedisServer::start("redis restart") else {
        return;
    };
    let hub = redis.hub("restart:").await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    publish(&hub, "t", "before-1").await;
    publish(&hub, "t", "before-2").await;
    assert_eq!(data(&next_n(&mut live, 2).await), ["before-1", "before-2"]);

    redis.kill();
    let refused = hub.publish("t", Event::new().data("while-down")).await;
    assert!(
        matches!(refused, Err(PublishError::Store(_))),
        "{refused:?}"
    );
    // The subscriber keeps its stream while Redis is away.
    quiet(&mut live).await;

    redis.restart();
    publish_when_back(&hub, "t", "after").await;
    assert_eq!(data(&next_n(&mut live, 1).await), ["after"]);
    quiet(&mut live).await;
    assert_eq!(hub.stats().gaps, 0);
}

#[tokio::test]
async fn events_lost_with_redis_are_a_gap_signal_not_a_silent_skip() {
    let Some(redis) = RedisServer::start("emptied redis") else {
        return;
    };
    let a = redis.hub("lost:").await;
    let seen = publish(&a, "t", "seen").await;
    publish(&a, "t", "missed-1").await;
    publish(&a, "t", "missed-2").await;
    // Redis loses everything (a restart without persistence, a flush).
    redis.command(&["FLUSHALL"]).await;
    let fresh = publish(&a, "t", "after").await;
    assert!(fresh.seq() > seen.seq(), "ids keep growing after a flush");

    let late = redis.hub("lost:").await;
    let mut resumed = late.subscribe(&["t"], cursor(&seen)).unwrap();
    let first = next_n(&mut resumed, 1).await;
    assert_eq!(first[0].event_type(), "gap", "{first:?}");
    publish(&a, "t", "live").await;
    assert_eq!(data(&next_n(&mut resumed, 1).await), ["live"]);
}

#[tokio::test]
async fn events_trimmed_past_a_cursor_are_a_gap_signal() {
    let Some(redis) = RedisServer::start("trimmed") else {
        return;
    };
    let builder = sse_redis::RedisStore::builder(redis.url())
        .prefix("trim:")
        .max_len(4);
    let a = redis.hub_with(builder).await;
    let first = publish(&a, "t", "first").await;
    for n in 0..40 {
        publish(&a, "t", &n.to_string()).await;
    }
    let late = redis.hub("trim:").await;
    let mut resumed = late.subscribe(&["t"], cursor(&first)).unwrap();
    let signal = next_n(&mut resumed, 1).await;
    assert_eq!(signal[0].event_type(), "gap");
    assert_eq!(late.stats().gaps, 1);
}

#[tokio::test]
async fn events_older_than_max_age_are_trimmed_and_a_cursor_before_them_is_a_gap() {
    let Some(redis) = RedisServer::start("max age") else {
        return;
    };
    let builder = sse_redis::RedisStore::builder(redis.url())
        .prefix("age:")
        .max_age(Duration::from_millis(100));
    let a = redis.hub_with(builder).await;
    // One whole stream node (the test server's nodes hold 4 entries):
    // approximate trimming removes whole nodes only.
    let first = publish(&a, "t", "old-1").await;
    for n in 2..=4 {
        publish(&a, "t", &format!("old-{n}")).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let recent = publish(&a, "t", "new-1").await;
    publish(&a, "t", "new-2").await;

    let late = redis.hub("age:").await;
    let mut too_old = late.subscribe(&["t"], cursor(&first)).unwrap();
    let signal = next_n(&mut too_old, 1).await;
    assert_eq!(signal[0].event_type(), "gap", "{signal:?}");
    // What is younger than the age is still replayed.
    let mut young = late.subscribe(&["t"], cursor(&recent)).unwrap();
    assert_eq!(data(&next_n(&mut young, 1).await), ["new-2"]);
    quiet(&mut young).await;
}

#[tokio::test]
async fn a_store_that_cannot_connect_says_so() {
    let unused = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let refused = sse_redis::RedisStore::builder(format!("redis://127.0.0.1:{unused}/"))
        .connect()
        .await;
    assert!(refused.is_err());
    let invalid = sse_redis::RedisStore::builder("not a url").connect().await;
    assert!(invalid.is_err());
}

#[tokio::test]
async fn a_cursor_no_instance_gave_is_unknown_after_a_moment() {
    let Some(redis) = RedisServer::start("cursor ahead") else {
        return;
    };
    let hub = redis.hub("ahead:").await;
    let real = publish(&hub, "t", "real").await;
    let invented = Position::new(hub.epoch(), real.seq() + 1_000_000_000);
    let mut subscription = hub.subscribe(&["t"], cursor(&invented)).unwrap();
    let signal = next_n(&mut subscription, 1).await;
    assert_eq!(signal[0].event_type(), "gap");
    assert!(
        signal[0].data().contains("unknown"),
        "{:?}",
        signal[0].data()
    );
    // Reading goes on from where this instance is, not from the invented id.
    publish(&hub, "t", "next").await;
    assert_eq!(data(&next_n(&mut subscription, 1).await), ["next"]);
}

/// The clients connected to the test's Redis right now.
async fn connected_clients(redis: &RedisServer) -> i64 {
    let redis::Value::BulkString(info) = redis.command(&["INFO", "clients"]).await else {
        panic!("INFO answers a string");
    };
    let info = String::from_utf8(info).unwrap();
    let line = info
        .lines()
        .find_map(|line| line.strip_prefix("connected_clients:"))
        .expect("connected_clients in INFO");
    line.trim().parse().unwrap()
}

#[tokio::test]
async fn a_hub_holds_two_redis_connections_however_many_subscribers() {
    let Some(redis) = RedisServer::start("connections per process") else {
        return;
    };
    // `command` opens a connection of its own for each call.
    let baseline = connected_clients(&redis).await;
    let hub = redis.hub("clients:").await;
    let mut subscriptions: Vec<Subscription> = (0..60)
        .map(|n| {
            let topic = ["a", "b", "c"][n % 3];
            hub.subscribe(&[topic], None).unwrap()
        })
        .collect();
    for topic in ["a", "b", "c"] {
        publish(&hub, topic, topic).await;
    }
    for subscription in &mut subscriptions {
        next_n(subscription, 1).await;
    }
    assert_eq!(connected_clients(&redis).await - baseline, 2);
}

#[tokio::test]
async fn a_topic_closed_and_created_again_replays_what_it_missed_meanwhile() {
    let Some(redis) = RedisServer::start("topic created again") else {
        return;
    };
    let a = redis.hub("again:").await;
    let b = redis.hub("again:").await;
    let mut on_a = a.subscribe(&["t"], None).unwrap();
    let seen = publish(&b, "t", "seen").await;
    assert_eq!(data(&next_n(&mut on_a, 1).await), ["seen"]);
    drop(on_a);
    a.close_topic("t");

    // Published elsewhere while `t` does not exist on A: A's reader goes
    // past them, with nowhere to put them.
    publish(&b, "t", "missed-1").await;
    publish(&b, "t", "missed-2").await;
    let mut other = a.subscribe(&["u"], None).unwrap();
    publish(&b, "u", "later").await;
    assert_eq!(data(&next_n(&mut other, 1).await), ["later"]);

    // `t` is created again on A by a client resuming from "seen".
    let mut resumed = a.subscribe(&["t"], cursor(&seen)).unwrap();
    assert_eq!(
        data(&next_n(&mut resumed, 2).await),
        ["missed-1", "missed-2"]
    );
    quiet(&mut resumed).await;
    assert_eq!(a.stats().gaps, 0);
}

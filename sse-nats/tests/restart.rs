//! The `nats-server` killed and restarted (with its store directory, so
//! JetStream keeps what it stored) while subscribers stay attached: nothing
//! acknowledged is lost, nothing is delivered twice, nothing unacknowledged
//! is reported as published; what the stream dropped meanwhile is a gap.

mod common;

use std::time::Duration;

use async_nats::HeaderMap;
use sse_engine::Event;
use sse_engine::hub::PublishError;

use common::{NatsServer, data, hub_with, ids, next_n, publish, publish_when_back, quiet};

#[tokio::test]
async fn a_server_killed_and_restarted_loses_nothing_stored_and_repeats_nothing() {
    let Some(mut nats) = NatsServer::start("nats restart") else {
        return;
    };
    let a = nats.hub("RESTART").await;
    let b = nats.hub("RESTART").await;
    let mut on_a = a.subscribe(&["t", "u"], None).unwrap();
    let mut on_b = b.subscribe(&["t"], None).unwrap();
    let mut sent = Vec::new();
    sent.push(publish(&a, "t", "before-1").await.to_string());
    sent.push(publish(&b, "t", "before-2").await.to_string());
    assert_eq!(ids(&next_n(&mut on_a, 2).await), sent);
    assert_eq!(ids(&next_n(&mut on_b, 2).await), sent);

    nats.kill();
    let refused = a.publish("t", Event::new().data("while-down")).await;
    assert!(
        matches!(refused, Err(PublishError::Store(_))),
        "{refused:?}"
    );
    // Subscribers keep their streams while the server is away.
    quiet(&mut on_a).await;
    quiet(&mut on_b).await;

    nats.restart();
    let mut after = Vec::new();
    after.push(publish_when_back(&b, "t", "after-1").await.to_string());
    after.push(publish_when_back(&a, "u", "after-2").await.to_string());
    after.push(publish_when_back(&a, "t", "after-3").await.to_string());
    let seen_a = next_n(&mut on_a, 3).await;
    assert_eq!(data(&seen_a), ["after-1", "after-2", "after-3"]);
    assert_eq!(ids(&seen_a), after);
    let seen_b = next_n(&mut on_b, 2).await;
    assert_eq!(data(&seen_b), ["after-1", "after-3"]);
    quiet(&mut on_a).await;
    quiet(&mut on_b).await;
    assert_eq!(a.stats().gaps, 0);
    assert_eq!(b.stats().gaps, 0);

    // The refused publish was never stored: a late resume from the start
    // sees exactly the acknowledged events.
    let late = nats.hub("RESTART").await;
    let first = sse_engine::hub::Position::parse(&sent[0]).unwrap();
    let mut resumed = late.subscribe(&["t", "u"], common::cursor(&first)).unwrap();
    let replayed = next_n(&mut resumed, 4).await;
    assert_eq!(
        data(&replayed),
        ["before-2", "after-1", "after-2", "after-3"]
    );
    quiet(&mut resumed).await;
}

#[tokio::test]
async fn events_the_stream_dropped_while_the_reader_was_away_are_a_gap() {
    let Some(mut nats) = NatsServer::start("dropped while away") else {
        return;
    };
    // A reader slow to come back, and a stream that keeps four events.
    let builder = nats
        .builder("AWAY")
        .max_messages(4)
        .backoff(Duration::from_secs(2), Duration::from_secs(2));
    let hub = hub_with(builder).await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    publish(&hub, "t", "seen").await;
    assert_eq!(data(&next_n(&mut live, 1).await), ["seen"]);

    nats.kill();
    nats.restart();
    // Another process publishes ten events before this one's reader is
    // back: the stream keeps the last four.
    let jetstream = nats.jetstream().await;
    for n in 0..10 {
        let mut headers = HeaderMap::new();
        headers.insert("Sse-Topics", "t");
        jetstream
            .publish_with_headers(
                format!("sse.away.{:012x}.t.t", hub.epoch().bits()),
                headers,
                format!("data: {n}\n\n").into(),
            )
            .await
            .expect("sent")
            .await
            .expect("stored");
    }
    let events = next_n(&mut live, 5).await;
    assert_eq!(events[0].event_type(), "gap", "{events:?}");
    assert_eq!(data(&events[1..]), ["6", "7", "8", "9"]);
    quiet(&mut live).await;
    assert_eq!(hub.stats().gaps, 1);
}

/// The server restarted from an older copy of its files: the stream's
/// sequence goes back, and its next numbers would repeat ids the clients
/// already have, for other events. The store notices and refuses, instead
/// of handing them out (a client holding such an id would silently miss
/// the new events under it).
#[tokio::test]
async fn a_stream_rolled_back_is_refused_not_renumbered_in_silence() {
    let Some(mut nats) = NatsServer::start("rolled back") else {
        return;
    };
    let hub = nats.hub("ROLLBACK").await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    publish(&hub, "t", "one").await;
    publish(&hub, "t", "two").await;
    assert_eq!(data(&next_n(&mut live, 2).await), ["one", "two"]);
    nats.snapshot();
    publish_when_back(&hub, "t", "three").await;
    let four = publish(&hub, "t", "four").await;
    assert_eq!(data(&next_n(&mut live, 2).await), ["three", "four"]);

    nats.roll_back();
    // Whether the reader or a publish notices first, publishing stops.
    let mut refused = None;
    for _ in 0..100 {
        match hub.publish("t", Event::new().data("reused")).await {
            Ok(position) => {
                assert!(
                    position.seq() > four.seq(),
                    "{position} repeats an id already given"
                );
            }
            Err(error) if error.to_string().contains("rolled back") => {
                refused = Some(error);
                break;
            }
            Err(_) => {}
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(refused.is_some(), "the rollback was noticed");
    // Nothing under an id already given reached the subscriber.
    quiet(&mut live).await;
}

/// The stream deleted from outside under a running instance: its publishes
/// fail; once a new instance has created the stream again (another epoch),
/// the old instance still refuses rather than give ids of its old epoch to
/// the new stream's events.
#[tokio::test]
async fn a_stream_deleted_under_an_instance_fails_its_publishes_and_is_never_renumbered() {
    let Some(nats) = NatsServer::start("deleted under an instance") else {
        return;
    };
    let old = nats.hub("DELETED").await;
    let mut live = old.subscribe(&["t"], None).unwrap();
    let one = publish(&old, "t", "one").await;
    assert_eq!(data(&next_n(&mut live, 1).await), ["one"]);
    nats.jetstream()
        .await
        .delete_stream("DELETED")
        .await
        .expect("deleted");
    let refused = old.publish("t", Event::new().data("nowhere")).await;
    assert!(refused.is_err(), "{refused:?}");

    let new = nats.hub("DELETED").await;
    assert_ne!(new.epoch(), old.epoch());
    let fresh = publish(&new, "t", "fresh").await;
    assert_eq!(fresh.seq(), 1);
    for _ in 0..40 {
        let outcome = old.publish("t", Event::new().data("old epoch")).await;
        assert!(outcome.is_err(), "{outcome:?} (after {one})");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // The old instance's subscriber never saw the new stream's events under
    // the old epoch.
    quiet(&mut live).await;
}

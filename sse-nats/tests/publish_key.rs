//! A publish under a key the caller gives (issue 16), on JetStream: the key
//! is the message's `Nats-Msg-Id`, so a publish sent again, from any
//! process, within the stream's duplicate window is stored once, and
//! answered with the first sequence number.
#![allow(clippy::print_stderr, missing_docs)]

mod common;
// Steps the sse-redis tests run too, on hubs of either store.
#[path = "common/publish_key_steps.rs"]
mod publish_key_steps;

use std::time::Duration;

use async_nats::HeaderMap;
use async_nats::header::NATS_MESSAGE_ID;
use sse_engine::Event;

use common::{NatsServer, cursor, data, hub_with, ids, next_n, publish, quiet};
use publish_key_steps::{
    a_first_keyed_publish, key, retries_are_duplicates_of, the_round_arrives, the_same_key_at_once,
};

/// What the server really answers for a message id it already stored: the
/// first message's sequence number, with `duplicate`. The store relies on
/// both.
#[tokio::test]
async fn jetstream_answers_a_duplicate_with_the_first_sequence_number() {
    let Some(nats) = NatsServer::start("duplicate ack") else {
        return;
    };
    let js = nats.jetstream().await;
    js.create_stream(async_nats::jetstream::stream::Config {
        name: "RAW".to_owned(),
        subjects: vec!["raw.>".to_owned()],
        duplicate_window: Duration::from_secs(60),
        ..Default::default()
    })
    .await
    .unwrap();
    let mut acks = Vec::new();
    for (id, payload) in [("a", "1"), ("b", "2"), ("a", "3")] {
        let mut headers = HeaderMap::new();
        headers.insert(NATS_MESSAGE_ID, id);
        let ack = js
            .publish_with_headers("raw.x", headers, payload.into())
            .await
            .unwrap()
            .await
            .unwrap();
        acks.push((ack.sequence, ack.duplicate));
    }
    assert_eq!(acks, [(1, false), (2, false), (1, true)]);
}

#[tokio::test]
async fn a_keyed_publish_sent_again_by_any_process_is_stored_once() {
    let Some(nats) = NatsServer::start("keyed publish") else {
        return;
    };
    let one = nats.hub("KEYED").await;
    let other = nats.hub("KEYED").await;
    let (before, mut live, mut live_other, first) = a_first_keyed_publish(&one, &other).await;
    // Later events, read by both readers: the retry's sequence number is
    // then below what they have read, which is no rollback.
    let later = publish(&one, "t", "later").await;
    for subscription in [&mut live, &mut live_other] {
        let seen = next_n(subscription, 2).await;
        assert_eq!(data(&seen), ["hello", "later"]);
        assert_eq!(
            ids(&seen),
            [first.position().to_string(), later.to_string()]
        );
    }
    retries_are_duplicates_of(&first, &[&one, &other, &one], &key("msg-1"), "hello").await;
    quiet(&mut live).await;
    quiet(&mut live_other).await;
    // The store goes on publishing (it did not take the answer for a
    // rollback).
    let next = publish(&other, "t", "next").await;
    assert_eq!(next.seq(), later.seq() + 1, "nothing stored in between");
    assert_eq!(data(&next_n(&mut live, 1).await), ["next"]);

    // Replayed once, from the stream, to a process that never had it.
    let late = nats.hub("KEYED").await;
    let mut resumed = late.subscribe(&["t"], cursor(&before)).unwrap();
    assert_eq!(
        data(&next_n(&mut resumed, 3).await),
        ["hello", "later", "next"]
    );
    quiet(&mut resumed).await;
}

#[tokio::test]
async fn different_keys_are_different_events() {
    let Some(nats) = NatsServer::start("keyed publish, two keys") else {
        return;
    };
    let hub = nats.hub("TWOKEYS").await;
    let mut live = hub.subscribe(&["t", "u"], None).unwrap();
    let a = hub
        .publish_keyed_to(&["t", "u"], &key("a"), Event::new().data("1"))
        .await
        .unwrap();
    let b = hub
        .publish_keyed("t", &key("b"), Event::new().data("2"))
        .await
        .unwrap();
    assert!(!a.is_duplicate() && !b.is_duplicate());
    assert_eq!(b.position().seq(), a.position().seq() + 1);
    assert_eq!(data(&next_n(&mut live, 2).await), ["1", "2"]);
    quiet(&mut live).await;
}

/// The server stalls past every attempt: the outcome is unknown; once it
/// is back, the retry under the same key is the first event, once.
#[tokio::test]
async fn an_unacknowledged_keyed_publish_is_unknown_and_its_retry_stores_nothing_more() {
    let Some(nats) = NatsServer::start("keyed publish, stalled") else {
        return;
    };
    let hub = hub_with(
        nats.builder("STALLKEY")
            .publish_timeout(Duration::from_millis(300), 2),
    )
    .await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    let before = publish(&hub, "t", "before").await;
    assert_eq!(data(&next_n(&mut live, 1).await), ["before"]);

    nats.signal("STOP");
    let unanswered = hub
        .publish_keyed("t", &key("post-7"), Event::new().data("once"))
        .await
        .expect_err("no acknowledgement while stopped");
    nats.signal("CONT");
    assert!(unanswered.is_outcome_unknown(), "{unanswered}");

    let delivered = next_n(&mut live, 1).await;
    assert_eq!(data(&delivered), ["once"]);
    let mut retried = None;
    for _ in 0..100 {
        match hub
            .publish_keyed("t", &key("post-7"), Event::new().data("once"))
            .await
        {
            Ok(published) => {
                retried = Some(published);
                break;
            }
            // The client may still be reconnecting.
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    let retried = retried.expect("published once the server is back");
    assert!(retried.is_duplicate());
    assert_eq!(retried.position().seq(), before.seq() + 1);
    assert_eq!(ids(&delivered), [retried.position().to_string()]);
    quiet(&mut live).await;
}

/// The server stalls past the first attempt only: the second is answered
/// "duplicate" because of the first, which the caller never saw, so to it
/// this publish is no duplicate.
#[tokio::test]
async fn a_keyed_publish_stored_by_its_own_first_attempt_is_no_duplicate() {
    let Some(nats) = NatsServer::start("keyed publish, lost ack") else {
        return;
    };
    let hub = hub_with(
        nats.builder("OWNKEY")
            .publish_timeout(Duration::from_millis(400), 4),
    )
    .await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    let before = publish(&hub, "t", "before").await;
    assert_eq!(data(&next_n(&mut live, 1).await), ["before"]);

    nats.signal("STOP");
    let publishing = {
        let hub = hub.clone();
        tokio::spawn(async move {
            hub.publish_keyed("t", &key("own"), Event::new().data("stalled"))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(900)).await;
    nats.signal("CONT");
    let published = publishing
        .await
        .unwrap()
        .expect("acknowledged on a later attempt");
    assert_eq!(published.position().seq(), before.seq() + 1);
    assert!(!published.is_duplicate(), "its own attempt stored it");
    assert_eq!(data(&next_n(&mut live, 1).await), ["stalled"]);
    quiet(&mut live).await;
}

/// On an R3 stream of a three-node cluster, the same key sent at once by
/// two processes connected to different nodes, then again: one event,
/// one sequence number for all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_the_same_key_from_two_processes_is_stored_once() {
    let Some(cluster) = common::Cluster::start("keyed publish, cluster") else {
        return;
    };
    let one = cluster.hub("CLUSTERKEY").await;
    let other =
        hub_with(common::builder(&[cluster.nodes[1].url()], "CLUSTERKEY").replicas(3)).await;
    let mut live = one.subscribe(&["t"], None).unwrap();
    let before = publish(&one, "t", "before").await;
    assert_eq!(data(&next_n(&mut live, 1).await), ["before"]);

    for round in 0..5 {
        let a = the_same_key_at_once(&one, &other, round).await;
        let round_key = key(&format!("race-{round}"));
        retries_are_duplicates_of(&a, &[&other], &round_key, &format!("round {round}")).await;
        the_round_arrives(&mut live, round, &a).await;
        assert_eq!(a.position().seq(), before.seq() + 1 + round);
    }
    quiet(&mut live).await;
}

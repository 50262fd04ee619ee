//! Review of publish keys on JetStream (issue 16): every visible ASCII
//! character in a key, and a key sent again past the duplicate window.
#![allow(clippy::print_stderr, missing_docs)]

mod common;
// Steps the sse-redis tests run too, on hubs of either store.
#[path = "common/publish_key_steps.rs"]
mod publish_key_steps;

use std::time::Duration;

use sse_engine::Event;
use sse_engine::hub::PublishKey;

use common::{NatsServer, data, hub_with, next_n, quiet};
use publish_key_steps::a_duplicates_id_resumes_at_once;

#[tokio::test]
async fn a_key_of_every_visible_character_is_stored_once() {
    let Some(nats) = NatsServer::start("keyed publish, odd characters") else {
        return;
    };
    let hub = nats.hub("ODDKEY").await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    let all: String = (b'!'..=b'~').map(char::from).collect();
    let keys = [
        all.clone(),
        "a:b".to_owned(),
        "\"quoted\"".to_owned(),
        "x".repeat(128),
        "Nats-Msg-Id:".to_owned(),
    ];
    for (i, text) in keys.iter().enumerate() {
        let key = PublishKey::try_from(text.as_str()).unwrap();
        let first = hub
            .publish_keyed("t", &key, Event::new().data(format!("{i}")))
            .await
            .unwrap_or_else(|error| panic!("{text}: {error}"));
        let again = hub
            .publish_keyed("t", &key, Event::new().data(format!("{i}")))
            .await
            .unwrap();
        assert!(!first.is_duplicate() && again.is_duplicate(), "{text}");
        assert_eq!(again.position(), first.position(), "{text}");
        assert_eq!(data(&next_n(&mut live, 1).await), [format!("{i}")]);
    }
    quiet(&mut live).await;
}

#[tokio::test]
async fn past_the_duplicate_window_a_key_publishes_anew() {
    let Some(nats) = NatsServer::start("keyed publish, past the window") else {
        return;
    };
    let hub = hub_with(
        nats.builder("PASTWINDOW")
            .duplicate_window(Duration::from_secs(1)),
    )
    .await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    let key = PublishKey::try_from("k").unwrap();
    let first = hub
        .publish_keyed("t", &key, Event::new().data("1"))
        .await
        .unwrap();
    assert_eq!(data(&next_n(&mut live, 1).await), ["1"]);
    // JetStream sweeps its duplicate map every so often; well past it:
    tokio::time::sleep(Duration::from_millis(2_500)).await;
    let after = hub
        .publish_keyed("t", &key, Event::new().data("2"))
        .await
        .unwrap();
    assert!(!after.is_duplicate(), "{after:?}");
    assert!(after.position().seq() > first.position().seq());
    assert_eq!(data(&next_n(&mut live, 1).await), ["2"]);
    quiet(&mut live).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_duplicates_id_resumes_at_once_on_the_process_that_answered_it() {
    let Some(nats) = NatsServer::start("keyed publish, resume from duplicate") else {
        return;
    };
    let one = nats.hub("RESUMEDUP").await;
    let other = nats.hub("RESUMEDUP").await;
    a_duplicates_id_resumes_at_once(&one, &other).await;
}

#[tokio::test]
async fn a_very_long_duplicate_window_still_publishes_or_refuses_clearly() {
    let Some(nats) = NatsServer::start("keyed publish, long window") else {
        return;
    };
    for (stream, window) in [
        ("LONGMAX", Duration::MAX),
        ("LONGYEARS", Duration::from_secs(u64::MAX / 1_000)),
    ] {
        let connected = nats
            .builder(stream)
            .duplicate_window(window)
            .connect()
            .await;
        let store = match connected {
            Ok(store) => store,
            Err(error) => panic!("{window:?}: refused at connect: {error}"),
        };
        let hub = sse_engine::hub::Hub::builder().store(store).build();
        let key = PublishKey::try_from("k").unwrap();
        let first = hub
            .publish_keyed("t", &key, Event::new().data("1"))
            .await
            .unwrap_or_else(|error| panic!("{window:?}: {error}"));
        let again = hub
            .publish_keyed("t", &key, Event::new().data("1"))
            .await
            .unwrap();
        assert!(again.is_duplicate(), "{window:?}");
        assert_eq!(again.position(), first.position());
    }
}

/// Many publishes of one key at once on an R3 cluster, from a process on
/// each node: while the first is being replicated, JetStream answers the
/// others "duplicate" without a sequence number. Each must still get the
/// first one's position, not an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_cluster_many_publishes_of_one_key_at_once_all_get_its_position() {
    let Some(cluster) = common::Cluster::start("keyed publish, cluster stress") else {
        return;
    };
    let first = cluster.hub("STRESSKEY").await;
    let mut hubs = vec![first.clone()];
    for node in 1..3 {
        hubs.push(
            hub_with(common::builder(&[cluster.nodes[node].url()], "STRESSKEY").replicas(3)).await,
        );
    }
    let mut live = first.subscribe(&["t"], None).unwrap();
    for round in 0..30 {
        let key = PublishKey::try_from(format!("stress-{round}")).unwrap();
        let mut tasks = Vec::new();
        for hub in hubs.iter().cycle().take(12) {
            let (hub, key) = (hub.clone(), key.clone());
            tasks.push(tokio::spawn(async move {
                hub.publish_keyed("t", &key, Event::new().data(format!("round {round}")))
                    .await
            }));
        }
        let mut answers = Vec::new();
        for task in tasks {
            answers.push(
                task.await
                    .unwrap()
                    .unwrap_or_else(|error| panic!("round {round}: {error}")),
            );
        }
        let stored = answers.iter().filter(|a| !a.is_duplicate()).count();
        assert_eq!(stored, 1, "round {round}: {answers:?}");
        assert!(
            answers
                .iter()
                .all(|a| a.position() == answers[0].position())
        );
        assert_eq!(
            data(&next_n(&mut live, 1).await),
            [format!("round {round}")]
        );
    }
    quiet(&mut live).await;
}

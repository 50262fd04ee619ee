//! A three-node JetStream cluster with an R3 stream: the stream's leader is
//! killed (SIGKILL) while two instances publish; every acknowledged event
//! reaches every subscriber exactly once and in order, every event a
//! subscriber receives was either acknowledged or reported as an error to
//! its publisher, and the instances go on with the new leader.
#![allow(clippy::print_stderr)]

mod common;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_engine::Event;
use sse_engine::hub::{Hub, Subscription};
use tokio::sync::Mutex;

use common::{Cluster, decode};

/// Each instance publishes until this many events are acknowledged.
const PER_INSTANCE: usize = 200;

/// What one instance's publisher saw: acknowledged (id, data) and errors.
#[derive(Default)]
struct Outcomes {
    acknowledged: Vec<(String, String)>,
    failed: Vec<String>,
}

async fn publish_all(hub: Hub, name: &str, outcomes: Arc<Mutex<Outcomes>>) {
    // Until this many are acknowledged, however many fail meanwhile (the
    // leader's election takes a few seconds).
    for n in 0.. {
        assert!(n < 20 * PER_INSTANCE, "{name}: publishing never recovered");
        let text = format!("{name}-{n}");
        let outcome = hub.publish("t", Event::new().data(text.clone())).await;
        let mut outcomes = outcomes.lock().await;
        match outcome {
            Ok(position) => {
                outcomes.acknowledged.push((position.to_string(), text));
                if outcomes.acknowledged.len() == PER_INSTANCE {
                    return;
                }
            }
            Err(_) => {
                outcomes.failed.push(text);
                drop(outcomes);
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
        tokio::task::yield_now().await;
    }
}

/// Everything a subscriber receives until it has every id in `wanted`, then
/// a quiet second.
async fn collect(
    subscription: &mut Subscription,
    wanted: &HashSet<String>,
) -> Vec<(String, String, String)> {
    let mut seen = Vec::new();
    let mut missing = wanted.clone();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let wait = if missing.is_empty() {
            Duration::from_secs(1)
        } else {
            deadline.saturating_duration_since(Instant::now())
        };
        match tokio::time::timeout(wait, subscription.next()).await {
            Ok(Some(event)) => {
                let event = decode(&event);
                missing.remove(event.last_event_id());
                seen.push((
                    event.event_type().to_owned(),
                    event.last_event_id().to_owned(),
                    event.data().to_owned(),
                ));
            }
            Ok(None) => panic!("the stream ended"),
            Err(_) if missing.is_empty() => return seen,
            Err(_) => panic!("{} acknowledged events never arrived", missing.len()),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_stream_leader_loses_and_repeats_nothing_acknowledged() {
    let Some(mut cluster) = Cluster::start("three-node cluster") else {
        return;
    };
    let a = cluster.hub("R3").await;
    let b = cluster.hub("R3").await;
    let mut on_a = a.subscribe(&["t"], None).unwrap();
    let mut on_b = b.subscribe(&["t"], None).unwrap();

    let from_a = Arc::new(Mutex::new(Outcomes::default()));
    let from_b = Arc::new(Mutex::new(Outcomes::default()));
    let publishers = [
        tokio::spawn(publish_all(a.clone(), "a", from_a.clone())),
        tokio::spawn(publish_all(b.clone(), "b", from_b.clone())),
    ];
    // Kill the leader once both have published a while.
    while from_a.lock().await.acknowledged.len() < 40 || from_b.lock().await.acknowledged.len() < 40
    {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let (leader, _) = cluster.stream_nodes("R3").await.expect("a leader");
    cluster.node(&leader).kill();
    for publisher in publishers {
        publisher.await.expect("the publisher ran");
    }

    let from_a = Arc::try_unwrap(from_a).ok().unwrap().into_inner();
    let from_b = Arc::try_unwrap(from_b).ok().unwrap().into_inner();
    let acknowledged: Vec<(String, String)> = from_a
        .acknowledged
        .iter()
        .chain(&from_b.acknowledged)
        .cloned()
        .collect();
    let failed: HashSet<String> = from_a
        .failed
        .iter()
        .chain(&from_b.failed)
        .cloned()
        .collect();
    assert_eq!(acknowledged.len(), 2 * PER_INSTANCE);
    eprintln!(
        "killed {leader}: {} acknowledged, {} failed",
        acknowledged.len(),
        failed.len()
    );
    let wanted: HashSet<String> = acknowledged.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(
        wanted.len(),
        acknowledged.len(),
        "every acknowledged id is its own"
    );

    for (name, subscription) in [("a", &mut on_a), ("b", &mut on_b)] {
        let seen = collect(subscription, &wanted).await;
        assert!(
            seen.iter()
                .all(|(kind, _, _)| kind.is_empty() || kind == "message"),
            "{name}: no gap: {seen:?}"
        );
        let seqs: Vec<u64> = seen
            .iter()
            .map(|(_, id, _)| id.rsplit('-').next().unwrap().parse().unwrap())
            .collect();
        assert!(
            seqs.windows(2).all(|pair| pair[0] < pair[1]),
            "{name}: in order, each once: {seqs:?}"
        );
        for (id, text) in &acknowledged {
            assert!(
                seen.iter()
                    .any(|(_, seen_id, data)| seen_id == id && data == text),
                "{name}: {id} ({text}) arrived"
            );
        }
        for (_, id, data) in &seen {
            assert!(
                wanted.contains(id) || failed.contains(data),
                "{name}: {id} ({data}) was neither acknowledged nor reported as failed"
            );
        }
    }
    assert_eq!(a.stats().gaps, 0);
    assert_eq!(b.stats().gaps, 0);

    // The instances go on with the new leader.
    let after = a
        .publish("t", Event::new().data("after"))
        .await
        .expect("published");
    for subscription in [&mut on_a, &mut on_b] {
        let event = tokio::time::timeout(common::WAIT, subscription.next())
            .await
            .expect("in time")
            .expect("the stream goes on");
        assert_eq!(decode(&event).last_event_id(), after.to_string());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_node_stopped_and_started_again_duplicates_and_skips_nothing() {
    let Some(mut cluster) = Cluster::start("whole cluster restart") else {
        return;
    };
    let a = cluster.hub("R3").await;
    let b = cluster.hub("R3").await;
    let mut on_a = a.subscribe(&["t"], None).unwrap();
    let mut on_b = b.subscribe(&["t"], None).unwrap();
    let mut sent = Vec::new();
    for n in 0..10 {
        let hub = if n % 2 == 0 { &a } else { &b };
        sent.push(common::publish(hub, "t", &format!("before-{n}")).await);
    }
    let sent_ids: Vec<String> = sent.iter().map(ToString::to_string).collect();
    assert_eq!(common::ids(&common::next_n(&mut on_a, 10).await), sent_ids);
    assert_eq!(common::ids(&common::next_n(&mut on_b, 10).await), sent_ids);

    for node in &mut cluster.nodes {
        node.kill();
    }
    let refused = a.publish("t", Event::new().data("while-down")).await;
    assert!(refused.is_err(), "{refused:?}");
    common::quiet(&mut on_a).await;
    for node in &mut cluster.nodes {
        node.restart();
    }
    let mut after = Vec::new();
    after.push(common::publish_when_back(&a, "t", "after-a").await);
    after.push(common::publish_when_back(&b, "t", "after-b").await);
    let after_ids: Vec<String> = after.iter().map(ToString::to_string).collect();
    for subscription in [&mut on_a, &mut on_b] {
        let seen = common::next_n(subscription, 2).await;
        assert_eq!(common::data(&seen), ["after-a", "after-b"]);
        assert_eq!(common::ids(&seen), after_ids);
        common::quiet(subscription).await;
    }
    assert_eq!(a.stats().gaps, 0);
    assert_eq!(b.stats().gaps, 0);

    // A new instance replays the whole history, once.
    let late = cluster.hub("R3").await;
    let mut resumed = late.subscribe(&["t"], common::cursor(&sent[0])).unwrap();
    let replayed = common::next_n(&mut resumed, 11).await;
    let mut expected: Vec<String> = sent_ids[1..].to_vec();
    expected.extend(after_ids);
    assert_eq!(common::ids(&replayed), expected);
    common::quiet(&mut resumed).await;
}

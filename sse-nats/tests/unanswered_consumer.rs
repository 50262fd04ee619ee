//! A consumer JetStream never answers for: with one node of a three-node
//! cluster down, JetStream 2.9 places the reader's one-replica consumer on
//! any node of the stream, the one that is down included, and the request
//! to make it times out. The reader makes another (its events keep coming)
//! and deletes the one not answered, so none is left behind.
#![allow(clippy::print_stderr)]

mod common;

use std::time::{Duration, Instant};

use async_nats::jetstream;
use async_nats::jetstream::ErrorCode;
use async_nats::jetstream::stream::ConsumerErrorKind;

use common::{
    Cluster, WAIT, consumer_names, cursor, data, next_n, publish_when_back, until_consumers,
};

const STREAM: &str = "UNANSWERED";

/// How many times the reader is made to make a new consumer: with one node
/// of three down, at least one of them is placed there, but for a chance
/// of (2/3)^12, under 1 %.
const ROUNDS: usize = 12;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_placed_on_a_node_that_is_down_is_replaced_and_deleted() {
    let Some(mut cluster) = Cluster::start("a consumer on a node that is down") else {
        return;
    };
    let hub = cluster.hub(STREAM).await;
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    publish_when_back(&hub, "t", "first").await;
    assert_eq!(data(&next_n(&mut subscription, 1).await), ["first"]);

    let down = stop_a_follower(&mut cluster, STREAM).await;
    let alive: Vec<String> = cluster
        .nodes
        .iter()
        .filter(|node| node.is_running())
        .map(common::NatsServer::url)
        .collect();
    let client = async_nats::connect(alive).await.expect("connects");
    let js = jetstream::ContextBuilder::new()
        .timeout(Duration::from_secs(1))
        .build(client);
    let stream = js.get_stream_no_info(STREAM).await.expect("the stream");

    for round in 0..ROUNDS {
        // The consumer the reader reads with, the one with a pull waiting,
        // is deleted: the reader makes a new one.
        let deadline = Instant::now() + WAIT;
        // The newest consumer with a pull waiting is the reader's (an
        // older one may still count a pull, and the reader may delete it
        // first).
        loop {
            let names = consumer_names(&stream).await;
            let mut waiting = Vec::new();
            for name in names {
                if let Ok(info) = stream.consumer_info(&name).await
                    && info.num_waiting > 0
                {
                    waiting.push(info);
                }
            }
            if let Some(newest) = waiting.into_iter().max_by_key(|info| info.created) {
                match stream.delete_consumer(&newest.name).await {
                    Ok(_) => break,
                    // The reader deleted it first: look again.
                    Err(error)
                        if matches!(error.kind(), ConsumerErrorKind::JetStream(ref e)
                            if e.error_code() == ErrorCode::CONSUMER_NOT_FOUND) => {}
                    Err(error) => panic!("round {round}: deleting {}: {error}", newest.name),
                }
            }
            assert!(
                Instant::now() < deadline,
                "round {round}: no consumer is read"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let text = format!("round {round}");
        publish_when_back(&hub, "t", &text).await;
        assert_eq!(data(&next_n(&mut subscription, 1).await), [text.as_str()]);
    }

    // Only the consumer the reader reads with is left: every one not
    // answered was deleted (the reader asks up to five times, 1 to 8 s
    // apart, over about 17.5 s with this cluster's 500 ms timeout).
    until_consumers(
        &stream,
        Duration::from_secs(30),
        &format!("consumers left behind with {down} down"),
        |names| names.len() == 1,
    )
    .await;
}

/// How many replays are made with a follower down.
const REPLAYS: usize = 20;

/// Stops a follower of `stream` that does not lead the meta group (no
/// election, only placements on a node that is down); its name.
async fn stop_a_follower(cluster: &mut Cluster, stream: &str) -> String {
    let deadline = Instant::now() + WAIT;
    let down = loop {
        let meta = cluster.meta_leader();
        let nodes = cluster.stream_nodes(stream).await;
        if let (Some(meta), Some((_, followers))) = (&meta, &nodes)
            && let Some(follower) = followers.iter().find(|name| *name != meta)
        {
            break follower.clone();
        }
        assert!(
            Instant::now() < deadline,
            "no follower: {meta:?}, {nodes:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    cluster.node(&down).kill();
    down
}

/// Replays with a follower down: every replay's consumer may be placed on
/// it, and its making is not answered. Each replay still comes whole, with
/// no gap. (Without the leader's answers, each replay became a gap about
/// one time in ten: 20 replays find that nine times in ten.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replays_come_whole_while_a_follower_is_down() {
    let Some(mut cluster) = Cluster::start("replays with a follower down") else {
        return;
    };
    let hub = cluster.hub("REPLAYS").await;
    let mut firsts = Vec::new();
    for round in 0..REPLAYS {
        let topic = format!("t{round}");
        firsts.push(publish_when_back(&hub, &topic, "first").await);
        for n in 0..3 {
            publish_when_back(&hub, &topic, &n.to_string()).await;
        }
    }
    let down = stop_a_follower(&mut cluster, "REPLAYS").await;
    // A hub started now: its log is empty, every cursor is replayed from
    // the stream.
    let late = cluster.hub("REPLAYS").await;
    let started = Instant::now();
    for (round, first) in firsts.iter().enumerate() {
        let topic = format!("t{round}");
        let mut resumed = late.subscribe(&[topic.as_str()], cursor(first)).unwrap();
        assert_eq!(
            data(&next_n(&mut resumed, 3).await),
            ["0", "1", "2"],
            "round {round}, {down} down"
        );
    }
    eprintln!(
        "{REPLAYS} replays with {down} down took {:?}",
        started.elapsed()
    );
    assert_eq!(
        late.stats().gaps,
        0,
        "a replay became a gap with {down} down"
    );
}

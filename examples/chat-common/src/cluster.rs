//! Two chat instances on a three-node NATS JetStream cluster (an R3 stream)
//! through the loss of any one node: what both chat examples must do with
//! `NATS_URL` naming the three nodes and `NATS_REPLICAS=3`.
//!
//! Clients listen on both instances while messages are posted continuously
//! through both; the stream's leader is killed (SIGKILL), brought back once
//! the cluster has recovered, then, once the cluster is whole again and
//! every client has caught up, a follower that was never killed is killed.
//! Every client must receive exactly the messages whose `POST` was
//! answered `200`, each once, all clients in the same order; every other
//! `POST` must have been answered with a `5xx`. The message of such a
//! `POST` may still arrive (its outcome was unknown: JetStream may have
//! stored it before the answer was lost), but once at most.

// The sse-nats tests' servers: nats-server processes on free loopback
// ports, skipped (or failed, with SSE_REQUIRE_NATS=1) when there are none.
#[path = "../../../sse-nats/tests/common/mod.rs"]
mod nats_server;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::suite::{Stream, post};
use crate::two_instances::Instance;
use nats_server::Cluster;

/// The chat's stream (`NATS_STREAM`).
const STREAM: &str = "CLUSTER_CHAT";

/// Clients listening on each instance.
const CLIENTS_PER_INSTANCE: usize = 3;

/// Messages each instance must get acknowledged before the next step: the
/// first before a node is killed, the others once the cluster answers again.
const PER_STEP: usize = 25;

/// How long the cluster may take to acknowledge again after losing a node
/// (a leader's election takes a few seconds), or to bring a restarted node
/// up to date; and how long the clients may take to receive the rest.
const RECOVERY: Duration = Duration::from_secs(30);

/// How long a client must stay quiet, once it has every acknowledged
/// message, for its stream to count as complete (a duplicate would come
/// within it).
const QUIET: Duration = Duration::from_secs(1);

/// An event as a client received it: type, id, data.
type Received = (String, String, String);

/// A client listening on one instance: what it received so far, and what
/// its reader task has sent since.
struct Client {
    events: mpsc::UnboundedReceiver<Received>,
    received: Vec<Received>,
    reader: JoinHandle<()>,
}

impl Client {
    /// Takes in what the reader has sent so far.
    fn drain(&mut self) {
        while let Ok(event) = self.events.try_recv() {
            self.received.push(event);
        }
    }

    /// The ids of `ids` this client has not received (yet).
    fn lacks<'a>(&mut self, ids: &'a [String]) -> Vec<&'a str> {
        self.drain();
        let received: HashSet<&str> = self.received.iter().map(|(_, id, _)| id.as_str()).collect();
        ids.iter()
            .map(String::as_str)
            .filter(|id| !received.contains(id))
            .collect()
    }
}

/// What one instance's `POST`s were answered: `200` with an id, or a `5xx`.
#[derive(Debug, Default)]
struct Outcomes {
    acknowledged: Vec<(String, String)>,
    failed: Vec<String>,
}

/// Runs the steps above against two instances of the chat server `binary`.
///
/// # Panics
///
/// When a client misses an acknowledged message, receives one twice, or
/// out of order, or anything else; when a `POST` is answered neither `200`
/// nor `5xx`; when the cluster does not recover within 30 s.
pub async fn survives_losing_any_node(binary: &str) {
    let Some(mut cluster) = Cluster::start("two chat instances on a three-node cluster") else {
        return;
    };
    // An R3 stream of its own can be made once the cluster has its
    // JetStream leader: then the instances can make theirs.
    drop(cluster.hub("READY").await);
    let urls = cluster.urls().join(",");
    let env = [
        ("NATS_URL", urls.as_str()),
        ("NATS_STREAM", STREAM),
        ("NATS_REPLICAS", "3"),
        // Frames while nothing is published, so a quiet client is not
        // mistaken for a stuck one.
        ("KEEP_ALIVE_MS", "1000"),
    ];
    let instances = [
        Instance::start_env(binary, &env),
        Instance::start_env(binary, &env),
    ];
    let mut clients = Vec::new();
    for instance in &instances {
        for _ in 0..CLIENTS_PER_INSTANCE {
            clients.push(listen(&instance.base).await);
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let outcomes: Vec<Arc<Mutex<Outcomes>>> = instances.iter().map(|_| Arc::default()).collect();
    let publishers: Vec<JoinHandle<()>> = instances
        .iter()
        .zip(&outcomes)
        .enumerate()
        .map(|(n, (instance, outcomes))| {
            let base = instance.base.clone();
            tokio::spawn(publish(base, n, outcomes.clone(), stop.clone()))
        })
        .collect();

    acknowledged_once_more(&outcomes).await;
    let leader = victim(&cluster, |leader, _| Some(leader.to_owned())).await;
    say(&format!("killing {leader}, the stream's leader"));
    // Killing and restarting block this thread for a moment (until the
    // process is gone, or listens): the publishers and readers run on.
    cluster.node(&leader).kill();
    acknowledged_once_more(&outcomes).await;

    cluster.node(&leader).restart();
    let follower = whole_again(&cluster, &mut clients, &outcomes, &leader).await;
    say(&format!(
        "{leader} restarted and current, every client caught up; killing {follower}, a follower"
    ));
    cluster.node(&follower).kill();
    acknowledged_once_more(&outcomes).await;

    say("publishing stopped; reading what every client received");
    stop.store(true, Ordering::Relaxed);
    for publisher in publishers {
        publisher.await.expect("the publisher ran");
    }
    let outcomes: Vec<Outcomes> = outcomes
        .into_iter()
        .map(|outcomes| std::mem::take(&mut *outcomes.lock().expect("not poisoned")))
        .collect();
    let mut received = Vec::new();
    let deadline = Instant::now() + RECOVERY;
    for mut client in clients {
        received.push(until_complete(&mut client, &outcomes, deadline).await);
        client.reader.abort();
    }
    check(&received, &outcomes);
}

/// The node to kill next: what `choose` picks from the stream's leader and
/// current followers, once it picks one, within [`RECOVERY`].
async fn victim(cluster: &Cluster, choose: impl Fn(&str, &[String]) -> Option<String>) -> String {
    let deadline = Instant::now() + RECOVERY;
    loop {
        let nodes = cluster.stream_nodes(STREAM).await;
        if let Some(victim) = nodes.and_then(|(leader, followers)| choose(&leader, &followers)) {
            return victim;
        }
        assert!(
            Instant::now() < deadline,
            "the stream's nodes are not as awaited"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Waits, within [`RECOVERY`], until the cluster is whole again after the
/// node `restarted` came back: the stream's leader has both followers
/// current (the restarted one caught up), the JetStream meta group's leader
/// has both other nodes current, every node says it is healthy, and every
/// client has every message acknowledged until then (so the instances'
/// readers recovered from the first loss). Then a second loss leaves a
/// quorum in both groups, with nodes that are up to date. Returns the
/// follower to kill: one that was never killed.
async fn whole_again(
    cluster: &Cluster,
    clients: &mut [Client],
    outcomes: &[Arc<Mutex<Outcomes>>],
    restarted: &str,
) -> String {
    let deadline = Instant::now() + RECOVERY;
    let follower = whole(cluster, restarted, deadline).await;
    let acknowledged: Vec<String> = outcomes
        .iter()
        .flat_map(|outcomes| {
            let outcomes = outcomes.lock().expect("not poisoned");
            outcomes
                .acknowledged
                .iter()
                .map(|(id, _)| id.clone())
                .collect::<Vec<_>>()
        })
        .collect();
    for (n, client) in clients.iter_mut().enumerate() {
        loop {
            let lacks = client.lacks(&acknowledged);
            if lacks.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "client {n} did not catch up after {restarted} came back: lacks {lacks:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    // Still whole: the follower may have changed.
    let again = whole(cluster, restarted, deadline).await;
    if again != follower {
        say(&format!(
            "the stream's followers changed: {follower} -> {again}"
        ));
    }
    again
}

/// Waits until the stream's leader and the meta group's leader have both
/// their followers current, and every node says it is healthy (current
/// with the meta group's leader itself: a leader can count a node that
/// came back as current while it still catches up, and losing the leader
/// then can leave the meta group without a leader, or with a node that
/// lost its state, for many seconds); returns a stream follower that is
/// not `restarted`.
async fn whole(cluster: &Cluster, restarted: &str, deadline: Instant) -> String {
    loop {
        let stream = cluster.stream_nodes(STREAM).await;
        let meta = meta_whole(cluster);
        let healthy = ["n0", "n1", "n2"].map(|name| cluster.healthy(name));
        if let (Some((_, followers)), true, [true, true, true]) = (&stream, meta, healthy)
            && followers.len() == 2
            && let Some(follower) = followers.iter().find(|name| *name != restarted)
        {
            return follower.clone();
        }
        assert!(
            Instant::now() < deadline,
            "the cluster is not whole again: stream (leader, current followers) {stream:?}, meta group whole: {meta}, nodes healthy: {healthy:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the JetStream meta group's leader has both other nodes current,
/// and each of them knows that leader, as the nodes' `/jsz` say.
fn meta_whole(cluster: &Cluster) -> bool {
    let names = ["n0", "n1", "n2"];
    let meta: Vec<Option<serde_json::Value>> = names
        .iter()
        .map(|name| {
            let jsz = cluster.jsz(name)?;
            let jsz: serde_json::Value = serde_json::from_str(&jsz).ok()?;
            Some(jsz["meta_cluster"].clone())
        })
        .collect();
    let Some(leader) = meta[0].as_ref().and_then(|meta| meta["leader"].as_str()) else {
        return false;
    };
    let agreed = meta
        .iter()
        .all(|meta| meta.as_ref().and_then(|meta| meta["leader"].as_str()) == Some(leader));
    let Some(on_leader) = names
        .iter()
        .position(|name| *name == leader)
        .and_then(|index| meta[index].as_ref())
    else {
        return false;
    };
    let replicas = on_leader["replicas"]
        .as_array()
        .map_or(&[][..], Vec::as_slice);
    agreed
        && replicas.len() == 2
        && replicas
            .iter()
            .all(|peer| peer["current"] == true && peer["offline"] != true)
}

/// Tells what the test does, for a failure's log.
#[allow(clippy::print_stderr)]
fn say(step: &str) {
    // The time of day (UTC), as the servers' and instances' logs give it.
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let seconds = now.as_secs() % 86_400;
    eprintln!(
        "cluster: [{:02}:{:02}:{:02}.{:03}] {step}",
        seconds / 3600,
        seconds / 60 % 60,
        seconds % 60,
        now.subsec_millis()
    );
}

/// Opens a stream on the instance at `base`, and reads it in a task of its
/// own: its events, as they arrive.
async fn listen(base: &str) -> Client {
    let mut stream = Stream::open(base, "", None).await;
    stream.ready().await;
    let (sender, events) = mpsc::unbounded_channel();
    let reader = tokio::spawn(async move {
        loop {
            let event = stream.next(1).await.remove(0);
            let received = (
                event.event_type().to_owned(),
                event.last_event_id().to_owned(),
                event.data().to_owned(),
            );
            if sender.send(received).is_err() {
                return;
            }
        }
    });
    Client {
        events,
        received: Vec::new(),
        reader,
    }
}

/// Posts messages `<n>-0`, `<n>-1`, ... to the instance at `base` until
/// `stop`, one at a time, and records how each was answered.
async fn publish(base: String, n: usize, outcomes: Arc<Mutex<Outcomes>>, stop: Arc<AtomicBool>) {
    let mut count = 0;
    while !stop.load(Ordering::Relaxed) {
        let text = format!("{n}-{count}");
        count += 1;
        let (status, answer) = post(&base, format!(r#"{{"data":"{text}"}}"#)).await;
        let failed = match status {
            200 => {
                let answer: serde_json::Value = serde_json::from_str(&answer).expect("JSON");
                let id = answer["id"].as_str().expect("an id").to_owned();
                let mut outcomes = outcomes.lock().expect("not poisoned");
                outcomes.acknowledged.push((id, text));
                false
            }
            500..=599 => {
                outcomes.lock().expect("not poisoned").failed.push(text);
                true
            }
            other => panic!("POST {text} answered {other}: {answer}"),
        };
        if failed {
            // No busy loop while the cluster elects a leader.
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

/// Waits until every instance has had [`PER_STEP`] more messages
/// acknowledged than when called.
async fn acknowledged_once_more(outcomes: &[Arc<Mutex<Outcomes>>]) {
    let acknowledged = || -> Vec<usize> {
        outcomes
            .iter()
            .map(|outcomes| outcomes.lock().expect("not poisoned").acknowledged.len())
            .collect()
    };
    let targets: Vec<usize> = acknowledged().iter().map(|n| n + PER_STEP).collect();
    let deadline = Instant::now() + RECOVERY;
    while acknowledged()
        .iter()
        .zip(&targets)
        .any(|(n, target)| n < target)
    {
        assert!(
            Instant::now() < deadline,
            "publishing did not recover: {:?} acknowledged, {targets:?} awaited",
            acknowledged()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// What a client receives until it has every acknowledged message and then
/// stays quiet for [`QUIET`], or until `deadline`; [`check`] says what is
/// missing.
async fn until_complete(
    client: &mut Client,
    outcomes: &[Outcomes],
    deadline: Instant,
) -> Vec<Received> {
    let mut awaited: HashSet<&str> = outcomes
        .iter()
        .flat_map(|outcomes| &outcomes.acknowledged)
        .map(|(id, _)| id.as_str())
        .collect();
    let mut received = std::mem::take(&mut client.received);
    for (_, id, _) in &received {
        awaited.remove(id.as_str());
    }
    while Instant::now() < deadline {
        match tokio::time::timeout(QUIET, client.events.recv()).await {
            Ok(Some(event)) => {
                awaited.remove(event.1.as_str());
                received.push(event);
            }
            // The stream ended: nothing more will come.
            Ok(None) => break,
            Err(_) if awaited.is_empty() => break,
            Err(_) => {}
        }
    }
    received
}

/// Every client received every acknowledged message with the id its `POST`
/// was answered, each message once, in the order of the ids, all clients
/// the same; and nothing else than those and messages whose `POST` failed.
fn check(received: &[Vec<Received>], outcomes: &[Outcomes]) {
    let acknowledged: HashMap<&str, &str> = outcomes
        .iter()
        .flat_map(|outcomes| &outcomes.acknowledged)
        .map(|(id, text)| (id.as_str(), text.as_str()))
        .collect();
    let failed: HashSet<&str> = outcomes
        .iter()
        .flat_map(|outcomes| &outcomes.failed)
        .map(String::as_str)
        .collect();
    // What each client lacks, and what it got besides messages, first: a
    // failure then says which clients, which events, and any gap signal.
    for (n, client) in received.iter().enumerate() {
        let by_id: HashMap<&str, &str> = client
            .iter()
            .map(|(_, id, data)| (id.as_str(), data.as_str()))
            .collect();
        let mut missing: Vec<(&str, &str)> = acknowledged
            .iter()
            .filter(|(id, text)| by_id.get(*id) != Some(*text))
            .map(|(id, text)| (*id, *text))
            .collect();
        missing.sort_unstable();
        let others: Vec<&Received> = client
            .iter()
            .filter(|(kind, _, _)| !kind.is_empty() && kind != "message")
            .collect();
        assert!(
            missing.is_empty() && others.is_empty(),
            "client {n} (on instance {}): acknowledged but missing: {missing:?}; not messages: {others:?}; received {} events",
            n / CLIENTS_PER_INSTANCE,
            client.len()
        );
    }
    let first = &received[0];
    let mut texts = HashSet::new();
    for (_, id, data) in first {
        assert!(texts.insert(data), "{data} arrived once");
        assert!(
            acknowledged.contains_key(id.as_str()) || failed.contains(data.as_str()),
            "{id} ({data}) was neither acknowledged nor answered with an error"
        );
    }
    let sequence = |id: &String| -> u64 {
        id.rsplit('-')
            .next()
            .and_then(|seq| seq.parse().ok())
            .expect("<epoch>-<seq>")
    };
    assert!(
        first
            .windows(2)
            .all(|pair| sequence(&pair[0].1) < sequence(&pair[1].1)),
        "in the order of the ids"
    );
    for (n, client) in received.iter().enumerate() {
        assert_eq!(client, first, "client {n} received what client 0 did");
    }
    let failures: usize = outcomes.iter().map(|outcomes| outcomes.failed.len()).sum();
    let unknown_stored = first.len() - acknowledged.len();
    // Said, not asserted: how many POSTs failed depends on the timing.
    say(&format!(
        "{} acknowledged, {failures} answered 5xx ({unknown_stored} of them stored all the same); {} clients identical",
        acknowledged.len(),
        received.len()
    ));
}

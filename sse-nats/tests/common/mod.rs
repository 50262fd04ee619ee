//! Real `nats-server`s for the tests: started from PATH with JetStream, on
//! free loopback ports, each in a temporary directory that holds its
//! JetStream files, and killed when dropped. Without `nats-server`, tests
//! are skipped with a message, unless `SSE_REQUIRE_NATS=1` (set by CI)
//! makes that a failure.
#![allow(dead_code, clippy::print_stderr)]

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_engine::decode::{DecodedEvent, Decoder};
use sse_engine::hub::{Hub, Position, Subscription};
use sse_engine::{EncodedEvent, Event, LastEventId};
use sse_nats::{NatsStore, NatsStoreBuilder};

/// Whether `nats-server` can run here; if not, says so (or fails, when
/// `SSE_REQUIRE_NATS=1`).
pub(crate) fn available(test: &str) -> bool {
    let found = Command::new("nats-server")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok();
    if !found {
        sse_interop::skip_or_fail(
            test,
            "no nats-server on PATH",
            "SSE_REQUIRE_NATS",
            "apt-get install nats-server",
        );
    }
    found
}

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free port")
        .port()
}

/// One `nats-server` process with JetStream (alone, or a node of a
/// [`Cluster`]).
pub(crate) struct NatsServer {
    pub(crate) port: u16,
    dir: PathBuf,
    /// A configuration file (cluster nodes), else command-line flags.
    config: Option<PathBuf>,
    /// The HTTP monitoring port (cluster nodes).
    monitor: Option<u16>,
    child: Option<Child>,
}

impl NatsServer {
    /// A single server; `None` (after saying why) when there is no
    /// `nats-server` and CI does not require one.
    pub(crate) fn start(test: &str) -> Option<Self> {
        if !available(test) {
            return None;
        }
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("sse-nats-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut server = Self {
            port,
            dir,
            config: None,
            monitor: None,
            child: None,
        };
        server.restart();
        Some(server)
    }

    pub(crate) fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Kills the server at once (SIGKILL), as a crash would.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Stops the process (SIGSTOP) without closing its connections, as a
    /// stalled machine would, or lets it go on again (SIGCONT).
    pub(crate) fn signal(&self, signal: &str) {
        let child = self.child.as_ref().expect("running");
        sse_interop::stall(child.id(), signal == "STOP");
    }

    /// Copies the JetStream files as they are now (the server stopped
    /// first: a consistent copy), to [`NatsServer::roll_back`] to later.
    pub(crate) fn snapshot(&mut self) {
        self.kill();
        let snapshot = self.dir.join("snapshot");
        let _ = std::fs::remove_dir_all(&snapshot);
        let status = Command::new("cp")
            .arg("-a")
            .arg(self.dir.join("js"))
            .arg(&snapshot)
            .status()
            .expect("cp runs");
        assert!(status.success(), "snapshot copied");
        self.restart();
    }

    /// Kills the server and starts it again from the last snapshot, as a
    /// server restored from a backup (or one that lost its last writes).
    pub(crate) fn roll_back(&mut self) {
        self.kill();
        let js = self.dir.join("js");
        std::fs::remove_dir_all(&js).expect("files removed");
        let status = Command::new("cp")
            .arg("-a")
            .arg(self.dir.join("snapshot"))
            .arg(&js)
            .status()
            .expect("cp runs");
        assert!(status.success(), "snapshot restored");
        self.restart();
    }

    pub(crate) fn is_running(&self) -> bool {
        self.child.is_some()
    }

    /// Starts it again on the same port and directory (so JetStream finds
    /// its files), and waits until it accepts connections.
    pub(crate) fn restart(&mut self) {
        self.kill();
        let mut command = Command::new("nats-server");
        match &self.config {
            Some(config) => {
                command.arg("--config").arg(config);
            }
            None => {
                command
                    .args(["-js", "-a", "127.0.0.1", "-p", &self.port.to_string()])
                    .arg("--store_dir")
                    .arg(self.dir.join("js"));
            }
        }
        let child = command
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        self.child = Some(child);
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(address).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A store builder for this server, with short delays for tests.
    pub(crate) fn builder(&self, stream: &str) -> NatsStoreBuilder {
        builder(&[self.url()], stream)
    }

    /// A hub on this server, as one server process would have.
    pub(crate) async fn hub(&self, stream: &str) -> Hub {
        hub_with(self.builder(stream)).await
    }

    /// A plain client, to act on the stream from outside.
    pub(crate) async fn jetstream(&self) -> async_nats::jetstream::Context {
        let client = async_nats::connect(self.url()).await.expect("connects");
        async_nats::jetstream::new(client)
    }
}

impl Drop for NatsServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A three-node JetStream cluster on loopback.
pub(crate) struct Cluster {
    pub(crate) nodes: Vec<NatsServer>,
}

impl Cluster {
    pub(crate) fn start(test: &str) -> Option<Self> {
        if !available(test) {
            return None;
        }
        let client_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let route_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let monitor_ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let base = std::env::temp_dir().join(format!(
            "sse-nats-cluster-{}-{}",
            std::process::id(),
            client_ports[0]
        ));
        let routes: Vec<String> = route_ports
            .iter()
            .map(|port| format!("nats-route://127.0.0.1:{port}"))
            .collect();
        let mut nodes = Vec::new();
        for n in 0..3 {
            let dir = base.join(format!("n{n}"));
            std::fs::create_dir_all(&dir).expect("temp dir");
            let config = dir.join("server.conf");
            let mut text = format!(
                "server_name: n{n}\nlisten: 127.0.0.1:{}\nhttp: 127.0.0.1:{}\n\
                 jetstream {{ store_dir: {:?} }}\n\
                 cluster {{\n  name: sse\n  listen: 127.0.0.1:{}\n  routes: [{}]\n}}\n",
                client_ports[n],
                monitor_ports[n],
                dir.join("js"),
                route_ports[n],
                routes.join(", "),
            );
            text.push_str(&kept_log(&base, n));
            std::fs::write(&config, text).expect("config written");
            let mut node = NatsServer {
                port: client_ports[n],
                dir,
                config: Some(config),
                monitor: Some(monitor_ports[n]),
                child: None,
            };
            node.restart();
            nodes.push(node);
        }
        Some(Self { nodes })
    }

    pub(crate) fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(NatsServer::url).collect()
    }

    /// A hub on an R3 stream named `stream` over the whole cluster, once the
    /// cluster has elected its JetStream leader (a moment after it starts).
    pub(crate) async fn hub(&self, stream: &str) -> Hub {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            match builder(&self.urls(), stream).replicas(3).connect().await {
                Ok(store) => return Hub::builder().store(store).build(),
                Err(error) => {
                    assert!(Instant::now() < deadline, "no JetStream: {error}");
                    tokio::time::sleep(Duration::from_millis(250)).await;
                }
            }
        }
    }

    /// The names (`n0`, `n1`, `n2`) of the node that leads `stream` and of
    /// its followers that are current (have caught up with the leader), as
    /// the nodes still running report them; `None` while they cannot say
    /// (no leader elected yet, the request timed out).
    pub(crate) async fn stream_nodes(&self, stream: &str) -> Option<(String, Vec<String>)> {
        let alive: Vec<String> = self
            .nodes
            .iter()
            .filter(|node| node.is_running())
            .map(NatsServer::url)
            .collect();
        let client = async_nats::connect(alive).await.ok()?;
        let jetstream = async_nats::jetstream::new(client);
        let mut stream = jetstream.get_stream(stream).await.ok()?;
        let info = stream.info().await.ok()?;
        let cluster = info.cluster.as_ref()?;
        let followers = cluster
            .replicas
            .iter()
            .filter(|peer| peer.current)
            .map(|peer| peer.name.clone())
            .collect();
        Some((cluster.leader.clone()?, followers))
    }

    /// What the running node named `name` says of its JetStream (its
    /// monitoring endpoint `/jsz`, JSON; the meta group's leader, and on
    /// the leader whether the other nodes are current, in `meta_cluster`);
    /// `None` when it does not answer within a second.
    pub(crate) fn jsz(&self, name: &str) -> Option<String> {
        self.monitor(name, "/jsz")
            .and_then(|(ok, body)| ok.then_some(body))
    }

    /// Whether the running node named `name` says it is healthy (its
    /// `/healthz`): it knows the meta group's leader and is current with
    /// it (not catching up), and so is every stream and consumer it holds.
    pub(crate) fn healthy(&self, name: &str) -> bool {
        self.monitor(name, "/healthz").is_some_and(|(ok, _)| ok)
    }

    /// The answer of the running node named `name`'s monitoring endpoint
    /// at `path`: whether it was `200 OK`, and its body.
    fn monitor(&self, name: &str, path: &str) -> Option<(bool, String)> {
        let node = &self.nodes[index(name)];
        let port = node.monitor?;
        if !node.is_running() {
            return None;
        }
        let address = SocketAddr::from(([127, 0, 0, 1], port));
        let mut stream = TcpStream::connect_timeout(&address, Duration::from_secs(1)).ok()?;
        stream.set_read_timeout(Some(Duration::from_secs(1))).ok()?;
        write!(stream, "GET {path} HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n").ok()?;
        let mut answer = String::new();
        stream.read_to_string(&mut answer).ok()?;
        let (head, body) = answer.split_once("\r\n\r\n")?;
        Some((head.contains(" 200 "), body.to_owned()))
    }

    /// The name of the JetStream meta group's leader, as the first running
    /// node that knows one says (`None` while none does).
    pub(crate) fn meta_leader(&self) -> Option<String> {
        (0..self.nodes.len()).find_map(|n| {
            let jsz = self.jsz(&format!("n{n}"))?;
            let meta = &jsz[jsz.find("\"meta_cluster\"")?..];
            let leader = &meta[meta.find("\"leader\"")? + "\"leader\"".len()..];
            let leader = leader.trim_start_matches([' ', ':', '"']);
            Some(leader[..leader.find('"')?].to_owned()).filter(|name| !name.is_empty())
        })
    }

    /// The node named `name` (`n0`, `n1` or `n2`), to kill or restart.
    pub(crate) fn node(&mut self, name: &str) -> &mut NatsServer {
        &mut self.nodes[index(name)]
    }
}

/// The index of the node named `name` (`n0`, `n1` or `n2`).
fn index(name: &str) -> usize {
    name.strip_prefix('n')
        .and_then(|index| index.parse().ok())
        .expect("n0, n1 or n2")
}

/// With `SSE_NATS_LOGS=<dir>`, the configuration lines that make node `n`
/// of the cluster in `base` log (with debug lines, and kept after the test)
/// to `<dir>/<base's name>-n<n>.log`, to see what the servers did in a
/// failed run; else none.
fn kept_log(base: &std::path::Path, n: usize) -> String {
    let Some(logs) = std::env::var_os("SSE_NATS_LOGS") else {
        return String::new();
    };
    let logs = PathBuf::from(logs);
    std::fs::create_dir_all(&logs).expect("the log directory");
    let name = base
        .file_name()
        .expect("a named directory")
        .to_string_lossy();
    let file = logs.join(format!("{name}-n{n}.log"));
    format!("debug: true\nlogtime: true\nlog_file: {file:?}\n")
}

/// A store builder with short delays for tests.
pub(crate) fn builder(urls: &[String], stream: &str) -> NatsStoreBuilder {
    NatsStore::builder(urls.iter().cloned())
        .stream(stream)
        .prefix(format!("sse.{}", stream.to_lowercase()))
        .backoff(Duration::from_millis(20), Duration::from_millis(300))
        .publish_timeout(Duration::from_millis(500), 2)
}

pub(crate) async fn hub_with(builder: NatsStoreBuilder) -> Hub {
    let store = builder
        .connect()
        .await
        .expect("connects to the test nats-server");
    Hub::builder().store(store).build()
}

/// The one event an encoded event holds, decoded.
pub(crate) fn decode(event: &EncodedEvent) -> DecodedEvent {
    let mut decoder = Decoder::new();
    decoder.push(event.as_bytes()).expect("decodes");
    decoder.next_event().expect("one event")
}

pub(crate) fn data(events: &[DecodedEvent]) -> Vec<&str> {
    events.iter().map(DecodedEvent::data).collect()
}

pub(crate) fn ids(events: &[DecodedEvent]) -> Vec<String> {
    events
        .iter()
        .map(|event| event.last_event_id().to_owned())
        .collect()
}

pub(crate) fn cursor(position: &Position) -> Option<LastEventId> {
    LastEventId::parse(position.to_string().as_bytes()).expect("a valid id")
}

pub(crate) async fn publish(hub: &Hub, topic: &str, text: &str) -> Position {
    hub.publish(topic, Event::new().data(text.to_owned()))
        .await
        .expect("published")
}

/// Publishes `text` once NATS answers again after a restart.
pub(crate) async fn publish_when_back(hub: &Hub, topic: &str, text: &str) -> Position {
    for _ in 0..200 {
        match hub.publish(topic, Event::new().data(text.to_owned())).await {
            Ok(position) => return position,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("publishing works again after the restart");
}

/// The names of `stream`'s consumers; none when the server does not answer.
pub(crate) async fn consumer_names<I>(
    stream: &async_nats::jetstream::stream::Stream<I>,
) -> Vec<String> {
    use futures_util::TryStreamExt;
    stream
        .consumer_names()
        .try_collect()
        .await
        .unwrap_or_default()
}

/// Waits until `stream`'s consumers' names satisfy `done`; fails after
/// `within`, saying `what` was waited for, and the names.
pub(crate) async fn until_consumers<I>(
    stream: &async_nats::jetstream::stream::Stream<I>,
    within: Duration,
    what: &str,
    done: impl Fn(&[String]) -> bool,
) {
    let deadline = Instant::now() + within;
    loop {
        let names = consumer_names(stream).await;
        if done(&names) {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {names:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// How long a test waits for an event before it fails.
pub(crate) const WAIT: Duration = Duration::from_secs(15);

/// The next `n` events of a subscription, decoded, or a failure after
/// [`WAIT`].
pub(crate) async fn next_n(subscription: &mut Subscription, n: usize) -> Vec<DecodedEvent> {
    let mut out = Vec::new();
    while out.len() < n {
        let event = tokio::time::timeout(WAIT, subscription.next())
            .await
            .unwrap_or_else(|_| panic!("an event within the wait; had {out:?}"))
            .expect("the stream goes on");
        out.push(decode(&event));
    }
    out
}

/// Nothing more arrives for a moment (and the stream is not closed).
pub(crate) async fn quiet(subscription: &mut Subscription) {
    let more = tokio::time::timeout(Duration::from_millis(300), subscription.next()).await;
    assert!(more.is_err(), "nothing more: {more:?}");
}

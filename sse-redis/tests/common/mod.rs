//! A real `redis-server` for the tests: started from PATH on a free loopback
//! port, in a temporary directory, and killed when dropped. Without
//! `redis-server`, tests are skipped with a message, unless
//! `SSE_REQUIRE_REDIS=1` (set by CI) makes that a failure.
#![allow(dead_code, clippy::print_stderr)]

use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_engine::decode::{DecodedEvent, Decoder};
use sse_engine::hub::{Hub, Position, Subscription};
use sse_engine::{EncodedEvent, Event};
use sse_redis::RedisStore;

pub(crate) struct RedisServer {
    port: u16,
    dir: PathBuf,
    durable: bool,
    child: Option<Child>,
}

impl RedisServer {
    /// A server with an append-only file synced on every write, so that a
    /// restart keeps what was stored; `None` (after saying why) when there is
    /// no `redis-server` and CI does not require one.
    pub(crate) fn start(test: &str) -> Option<Self> {
        Self::start_with(test, true)
    }

    /// A server that syncs every write to its append-only file (`durable`),
    /// or one that keeps everything in memory only.
    pub(crate) fn start_with(test: &str, durable: bool) -> Option<Self> {
        if Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_err()
        {
            sse_interop::skip_or_fail(
                test,
                "no redis-server on PATH",
                "SSE_REQUIRE_REDIS",
                "apt-get install redis-server",
            );
            return None;
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free port")
            .port();
        let dir = std::env::temp_dir().join(format!("sse-redis-{}-{port}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut server = Self {
            port,
            dir,
            durable,
            child: None,
        };
        server.restart();
        Some(server)
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Kills the server at once, as a crash would.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Pauses the server (`SIGSTOP`): connections stay open, commands wait
    /// unanswered in its sockets.
    pub(crate) fn pause(&self) {
        sse_interop::stall(self.child.as_ref().expect("running").id(), true);
    }

    /// Resumes a paused server (`SIGCONT`): it runs what waited.
    pub(crate) fn resume(&self) {
        sse_interop::stall(self.child.as_ref().expect("running").id(), false);
    }

    /// Starts it again on the same port and directory, and waits until it
    /// accepts connections.
    pub(crate) fn restart(&mut self) {
        self.kill();
        let persistence: &[&str] = if self.durable {
            &["--appendonly", "yes", "--appendfsync", "always"]
        } else {
            &["--appendonly", "no"]
        };
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(persistence)
            // Small stream nodes, so that approximate trimming trims small
            // streams too.
            .args(["--stream-node-max-entries", "4"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server starts");
        self.child = Some(child);
        let address = SocketAddr::from(([127, 0, 0, 1], self.port));
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(address).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// A hub on this server, as one server process would have.
    pub(crate) async fn hub(&self, prefix: &str) -> Hub {
        self.hub_with(RedisStore::builder(self.url()).prefix(prefix))
            .await
    }

    pub(crate) async fn hub_with(&self, builder: sse_redis::RedisStoreBuilder) -> Hub {
        let store = builder
            .backoff(Duration::from_millis(20), Duration::from_millis(200))
            .connect()
            .await
            .expect("connects to the test redis-server");
        Hub::builder().store(store).build()
    }

    pub(crate) async fn command(&self, args: &[&str]) -> redis::Value {
        let client = redis::Client::open(self.url()).expect("url");
        let mut connection = client
            .get_multiplexed_async_connection()
            .await
            .expect("connects");
        let mut command = redis::cmd(args[0]);
        for arg in &args[1..] {
            command.arg(*arg);
        }
        command
            .query_async(&mut connection)
            .await
            .expect("command runs")
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The one event an encoded event holds, decoded.
pub(crate) fn decode(event: &EncodedEvent) -> DecodedEvent {
    let mut decoder = Decoder::new();
    decoder.push(event.as_bytes()).expect("decodes");
    decoder.next_event().expect("one event")
}

/// Publishes `text` once Redis answers again after a restart: the command
/// connection reconnects on its own, and the first attempts may still find
/// it down.
pub(crate) async fn publish_when_back(hub: &Hub, topic: &str, text: &str) -> Position {
    for _ in 0..100 {
        match hub.publish(topic, Event::new().data(text.to_owned())).await {
            Ok(position) => return position,
            Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
    panic!("publishing works again after the restart");
}

/// How long a test waits for an event before it fails.
pub(crate) const WAIT: Duration = Duration::from_secs(10);

/// The next `n` events of a subscription, decoded, or a failure after
/// [`WAIT`].
pub(crate) async fn next_n(subscription: &mut Subscription, n: usize) -> Vec<DecodedEvent> {
    let mut out = Vec::new();
    while out.len() < n {
        let event = tokio::time::timeout(WAIT, subscription.next())
            .await
            .expect("an event within the wait")
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

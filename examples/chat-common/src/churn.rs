//! Churn on a real chat server (issue 17): 10,000 event streams opened and
//! cut in every way a client can, after which every gauge of `GET /metrics`
//! is back where it started and the counters moved by what the clients did.
#![allow(clippy::missing_panics_doc)]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Method, Request, Response};
use hyper_util::rt::TokioIo;
use sse_engine::decode::{DecodedEvent, Decoder};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;
use tokio::task::JoinHandle;

use crate::scrape::{scrape, value};
use crate::suite::post_ok;
use crate::two_instances::Instance;

/// The connections of [`churn_leaves_every_gauge_where_it_started`].
pub const CONNECTIONS: usize = 10_000;

/// How many connections are under way at once.
const CONCURRENCY: usize = 64;

/// How long one step of a client (an answer, an event) may take.
const WAIT: Duration = Duration::from_secs(20);

/// How long the server may take to notice the last clients left (its
/// keep-alive is 100 ms here: an upper bound, not a measure).
const SETTLE: Duration = Duration::from_secs(60);

/// The gauges of the metrics table.
const GAUGES: [&str; 2] = ["sse_streams_open", "sse_hub_subscribers"];

/// The reasons a stream ends (`sse_streams_ended_total{reason}`).
const END_REASONS: [&str; 7] = [
    "complete",
    "client_gone",
    "lifetime",
    "shutdown",
    "lag_policy",
    "error",
    "stalled",
];

/// The reasons of a gap signal (`sse_hub_gaps_total{reason}`).
const GAP_REASONS: [&str; 5] = ["evicted", "lagged", "foreign", "unknown", "lost"];

/// A cursor from another epoch, and one that is no position at all.
const FOREIGN: &str = "000000000000-1";
const UNKNOWN: &str = "nonsense";

/// What one client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Visit {
    /// Reads the opening (the `retry` frame) and leaves.
    Opening,
    /// Reads the opening, posts a message, reads until its own message
    /// arrives, and leaves.
    Message,
    /// Resumes after the first message posted before the churn (a
    /// `Last-Event-ID` header, or `?lastEventId=` when `query`), reads the
    /// event replayed after it, and leaves.
    Resume { query: bool },
    /// Resumes with a cursor of another epoch: reads the gap signal, leaves.
    Foreign,
    /// Resumes with a cursor that is no position: reads the gap signal.
    Unknown,
    /// `HEAD /events`: the head of a stream and no body (nothing opens).
    Head,
    /// Sends part of its request's headers and closes the connection:
    /// nothing reaches the endpoint.
    CutInTheHeaders,
    /// Sends its whole request and closes at once, before the answer's
    /// head: the server may or may not have opened the stream.
    CutAfterTheRequest,
    /// Reads the answer's head, and leaves before any of its body: the
    /// server may or may not have polled the body yet.
    CutAfterTheHead,
}

impl Visit {
    /// The visit of the `n`th connection: one in forty posts, the others
    /// are spread over every other way to come and go.
    fn of(n: usize) -> Self {
        match n % 40 {
            0 => Self::Message,
            1 => Self::Resume { query: false },
            2 => Self::Resume { query: true },
            3 => Self::Foreign,
            4 => Self::Unknown,
            5 => Self::Head,
            6 | 7 => Self::CutInTheHeaders,
            8 | 9 => Self::CutAfterTheRequest,
            10 | 11 => Self::CutAfterTheHead,
            _ => Self::Opening,
        }
    }
}

/// What the clients did, as they know it.
#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    /// Streams the client read body bytes of: the server opened them.
    opened: usize,
    /// Streams cut around their opening: the server may have opened them.
    maybe_opened: usize,
    /// Messages posted.
    posted: usize,
    /// Events the resuming clients read as replayed.
    replayed: usize,
    /// Gap signals read, `foreign` and `unknown`.
    foreign: usize,
    unknown: usize,
    /// `HEAD` answers.
    heads: usize,
    /// Connections that sent part of their request's headers.
    cut_in_the_headers: usize,
}

impl Tally {
    fn add(&mut self, other: Self) {
        self.opened += other.opened;
        self.maybe_opened += other.maybe_opened;
        self.posted += other.posted;
        self.replayed += other.replayed;
        self.foreign += other.foreign;
        self.unknown += other.unknown;
        self.heads += other.heads;
        self.cut_in_the_headers += other.cut_in_the_headers;
    }
}

/// One connection of the churn, over hyper's HTTP/1.1 client, cut at the
/// moment the test chooses (its connection task is aborted, which closes
/// the socket).
struct Connection {
    // Kept until the cut: dropping it could end the connection early.
    _sender: SendRequest<Empty<Bytes>>,
    task: JoinHandle<()>,
}

impl Connection {
    /// Sends `method /events{query}` (with a `Last-Event-ID` header if
    /// given) on a new connection; the answer, checked to be a stream's.
    async fn open(
        address: &str,
        method: Method,
        query: &str,
        last_event_id: Option<&str>,
    ) -> (Self, Response<Incoming>) {
        let tcp = TcpStream::connect(address)
            .await
            .expect("the server accepts");
        let (mut sender, connection) = http1::handshake(TokioIo::new(tcp))
            .await
            .expect("an HTTP/1.1 connection");
        let task = tokio::spawn(async move {
            let _ = connection.await;
        });
        let mut request = Request::builder()
            .method(method)
            .uri(format!("/events{query}"))
            .header("host", "chat");
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let request = request.body(Empty::new()).expect("request");
        let response = tokio::time::timeout(WAIT, sender.send_request(request))
            .await
            .expect("an answer in time")
            .expect("the server answers");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let connection = Self {
            _sender: sender,
            task,
        };
        (connection, response)
    }

    /// Closes the connection, and waits until its socket is closed.
    async fn cut(self) {
        self.task.abort();
        let _ = self.task.await;
    }
}

/// The body of an open stream, read as events.
struct Events {
    body: Incoming,
    decoder: Decoder,
}

impl Events {
    fn new(response: Response<Incoming>) -> Self {
        Self {
            body: response.into_body(),
            decoder: Decoder::new(),
        }
    }

    /// Reads one frame of the body.
    async fn frame(&mut self) {
        let frame = tokio::time::timeout(WAIT, self.body.frame())
            .await
            .expect("a frame in time")
            .expect("the stream is open")
            .expect("no transport error");
        if let Ok(data) = frame.into_data() {
            self.decoder.push(&data).expect("a well-formed stream");
        }
    }

    /// The next event.
    async fn next(&mut self) -> DecodedEvent {
        loop {
            if let Some(event) = self.decoder.next_event() {
                return event;
            }
            self.frame().await;
        }
    }
}

/// What the clients resume from: the ids of the two messages posted before
/// the churn.
struct Cursors {
    first: String,
    second: String,
}

/// Runs the `n`th connection; what it did.
async fn visit(address: &str, n: usize, cursors: &Cursors) -> Tally {
    let mut tally = Tally::default();
    let base = format!("http://{address}");
    match Visit::of(n) {
        Visit::Opening => {
            let (connection, response) = Connection::open(address, Method::GET, "", None).await;
            let mut events = Events::new(response);
            events.frame().await;
            tally.opened += 1;
            drop(events);
            connection.cut().await;
        }
        Visit::Message => {
            let (connection, response) = Connection::open(address, Method::GET, "", None).await;
            let mut events = Events::new(response);
            // Open on the server before the message is posted.
            events.frame().await;
            tally.opened += 1;
            let data = format!("churn {n}");
            let id = post_ok(&base, &data, None).await;
            tally.posted += 1;
            loop {
                let event = events.next().await;
                assert_ne!(event.event_type(), "gap", "{}", event.data());
                if event.data() == data {
                    assert_eq!(event.last_event_id(), id);
                    break;
                }
            }
            drop(events);
            connection.cut().await;
        }
        Visit::Resume { query } => {
            let (connection, response) = match query {
                true => {
                    let query = format!("?lastEventId={}", cursors.first);
                    Connection::open(address, Method::GET, &query, None).await
                }
                false => Connection::open(address, Method::GET, "", Some(&cursors.first)).await,
            };
            let mut events = Events::new(response);
            let event = events.next().await;
            tally.opened += 1;
            assert_eq!(event.last_event_id(), cursors.second, "{}", event.data());
            tally.replayed += 1;
            drop(events);
            connection.cut().await;
        }
        kind @ (Visit::Foreign | Visit::Unknown) => {
            let (cursor, reason, count) = match kind {
                Visit::Foreign => (FOREIGN, "foreign", &mut tally.foreign),
                _ => (UNKNOWN, "unknown", &mut tally.unknown),
            };
            let (connection, response) =
                Connection::open(address, Method::GET, "", Some(cursor)).await;
            let mut events = Events::new(response);
            let event = events.next().await;
            assert_eq!(event.event_type(), "gap");
            let reason = format!(r#""reason":"{reason}""#);
            assert!(event.data().contains(&reason), "{}", event.data());
            *count += 1;
            tally.opened += 1;
            drop(events);
            connection.cut().await;
        }
        Visit::Head => {
            let (connection, response) = Connection::open(address, Method::HEAD, "", None).await;
            let body = tokio::time::timeout(WAIT, response.into_body().collect())
                .await
                .expect("the end of a HEAD answer in time")
                .expect("no transport error")
                .to_bytes();
            assert!(body.is_empty());
            tally.heads += 1;
            connection.cut().await;
        }
        Visit::CutInTheHeaders => {
            let mut tcp = TcpStream::connect(address)
                .await
                .expect("the server accepts");
            tcp.write_all(b"GET /events HTTP/1.1\r\nHost: chat\r\n")
                .await
                .expect("part of a request sent");
            tally.cut_in_the_headers += 1;
        }
        Visit::CutAfterTheRequest => {
            let mut tcp = TcpStream::connect(address)
                .await
                .expect("the server accepts");
            tcp.write_all(b"GET /events HTTP/1.1\r\nHost: chat\r\n\r\n")
                .await
                .expect("a request sent");
            tally.maybe_opened += 1;
        }
        Visit::CutAfterTheHead => {
            let (connection, response) = Connection::open(address, Method::GET, "", None).await;
            tally.maybe_opened += 1;
            drop(response);
            connection.cut().await;
        }
    }
    tally
}

/// The sum of `name{reason="..."}` over `reasons`.
fn sum(scraped: &str, name: &str, reasons: &[&str]) -> f64 {
    reasons
        .iter()
        .map(|reason| value(scraped, &format!(r#"{name}{{reason="{reason}"}}"#)))
        .sum()
}

/// Starts `binary` (a chat server) with a 100 ms keep-alive and scrapes
/// `GET /metrics`; posts two messages; then runs [`CONNECTIONS`] event
/// streams, `CONCURRENCY` (64) at a time, each opened and cut in one of the
/// ways of `Visit` (one in forty posts a message during the churn and
/// reads it back). Then scrapes until the gauges settle (within a
/// generous deadline: the server notices a departed client when a
/// keep-alive write fails), and checks:
///
/// - every gauge (`sse_streams_open`, `sse_hub_subscribers`) is exactly
///   where it started;
/// - every stream that ended ended with its client (`client_gone`): at
///   least those the clients read from, at most those and the ones cut
///   around their opening (whether the server had opened these is its
///   business); and `sse_streams_ended_total` summed over its reasons
///   moved by exactly that much;
/// - the messages published are exactly those posted; every gap signal is
///   counted under its reason (`foreign`, `unknown`: one per client that
///   read it; no other reason); the replays the clients read were counted.
///
pub async fn churn_leaves_every_gauge_where_it_started(binary: &str) {
    let instance = Instance::start_env(binary, &[("KEEP_ALIVE_MS", "100")]);
    let base = instance.base.clone();
    let address: Arc<str> = base.trim_start_matches("http://").into();

    let before = scrape(&base).await;
    let cursors = Arc::new(Cursors {
        first: post_ok(&base, "before the churn 1", None).await,
        second: post_ok(&base, "before the churn 2", None).await,
    });
    let posted_before = 2;

    let next = Arc::new(AtomicUsize::new(0));
    let workers: Vec<_> = (0..CONCURRENCY)
        .map(|_| {
            let (address, next, cursors) = (address.clone(), next.clone(), cursors.clone());
            tokio::spawn(async move {
                let mut tally = Tally::default();
                loop {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    if n >= CONNECTIONS {
                        return tally;
                    }
                    tally.add(visit(&address, n, &cursors).await);
                }
            })
        })
        .collect();
    let mut tally = Tally::default();
    for worker in workers {
        tally.add(worker.await.expect("a client panicked"));
    }
    let visits = tally.opened + tally.maybe_opened + tally.heads + tally.cut_in_the_headers;
    assert_eq!(visits, CONNECTIONS, "{tally:?}");

    // Every gauge back where it started, and the chat's own subscriptions
    // have read every message (they are counted in the deliveries). A
    // series absent reads as 0: the gauges and the counters checked below
    // must be there at all, or "back where it started" would be 0 = 0.
    for series in GAUGES.iter().chain(&[
        "sse_hub_events_published_total",
        "sse_hub_events_delivered_total",
    ]) {
        assert!(
            before
                .lines()
                .any(|line| line.starts_with(&format!("{series} "))),
            "{series} is scraped"
        );
    }
    let own = value(&before, "sse_hub_subscribers");
    let published = (posted_before + tally.posted) as f64;
    let delivered_at_least = own * published + (tally.posted + tally.replayed) as f64;
    let delta = |scraped: &str, series: &str| value(scraped, series) - value(&before, series);
    let deadline = Instant::now() + SETTLE;
    let mut after = scrape(&base).await;
    while GAUGES
        .iter()
        .any(|gauge| value(&after, gauge) != value(&before, gauge))
        || delta(&after, "sse_hub_events_delivered_total") < delivered_at_least
    {
        if Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        after = scrape(&base).await;
    }
    let context = format!("{tally:?}\nbefore:\n{before}\nafter:\n{after}");
    for gauge in GAUGES {
        assert_eq!(
            value(&after, gauge),
            value(&before, gauge),
            "{gauge} not back where it started after {SETTLE:?}: {context}"
        );
    }

    let ended = sum(&after, "sse_streams_ended_total", &END_REASONS)
        - sum(&before, "sse_streams_ended_total", &END_REASONS);
    let gone = delta(&after, r#"sse_streams_ended_total{reason="client_gone"}"#);
    assert!(
        gone >= tally.opened as f64 && gone <= (tally.opened + tally.maybe_opened) as f64,
        "{gone} streams ended by their client: {context}"
    );
    // `stalled` is a part of `client_gone`; no stream ended another way.
    let stalled = delta(&after, r#"sse_streams_ended_total{reason="stalled"}"#);
    assert_eq!(stalled, 0.0, "{context}");
    assert_eq!(ended, gone, "{context}");

    assert_eq!(
        delta(&after, "sse_hub_events_published_total"),
        published,
        "{context}"
    );
    assert!(
        delta(&after, "sse_hub_events_delivered_total") >= delivered_at_least,
        "{context}"
    );
    assert!(
        delta(&after, "sse_hub_events_replayed_total") >= tally.replayed as f64,
        "{context}"
    );
    for reason in GAP_REASONS {
        let expected = match reason {
            "foreign" => tally.foreign,
            "unknown" => tally.unknown,
            _ => 0,
        };
        assert_eq!(
            delta(
                &after,
                &format!(r#"sse_hub_gaps_total{{reason="{reason}"}}"#)
            ),
            expected as f64,
            "gaps {reason}: {context}"
        );
    }
    assert_eq!(
        delta(
            &after,
            r#"sse_hub_subscriptions_refused_total{scope="hub"}"#
        ) + delta(
            &after,
            r#"sse_hub_subscriptions_refused_total{scope="topic"}"#
        ),
        0.0,
        "{context}"
    );
    drop(instance);
}

//! The client matrix against a chat server binary: every client that people
//! use (headless Chromium's `EventSource`, the npm `eventsource`,
//! `@microsoft/fetch-event-source` and `eventsource-parser`, Python's
//! `httpx-sse`, sse-engine's decoder and `reqwest-eventsource`) reports
//! exactly the events that were published, in order, with their types, data
//! and ids: no empty extras, nothing missing.
//!
//! One run of the server's own binary, as `cargo run` starts it, with a
//! short keep-alive (several comments pass between events) and an opening
//! `retry:`; the clients connect through a [`CutProxy`]:
//!
//! 1. messages of every shape are published (multi-line, CR and CRLF, empty,
//!    leading spaces, Unicode, a forged `data:` inside data); the first with
//!    an event name comes after the chat's announcement of that name;
//! 2. the proxy drops every connection, as a load balancer can, and more
//!    messages are published while no client is connected: each client
//!    reconnects with `Last-Event-ID` and receives exactly those;
//! 3. Ctrl-C (SIGINT) stops the server: every client receives the final
//!    `bye` event;
//! 4. the server starts again: every client reconnects with an id of the
//!    previous run and receives a `gap` event, then what is published next.
#![allow(clippy::missing_panics_doc, clippy::print_stderr)]

use std::net::{SocketAddr, TcpListener};
use std::process::Stdio;
use std::time::Duration;

use sse_interop::{Client, CutProxy, Received, Report, Run, Spec, events, start_all};
use tokio::process::{Child, Command};

use crate::browser::{Browser, browser_or_skip};
use crate::suite::post_ok;

/// The longest any one step may take (a browser on a loaded machine is slow).
const STEP: Duration = Duration::from_secs(30);

/// The event types the clients listen for.
const TYPES: [&str; 5] = ["note", "gap", "bye", "done", crate::ANNOUNCEMENT];

/// What is published before the connections are dropped: every shape of
/// data a chat message may have.
const FIRST: [(&str, Option<&str>); 9] = [
    ("hello", None),
    ("two\nlines", Some("note")),
    ("", None),
    ("  leading spaces", None),
    ("crlf\r\nand cr\rend", None),
    ("€ 😀 unicode", Some("note")),
    ("{\"json\": [1, 2]}", None),
    ("\nafter an empty first line", None),
    ("data: forged\n\nid: 9", None),
];

/// The server binary, started with the matrix's settings; killed on drop.
struct Server {
    child: Child,
    port: u16,
}

impl Server {
    async fn start(binary: &str, port: u16) -> Self {
        let child = Command::new(binary)
            .env("PORT", port.to_string())
            .env("RETRY_MS", "200")
            .env("KEEP_ALIVE_MS", "40")
            .env_remove("REDIS_URL")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|error| panic!("cannot start {binary}: {error}"));
        let deadline = tokio::time::Instant::now() + STEP;
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{binary} did not listen on {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Self { child, port }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Ctrl-C, as a terminal sends it; waits for the server to exit.
    async fn interrupt(self) {
        self.stop_with("INT").await;
    }

    /// Sends the signal `name` (`INT`, `TERM`); waits for the server to exit.
    async fn stop_with(mut self, name: &str) {
        let pid = self.child.id().expect("running").to_string();
        let status = Command::new("kill")
            .args([format!("-{name}").as_str(), &pid])
            .status()
            .await
            .expect("kill");
        assert!(status.success(), "kill -INT {pid}");
        let exited = tokio::time::timeout(STEP, self.child.wait())
            .await
            .expect("the server exits after Ctrl-C")
            .expect("its status");
        assert!(exited.success(), "the server exits cleanly: {exited}");
    }
}

/// A client of the matrix: a process or task of sse-interop, or Chromium.
enum Participant {
    Run(Run),
    Browser(Box<Browser>),
}

impl Participant {
    fn name(&self) -> &'static str {
        match self {
            Self::Run(run) => run.name(),
            Self::Browser(_) => "Chromium EventSource (Debian chromium)",
        }
    }

    async fn reports(&self) -> Vec<Report> {
        match self {
            Self::Run(run) => run.reports(),
            Self::Browser(browser) => {
                let reports = browser.eval("return window.matrix").await;
                serde_json::from_value(reports).unwrap_or_else(|error| {
                    panic!("the page's reports: {error}");
                })
            }
        }
    }
}

/// Opens `url`'s chat page and, beside the page's own, an `EventSource` of
/// `/events` that records everything it is given in `window.matrix`, in
/// the reports' JSON form.
async fn start_browser(browser: &Browser, base: &str) {
    browser.open(&format!("{base}/")).await;
    let types: Vec<&str> = ["message"].into_iter().chain(TYPES).collect();
    let script = format!(
        r"window.matrix = [];
        const source = new EventSource('/events');
        source.onopen = () => window.matrix.push({{ kind: 'open' }});
        source.onerror = () => window.matrix.push({{ kind: 'error', message: 'readyState ' + source.readyState }});
        for (const type of {types}) {{
            source.addEventListener(type, (e) => {{
                window.matrix.push({{ kind: 'event', type: e.type, id: e.lastEventId || null, data: e.data }});
                if (e.type === 'done') {{ source.close(); window.matrix.push({{ kind: 'end' }}); }}
            }});
        }}
        return true;",
        types = serde_json::to_string(&types).expect("JSON")
    );
    browser.eval(&script).await;
}

/// Waits until `done` holds for every participant's reports.
async fn wait_all(
    participants: &[Participant],
    what: &str,
    done: impl Fn(&Participant, &[Report]) -> bool,
) {
    let deadline = tokio::time::Instant::now() + STEP;
    for participant in participants {
        loop {
            let reports = participant.reports().await;
            if done(participant, &reports) {
                break;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "{}: timed out waiting for {what}; it reported {reports:#?}",
                participant.name()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

fn opens(reports: &[Report]) -> usize {
    reports.iter().filter(|r| matches!(r, Report::Open)).count()
}

fn errors(reports: &[Report]) -> usize {
    reports
        .iter()
        .filter(|r| matches!(r, Report::Error { .. }))
        .count()
}

/// An event the application published, as clients should report it.
#[derive(Debug, Clone)]
struct Expected {
    event_type: String,
    data: String,
    /// Its own id; `None` for the final event, which has none (clients then
    /// report nothing, or the stream's previous id).
    id: Option<String>,
}

impl Expected {
    fn new(event_type: Option<&str>, data: &str, id: Option<String>) -> Self {
        // Clients join the data's lines with LF, whatever broke them.
        let data = data.replace("\r\n", "\n").replace('\r', "\n");
        Self {
            event_type: event_type.unwrap_or("message").to_owned(),
            data,
            id,
        }
    }
}

/// Publishes `messages` on `server`, one every 120 ms (three keep-alive
/// intervals), and adds them to `expected`, each after the announcement of
/// its event name when this run of the server had not announced it
/// (`announced`, updated).
async fn publish(
    server: &str,
    messages: &[(&str, Option<&str>)],
    announced: &mut Vec<String>,
    expected: &mut Vec<Expected>,
) {
    for (data, event) in messages {
        let id = post_ok(server, data, *event).await;
        if let Some(name) = event.filter(|name| !announced.iter().any(|known| known == name)) {
            // Published just before the message: the id before its own.
            let (epoch, seq) = id.split_once('-').expect("<epoch>-<seq>");
            let seq: u64 = seq.parse().expect("a sequence number");
            let announcement = format!("{epoch}-{}", seq - 1);
            expected.push(Expected::new(
                Some(crate::ANNOUNCEMENT),
                name,
                Some(announcement),
            ));
            announced.push(name.to_owned());
        }
        expected.push(Expected::new(*event, data, Some(id)));
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
}

/// What `client` reports for `expected`, where it cannot be made to agree
/// whatever the framing (a client bug, documented in the README's interop
/// table).
fn as_reported_by(client: &str, expected: &Expected) -> String {
    if client.starts_with("@microsoft/fetch-event-source 2.0.1") {
        // It joins data lines with `data ? data + "\n" + line : line`, so
        // leading empty lines are lost.
        return expected.data.trim_start_matches('\n').to_owned();
    }
    expected.data.clone()
}

/// Checks one participant's events against what was published.
fn check(name: &str, received: &[Received], expected: &[Expected]) {
    let shown = || {
        let received: Vec<String> = received
            .iter()
            .map(|e| format!("{} {:?} {:?}", e.event_type, e.id, e.data))
            .collect();
        let expected: Vec<String> = expected
            .iter()
            .map(|e| format!("{} {:?} {:?}", e.event_type, e.id, e.data))
            .collect();
        format!("{name} received {received:#?}\nexpected {expected:#?}")
    };
    assert_eq!(received.len(), expected.len(), "{}", shown());
    let mut previous_id = None;
    for (got, want) in received.iter().zip(expected) {
        assert_eq!(got.event_type, want.event_type, "{}", shown());
        assert_eq!(got.data, as_reported_by(name, want), "{}", shown());
        match &want.id {
            Some(id) => assert_eq!(got.id.as_ref(), Some(id), "{}", shown()),
            None => assert!(
                got.id.is_none() || got.id == previous_id,
                "{name}: an event without id reported as {:?}",
                got.id
            ),
        }
        previous_id.clone_from(&want.id);
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// The whole matrix against the chat server `binary` (see the module docs).
pub async fn every_client_receives_exactly_what_was_published(binary: &str, server_name: &str) {
    let port = free_port();
    let server = Server::start(binary, port).await;
    let proxy = CutProxy::start(SocketAddr::from(([127, 0, 0, 1], port))).await;
    let through_proxy = format!("http://{}", proxy.address());

    // The browser first: it takes the longest to start, and the others'
    // time limits run from their start.
    let mut participants = Vec::new();
    let test = format!("the client matrix against {server_name}");
    if let Some(browser) = browser_or_skip(&test).await {
        start_browser(&browser, &through_proxy).await;
        participants.push(Participant::Browser(Box::new(browser)));
    }
    let mut spec = Spec::get(format!("{through_proxy}/events"), "done").types(TYPES);
    spec.timeout_ms = 4 * u64::try_from(STEP.as_millis()).expect("a few seconds");
    participants.extend(
        start_all(&Client::ALL, &spec)
            .into_iter()
            .map(Participant::Run),
    );
    wait_all(&participants, "a connection", |_, r| opens(r) >= 1).await;

    // 1. Every shape of data, with keep-alive comments in between.
    let mut expected = Vec::new();
    let mut announced = Vec::new();
    publish(&server.base(), &FIRST, &mut announced, &mut expected).await;
    wait_all(&participants, "the first messages", |_, r| {
        events(r).len() >= expected.len()
    })
    .await;

    // 2. The connections drop; what is published meanwhile, while no client
    // is connected, is replayed.
    let mut opened = Vec::new();
    for participant in &participants {
        let reports = participant.reports().await;
        opened.push((opens(&reports), errors(&reports)));
    }
    proxy.cut();
    for (participant, (_, failed)) in participants.iter().zip(&opened) {
        wait_all(
            std::slice::from_ref(participant),
            "the dropped connection",
            |_, r| errors(r) > *failed,
        )
        .await;
    }
    publish(
        &server.base(),
        &[
            ("missed 1", None),
            ("missed 2", Some("note")),
            ("missed 3", None),
        ],
        &mut announced,
        &mut expected,
    )
    .await;
    proxy.resume();
    for (participant, (opened, _)) in participants.iter().zip(&opened) {
        wait_all(std::slice::from_ref(participant), "a reconnect", |_, r| {
            opens(r) > *opened && events(r).len() >= expected.len()
        })
        .await;
    }
    publish(
        &server.base(),
        &[("live again", None)],
        &mut announced,
        &mut expected,
    )
    .await;
    wait_all(&participants, "the live message", |_, r| {
        events(r).len() >= expected.len()
    })
    .await;

    // 3. Ctrl-C: the final event reaches every client.
    let last_id = expected.last().and_then(|e| e.id.clone()).expect("an id");
    server.interrupt().await;
    expected.push(Expected::new(Some("bye"), "server restarting", None));
    wait_all(&participants, "the final event", |_, r| {
        events(r).len() >= expected.len()
    })
    .await;

    // 4. A new run of the server, on another port behind the same proxy (as
    // behind a load balancer): the old ids are foreign, a gap, then on.
    let server = Server::start(binary, free_port()).await;
    proxy.set_upstream(SocketAddr::from(([127, 0, 0, 1], server.port)));
    wait_all(&participants, "the gap event", |_, r| {
        events(r).len() > expected.len()
    })
    .await;
    let before_gap = expected.len();
    // A new run: it announces names anew.
    let mut announced = Vec::new();
    publish(
        &server.base(),
        &[("after the restart", None), ("the end", Some("done"))],
        &mut announced,
        &mut expected,
    )
    .await;
    // The gap moves the cursor to where the new run stood when the client
    // came back: before its first event.
    let first_new_id = expected[before_gap].id.clone().expect("an id");
    let (epoch, _) = first_new_id.split_once('-').expect("<epoch>-<seq>");
    let gap = format!(
        r#"{{"reason":"foreign","lastEventId":{}}}"#,
        serde_json::Value::from(last_id)
    );
    expected.insert(
        before_gap,
        Expected::new(Some("gap"), &gap, Some(format!("{epoch}-0"))),
    );
    wait_all(&participants, "the end of the run", |_, r| {
        r.iter()
            .any(|r| matches!(r, Report::End | Report::Exited(_)))
    })
    .await;

    for participant in &participants {
        let reports = participant.reports().await;
        let failed = reports
            .iter()
            .any(|r| matches!(r, Report::Exited(code) if *code != Some(0)));
        assert!(
            !failed && reports.contains(&Report::End),
            "{} failed: {reports:#?}",
            participant.name()
        );
        check(participant.name(), &events(&reports), &expected);
        eprintln!(
            "{}: {} events exactly as published, {} connections",
            participant.name(),
            expected.len(),
            opens(&reports)
        );
    }
    // The run had what it is meant to test: comments between the events and
    // an opening `retry` (sse-engine's decoder shows both).
    let decoder = participants
        .iter()
        .find(|p| p.name() == Client::SseCoreDecoder.name())
        .expect("the decoder always runs");
    let reports = decoder.reports().await;
    let comments = reports
        .iter()
        .filter(|r| matches!(r, Report::Comment))
        .count();
    assert!(comments >= expected.len(), "{comments} keep-alive comments");
    assert!(
        reports
            .iter()
            .any(|r| matches!(r, Report::Retry { ms } if (200..=300).contains(ms))),
        "the opening retry: {reports:#?}"
    );
}

/// The signal `signal` (`INT` for Ctrl-C, `TERM` as `docker stop` sends)
/// with `clients` streams open on the chat server `binary`: every one of
/// them receives the final `bye` event, then the end of its stream, and the
/// server exits.
pub async fn stopping_sends_the_final_event_to_every_client(
    binary: &str,
    signal: &str,
    clients: usize,
) {
    let port = free_port();
    let server = Server::start(binary, port).await;
    let base = server.base();
    let mut streams = Vec::new();
    for _ in 0..clients {
        let mut stream = crate::suite::Stream::open(&base, "", None).await;
        stream.ready().await;
        streams.push(stream);
    }
    let id = post_ok(&base, "before the end", None).await;
    server.stop_with(signal).await;
    for (n, stream) in streams.iter_mut().enumerate() {
        let events = stream.next(2).await;
        let seen: Vec<_> = events
            .iter()
            .map(|e| (e.event_type(), e.data(), e.last_event_id()))
            .collect();
        assert_eq!(
            seen,
            [
                ("message", "before the end", id.as_str()),
                ("bye", "server restarting", id.as_str()),
            ],
            "client {n} of {clients}"
        );
        assert!(stream.ended().await, "client {n}: the stream ends after it");
    }
}

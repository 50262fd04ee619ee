//! What the client matrices ([`crate::matrix`], [`crate::compressed`])
//! share: the chat server's own binary, the clients taking part, waiting for
//! their reports, and checking the events they received against what was
//! published.

use std::net::TcpListener;
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use sse_interop::{Received, Report, Run};
use tokio::process::{Child, Command};

use crate::browser::Browser;
use crate::suite::post_ok;

/// The longest any one step may take (a browser on a loaded machine is slow).
pub(crate) const STEP: Duration = Duration::from_secs(30);

/// The event types the clients listen for.
pub(crate) const TYPES: [&str; 5] = ["note", "gap", "bye", "done", crate::ANNOUNCEMENT];

/// The server binary, started with the matrix's settings; killed on drop.
pub(crate) struct Server {
    child: Child,
    pub(crate) port: u16,
}

impl Server {
    pub(crate) async fn start(binary: &str, port: u16) -> Self {
        Self::start_with(binary, port, Duration::from_millis(40)).await
    }

    /// [`Server::start`] with another keep-alive interval.
    pub(crate) async fn start_with(binary: &str, port: u16, keep_alive: Duration) -> Self {
        let child = Command::new(binary)
            .env("PORT", port.to_string())
            .env("RETRY_MS", "200")
            .env("KEEP_ALIVE_MS", keep_alive.as_millis().to_string())
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

    pub(crate) fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Ctrl-C, as a terminal sends it; waits for the server to exit.
    pub(crate) async fn interrupt(self) {
        self.stop_with("INT").await;
    }

    /// Sends the signal `name` (`INT`, `TERM`); waits for the server to exit.
    pub(crate) async fn stop_with(mut self, name: &str) {
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
pub(crate) enum Participant {
    Run(Run),
    /// An `EventSource` of a page, which records its reports in the
    /// page's global variable `global` ([`start_browser_source`]).
    Browser {
        browser: Arc<Browser>,
        name: String,
        global: String,
    },
}

impl Participant {
    pub(crate) fn name(&self) -> &str {
        match self {
            Self::Run(run) => run.name(),
            Self::Browser { name, .. } => name,
        }
    }

    pub(crate) async fn reports(&self) -> Vec<Report> {
        match self {
            Self::Run(run) => run.reports(),
            Self::Browser {
                browser, global, ..
            } => {
                let reports = browser.eval(&format!("return window.{global}")).await;
                serde_json::from_value(reports).unwrap_or_else(|error| {
                    panic!("the page's reports: {error}");
                })
            }
        }
    }
}

/// Opens, on the page open in `browser`, beside the page's own, an
/// `EventSource` of `url` that records everything it is given in
/// `window[global]`, in the reports' JSON form.
pub(crate) async fn start_browser_source(browser: &Browser, global: &str, url: &str) {
    let types: Vec<&str> = ["message"].into_iter().chain(TYPES).collect();
    let script = format!(
        r"const reports = window[{global}] = [];
        const source = new EventSource({url});
        source.onopen = () => reports.push({{ kind: 'open' }});
        source.onerror = () => reports.push({{ kind: 'error', message: 'readyState ' + source.readyState }});
        for (const type of {types}) {{
            source.addEventListener(type, (e) => {{
                reports.push({{ kind: 'event', type: e.type, id: e.lastEventId || null, data: e.data }});
                if (e.type === 'done') {{ source.close(); reports.push({{ kind: 'end' }}); }}
            }});
        }}
        return true;",
        types = serde_json::to_string(&types).expect("JSON"),
        global = serde_json::Value::from(global),
        url = serde_json::Value::from(url),
    );
    browser.eval(&script).await;
}

/// Waits until `done` holds for every participant's reports.
pub(crate) async fn wait_all(
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

pub(crate) fn opens(reports: &[Report]) -> usize {
    reports.iter().filter(|r| matches!(r, Report::Open)).count()
}

pub(crate) fn errors(reports: &[Report]) -> usize {
    reports
        .iter()
        .filter(|r| matches!(r, Report::Error { .. }))
        .count()
}

/// An event the application published, as clients should report it.
#[derive(Debug, Clone)]
pub(crate) struct Expected {
    pub(crate) event_type: String,
    pub(crate) data: String,
    /// Its own id; `None` for the final event, which has none (clients then
    /// report nothing, or the stream's previous id).
    pub(crate) id: Option<String>,
}

impl Expected {
    pub(crate) fn new(event_type: Option<&str>, data: &str, id: Option<String>) -> Self {
        // Clients join the data's lines with LF, whatever broke them.
        let data = data.replace("\r\n", "\n").replace('\r', "\n");
        Self {
            event_type: event_type.unwrap_or("message").to_owned(),
            data,
            id,
        }
    }
}

/// Publishes one message on `server` and adds it to `expected`, after the
/// announcement of its event name when this run of the server had not
/// announced it (`announced`, updated).
pub(crate) async fn publish_one(
    server: &str,
    (data, event): (&str, Option<&str>),
    announced: &mut Vec<String>,
    expected: &mut Vec<Expected>,
) {
    let id = post_ok(server, data, event).await;
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
    expected.push(Expected::new(event, data, Some(id)));
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
pub(crate) fn check(name: &str, received: &[Received], expected: &[Expected]) {
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

pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

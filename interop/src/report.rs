//! [`Report`]: what a client tells of its run; [`Run`]: one client's run.

use std::time::Duration;

use serde::Deserialize;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// An event as the client handed it to its application.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Received {
    /// The event type (`message` when the event had none).
    #[serde(rename = "type")]
    pub event_type: String,
    /// The id the client gives for it: its own `id` field, or the stream's
    /// last id for clients that keep one (`None` where it gives none).
    pub id: Option<String>,
    /// The data, lines joined with LF.
    pub data: String,
}

/// One thing a client reports, in the order it happened.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(tag = "kind", rename_all = "camelCase")]
pub enum Report {
    /// A connection opened (status 200).
    Open,
    /// The response's `Content-Encoding`, `None` when it had none (clients
    /// that see the response's headers report it, before [`Report::Open`]).
    Encoding {
        /// The header's value.
        name: Option<String>,
    },
    /// An event reached the application.
    Event(Received),
    /// The client learned a reconnection delay.
    Retry {
        /// In milliseconds.
        ms: u64,
    },
    /// A keep-alive comment arrived (only clients that show comments).
    Comment,
    /// Something failed; the run may go on (a reconnect).
    Error {
        /// What.
        message: String,
    },
    /// The run ended as the spec says it should.
    End,
    /// The client process exited without an `End` (its exit code).
    #[serde(skip)]
    Exited(Option<i32>),
}

/// One client's run: its reports as they arrive.
#[derive(Debug)]
pub struct Run {
    name: &'static str,
    reports: watch::Receiver<Vec<Report>>,
    task: JoinHandle<()>,
}

/// Where a client's reports go.
pub(crate) type Reporter = watch::Sender<Vec<Report>>;

/// Adds `report` to a run's reports.
pub(crate) fn report(reporter: &Reporter, report: Report) {
    reporter.send_modify(|reports| reports.push(report));
}

impl Run {
    /// A run of the client `name` fed by the task `start` spawns with the
    /// reporter.
    pub(crate) fn spawn<F>(name: &'static str, start: impl FnOnce(Reporter) -> F) -> Self
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let (tx, reports) = watch::channel(Vec::new());
        let task = tokio::spawn(start(tx));
        Self {
            name,
            reports,
            task,
        }
    }

    /// The client's name and version.
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// Everything reported so far.
    pub fn reports(&self) -> Vec<Report> {
        self.reports.borrow().clone()
    }

    /// The events reported so far.
    pub fn events(&self) -> Vec<Received> {
        events(&self.reports.borrow())
    }

    /// How many connections opened so far.
    pub fn opens(&self) -> usize {
        self.reports
            .borrow()
            .iter()
            .filter(|r| matches!(r, Report::Open))
            .count()
    }

    /// Waits until `done` holds for the reports, at most `limit`.
    ///
    /// # Panics
    ///
    /// When it does not: the message names the client, `what` and its
    /// reports.
    pub async fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&[Report]) -> bool) {
        let mut reports = self.reports.clone();
        let waited = tokio::time::timeout(limit, reports.wait_for(|r| done(r))).await;
        if !matches!(waited, Ok(Ok(_))) {
            panic!(
                "{}: timed out after {limit:?} waiting for {what}; it reported {:#?}",
                self.name,
                self.reports()
            );
        }
    }

    /// Waits until the run has ended (an `End`, or the client exited), at
    /// most `limit`; its reports.
    pub async fn finish(&self, limit: Duration) -> Vec<Report> {
        self.wait_for("the end of the run", limit, |reports| {
            reports
                .iter()
                .any(|r| matches!(r, Report::End | Report::Exited(_)))
        })
        .await;
        self.reports()
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        // Ends an in-process client; an external one is killed with it.
        self.task.abort();
    }
}

/// The events among `reports`.
pub fn events(reports: &[Report]) -> Vec<Received> {
    reports
        .iter()
        .filter_map(|r| match r {
            Report::Event(event) => Some(event.clone()),
            _ => None,
        })
        .collect()
}

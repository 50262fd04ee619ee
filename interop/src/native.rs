//! The Rust clients, in this process: sse-engine's decoder over hyper, with a
//! reconnect loop of our own, and `reqwest-eventsource`, which reconnects by
//! itself.

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use reqwest_eventsource::{Event as EsEvent, EventSource};
use sse_engine::decode::Decoder;

use crate::Spec;
use crate::report::{Received, Report, Reporter, Run, report};

/// How long a client waits before reconnecting until the server says.
const DEFAULT_RETRY: Duration = Duration::from_secs(1);

/// Runs `client` within the spec's time limit, then reports how it ended.
pub(crate) fn run_with_limit<F>(
    spec: &Spec,
    name: &'static str,
    client: impl FnOnce(Spec, Reporter) -> F + Send + 'static,
) -> Run
where
    F: Future<Output = Result<(), String>> + Send + 'static,
{
    let spec = spec.clone();
    Run::spawn(name, move |reporter| async move {
        let limit = spec.timeout();
        let ended = tokio::time::timeout(limit, client(spec, reporter.clone())).await;
        match ended {
            Ok(Ok(())) => report(&reporter, Report::End),
            Ok(Err(message)) => {
                report(&reporter, Report::Error { message });
                report(&reporter, Report::Exited(Some(1)));
            }
            Err(_) => {
                report(
                    &reporter,
                    Report::Error {
                        message: format!("no end within {limit:?}"),
                    },
                );
                report(&reporter, Report::Exited(Some(1)));
            }
        }
    })
}

/// What a run does when a stream has ended.
enum AfterEnd {
    Reconnect,
    /// The run is over: `Ok` when the spec ends it there.
    Stop(Result<(), String>),
}

fn after_stream_end(spec: &Spec, reporter: &Reporter, why: String) -> AfterEnd {
    if !spec.reconnect {
        return AfterEnd::Stop(match spec.until {
            None => Ok(()),
            Some(_) => Err(format!("the stream ended before the last event: {why}")),
        });
    }
    report(reporter, Report::Error { message: why });
    AfterEnd::Reconnect
}

/// sse-engine's decoder over a hyper connection per attempt.
pub(crate) fn decoder(spec: &Spec, name: &'static str) -> Run {
    run_with_limit(spec, name, |spec, reporter| async move {
        decoder_client(&spec, &reporter).await
    })
}

async fn decoder_client(spec: &Spec, reporter: &Reporter) -> Result<(), String> {
    let client = Client::builder(TokioExecutor::new()).build_http::<Full<Bytes>>();
    // One decoder for the whole run, as a browser keeps one event source:
    // the last event id and the reconnection time outlive each connection.
    let mut decoder = Decoder::new();
    loop {
        let last_event_id = decoder.last_event_id().to_owned();
        let mut request = hyper::Request::builder()
            .method(spec.method.as_str())
            .uri(&spec.url);
        for (name, value) in &spec.headers {
            request = request.header(name, value);
        }
        if !last_event_id.is_empty() {
            request = request.header("last-event-id", &last_event_id);
        }
        let body = Bytes::from(spec.body.clone().unwrap_or_default());
        let request = request
            .body(Full::new(body))
            .map_err(|error| error.to_string())?;
        let why = match client.request(request).await {
            Err(error) => format!("connection failed: {error}"),
            Ok(response) if response.status() != 200 => {
                return Err(format!("status {}", response.status()));
            }
            Ok(response) => {
                report(reporter, Report::Open);
                let mut comments = CommentLines::default();
                let mut body = response.into_body();
                loop {
                    let chunk = match body.frame().await {
                        None => break "the stream ended".to_owned(),
                        Some(Err(error)) => break format!("the stream failed: {error}"),
                        Some(Ok(frame)) => match frame.into_data() {
                            Ok(chunk) => chunk,
                            Err(_) => continue,
                        },
                    };
                    for _ in 0..comments.count(&chunk) {
                        report(reporter, Report::Comment);
                    }
                    decoder.push(&chunk).map_err(|error| error.to_string())?;
                    if report_events(&mut decoder, spec, reporter) {
                        return Ok(());
                    }
                }
            }
        };
        decoder.finish();
        if let AfterEnd::Stop(result) = after_stream_end(spec, reporter, why) {
            return result;
        }
        tokio::time::sleep(decoder.reconnection_time().unwrap_or(DEFAULT_RETRY)).await;
    }
}

/// Reports the events `decoder` has complete; whether the last was the
/// spec's `until`, which ends the run.
pub(crate) fn report_events(decoder: &mut Decoder, spec: &Spec, reporter: &Reporter) -> bool {
    while let Some(event) = decoder.next_event() {
        if let Some(delay) = event.retry() {
            report(reporter, Report::Retry { ms: millis(delay) });
        }
        let received = Received {
            event_type: event.event_type().to_owned(),
            id: Some(event.last_event_id().to_owned()).filter(|id| !id.is_empty()),
            data: event.data().to_owned(),
        };
        let last = spec.until.as_deref() == Some(event.event_type());
        report(reporter, Report::Event(received));
        if last {
            return true;
        }
    }
    false
}

/// Counts the comment lines in a stream, across chunks.
#[derive(Default)]
struct CommentLines {
    /// The next byte starts a line.
    at_line_start: bool,
    started: bool,
}

impl CommentLines {
    fn count(&mut self, chunk: &[u8]) -> usize {
        if !self.started {
            self.started = true;
            self.at_line_start = true;
        }
        let mut comments = 0;
        for &byte in chunk {
            if self.at_line_start && byte == b':' {
                comments += 1;
            }
            self.at_line_start = byte == b'\n' || byte == b'\r';
        }
        comments
    }
}

fn millis(delay: Duration) -> u64 {
    u64::try_from(delay.as_millis()).unwrap_or(u64::MAX)
}

/// `reqwest-eventsource`, which reconnects by itself with the last id and
/// the server's `retry`.
pub(crate) fn reqwest(spec: &Spec, name: &'static str) -> Run {
    run_with_limit(spec, name, |spec, reporter| async move {
        let client = reqwest::Client::new();
        let method = reqwest::Method::from_bytes(spec.method.as_bytes())
            .map_err(|error| error.to_string())?;
        let mut request = client.request(method, &spec.url);
        for (name, value) in &spec.headers {
            request = request.header(name, value);
        }
        if let Some(body) = &spec.body {
            request = request.body(body.clone());
        }
        let mut source = EventSource::new(request).map_err(|error| error.to_string())?;
        while let Some(item) = source.next().await {
            match item {
                Ok(EsEvent::Open) => report(&reporter, Report::Open),
                Ok(EsEvent::Message(message)) => {
                    if let Some(delay) = message.retry {
                        report(&reporter, Report::Retry { ms: millis(delay) });
                    }
                    let event_type = if message.event.is_empty() {
                        "message".to_owned()
                    } else {
                        message.event
                    };
                    let last = spec.until.as_deref() == Some(event_type.as_str());
                    report(
                        &reporter,
                        Report::Event(Received {
                            event_type,
                            id: Some(message.id).filter(|id| !id.is_empty()),
                            data: message.data,
                        }),
                    );
                    if last {
                        source.close();
                        return Ok(());
                    }
                }
                Err(error) => {
                    let why = error.to_string();
                    if let AfterEnd::Stop(result) = after_stream_end(&spec, &reporter, why) {
                        source.close();
                        return result;
                    }
                    // Polled again, the source reconnects after its delay.
                }
            }
        }
        Err("the event source closed".to_owned())
    })
}

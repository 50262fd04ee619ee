//! The client matrix (sse-interop) against both streaming APIs: every SSE
//! client that front-ends and services use (the npm `eventsource`,
//! `@microsoft/fetch-event-source` and `eventsource-parser`, Python's
//! `httpx-sse`, sse-engine's decoder and `reqwest-eventsource`) POSTs a
//! streamed request, as the page does, and reports exactly the events the
//! server sent: as many, of the same types, with the same data, in order,
//! no empty extras.
//!
//! The server is [`framed`](common::framed): its streams open with `retry:`
//! and get a keep-alive comment every 5 ms while the demo waits 25 ms
//! between tokens, so several comments pass between two events. A client
//! that mistakes the opening block or a comment for an event reports one the
//! application did not send (`fetch-event-source` hands one over for every
//! blank line; `httpx-sse` yields a block with only `retry`).
//!
//! What the server sent is written out here from the demo's answer
//! ([`demo::answer`], [`demo::tokens`]) and the chunk shapes each API
//! documents, not read from any client. Only the values that differ between
//! requests are left out of the comparison (OpenAI's `id` and `created`,
//! the id of Anthropic's message): they are checked to be one per answer.
//!
//! A client that is not installed is skipped with a message, unless
//! `SSE_REQUIRE_CLIENTS=1` (see sse-interop).
#![allow(clippy::print_stderr)]

mod common;

use common::{RETRY, WAIT, anthropic_request, framed_demo, openai_request, serve};
use example_axum_llm::demo;
use serde_json::{Value, json};
use sse_interop::{Client, Received, Report, Spec, start_all, start_with_codec};

const PROMPT: &str = "Which client reads this? “Quotes”, é, 😀\nand a second line.";

/// Anthropic's event types: clients modelled on `EventSource` hand over
/// only the types they listen for.
const ANTHROPIC_EVENTS: [&str; 7] = [
    "message_start",
    "content_block_start",
    "ping",
    "content_block_delta",
    "content_block_stop",
    "message_delta",
    "message_stop",
];

/// An event's data: JSON, compared as values, or a text that is not JSON
/// (OpenAI's `[DONE]`).
#[derive(Debug, Clone, PartialEq)]
enum Data {
    Json(Value),
    Text(String),
}

/// An event as the server sends it, without the values that differ between
/// requests.
#[derive(Debug, Clone, PartialEq)]
struct Sent {
    event_type: String,
    data: Data,
}

impl Sent {
    fn json(event_type: &str, data: Value) -> Self {
        Self {
            event_type: event_type.to_owned(),
            data: Data::Json(data),
        }
    }
}

/// The demo's tokens for [`PROMPT`], and how many the prompt counts as.
fn tokens_and_input() -> (Vec<String>, usize) {
    let answer = demo::answer(PROMPT);
    let tokens = demo::tokens(&answer).map(str::to_owned).collect();
    (tokens, demo::tokens(PROMPT).count())
}

/// OpenAI's stream with `stream_options.include_usage`: a chunk with the
/// role, one per token, one with `finish_reason`, the usage chunk (every
/// chunk says `"usage": null` before it), then `[DONE]`.
fn openai_sent() -> Vec<Sent> {
    let (tokens, input) = tokens_and_input();
    let chunk = |choices: Value, usage: Value| {
        let chunk = json!({
            "object": "chat.completion.chunk",
            "model": "demo",
            "system_fingerprint": null,
            "choices": choices,
            "usage": usage,
        });
        Sent::json("message", chunk)
    };
    let delta = |delta: Value, finish_reason: Value| {
        let choice =
            json!({"index": 0, "delta": delta, "logprobs": null, "finish_reason": finish_reason});
        chunk(json!([choice]), Value::Null)
    };
    let mut sent = vec![delta(
        json!({"role": "assistant", "content": ""}),
        Value::Null,
    )];
    sent.extend(
        tokens
            .iter()
            .map(|token| delta(json!({ "content": token }), Value::Null)),
    );
    sent.push(delta(json!({}), json!("stop")));
    let usage = json!({
        "prompt_tokens": input,
        "completion_tokens": tokens.len(),
        "total_tokens": input + tokens.len(),
    });
    sent.push(chunk(json!([]), usage));
    sent.push(Sent {
        event_type: "message".to_owned(),
        data: Data::Text("[DONE]".to_owned()),
    });
    sent
}

/// Anthropic's stream: named events, each with its name as its data's
/// `type`, from `message_start` to `message_stop`.
fn anthropic_sent() -> Vec<Sent> {
    let (tokens, input) = tokens_and_input();
    let event = |data: Value| {
        let event_type = data["type"].as_str().unwrap_or_default().to_owned();
        Sent::json(&event_type, data)
    };
    let message = json!({
        "type": "message",
        "role": "assistant",
        "model": "demo",
        "content": [],
        "stop_reason": null,
        "stop_sequence": null,
        "usage": {"input_tokens": input, "output_tokens": 0},
    });
    let mut sent = vec![
        event(json!({"type": "message_start", "message": message})),
        event(json!({
            "type": "content_block_start",
            "index": 0,
            "content_block": {"type": "text", "text": ""},
        })),
        event(json!({"type": "ping"})),
    ];
    sent.extend(tokens.iter().map(|token| {
        event(json!({
            "type": "content_block_delta",
            "index": 0,
            "delta": {"type": "text_delta", "text": token},
        }))
    }));
    sent.extend([
        event(json!({"type": "content_block_stop", "index": 0})),
        event(json!({
            "type": "message_delta",
            "delta": {"stop_reason": "end_turn", "stop_sequence": null},
            "usage": {"input_tokens": input, "output_tokens": tokens.len()},
        })),
        event(json!({"type": "message_stop"})),
    ]);
    sent
}

/// The values of one answer that differ between requests, taken out of its
/// events' data: one id and (OpenAI's) one time, repeated in every chunk.
#[derive(Debug, Default)]
struct RequestValues {
    ids: Vec<Value>,
    created: Vec<Value>,
}

impl RequestValues {
    /// Takes OpenAI's `id` and `created` out of a chunk, and the id out of
    /// Anthropic's `message_start`.
    fn take(&mut self, data: &mut Value) {
        let Some(fields) = data.as_object_mut() else {
            return;
        };
        self.ids.extend(fields.remove("id"));
        self.created.extend(fields.remove("created"));
        let message = fields.get_mut("message").and_then(Value::as_object_mut);
        self.ids
            .extend(message.and_then(|message| message.remove("id")));
    }

    /// Whether they are what `api` sends: one id starting with its prefix
    /// in each event that carries it, and (OpenAI's) one time in seconds in
    /// the same events.
    fn one_per_answer(&self, api: &Api) -> bool {
        let id = self.ids.first().and_then(Value::as_str);
        let times = if api.created { api.carriers } else { 0 };
        id.is_some_and(|id| id.starts_with(api.id_prefix))
            && self.ids.len() == api.carriers
            && self.ids.iter().all(|other| Some(other) == self.ids.first())
            && self.created.len() == times
            && self
                .created
                .iter()
                .all(|other| other.is_u64() && Some(other) == self.created.first())
    }
}

/// What a client reported, as [`Sent`] events, and the values it saw that
/// differ between requests.
fn as_sent(received: &[Received]) -> (Vec<Sent>, RequestValues) {
    let mut values = RequestValues::default();
    let sent = received
        .iter()
        .map(|event| {
            let data = match serde_json::from_str::<Value>(&event.data) {
                Ok(mut data) => {
                    values.take(&mut data);
                    Data::Json(data)
                }
                Err(_) => Data::Text(event.data.clone()),
            };
            Sent {
                event_type: event.event_type.clone(),
                data,
            }
        })
        .collect();
    (sent, values)
}

/// The text of the answer in reported events: OpenAI's content deltas or
/// Anthropic's text deltas, joined.
fn text_of(sent: &[Sent]) -> String {
    sent.iter()
        .filter_map(|event| match &event.data {
            Data::Json(data) => data["choices"][0]["delta"]["content"]
                .as_str()
                .or_else(|| data["delta"]["text"].as_str()),
            Data::Text(_) => None,
        })
        .collect()
}

/// One line per event, for failure messages.
fn shown(events: &[Sent]) -> String {
    events
        .iter()
        .enumerate()
        .map(|(index, event)| match &event.data {
            Data::Json(data) => format!("  {index}: {} {data}\n", event.event_type),
            Data::Text(text) => format!("  {index}: {} {text:?}\n", event.event_type),
        })
        .collect()
}

/// One streaming API: what its stream of the demo's answer is.
struct Api {
    name: &'static str,
    /// The events the server sends.
    sent: Vec<Sent>,
    /// How its answer ids start.
    id_prefix: &'static str,
    /// How many of its events carry the answer's id.
    carriers: usize,
    /// Whether they carry a `created` time too.
    created: bool,
}

/// Why a client's run is not exactly what the server sent, if it is not.
fn disagreement(reports: &[Report], api: &Api) -> Option<String> {
    let expected = &api.sent[..];
    let failed = reports.iter().any(|report| {
        matches!(report, Report::Error { .. })
            || matches!(report, Report::Exited(code) if *code != Some(0))
    });
    if failed || !reports.contains(&Report::End) {
        return Some(format!("the run failed: {reports:#?}"));
    }
    let opens = reports.iter().filter(|r| matches!(r, Report::Open)).count();
    if opens != 1 {
        return Some(format!("{opens} connections, not 1"));
    }
    let received: Vec<Received> = reports
        .iter()
        .filter_map(|report| match report {
            Report::Event(event) => Some(event.clone()),
            _ => None,
        })
        .collect();
    if let Some(event) = received.iter().find(|event| event.id.is_some()) {
        return Some(format!("an id where the server sent none: {event:?}"));
    }
    let (got, values) = as_sent(&received);
    if got != expected {
        let first = got.iter().zip(expected).position(|(got, want)| got != want);
        let first = first.unwrap_or(got.len().min(expected.len()));
        return Some(format!(
            "{} events, {} sent; the first that differs is #{first}.\nreported:\n{}sent:\n{}",
            got.len(),
            expected.len(),
            shown(&got),
            shown(expected),
        ));
    }
    let text = text_of(&got);
    if text != demo::answer(PROMPT) {
        return Some(format!("the deltas make {text:?}, not the demo's answer"));
    }
    if !values.one_per_answer(api) {
        return Some(format!("not one id and time per answer: {values:?}"));
    }
    let retries: Vec<&Report> = reports
        .iter()
        .filter(|report| matches!(report, Report::Retry { .. }))
        .collect();
    let retry_ms = RETRY.as_millis();
    if retries.len() > 1
        || retries
            .iter()
            .any(|report| !matches!(report, Report::Retry { ms } if u128::from(*ms) == retry_ms))
    {
        return Some(format!("retries {retries:?}, not one of {retry_ms} ms"));
    }
    None
}

/// Runs every client on `spec`; each must report exactly what `api` sends.
async fn every_client_reports_exactly(spec: &Spec, api: &Api) {
    // The expectation itself: the demo's answer, token by token.
    assert_eq!(text_of(&api.sent), demo::answer(PROMPT));
    let started = std::time::Instant::now();
    let runs = start_all(&Client::ALL, spec);
    let mut failures = Vec::new();
    for run in &runs {
        let reports = run.finish(WAIT).await;
        match disagreement(&reports, api) {
            Some(why) => failures.push(format!("{}, {}: {why}", api.name, run.name())),
            None => eprintln!(
                "{}, {}: the {} events exactly as sent",
                api.name,
                run.name(),
                api.sent.len()
            ),
        }
    }
    eprintln!(
        "{}: {} clients in {:?}",
        api.name,
        runs.len(),
        started.elapsed()
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));

    // The run had what it is meant to test: the opening `retry` and
    // comments between the events (sse-engine's decoder shows both).
    let decoder = runs
        .iter()
        .find(|run| run.name() == Client::SseCoreDecoder.name())
        .expect("the decoder always runs");
    let reports = decoder.reports();
    let comments = reports.iter().filter(|r| **r == Report::Comment).count();
    let (tokens, _) = tokens_and_input();
    assert!(
        comments >= tokens.len(),
        "{comments} keep-alive comments for {} tokens",
        tokens.len()
    );
    eprintln!(
        "{}: {comments} keep-alive comments between {} tokens",
        api.name,
        tokens.len()
    );
    assert!(
        reports.iter().any(|r| matches!(r, Report::Retry { .. })),
        "no opening retry: {reports:#?}"
    );
}

/// A spec that POSTs `request` to `url` and ends within [`WAIT`].
fn spec(url: String, request: &Value) -> Spec {
    let mut spec = Spec::post_json(url, request.to_string());
    spec.timeout_ms = u64::try_from(WAIT.as_millis()).unwrap();
    spec
}

/// A streamed OpenAI request to the framed demo, and what it sends.
async fn openai_stream() -> (Spec, Api) {
    let base = serve(framed_demo()).await;
    let mut request = openai_request(PROMPT, true);
    request["stream_options"] = json!({"include_usage": true});
    let spec = spec(format!("{base}/v1/chat/completions"), &request);
    let sent = openai_sent();
    let api = Api {
        name: "OpenAI",
        // Every chunk; `[DONE]` is no chunk.
        carriers: sent.len() - 1,
        sent,
        id_prefix: "chatcmpl-",
        created: true,
    };
    (spec, api)
}

#[tokio::test]
async fn every_client_reads_the_openai_stream() {
    let (spec, api) = openai_stream().await;
    every_client_reports_exactly(&spec, &api).await;
}

#[tokio::test]
async fn every_client_reads_the_anthropic_stream() {
    let base = serve(framed_demo()).await;
    let request = anthropic_request(PROMPT, true);
    let spec = spec(format!("{base}/v1/messages"), &request).types(ANTHROPIC_EVENTS);
    let api = Api {
        name: "Anthropic",
        sent: anthropic_sent(),
        id_prefix: "msg_",
        // The message of `message_start`.
        carriers: 1,
        created: false,
    };
    every_client_reports_exactly(&spec, &api).await;
}

/// The OpenAI stream compressed: the npm `eventsource`, `httpx-sse` and
/// `curl --compressed`, each told one codec with `Accept-Encoding`, report
/// exactly the events sent, and the response had that `Content-Encoding`
/// (a client whose runtime cannot decode a codec here is skipped, with a
/// message: Node 20's `fetch` and zstd).
#[tokio::test]
async fn the_openai_stream_is_read_exactly_through_every_codec() {
    let (spec, api) = openai_stream().await;
    let mut runs = Vec::new();
    for codec in ["gzip", "br", "zstd"] {
        for client in [Client::EventSource, Client::HttpxSse, Client::Curl] {
            let test = "the compressed OpenAI stream";
            if let Some(run) = start_with_codec(client, codec, &spec, test) {
                runs.push((format!("{} over {codec}", client.name()), codec, run));
            }
        }
    }
    let mut failures = Vec::new();
    for (what, codec, run) in &runs {
        let reports = run.finish(WAIT).await;
        let encodings: Vec<Option<&str>> = reports
            .iter()
            .filter_map(|r| match r {
                Report::Encoding { name } => Some(name.as_deref()),
                _ => None,
            })
            .collect();
        if encodings != [Some(*codec)] {
            failures.push(format!("{what}: Content-Encoding {encodings:?}"));
        }
        match disagreement(&reports, &api) {
            Some(why) => failures.push(format!("{what}: {why}")),
            None => eprintln!(
                "OpenAI, {what}: the {} events exactly as sent",
                api.sent.len()
            ),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

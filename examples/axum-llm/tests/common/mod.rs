//! What the tests share: servers on loopback (the demo, a proxy, a raw
//! upstream), a real HTTP client that reads event streams with sse-engine's
//! decoder, and the Python SDK runner.
// Each test file uses part of this module; skipped tests say so on stderr.
#![allow(dead_code, clippy::missing_panics_doc, clippy::print_stderr)]

pub(crate) mod python;
pub(crate) mod raw_upstream;

use std::time::Duration;

use bytes::Bytes;
use example_axum_llm::Llm;
use example_axum_llm::config::{DEFAULT_UPSTREAM_IDLE_TIMEOUT, UpstreamConfig};
use example_axum_llm::upstream::Upstream;
use futures_util::StreamExt;
use http_body_util::{BodyDataStream, BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use sse_engine::decode::{DecodedEvent, EventStream};

/// How long any single wait of a test may take before it fails.
pub(crate) const WAIT: Duration = Duration::from_secs(20);

/// The key the proxies of the tests send upstream.
pub(crate) const TEST_KEY: &str = "test-key";

/// The demo's pause between tokens in the tests of what clients read: long
/// enough for several keep-alive comments to pass between two tokens, short
/// enough that an answer (70-odd tokens) takes under 2 s.
pub(crate) const SLOW_TOKENS: Duration = Duration::from_millis(25);

/// The keep-alive interval of those tests: a fifth of [`SLOW_TOKENS`], so
/// about four comments pass between two tokens.
pub(crate) const SHORT_KEEP_ALIVE: Duration = Duration::from_millis(5);

/// The `retry:` their streams open with.
pub(crate) const RETRY: Duration = Duration::from_millis(1500);

/// `llm` with everything sse-engine writes around the API's events switched
/// on: the opening `retry:` and a keep-alive comment every
/// [`SHORT_KEEP_ALIVE`]. A client that mistakes either for an event (an
/// empty one, which an SDK would parse as JSON) fails the tests that use it.
pub(crate) fn framed(llm: Llm) -> Llm {
    llm.keep_alive(SHORT_KEEP_ALIVE).retry(RETRY)
}

/// The demo, [`SLOW_TOKENS`] between tokens and [`framed`].
pub(crate) fn framed_demo() -> Llm {
    framed(Llm::demo(SLOW_TOKENS))
}

/// Serves `llm` on a free port of 127.0.0.1; its base URL.
pub(crate) async fn serve(llm: Llm) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, example_axum_llm::app(llm)).await });
    format!("http://{address}")
}

/// A proxy to the OpenAI-compatible API at `base` (its `/v1`).
pub(crate) fn proxy_to(base: &str) -> Llm {
    proxy_with_idle_timeout(base, DEFAULT_UPSTREAM_IDLE_TIMEOUT)
}

/// A proxy to `base` that ends an answer after `idle_timeout` of upstream
/// silence: short, so that tests of a stalled upstream end in moments.
pub(crate) fn proxy_with_idle_timeout(base: &str, idle_timeout: Duration) -> Llm {
    let config = UpstreamConfig {
        base_url: format!("{base}/v1"),
        api_key: Some(TEST_KEY.to_owned()),
        model: "demo".to_owned(),
        idle_timeout,
    };
    Llm::proxy(Upstream::new(&config).unwrap(), "demo")
}

/// A request for the demo's answer to `prompt`, through OpenAI's API.
pub(crate) fn openai_request(prompt: &str, stream: bool) -> Value {
    serde_json::json!({
        "model": "demo",
        "stream": stream,
        "messages": [{"role": "user", "content": prompt}],
    })
}

/// A request for the demo's answer to `prompt`, through Anthropic's API.
pub(crate) fn anthropic_request(prompt: &str, stream: bool) -> Value {
    serde_json::json!({
        "model": "demo",
        "max_tokens": 1024,
        "stream": stream,
        "messages": [{"role": "user", "content": prompt}],
    })
}

/// Sends a POST with `body`; the response, its body unread. A new client
/// each time, so that dropping the response closes its connection.
pub(crate) async fn post(url: &str, body: impl Into<Bytes>) -> Response<Incoming> {
    let client =
        Client::builder(TokioExecutor::new()).build::<_, Full<Bytes>>(HttpConnector::new());
    let request = Request::post(url)
        .header("content-type", "application/json")
        .body(Full::new(body.into()))
        .unwrap();
    tokio::time::timeout(WAIT, client.request(request))
        .await
        .expect("the server answers in time")
        .expect("the server answers")
}

/// GETs `url`; the status, content type and whole body.
pub(crate) async fn get_whole(url: &str) -> (u16, String, String) {
    let client =
        Client::builder(TokioExecutor::new()).build::<_, Full<Bytes>>(HttpConnector::new());
    let response = tokio::time::timeout(WAIT, client.get(url.parse().unwrap()))
        .await
        .expect("the server answers in time")
        .expect("the server answers");
    whole(response).await
}

/// The status, content type and whole body of a response.
async fn whole(response: Response<Incoming>) -> (u16, String, String) {
    let status = response.status().as_u16();
    let content_type = header(&response, "content-type");
    let body = tokio::time::timeout(WAIT, response.into_body().collect())
        .await
        .expect("the body ends in time")
        .expect("the body is read")
        .to_bytes();
    (
        status,
        content_type,
        String::from_utf8(body.to_vec()).unwrap(),
    )
}

/// POSTs `body`; the status, content type and whole body.
pub(crate) async fn post_whole(url: &str, body: impl Into<Bytes>) -> (u16, String, String) {
    whole(post(url, body).await).await
}

/// POSTs `body` and parses the JSON answer; its status and value.
pub(crate) async fn post_json(url: &str, body: &Value) -> (u16, Value) {
    let (status, content_type, body) = post_whole(url, body.to_string()).await;
    assert_eq!(content_type, "application/json", "{body}");
    (status, serde_json::from_str(&body).unwrap())
}

/// A response header, or "".
pub(crate) fn header(response: &Response<Incoming>, name: &str) -> String {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// The events of a streamed response, decoded as they arrive.
pub(crate) type Events = EventStream<BodyDataStream<Incoming>>;

/// POSTs `body` and checks that the answer is an event stream; its events.
pub(crate) async fn stream(url: &str, body: &Value) -> Events {
    let response = post(url, body.to_string()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), "text/event-stream");
    EventStream::from_body(response.into_body())
}

/// The next event, within [`WAIT`].
pub(crate) async fn next_event(events: &mut Events) -> Option<DecodedEvent> {
    tokio::time::timeout(WAIT, events.next())
        .await
        .expect("an event in time")
        .map(|event| event.expect("a well-formed stream"))
}

/// Every event of a streamed answer, to its end.
pub(crate) async fn all_events(url: &str, body: &Value) -> Vec<DecodedEvent> {
    let mut events = stream(url, body).await;
    let mut all = Vec::new();
    while let Some(event) = next_event(&mut events).await {
        all.push(event);
    }
    all
}

/// How one prompt, streamed through each API, ended in an error.
pub(crate) struct FailedStreams {
    /// The text OpenAI's stream carried before its error.
    pub(crate) openai_text: String,
    /// OpenAI's last chunk: the error object.
    pub(crate) openai_error: Value,
    /// The text Anthropic's stream carried before its error.
    pub(crate) anthropic_text: String,
    /// The data of Anthropic's last event, an `error` event.
    pub(crate) anthropic_error: Value,
}

/// Streams a prompt through both APIs of `base`, each of which must end with
/// an error: OpenAI's without `[DONE]`, Anthropic's with an `error` event.
pub(crate) async fn streamed_failures(base: &str) -> FailedStreams {
    let openai = all_events(
        &format!("{base}/v1/chat/completions"),
        &openai_request("x", true),
    )
    .await;
    assert!(openai.iter().all(|event| event.data() != "[DONE]"));
    let anthropic = all_events(
        &format!("{base}/v1/messages"),
        &anthropic_request("x", true),
    )
    .await;
    let last = anthropic.last().expect("an event");
    assert_eq!(last.event_type(), "error");
    FailedStreams {
        openai_text: openai_text(&openai),
        openai_error: data_json(openai.last().expect("an event")),
        anthropic_text: anthropic_text(&anthropic),
        anthropic_error: data_json(last),
    }
}

/// An event's data, parsed as JSON.
pub(crate) fn data_json(event: &DecodedEvent) -> Value {
    serde_json::from_str(event.data()).unwrap()
}

/// The text of an OpenAI stream: its content deltas, joined.
pub(crate) fn openai_text(events: &[DecodedEvent]) -> String {
    events
        .iter()
        .filter(|event| event.data() != "[DONE]")
        .filter_map(|event| {
            let chunk: Value = serde_json::from_str(event.data()).unwrap();
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .map(str::to_owned)
        })
        .collect()
}

/// The text of an Anthropic stream: its text deltas, joined.
pub(crate) fn anthropic_text(events: &[DecodedEvent]) -> String {
    events
        .iter()
        .filter(|event| event.event_type() == "content_block_delta")
        .map(|event| {
            let data: Value = serde_json::from_str(event.data()).unwrap();
            data["delta"]["text"].as_str().unwrap().to_owned()
        })
        .collect()
}

/// Waits until `condition` holds, failing after [`WAIT`].
pub(crate) async fn eventually(what: &str, condition: impl Fn() -> bool) -> Duration {
    within(WAIT, what, condition).await
}

/// Waits until `condition` holds, failing after `limit`; how long it took.
pub(crate) async fn within(limit: Duration, what: &str, condition: impl Fn() -> bool) -> Duration {
    let started = tokio::time::Instant::now();
    while !condition() {
        assert!(started.elapsed() < limit, "not within {limit:?}: {what}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    started.elapsed()
}

//! What the proxy does when an upstream misbehaves without failing outright:
//! it goes silent mid-answer (or only seems to, sending comments), it
//! answers without end, it calls a tool.

mod common;

use std::time::Duration;

use common::raw_upstream::{RawUpstream, Step, chunk, stream_head};
use common::{
    all_events, anthropic_request, openai_request, post_json, proxy_to, proxy_with_idle_timeout,
    serve, streamed_failures,
};
use example_axum_llm::MAX_COLLECTED_BYTES;

/// The idle timeout of the tests' proxies: long enough for loopback, short
/// enough that a stall test takes a moment.
const IDLE: Duration = Duration::from_millis(300);

/// The end of a complete upstream answer.
const FINISH: &str = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";

/// An upstream that sends its headers and one chunk, then stays silent with
/// the connection open (a hung model server, a half-dead load balancer).
async fn stalled_upstream() -> RawUpstream {
    RawUpstream::start(vec![stream_head(), chunk("Hel"), Step::Hold]).await
}

#[tokio::test]
async fn a_stalled_upstream_ends_the_stream_with_a_timeout_error() {
    let upstream = stalled_upstream().await;
    let base = serve(proxy_with_idle_timeout(&upstream.base, IDLE)).await;

    // Fails the test if a stream is still open after the helpers' wait.
    let failed = streamed_failures(&base).await;
    assert_eq!(failed.openai_text, "Hel");
    let message = &failed.openai_error["error"]["message"];
    assert!(
        message.as_str().unwrap().contains("no data for 300 ms"),
        "{message}"
    );
    assert_eq!(failed.anthropic_error["error"]["type"], "timeout_error");

    // The proxy closed both upstream connections.
    common::eventually("the upstream connections are closed", || {
        upstream.closed_by_client() == 2
    })
    .await;
}

#[tokio::test]
async fn an_upstream_that_sends_comments_while_it_thinks_is_not_cut() {
    // Twice the idle timeout without an event, but a comment every third of
    // it, as some APIs keep a connection open while their model thinks.
    let mut steps = vec![stream_head(), chunk("Hel")];
    for _ in 0..6 {
        steps.push(Step::Pause(IDLE / 3));
        steps.push(Step::Send(b": thinking\n\n".to_vec()));
    }
    steps.extend([chunk("lo"), Step::Send(FINISH.as_bytes().to_vec())]);
    let upstream = RawUpstream::start(steps).await;
    let base = serve(proxy_with_idle_timeout(&upstream.base, IDLE)).await;

    let events = all_events(
        &format!("{base}/v1/chat/completions"),
        &openai_request("x", true),
    )
    .await;
    assert_eq!(common::openai_text(&events), "Hello");
    assert_eq!(events.last().unwrap().data(), "[DONE]");
}

#[tokio::test]
async fn a_stalled_upstream_without_streaming_is_a_gateway_timeout() {
    let upstream = stalled_upstream().await;
    let base = serve(proxy_with_idle_timeout(&upstream.base, IDLE)).await;
    let (status, whole) = post_json(
        &format!("{base}/v1/chat/completions"),
        &openai_request("x", false),
    )
    .await;
    assert_eq!(status, 504, "{whole}");
    assert!(whole["error"]["message"].as_str().is_some(), "{whole}");
    let (status, whole) = post_json(
        &format!("{base}/v1/messages"),
        &anthropic_request("x", false),
    )
    .await;
    assert_eq!(status, 504, "{whole}");
    assert_eq!(whole["error"]["type"], "timeout_error");
}

#[tokio::test]
async fn a_whole_answer_over_the_size_limit_is_a_bad_gateway() {
    // 200 KiB per chunk (under the 256 KiB line limit), past the 8 MiB cap.
    let piece = "x".repeat(200 * 1024);
    let mut steps = vec![stream_head()];
    let chunks = MAX_COLLECTED_BYTES / piece.len() + 2;
    steps.extend((0..chunks).map(|_| chunk(&piece)));
    steps.push(Step::Send(FINISH.as_bytes().to_vec()));
    let upstream = RawUpstream::start(steps).await;
    let base = serve(proxy_to(&upstream.base)).await;

    let (status, whole) = post_json(
        &format!("{base}/v1/chat/completions"),
        &openai_request("x", false),
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(whole["error"]["type"], "upstream_error");
    assert!(
        whole["error"]["message"]
            .as_str()
            .unwrap()
            .contains("longer than 8 MiB"),
        "{whole}"
    );
    let (status, whole) = post_json(
        &format!("{base}/v1/messages"),
        &anthropic_request("x", false),
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(whole["type"], "error");
    assert_eq!(whole["error"]["type"], "api_error");
}

#[tokio::test]
async fn an_upstreams_tool_call_ends_the_answer_with_an_upstream_error() {
    let tool_delta = r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":null,"tool_calls":[{"index":0,"id":"call_1","type":"function","function":{"name":"weather","arguments":"{}"}}]},"finish_reason":null}]}"#;
    let finish = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"tool_calls"}]}"#;
    let upstream = RawUpstream::start(vec![
        stream_head(),
        Step::Send(
            format!("data: {tool_delta}\n\ndata: {finish}\n\ndata: [DONE]\n\n").into_bytes(),
        ),
    ])
    .await;
    let base = serve(proxy_to(&upstream.base)).await;

    let (status, whole) = post_json(
        &format!("{base}/v1/chat/completions"),
        &openai_request("x", false),
    )
    .await;
    assert_eq!(status, 502, "{whole}");
    assert!(
        whole["error"]["message"]
            .as_str()
            .unwrap()
            .contains("tool call"),
        "{whole}"
    );

    let events = all_events(
        &format!("{base}/v1/messages"),
        &anthropic_request("x", true),
    )
    .await;
    let last = events.last().unwrap();
    assert_eq!(last.event_type(), "error");
    assert!(
        events
            .iter()
            .all(|event| event.event_type() != "message_delta")
    );
}

//! Proxy mode: the example in front of an OpenAI-compatible upstream. The
//! upstream is a second instance of the example (its demo model), or a
//! scripted raw server for what a real API may do wrong.

// The tests print what they measure (time to first token, to cancel).
#![allow(clippy::print_stderr)]

mod common;

use std::time::Duration;

use common::raw_upstream::{
    ERROR_EVENT, RawUpstream, Step, chunk, hello_then, json_response, stream_head,
};
use common::{
    TEST_KEY, all_events, anthropic_request, anthropic_text, data_json, eventually, next_event,
    openai_request, openai_text, post, post_json, proxy_to, serve, stream, streamed_failures,
    within,
};
use example_axum_llm::{Llm, demo};
use serde_json::{Value, json};

const PROMPT: &str = "Through a proxy, “quoted”, é 😀\nand on a second line";

/// A demo upstream and a proxy to it; the upstream's handle and the
/// proxy's handle and base URL.
async fn proxy_and_upstream(delay: Duration) -> (Llm, Llm, String) {
    let upstream = Llm::demo(delay);
    let upstream_base = serve(upstream.clone()).await;
    let proxy = proxy_to(&upstream_base);
    let base = serve(proxy.clone()).await;
    (upstream, proxy, base)
}

#[tokio::test]
async fn the_client_receives_the_upstreams_text() {
    let (_, _, base) = proxy_and_upstream(Duration::ZERO).await;
    let openai = format!("{base}/v1/chat/completions");
    let anthropic = format!("{base}/v1/messages");
    let answer = demo::answer(PROMPT);

    let events = all_events(&openai, &openai_request(PROMPT, true)).await;
    assert_eq!(openai_text(&events), answer);
    assert_eq!(events.last().unwrap().data(), "[DONE]");
    let (status, whole) = post_json(&openai, &openai_request(PROMPT, false)).await;
    assert_eq!(status, 200);
    assert_eq!(whole["choices"][0]["message"]["content"], answer);

    let events = all_events(&anthropic, &anthropic_request(PROMPT, true)).await;
    assert_eq!(anthropic_text(&events), answer);
    let names: Vec<&str> = events.iter().map(|event| event.event_type()).collect();
    assert_eq!(names[..3], ["message_start", "content_block_start", "ping"]);
    assert_eq!(
        names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    let (status, whole) = post_json(&anthropic, &anthropic_request(PROMPT, false)).await;
    assert_eq!(status, 200);
    assert_eq!(whole["content"][0]["text"], answer);

    // The limit goes upstream, and its finish comes back in each API's terms.
    let mut request = anthropic_request(PROMPT, false);
    request["max_tokens"] = json!(3);
    let (_, whole) = post_json(&anthropic, &request).await;
    assert_eq!(
        whole["content"][0]["text"],
        demo::tokens(&answer).take(3).collect::<String>()
    );
    assert_eq!(whole["stop_reason"], "max_tokens");
    assert_eq!(whole["usage"]["output_tokens"], 3);
}

#[tokio::test]
async fn the_upstream_gets_an_openai_streaming_request() {
    let finish = r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#;
    let mut upstream = RawUpstream::start(vec![
        stream_head(),
        chunk("Hel"),
        chunk("lo"),
        Step::Send(format!("data: {finish}\r\n\r\ndata: [DONE]\r\n\r\n").into_bytes()),
    ])
    .await;
    let base = serve(proxy_to(&upstream.base)).await;
    let request = json!({
        "model": "some-model",
        "max_tokens": 50,
        "stream": true,
        "temperature": 0.5,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": "Hi"}],
    });
    let events = all_events(&format!("{base}/v1/messages"), &request).await;
    assert_eq!(anthropic_text(&events), "Hello");
    assert_eq!(events.last().unwrap().event_type(), "message_stop");

    let received = upstream.request().await;
    assert!(
        received
            .head
            .starts_with("POST /v1/chat/completions HTTP/1.1\r\n"),
        "{}",
        received.head
    );
    let head = received.head.to_ascii_lowercase();
    assert!(
        head.contains(&format!("authorization: bearer {TEST_KEY}\r\n")),
        "{head}"
    );
    assert!(
        head.contains("content-type: application/json\r\n"),
        "{head}"
    );
    let body: Value = serde_json::from_str(&received.body).unwrap();
    assert_eq!(
        body,
        json!({
            "model": "some-model",
            "stream": true,
            "stream_options": {"include_usage": true},
            "max_tokens": 50,
            "temperature": 0.5,
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Hi"},
            ],
        })
    );
}

#[tokio::test]
async fn a_client_that_leaves_makes_the_proxy_drop_its_upstream_request() {
    // 100 ms between tokens: the rest of the answer would take seconds, so
    // an upstream that stops within one second stopped because of the client.
    let (upstream, proxy, base) = proxy_and_upstream(Duration::from_millis(100)).await;
    for (path, request) in [
        ("/v1/chat/completions", openai_request(PROMPT, true)),
        ("/v1/messages", anthropic_request(PROMPT, true)),
    ] {
        let mut events = stream(&format!("{base}{path}"), &request).await;
        for _ in 0..5 {
            next_event(&mut events).await.unwrap();
        }
        assert_eq!(
            upstream.generations().open(),
            1,
            "the upstream is generating"
        );
        assert_eq!(proxy.generations().open(), 1);
        drop(events);
        let released = within(
            Duration::from_secs(1),
            "the upstream's generation ends",
            || upstream.generations().open() == 0,
        )
        .await;
        assert_eq!(proxy.generations().open(), 0);
        eprintln!("{path}: the upstream stopped generating {released:?} after the client left");
    }
}

#[tokio::test]
async fn a_client_that_leaves_before_the_upstream_answers_cancels_it_too() {
    // An upstream that reads the request and never answers.
    let mut upstream = RawUpstream::start(vec![Step::Hold]).await;
    let base = serve(proxy_to(&upstream.base)).await;
    let url = format!("{base}/v1/chat/completions");
    let client =
        tokio::spawn(async move { post(&url, openai_request("hi", true).to_string()).await });
    upstream.request().await;
    client.abort();
    eventually("the upstream connection closes", || {
        upstream.closed_by_client() == 1
    })
    .await;
}

#[tokio::test]
async fn upstream_failures_mid_answer_end_the_stream_as_each_api_does() {
    let huge_line = format!("data: {}", "x".repeat(300 * 1024));
    let failures = [
        (
            Step::Send(ERROR_EVENT.as_bytes().to_vec()),
            "upstream: The server had an error",
        ),
        (Step::Send(huge_line.into_bytes()), "longer than"),
        (
            Step::Pause(Duration::ZERO),
            "ended before the answer was finished",
        ),
    ];
    for (failure, message) in failures {
        let upstream = RawUpstream::start(hello_then(failure)).await;
        let base = serve(proxy_to(&upstream.base)).await;

        let failed = streamed_failures(&base).await;
        assert_eq!(failed.openai_text, "Hello");
        let error = &failed.openai_error["error"];
        assert!(
            error["message"].as_str().unwrap().contains(message),
            "{error}"
        );
        assert_eq!(failed.anthropic_text, "Hello");
        let error = &failed.anthropic_error;
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"]["type"], "api_error");
        assert!(
            error["error"]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{error}"
        );

        // Not streamed, the whole answer fails with 502.
        let (status, whole) = post_json(
            &format!("{base}/v1/messages"),
            &anthropic_request("x", false),
        )
        .await;
        assert_eq!(status, 502);
        assert!(
            whole["error"]["message"]
                .as_str()
                .unwrap()
                .contains(message),
            "{whole}"
        );
    }
}

#[tokio::test]
async fn upstream_refusals_reach_the_client_in_its_apis_shape() {
    let refusal = r#"{"error":{"message":"Incorrect API key provided","type":"invalid_request_error","param":null,"code":"invalid_api_key"}}"#;
    let upstream = RawUpstream::start(vec![json_response("401 Unauthorized", refusal)]).await;
    let base = serve(proxy_to(&upstream.base)).await;
    let (status, error) = post_json(
        &format!("{base}/v1/chat/completions"),
        &openai_request("x", true),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(error["error"]["code"], "invalid_api_key");
    assert_eq!(
        error["error"]["message"],
        "upstream: Incorrect API key provided"
    );
    let (status, error) = post_json(
        &format!("{base}/v1/messages"),
        &anthropic_request("x", true),
    )
    .await;
    assert_eq!(status, 401);
    assert_eq!(error["error"]["type"], "authentication_error");

    // The upstream's own failure is a bad gateway here.
    let upstream =
        RawUpstream::start(vec![json_response("500 Internal Server Error", "oops")]).await;
    let base = serve(proxy_to(&upstream.base)).await;
    let (status, error) = post_json(
        &format!("{base}/v1/messages"),
        &anthropic_request("x", true),
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(error["error"]["message"], "upstream: oops");

    // A model the upstream does not have is still a 404.
    let (_, _, base) = proxy_and_upstream(Duration::ZERO).await;
    let mut request = openai_request("x", true);
    request["model"] = json!("no-such-model");
    let (status, error) = post_json(&format!("{base}/v1/chat/completions"), &request).await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["code"], "model_not_found");
    request = anthropic_request("x", true);
    request["model"] = json!("no-such-model");
    let (status, error) = post_json(&format!("{base}/v1/messages"), &request).await;
    assert_eq!(status, 404);
    assert_eq!(error["error"]["type"], "not_found_error");
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_bad_gateway() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = closed.local_addr().unwrap();
    drop(closed);
    let base = serve(proxy_to(&format!("http://{address}"))).await;
    let (status, error) = post_json(
        &format!("{base}/v1/chat/completions"),
        &openai_request("x", true),
    )
    .await;
    assert_eq!(status, 502);
    let message = error["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("upstream: ") && message.contains("onnect"),
        "{message}"
    );
}

#[tokio::test]
async fn proxied_answers_report_the_upstreams_usage() {
    let (_, _, proxy_base) = proxy_and_upstream(Duration::ZERO).await;
    let direct_base = serve(Llm::demo(Duration::ZERO)).await;
    let request = openai_request(PROMPT, false);
    let (_, direct) = post_json(&format!("{direct_base}/v1/chat/completions"), &request).await;
    let usage = &direct["usage"];
    assert!(usage["prompt_tokens"].as_u64().unwrap() > 0, "{usage}");

    let (_, proxied) = post_json(&format!("{proxy_base}/v1/chat/completions"), &request).await;
    assert_eq!(&proxied["usage"], usage);

    // Streamed, the usage chunk comes only when the client asks for it.
    let mut request = openai_request(PROMPT, true);
    request["stream_options"] = json!({"include_usage": true});
    let events = all_events(&format!("{proxy_base}/v1/chat/completions"), &request).await;
    let usage_chunk = data_json(&events[events.len() - 2]);
    assert_eq!(&usage_chunk["usage"], usage);
    let events = all_events(
        &format!("{proxy_base}/v1/chat/completions"),
        &openai_request(PROMPT, true),
    )
    .await;
    assert!(
        events
            .iter()
            .filter(|event| event.data() != "[DONE]")
            .all(|event| data_json(event).get("usage").is_none())
    );

    let anthropic = format!("{proxy_base}/v1/messages");
    let (_, whole) = post_json(&anthropic, &anthropic_request(PROMPT, false)).await;
    assert_eq!(whole["usage"]["input_tokens"], usage["prompt_tokens"]);
    assert_eq!(whole["usage"]["output_tokens"], usage["completion_tokens"]);
    let events = all_events(&anthropic, &anthropic_request(PROMPT, true)).await;
    let delta = events
        .iter()
        .find(|event| event.event_type() == "message_delta")
        .unwrap();
    assert_eq!(
        data_json(delta)["usage"]["input_tokens"],
        usage["prompt_tokens"]
    );
}

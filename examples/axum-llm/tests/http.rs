//! The demo server's HTTP interface, on 127.0.0.1, read by a real HTTP
//! client and sse-engine's decoder: both streaming formats event by event,
//! whole answers, limits, refusals in each API's shape, the pace of tokens,
//! and a client that leaves.

// The tests print what they measure (time to first token, to cancel).
#![allow(clippy::print_stderr)]

mod common;

use std::time::{Duration, Instant};

use common::{
    WAIT, all_events, anthropic_request, anthropic_text, data_json, get_whole, next_event,
    openai_request, openai_text, post_json, post_whole, serve, stream, within,
};
use example_axum_llm::{Llm, MAX_REQUEST_BYTES, demo};
use serde_json::{Value, json};

const PROMPT: &str = "Does the text survive?\n  “Quotes”, é, 😀 and\r\nline breaks.";

async fn demo_server() -> String {
    serve(Llm::demo(Duration::ZERO)).await
}

#[tokio::test]
async fn the_page_is_served() {
    let (status, content_type, page) = get_whole(&format!("{}/", demo_server().await)).await;
    assert_eq!(status, 200);
    assert_eq!(content_type, "text/html; charset=utf-8");
    assert!(page.contains(r#"<input id="model" value="demo">"#));
    assert!(page.contains("AbortController") && page.contains("fetch(url"));
}

#[tokio::test]
async fn openai_streams_chunks_then_done() {
    let url = format!("{}/v1/chat/completions", demo_server().await);
    let mut request = openai_request(PROMPT, true);
    request["stream_options"] = json!({"include_usage": true});
    let events = all_events(&url, &request).await;

    let (done, chunks) = events.split_last().unwrap();
    assert_eq!(done.data(), "[DONE]");
    let chunks: Vec<Value> = chunks.iter().map(data_json).collect();
    assert!(events.iter().all(|event| event.event_type() == "message"));
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["id"], chunks[0]["id"]);
        assert_eq!(chunk["model"], "demo");
        assert!(chunk["id"].as_str().unwrap().starts_with("chatcmpl-"));
    }
    assert_eq!(
        chunks[0]["choices"][0]["delta"],
        json!({"role": "assistant", "content": ""})
    );
    assert_eq!(openai_text(&events), demo::answer(PROMPT));

    let [.., finish, usage] = &chunks[..] else {
        panic!("too few chunks")
    };
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(usage["choices"], json!([]));
    let deltas = demo::tokens(&demo::answer(PROMPT)).count();
    assert_eq!(usage["usage"]["completion_tokens"], deltas);
    assert_eq!(chunks.len(), deltas + 3);
}

#[tokio::test]
async fn anthropic_streams_named_events() {
    let url = format!("{}/v1/messages", demo_server().await);
    let events = all_events(&url, &anthropic_request(PROMPT, true)).await;
    let deltas = demo::tokens(&demo::answer(PROMPT)).count();

    let mut expected = vec!["message_start", "content_block_start", "ping"];
    expected.extend(std::iter::repeat_n("content_block_delta", deltas));
    expected.extend(["content_block_stop", "message_delta", "message_stop"]);
    let names: Vec<&str> = events.iter().map(|event| event.event_type()).collect();
    assert_eq!(names, expected);
    for event in &events {
        assert_eq!(data_json(event)["type"], event.event_type());
    }
    assert_eq!(anthropic_text(&events), demo::answer(PROMPT));

    let start = data_json(&events[0]);
    assert_eq!(start["message"]["role"], "assistant");
    assert_eq!(start["message"]["model"], "demo");
    assert_eq!(start["message"]["content"], json!([]));
    let message_delta = data_json(&events[events.len() - 2]);
    assert_eq!(message_delta["delta"]["stop_reason"], "end_turn");
    assert_eq!(message_delta["usage"]["output_tokens"], deltas);
}

#[tokio::test]
async fn streamed_and_whole_answers_are_the_same() {
    let base = demo_server().await;
    let openai = format!("{base}/v1/chat/completions");
    let anthropic = format!("{base}/v1/messages");
    for prompt in [PROMPT, "", "one", "another prompt, another ending"] {
        let answer = demo::answer(prompt);
        let (status, whole) = post_json(&openai, &openai_request(prompt, false)).await;
        assert_eq!(status, 200);
        assert_eq!(whole["object"], "chat.completion");
        assert_eq!(whole["choices"][0]["message"]["content"], answer);
        assert_eq!(whole["choices"][0]["finish_reason"], "stop");
        assert_eq!(
            openai_text(&all_events(&openai, &openai_request(prompt, true)).await),
            answer
        );

        let (status, whole) = post_json(&anthropic, &anthropic_request(prompt, false)).await;
        assert_eq!(status, 200);
        assert_eq!(whole["type"], "message");
        assert_eq!(whole["content"], json!([{"type": "text", "text": answer}]));
        assert_eq!(whole["stop_reason"], "end_turn");
        let events = all_events(&anthropic, &anthropic_request(prompt, true)).await;
        assert_eq!(anthropic_text(&events), answer);
    }
}

#[tokio::test]
async fn the_token_limit_cuts_the_answer() {
    let base = demo_server().await;
    let first_five: String = demo::tokens(&demo::answer(PROMPT)).take(5).collect();

    let mut request = openai_request(PROMPT, true);
    request["max_tokens"] = json!(5);
    let events = all_events(&format!("{base}/v1/chat/completions"), &request).await;
    assert_eq!(openai_text(&events), first_five);
    let finish = data_json(&events[events.len() - 2]);
    assert_eq!(finish["choices"][0]["finish_reason"], "length");

    let mut request = anthropic_request(PROMPT, false);
    request["max_tokens"] = json!(5);
    let (_, whole) = post_json(&format!("{base}/v1/messages"), &request).await;
    assert_eq!(whole["content"][0]["text"], first_five);
    assert_eq!(whole["stop_reason"], "max_tokens");
    assert_eq!(whole["usage"]["output_tokens"], 5);
}

#[tokio::test]
async fn unknown_routes_and_methods_get_the_apis_error_shape() {
    let base = demo_server().await;
    for (path, status) in [("/v1/models", 404), ("/v1/chat/completions", 405)] {
        let (got, content_type, body) = get_whole(&format!("{base}{path}?key=secret")).await;
        assert_eq!((got, content_type.as_str()), (status, "application/json"));
        let body: Value = serde_json::from_str(&body).unwrap();
        assert_eq!(
            body,
            json!({"error": {
                "message": format!("Invalid URL (GET {path})"),
                "type": "invalid_request_error",
                "param": null,
                "code": null,
            }})
        );
    }
    let (status, content_type, body) = get_whole(&format!("{base}/v1/messages")).await;
    assert_eq!((status, content_type.as_str()), (405, "application/json"));
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["type"], "error");
    assert_eq!(body["error"]["message"], "Invalid URL (GET /v1/messages)");
    let (status, _, body) = post_whole(&format!("{base}/v1/messages/count_tokens"), "{}").await;
    assert_eq!(status, 404);
    let body: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["error"]["type"], "not_found_error");
}

#[tokio::test]
async fn tools_and_tool_calls_are_refused_naming_the_param() {
    let base = demo_server().await;
    let user = json!({"role": "user", "content": "weather?"});
    let call = json!({"role": "assistant", "content": null, "tool_calls": [{"id": "call_1",
        "type": "function", "function": {"name": "weather", "arguments": "{}"}}]});
    let reply = json!({"role": "tool", "tool_call_id": "call_1", "content": "sunny"});
    let tool = json!([{"type": "function", "function": {"name": "weather"}}]);
    let openai_cases = [
        (
            json!({"messages": [user, call, reply]}),
            "messages[1].tool_calls",
        ),
        (
            json!({"messages": [user, reply]}),
            "messages[1].tool_call_id",
        ),
        (json!({"messages": [user], "tools": tool}), "tools"),
        (
            json!({"messages": [user], "tool_choice": "auto"}),
            "tool_choice",
        ),
    ];
    for (mut request, param) in openai_cases {
        request["model"] = json!("demo");
        let (status, body) = post_json(&format!("{base}/v1/chat/completions"), &request).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["param"], param, "{body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
    for (field, value) in [("tools", tool), ("tool_choice", json!({"type": "auto"}))] {
        let mut request = anthropic_request("weather?", false);
        request[field] = value;
        let (status, body) = post_json(&format!("{base}/v1/messages"), &request).await;
        assert_eq!(status, 400, "{body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with(field),
            "{body}"
        );
    }
}

#[tokio::test]
async fn bad_requests_get_each_apis_error() {
    let base = demo_server().await;
    let too_large = format!(
        r#"{{"model": "demo", "pad": "{}"}}"#,
        "x".repeat(MAX_REQUEST_BYTES)
    );
    let user = r#"[{"role": "user", "content": "hi"}]"#;
    let openai_cases = [
        ("{\"model\": ", 400, None),
        ("[1, 2]", 400, None),
        (r#"{"messages": []}"#, 400, None),
        (r#"{"model": "demo"}"#, 400, Some("messages")),
        (r#"{"model": "demo", "messages": "hi"}"#, 400, None),
        (
            &format!(r#"{{"model": "gpt-nope", "messages": {user}}}"#),
            404,
            Some("model"),
        ),
        (
            &format!(r#"{{"model": "demo", "messages": {user}, "max_tokens": 0}}"#),
            400,
            Some("max_tokens"),
        ),
        (
            &format!(r#"{{"model": "demo", "messages": {user}, "max_tokens": -1}}"#),
            400,
            Some("max_tokens"),
        ),
        (&too_large, 413, None),
    ];
    for (body, status, param) in openai_cases {
        let (got, content_type, answer) =
            post_whole(&format!("{base}/v1/chat/completions"), body.to_owned()).await;
        assert_eq!(
            (got, content_type.as_str()),
            (status, "application/json"),
            "{answer}"
        );
        let error: Value = serde_json::from_str(&answer).unwrap();
        let error = &error["error"];
        assert!(
            error["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty())
        );
        assert_eq!(error["type"], "invalid_request_error", "{answer}");
        assert_eq!(error["param"].as_str(), param, "{answer}");
        assert!(error.get("code").is_some());
    }

    let anthropic_cases = [
        ("{\"model\": ", 400, "invalid_request_error"),
        (
            r#"{"max_tokens": 5, "messages": []}"#,
            400,
            "invalid_request_error",
        ),
        (
            &format!(r#"{{"model": "demo", "messages": {user}}}"#),
            400,
            "invalid_request_error",
        ),
        (
            r#"{"model": "demo", "max_tokens": 5}"#,
            400,
            "invalid_request_error",
        ),
        (
            &format!(r#"{{"model": "claude-nope", "max_tokens": 5, "messages": {user}}}"#),
            404,
            "not_found_error",
        ),
        (&too_large, 413, "request_too_large"),
    ];
    for (body, status, kind) in anthropic_cases {
        let (got, content_type, answer) =
            post_whole(&format!("{base}/v1/messages"), body.to_owned()).await;
        assert_eq!(
            (got, content_type.as_str()),
            (status, "application/json"),
            "{answer}"
        );
        let error: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"]["type"], kind, "{answer}");
        assert!(
            error["error"]["message"]
                .as_str()
                .is_some_and(|message| !message.is_empty())
        );
    }
}

#[tokio::test]
async fn tokens_arrive_one_by_one_with_the_delay() {
    let delay = Duration::from_millis(20);
    let url = format!("{}/v1/chat/completions", serve(Llm::demo(delay)).await);
    let started = Instant::now();
    let mut events = stream(&url, &openai_request("pace", true)).await;
    let mut first_token = None;
    let mut deltas = 0;
    while let Some(event) = next_event(&mut events).await {
        let chunk: Value = serde_json::from_str(event.data()).unwrap_or_default();
        if chunk["choices"][0]["delta"]["content"]
            .as_str()
            .is_some_and(|text| !text.is_empty())
        {
            first_token.get_or_insert_with(|| started.elapsed());
            deltas += 1;
        }
    }
    let total = started.elapsed();
    let first_token = first_token.unwrap();
    // Each token after the first waited its delay: the answer cannot be
    // faster than that, and its first token came long before its end.
    assert!(
        total >= delay * (deltas - 1),
        "{total:?} for {deltas} tokens"
    );
    assert!(
        first_token < total / 4,
        "first token after {first_token:?} of {total:?}"
    );
    eprintln!("time to first token {first_token:?}; {deltas} tokens in {total:?}");
}

#[tokio::test]
async fn a_client_that_leaves_stops_its_generation() {
    // 100 ms between tokens: the rest of the answer would take seconds.
    let llm = Llm::demo(Duration::from_millis(100));
    let base = serve(llm.clone()).await;
    for (path, request) in [
        ("/v1/chat/completions", openai_request("leave early", true)),
        ("/v1/messages", anthropic_request("leave early", true)),
    ] {
        let mut events = stream(&format!("{base}{path}"), &request).await;
        for _ in 0..4 {
            next_event(&mut events).await.unwrap();
        }
        assert_eq!(llm.generations().open(), 1);
        drop(events);
        let released = within(Duration::from_secs(1), "the generation ends", || {
            llm.generations().open() == 0
        })
        .await;
        eprintln!("{path}: the generation ended {released:?} after the client left");
    }
}

#[tokio::test]
async fn the_binary_listens_where_it_says() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .unwrap()
        .port();
    let mut server = tokio::process::Command::new(env!("CARGO_BIN_EXE_example-axum-llm"))
        .env("PORT", port.to_string())
        .env_remove("UPSTREAM_URL")
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let stdout = server.stdout.take().unwrap();
    let mut lines = tokio::io::AsyncBufReadExt::lines(tokio::io::BufReader::new(stdout));
    let first = tokio::time::timeout(WAIT, lines.next_line())
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}");
    assert!(first.contains(&url) && first.contains("demo"), "{first}");
    let (status, _, _) = get_whole(&format!("{url}/")).await;
    assert_eq!(status, 200);
    server.kill().await.unwrap();
}

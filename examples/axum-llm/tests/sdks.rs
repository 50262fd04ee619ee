//! The official Python SDKs (PyPI `openai` and `anthropic`, pinned in
//! `python/requirements.txt`) pointed at the example with `base_url`: they
//! parse every stream without error, and the text they assemble is exactly
//! the text the server generated. See `common/python.rs` for when these
//! tests are skipped.
//!
//! Every server here is [`framed`]: its streams open with `retry:` and get a
//! keep-alive comment every 5 ms, while the demo waits 25 ms between tokens,
//! so several comments pass between two events. The SDKs' decoders report a
//! block with only `retry` as an event with empty data: the OpenAI SDK then
//! fails on `json.loads("")`, so the OpenAI tests here fail with any framing
//! that ends the opening `retry:` with a blank line. (The Anthropic SDK
//! drops events of no type it knows, and passes either way.)

mod common;

use std::time::Duration;

use common::python::{Python, Sdk};
use common::raw_upstream::{ERROR_EVENT, RawUpstream, Step, chunk, stream_head};
use common::{
    SLOW_TOKENS, anthropic_request, framed, framed_demo, openai_request, proxy_to, serve,
};
use example_axum_llm::{Llm, demo};
use serde_json::{Value, json};

const PROMPT: &str = "Can an SDK read this? “Quotes”, é, 😀\nand a second line.";

/// The request fields of a script: what `create(...)` is called with.
fn sdk_request(sdk: Sdk, prompt: &str) -> Value {
    let mut request = match sdk {
        Sdk::OpenAi => openai_request(prompt, false),
        Sdk::Anthropic => anthropic_request(prompt, false),
    };
    // The scripts choose streaming themselves.
    request.as_object_mut().unwrap().remove("stream");
    request
}

/// Streams, streams with the SDK's helper, and asks for a whole answer;
/// each must give the demo's text.
async fn the_sdk_reads_every_answer(python: &Python, sdk: Sdk, base: &str) {
    let answer = demo::answer(PROMPT);
    let tokens = demo::tokens(&answer).count();
    let request = sdk_request(sdk, PROMPT);

    let runs = [
        ("stream", &request),
        ("helper", &request),
        ("complete", &request),
    ];
    let [streamed, helper, whole] = &python.run(sdk, base, &runs).await[..] else {
        panic!("one result per scenario")
    };
    assert_eq!(streamed["text"], answer, "{streamed}");
    assert_eq!(helper["text"], answer, "{helper}");
    assert_eq!(helper["final_text"], answer, "{helper}");
    assert_eq!(whole["text"], answer, "{whole}");

    match sdk {
        Sdk::OpenAi => {
            assert_eq!(streamed["roles"], json!(["assistant"]));
            assert_eq!(streamed["finish_reasons"], json!(["stop"]));
            assert_eq!(streamed["usage"]["completion_tokens"], tokens);
            assert_eq!(helper["finish_reason"], "stop");
            assert_eq!(whole["object"], "chat.completion");
        }
        Sdk::Anthropic => {
            // The SDK passes every event on but `ping`, which it drops.
            let mut events = vec!["message_start", "content_block_start"];
            events.extend(std::iter::repeat_n("content_block_delta", tokens));
            events.extend(["content_block_stop", "message_delta", "message_stop"]);
            assert_eq!(streamed["events"], json!(events));
            assert_eq!(streamed["stop_reason"], "end_turn");
            assert_eq!(streamed["usage"]["output_tokens"], tokens);
            assert_eq!(helper["stop_reason"], "end_turn");
            assert_eq!(whole["type"], "message");
        }
    }
}

#[tokio::test]
async fn openai_sdk_reads_the_demo() {
    let Some(python) = Python::or_skip("openai_sdk_reads_the_demo") else {
        return;
    };
    let base = serve(framed_demo()).await;
    the_sdk_reads_every_answer(&python, Sdk::OpenAi, &base).await;
}

#[tokio::test]
async fn anthropic_sdk_reads_the_demo() {
    let Some(python) = Python::or_skip("anthropic_sdk_reads_the_demo") else {
        return;
    };
    let base = serve(framed_demo()).await;
    the_sdk_reads_every_answer(&python, Sdk::Anthropic, &base).await;
}

#[tokio::test]
async fn both_sdks_read_the_proxy() {
    let Some(python) = Python::or_skip("both_sdks_read_the_proxy") else {
        return;
    };
    // The upstream's comments and `retry` are read by the proxy's decoder;
    // the proxy writes its own to the SDKs.
    let upstream = serve(framed_demo()).await;
    let base = serve(framed(proxy_to(&upstream))).await;
    // At the same time: each takes seconds at the demo's pace.
    tokio::join!(
        the_sdk_reads_every_answer(&python, Sdk::OpenAi, &base),
        the_sdk_reads_every_answer(&python, Sdk::Anthropic, &base),
    );
}

#[tokio::test]
async fn sdks_raise_the_apis_errors() {
    let Some(python) = Python::or_skip("sdks_raise_the_apis_errors") else {
        return;
    };
    let base = serve(framed(Llm::demo(Duration::ZERO))).await;
    for sdk in [Sdk::OpenAi, Sdk::Anthropic] {
        let mut unknown = sdk_request(sdk, "hi");
        unknown["model"] = json!("no-such-model");
        let mut empty = sdk_request(sdk, "hi");
        empty["messages"] = json!([]);
        let runs = [("refused", &unknown), ("refused", &empty)];
        let [not_found, error] = &python.run(sdk, &base, &runs).await[..] else {
            panic!("one result per scenario")
        };
        assert_eq!(not_found["class"], "NotFoundError", "{not_found}");
        assert_eq!(not_found["status"], 404);
        assert_eq!(error["class"], "BadRequestError", "{error}");
        assert_eq!(error["status"], 400);
        match sdk {
            Sdk::OpenAi => assert_eq!(error["param"], "messages"),
            Sdk::Anthropic => assert_eq!(error["type"], "invalid_request_error"),
        }
    }
}

#[tokio::test]
async fn sdks_raise_an_upstream_failure_mid_answer() {
    let Some(python) = Python::or_skip("sdks_raise_an_upstream_failure_mid_answer") else {
        return;
    };
    let failure = Step::Send(ERROR_EVENT.as_bytes().to_vec());
    // "Hello" then the failure, with time for keep-alive comments before
    // each part.
    let pause = Step::Pause(SLOW_TOKENS);
    let steps = vec![
        stream_head(),
        chunk("Hel"),
        pause.clone(),
        chunk("lo"),
        pause,
        failure,
    ];
    let upstream = RawUpstream::start(steps).await;
    let base = serve(framed(proxy_to(&upstream.base))).await;

    let request = sdk_request(Sdk::OpenAi, "x");
    let openai = &python
        .run(Sdk::OpenAi, &base, &[("stream_fails", &request)])
        .await[0];
    assert_eq!(openai["text"], "Hello", "{openai}");
    assert_eq!(openai["error"]["class"], "APIError");
    assert_eq!(
        openai["error"]["message"],
        "upstream: The server had an error"
    );
    assert_eq!(openai["error"]["type"], "server_error");

    let request = sdk_request(Sdk::Anthropic, "x");
    let anthropic = &python
        .run(Sdk::Anthropic, &base, &[("stream_fails", &request)])
        .await[0];
    assert_eq!(anthropic["text"], "Hello", "{anthropic}");
    assert_eq!(anthropic["error"]["type"], "api_error");
    assert_eq!(
        anthropic["error"]["message"],
        "upstream: The server had an error"
    );
}

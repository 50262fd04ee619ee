//! The client matrix through compression: for each codec (gzip, br, zstd),
//! real clients forced to it read the chat's event streams, and each reads
//! every event before the next is published.
//!
//! One run of the server's own binary, as `cargo run` starts it, with a
//! keep-alive longer than the run, so that no comment pushes out an event
//! that waited in a compressor. The clients, each on a stream of its own:
//!
//! - headless Chromium's `EventSource`, one per codec, forced through the
//!   DevTools protocol (`Network.setExtraHTTPHeaders` with
//!   `Accept-Encoding`; a page cannot set it), and one with what Chromium
//!   advertises by itself;
//! - the npm `eventsource` package, `httpx-sse` and `curl --compressed -N`,
//!   with `Accept-Encoding: <codec>` (httpx decodes br and zstd with the
//!   `brotli` and `zstandard` packages; Node's `fetch` decodes zstd from
//!   Node 22.15 / 23.8 on, and is skipped for it on an older Node unless
//!   `SSE_REQUIRE_NODE_ZSTD=1`).
//!
//! On time: each message of the corpus (every shape of the client matrix's
//! first messages: line breaks of every kind, empty data, leading spaces,
//! Unicode, a forged field; then long lines) is published only once every
//! client has reported the one before, so an event held back by a compressor
//! until more arrive stops the run. At the end each client must have
//! received exactly what was published, and each response must have had the
//! `Content-Encoding` the client was forced to (Chromium's: as the server
//! negotiates what it advertised), so that a silent fall-back to identity
//! fails.
#![allow(clippy::missing_panics_doc, clippy::print_stderr)]

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use sse_engine::compression::Codec;
use sse_interop::{Client, Report, Spec, events, skip_or_fail, start_with_codec};

use crate::browser::{Browser, browser_or_skip};
use crate::matrix::FIRST;
use crate::participants::{
    Participant, STEP, Server, TYPES, check, free_port, opens, publish_one, start_browser_source,
    wait_all,
};

/// The codecs each client is forced to, as `Content-Encoding` names them.
const CODECS: [&str; 3] = ["gzip", "br", "zstd"];

/// [`CODECS`] that the chat servers are built with (this crate's features,
/// which the servers' own turn on); each other one is skipped, with a
/// message (a failure where `SSE_REQUIRE_CLIENTS=1`).
fn codecs_built_in(test: &str) -> Vec<&'static str> {
    CODECS
        .into_iter()
        .filter(|name| {
            let built_in = Codec::ALL
                .into_iter()
                .any(|codec| codec.as_str() == *name && codec.is_compiled_in());
            if !built_in {
                skip_or_fail(
                    &format!("{test} over {name}"),
                    "the chat servers are built without it",
                    "SSE_REQUIRE_CLIENTS",
                    "build them with their default features",
                );
            }
            built_in
        })
        .collect()
}

/// The clients forced to each codec with an `Accept-Encoding` header.
const CLIENTS: [Client; 3] = [Client::EventSource, Client::HttpxSse, Client::Curl];

/// The Chromium stream that sends what Chromium advertises by itself.
const ADVERTISED: &str = "advertised";

/// What is published, in order: every shape of [`FIRST`], long lines (one
/// line of 14 KB that compresses poorly, and 300 lines with every kind of
/// line break, 13 KB), and the event that ends the run.
///
/// Each stays under 16 KiB: curl 7.88 (with libbrotli 1.0.9) and Python's
/// `brotli` (1.1 and 1.2) stop decoding when the input runs out although
/// the decoder still holds output (they do not ask
/// `BrotliDecoderHasMoreOutput`): curl keeps back what one read decodes to
/// beyond its 16 KiB buffer, httpx beyond 32 KiB less 16 bytes, until more
/// bytes arrive, so a larger event reaches their application only with the
/// next one (Node and Chromium decode the same bytes at once; gzip and zstd
/// are not affected).
fn corpus() -> Vec<(String, Option<&'static str>)> {
    let mut corpus: Vec<(String, Option<&'static str>)> = FIRST
        .iter()
        .map(|(data, event)| ((*data).to_owned(), *event))
        .collect();
    // Numbers spelled out do not compress to nothing, so the codecs write
    // several blocks for one event.
    let long_line: String = (0..2_400u64)
        .map(|n| format!("{:x}", n.wrapping_mul(2_654_435_761) % 1_000_003))
        .collect::<Vec<_>>()
        .join(" ");
    corpus.push((long_line, None));
    let breaks = ["\n", "\r\n", "\r"];
    let many_lines: String = (0..300)
        .map(|n| format!(" line {n} é 😀 {}{}", "-".repeat(n % 40), breaks[n % 3]))
        .collect();
    corpus.push((many_lines, Some("note")));
    corpus.push(("the end".to_owned(), Some("done")));
    corpus
}

/// The whole compressed matrix against the chat server `binary` (see the
/// module docs).
pub async fn every_client_reads_each_event_on_time_through_every_codec(
    binary: &str,
    server_name: &str,
) {
    let test = format!("the compressed client matrix against {server_name}");
    let server = Server::start_with(binary, free_port(), Duration::from_secs(600)).await;
    let base = server.base();
    let built_in = codecs_built_in(&test);

    // Each participant with the codec its response must have had (`None`:
    // Chromium's own choice, checked from its log).
    let mut participants = Vec::new();
    let mut codecs = Vec::new();
    let browser = browser_or_skip(&test).await.map(Arc::new);
    if let Some(browser) = &browser {
        for (participant, codec) in browser_sources(browser, &base, &built_in).await {
            participants.push(participant);
            codecs.push(codec);
        }
    }
    for &codec in &built_in {
        let mut spec = Spec::get(format!("{base}/events?codec={codec}"), "done").types(TYPES);
        spec.reconnect = false;
        spec.timeout_ms = 4 * u64::try_from(STEP.as_millis()).expect("a few seconds");
        for client in CLIENTS {
            if let Some(run) = start_with_codec(client, codec, &spec, &test) {
                participants.push(Participant::Run(run));
                codecs.push(Some(codec));
            }
        }
    }
    // `curl --compressed -N` as the README shows it, with curl's own
    // `Accept-Encoding`: it gets gzip, the server's first choice.
    if built_in.contains(&"gzip") {
        let mut spec = Spec::get(format!("{base}/events?codec=curl-default"), "done").types(TYPES);
        spec.reconnect = false;
        spec.timeout_ms = 4 * u64::try_from(STEP.as_millis()).expect("a few seconds");
        match Client::Curl.start(&spec) {
            Ok(run) => {
                participants.push(Participant::Run(run));
                codecs.push(Some("gzip"));
            }
            Err(reason) => skip_or_fail(
                &format!("{test}: curl with its own Accept-Encoding"),
                &reason,
                "SSE_REQUIRE_CLIENTS",
                "see the README's interop section",
            ),
        }
    }
    wait_all(&participants, "a connection", |_, r| opens(r) >= 1).await;

    // On time: the next message only once every client has the last.
    let mut expected = Vec::new();
    let mut announced = Vec::new();
    for (n, (data, event)) in corpus().iter().enumerate() {
        publish_one(&base, (data, *event), &mut announced, &mut expected).await;
        let what = format!("message {n} before the next is published");
        wait_all(&participants, &what, |_, r| {
            events(r).len() >= expected.len()
        })
        .await;
    }

    for (participant, codec) in participants.iter().zip(&codecs) {
        let reports = participant.reports().await;
        let name = match (participant, codec) {
            (Participant::Run(run), Some(codec)) => format!("{} over {codec}", run.name()),
            _ => participant.name().to_owned(),
        };
        assert!(
            reports.contains(&Report::End),
            "{name} failed: {reports:#?}"
        );
        check(&name, &events(&reports), &expected);
        if let (Participant::Run(_), Some(codec)) = (participant, codec) {
            let encodings: Vec<_> = reports
                .iter()
                .filter_map(|r| match r {
                    Report::Encoding { name } => Some(name.as_deref()),
                    _ => None,
                })
                .collect();
            assert_eq!(
                encodings,
                [Some(*codec)],
                "{name}: the response's Content-Encoding"
            );
        }
        eprintln!(
            "{name}: {} events on time and exactly as published",
            expected.len()
        );
    }
    if let Some(browser) = &browser {
        check_browser_encodings(browser, &built_in).await;
    }
}

/// Opens the chat page, then an `EventSource` per codec, each forced to it,
/// and one with what Chromium advertises: each waits to be open before the
/// next is made, so that its request has left with its own header.
async fn browser_sources(
    browser: &Arc<Browser>,
    base: &str,
    codecs: &[&'static str],
) -> Vec<(Participant, Option<&'static str>)> {
    browser.open(&format!("{base}/")).await;
    browser.devtools("Network.enable", json!({})).await;
    let mut sources = Vec::new();
    for codec in codecs.iter().copied().chain([ADVERTISED]) {
        let (headers, name, forced) = if codec == ADVERTISED {
            (
                json!({}),
                "Chromium EventSource (Debian chromium), its own Accept-Encoding".to_owned(),
                None,
            )
        } else {
            (
                json!({ "Accept-Encoding": codec }),
                format!("Chromium EventSource (Debian chromium), Accept-Encoding: {codec}"),
                Some(codec),
            )
        };
        browser
            .devtools("Network.setExtraHTTPHeaders", json!({ "headers": headers }))
            .await;
        let global = format!("compressed_{codec}");
        start_browser_source(browser, &global, &format!("/events?codec={codec}")).await;
        let participant = Participant::Browser {
            browser: Arc::clone(browser),
            name,
            global,
        };
        wait_all(
            std::slice::from_ref(&participant),
            "a connection",
            |_, r| opens(r) >= 1,
        )
        .await;
        sources.push((participant, forced));
    }
    browser
        .devtools("Network.setExtraHTTPHeaders", json!({ "headers": {} }))
        .await;
    sources
}

/// Checks, from Chromium's network log, that each `/events?codec=<codec>`
/// response had that `Content-Encoding`, and the one with Chromium's own
/// `Accept-Encoding` what the server negotiates from it; says what Chromium
/// advertised and got.
async fn check_browser_encodings(browser: &Browser, codecs: &[&str]) {
    let log = browser.performance_log().await;
    let header = |headers: &Value, name: &str| -> Option<String> {
        headers.as_object().and_then(|headers| {
            headers
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(name))
                .and_then(|(_, value)| value.as_str().map(str::to_owned))
        })
    };
    for codec in codecs.iter().copied().chain([ADVERTISED]) {
        let url = format!("/events?codec={codec}");
        let response = log
            .iter()
            .find(|m| {
                m["method"] == "Network.responseReceived"
                    && m["params"]["response"]["url"]
                        .as_str()
                        .is_some_and(|u| u.ends_with(&url))
            })
            .unwrap_or_else(|| panic!("Chromium's log has no response for {url}"));
        let request_id = &response["params"]["requestId"];
        let sent = log
            .iter()
            .find(|m| {
                m["method"] == "Network.requestWillBeSentExtraInfo"
                    && &m["params"]["requestId"] == request_id
            })
            .and_then(|m| header(&m["params"]["headers"], "accept-encoding"))
            .unwrap_or_else(|| panic!("Chromium's log has no request headers for {url}"));
        let got = header(
            &response["params"]["response"]["headers"],
            "content-encoding",
        );
        let want = if codec == ADVERTISED {
            // What the module docs promise a browser: gzip, the default
            // order's first choice (Chromium advertises it with others).
            assert!(sent.contains("gzip"), "Chromium advertised {sent:?}");
            Some("gzip".to_owned())
        } else {
            Some(codec.to_owned())
        };
        assert_eq!(got, want, "Chromium's {url}: sent Accept-Encoding {sent:?}");
        eprintln!("Chromium {url}: sent Accept-Encoding {sent:?}, got Content-Encoding {got:?}");
    }
}

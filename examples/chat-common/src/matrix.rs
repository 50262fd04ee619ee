//! The client matrix against a chat server binary: every client that people
//! use (headless Chromium's `EventSource`, the npm `eventsource`,
//! `@microsoft/fetch-event-source` and `eventsource-parser`, Python's
//! `httpx-sse`, sse-engine's decoder and `reqwest-eventsource`) reports
//! exactly the events that were published, in order, with their types, data
//! and ids: no empty extras, nothing missing.
//!
//! One run of the server's own binary, as `cargo run` starts it, with a
//! short keep-alive (several comments pass between events) and an opening
//! `retry:`; the clients connect through a [`CutProxy`]:
//!
//! 1. messages of every shape are published (multi-line, CR and CRLF, empty,
//!    leading spaces, Unicode, a forged `data:` inside data); the first with
//!    an event name comes after the chat's announcement of that name;
//! 2. the proxy drops every connection, as a load balancer can, and more
//!    messages are published while no client is connected: each client
//!    reconnects with `Last-Event-ID` and receives exactly those;
//! 3. Ctrl-C (SIGINT) stops the server: every client receives the final
//!    `bye` event;
//! 4. the server starts again: every client reconnects with an id of the
//!    previous run and receives a `gap` event, then what is published next.
#![allow(clippy::missing_panics_doc, clippy::print_stderr)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use sse_interop::{Client, CutProxy, Report, Spec, events, start_all};

use crate::browser::browser_or_skip;
use crate::participants::{
    Expected, Participant, STEP, Server, TYPES, check, errors, free_port, opens, publish_one,
    start_browser_source, wait_all,
};
use crate::suite::post_ok;

/// What is published before the connections are dropped: every shape of
/// data a chat message may have.
pub(crate) const FIRST: [(&str, Option<&str>); 9] = [
    ("hello", None),
    ("two\nlines", Some("note")),
    ("", None),
    ("  leading spaces", None),
    ("crlf\r\nand cr\rend", None),
    ("€ 😀 unicode", Some("note")),
    ("{\"json\": [1, 2]}", None),
    ("\nafter an empty first line", None),
    ("data: forged\n\nid: 9", None),
];

/// Publishes `messages` on `server`, one every 120 ms (three keep-alive
/// intervals), and adds them to `expected`, each after the announcement of
/// its event name when this run of the server had not announced it
/// (`announced`, updated).
async fn publish(
    server: &str,
    messages: &[(&str, Option<&str>)],
    announced: &mut Vec<String>,
    expected: &mut Vec<Expected>,
) {
    for message in messages {
        publish_one(server, *message, announced, expected).await;
        tokio::time::sleep(Duration::from_millis(120)).await;
    }
}

/// The whole matrix against the chat server `binary` (see the module docs).
pub async fn every_client_receives_exactly_what_was_published(binary: &str, server_name: &str) {
    let port = free_port();
    let server = Server::start(binary, port).await;
    let proxy = CutProxy::start(SocketAddr::from(([127, 0, 0, 1], port))).await;
    let through_proxy = format!("http://{}", proxy.address());

    // The browser first: it takes the longest to start, and the others'
    // time limits run from their start.
    let mut participants = Vec::new();
    let test = format!("the client matrix against {server_name}");
    if let Some(browser) = browser_or_skip(&test).await {
        browser.open(&format!("{through_proxy}/")).await;
        start_browser_source(&browser, "matrix", "/events").await;
        participants.push(Participant::Browser {
            browser: Arc::new(browser),
            name: "Chromium EventSource (Debian chromium)".to_owned(),
            global: "matrix".to_owned(),
        });
    }
    let mut spec = Spec::get(format!("{through_proxy}/events"), "done").types(TYPES);
    spec.timeout_ms = 4 * u64::try_from(STEP.as_millis()).expect("a few seconds");
    participants.extend(
        start_all(&Client::ALL, &spec)
            .into_iter()
            .map(Participant::Run),
    );
    wait_all(&participants, "a connection", |_, r| opens(r) >= 1).await;

    // 1. Every shape of data, with keep-alive comments in between.
    let mut expected = Vec::new();
    let mut announced = Vec::new();
    publish(&server.base(), &FIRST, &mut announced, &mut expected).await;
    wait_all(&participants, "the first messages", |_, r| {
        events(r).len() >= expected.len()
    })
    .await;

    // 2. The connections drop; what is published meanwhile, while no client
    // is connected, is replayed.
    let mut opened = Vec::new();
    for participant in &participants {
        let reports = participant.reports().await;
        opened.push((opens(&reports), errors(&reports)));
    }
    proxy.cut();
    for (participant, (_, failed)) in participants.iter().zip(&opened) {
        wait_all(
            std::slice::from_ref(participant),
            "the dropped connection",
            |_, r| errors(r) > *failed,
        )
        .await;
    }
    publish(
        &server.base(),
        &[
            ("missed 1", None),
            ("missed 2", Some("note")),
            ("missed 3", None),
        ],
        &mut announced,
        &mut expected,
    )
    .await;
    proxy.resume();
    for (participant, (opened, _)) in participants.iter().zip(&opened) {
        wait_all(std::slice::from_ref(participant), "a reconnect", |_, r| {
            opens(r) > *opened && events(r).len() >= expected.len()
        })
        .await;
    }
    publish(
        &server.base(),
        &[("live again", None)],
        &mut announced,
        &mut expected,
    )
    .await;
    wait_all(&participants, "the live message", |_, r| {
        events(r).len() >= expected.len()
    })
    .await;

    // 3. Ctrl-C: the final event reaches every client.
    let last_id = expected.last().and_then(|e| e.id.clone()).expect("an id");
    server.interrupt().await;
    expected.push(Expected::new(Some("bye"), "server restarting", None));
    wait_all(&participants, "the final event", |_, r| {
        events(r).len() >= expected.len()
    })
    .await;

    // 4. A new run of the server, on another port behind the same proxy (as
    // behind a load balancer): the old ids are foreign, a gap, then on.
    let server = Server::start(binary, free_port()).await;
    proxy.set_upstream(SocketAddr::from(([127, 0, 0, 1], server.port)));
    wait_all(&participants, "the gap event", |_, r| {
        events(r).len() > expected.len()
    })
    .await;
    let before_gap = expected.len();
    // A new run: it announces names anew.
    let mut announced = Vec::new();
    publish(
        &server.base(),
        &[("after the restart", None), ("the end", Some("done"))],
        &mut announced,
        &mut expected,
    )
    .await;
    // The gap moves the cursor to where the new run stood when the client
    // came back: before its first event.
    let first_new_id = expected[before_gap].id.clone().expect("an id");
    let (epoch, _) = first_new_id.split_once('-').expect("<epoch>-<seq>");
    let gap = format!(
        r#"{{"reason":"foreign","lastEventId":{}}}"#,
        serde_json::Value::from(last_id)
    );
    expected.insert(
        before_gap,
        Expected::new(Some("gap"), &gap, Some(format!("{epoch}-0"))),
    );
    wait_all(&participants, "the end of the run", |_, r| {
        r.iter()
            .any(|r| matches!(r, Report::End | Report::Exited(_)))
    })
    .await;

    for participant in &participants {
        let reports = participant.reports().await;
        let failed = reports
            .iter()
            .any(|r| matches!(r, Report::Exited(code) if *code != Some(0)));
        assert!(
            !failed && reports.contains(&Report::End),
            "{} failed: {reports:#?}",
            participant.name()
        );
        check(participant.name(), &events(&reports), &expected);
        eprintln!(
            "{}: {} events exactly as published, {} connections",
            participant.name(),
            expected.len(),
            opens(&reports)
        );
    }
    // The run had what it is meant to test: comments between the events and
    // an opening `retry` (sse-engine's decoder shows both).
    let decoder = participants
        .iter()
        .find(|p| p.name() == Client::SseCoreDecoder.name())
        .expect("the decoder always runs");
    let reports = decoder.reports().await;
    let comments = reports
        .iter()
        .filter(|r| matches!(r, Report::Comment))
        .count();
    assert!(comments >= expected.len(), "{comments} keep-alive comments");
    assert!(
        reports
            .iter()
            .any(|r| matches!(r, Report::Retry { ms } if (200..=300).contains(ms))),
        "the opening retry: {reports:#?}"
    );
}

/// The signal `signal` (`INT` for Ctrl-C, `TERM` as `docker stop` sends)
/// with `clients` streams open on the chat server `binary`: every one of
/// them receives the final `bye` event, then the end of its stream, and the
/// server exits.
pub async fn stopping_sends_the_final_event_to_every_client(
    binary: &str,
    signal: &str,
    clients: usize,
) {
    let port = free_port();
    let server = Server::start(binary, port).await;
    let base = server.base();
    let mut streams = Vec::new();
    for _ in 0..clients {
        let mut stream = crate::suite::Stream::open(&base, "", None).await;
        stream.ready().await;
        streams.push(stream);
    }
    let id = post_ok(&base, "before the end", None).await;
    server.stop_with(signal).await;
    for (n, stream) in streams.iter_mut().enumerate() {
        let events = stream.next(2).await;
        let seen: Vec<_> = events
            .iter()
            .map(|e| (e.event_type(), e.data(), e.last_event_id()))
            .collect();
        assert_eq!(
            seen,
            [
                ("message", "before the end", id.as_str()),
                ("bye", "server restarting", id.as_str()),
            ],
            "client {n} of {clients}"
        );
        assert!(stream.ended().await, "client {n}: the stream ends after it");
    }
}

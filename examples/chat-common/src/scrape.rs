//! `GET /metrics` after real traffic: the figures a chat server's
//! Prometheus endpoint shows match what its clients did.
#![allow(clippy::missing_panics_doc)]

use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;

use crate::suite::{Stream, post_ok, send};
use crate::two_instances::Instance;

/// Clients that subscribe, and messages posted, in [`metrics_follow_the_traffic`].
const CLIENTS: usize = 3;
const MESSAGES: usize = 5;

/// The text of `GET /metrics`, checked to be Prometheus' text format.
pub async fn scrape(base: &str) -> String {
    let request = Request::get(format!("{base}/metrics"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let (status, body, content_type) = send(request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type.as_deref(), Some(crate::observe::CONTENT_TYPE));
    body
}

/// The value of `series` (a name, with its labels as Prometheus writes
/// them: `name{reason="client_gone"}`) in a scrape; 0 when it is absent
/// (a counter not counted yet).
pub fn value(scraped: &str, series: &str) -> f64 {
    scraped
        .lines()
        .filter(|line| !line.starts_with('#'))
        .find_map(|line| {
            let (name, value) = line.rsplit_once(' ')?;
            (name == series).then(|| value.parse().expect("a number"))
        })
        .unwrap_or(0.0)
}

/// Starts `binary` (a chat server) with a 100 ms keep-alive; three clients
/// subscribe, five messages are posted and every client reads them all;
/// then one client goes away. `GET /metrics` must then show exactly that:
/// the messages published, each delivered to every client (and to the
/// chat's own subscriptions), no replay and no gap, the streams and
/// subscribers open back down by one (the chat's own subscriptions, counted
/// before, aside), one stream ended by its client, and every byte written
/// uncompressed (the clients ask for no compression).
pub async fn metrics_follow_the_traffic(binary: &str) {
    let instance = Instance::start_env(binary, &[("KEEP_ALIVE_MS", "100")]);
    let base = instance.base.as_str();
    // The chat may hold subscriptions of its own (the event names' registry).
    let idle = scrape(base).await;
    let own = value(&idle, "sse_hub_subscribers");
    assert_eq!(value(&idle, "sse_streams_open"), 0.0, "{idle}");
    let mut streams = Vec::new();
    for _ in 0..CLIENTS {
        let mut stream = Stream::open(base, "", None).await;
        stream.ready().await;
        streams.push(stream);
    }
    let open = scrape(base).await;
    assert_eq!(value(&open, "sse_streams_open"), CLIENTS as f64, "{open}");
    assert_eq!(
        value(&open, "sse_hub_subscribers"),
        own + CLIENTS as f64,
        "{open}"
    );

    for n in 0..MESSAGES {
        post_ok(base, &format!("message {n}"), None).await;
    }
    for stream in &mut streams {
        assert_eq!(stream.next(MESSAGES).await.len(), MESSAGES);
    }
    drop(streams.pop());

    // The server learns that the client left when it reads the end of the
    // connection, or a write (a keep-alive comment, every 100 ms) fails; the
    // chat's own subscriptions read the messages on their own time: scrape
    // until both have happened.
    let delivered = (CLIENTS as f64 + own) * MESSAGES as f64;
    let mut scraped = scrape(base).await;
    for _ in 0..200 {
        if value(&scraped, "sse_streams_open") < CLIENTS as f64
            && value(&scraped, "sse_hub_events_delivered_total") >= delivered
        {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        scraped = scrape(base).await;
    }
    let figure = |series: &str| value(&scraped, series);
    assert_eq!(
        figure("sse_streams_open"),
        (CLIENTS - 1) as f64,
        "{scraped}"
    );
    assert_eq!(
        figure("sse_hub_subscribers"),
        own + (CLIENTS - 1) as f64,
        "{scraped}"
    );
    assert_eq!(
        figure(r#"sse_streams_ended_total{reason="client_gone"}"#),
        1.0,
        "{scraped}"
    );
    assert_eq!(figure("sse_hub_events_published_total"), MESSAGES as f64);
    assert_eq!(
        figure("sse_hub_events_delivered_total"),
        delivered,
        "{scraped}"
    );
    assert_eq!(figure("sse_hub_events_replayed_total"), 0.0);
    for reason in ["evicted", "lagged", "foreign", "unknown", "lost"] {
        assert_eq!(
            figure(&format!(r#"sse_hub_gaps_total{{reason="{reason}"}}"#)),
            0.0
        );
    }
    let written = figure(r#"sse_written_bytes_total{encoding="identity"}"#);
    let least = CLIENTS * MESSAGES * "data: message 0".len();
    assert!(
        written >= least as f64,
        "{written} bytes written: {scraped}"
    );
    assert_eq!(
        figure("sse_uncompressed_bytes_total"),
        0.0,
        "nothing compressed: {scraped}"
    );
    drop(instance);
}

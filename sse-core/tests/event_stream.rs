//! EventStream over chunks and bodies: order of events and errors, limits, and
//! the proxy pattern (decode an upstream body, send its events on).

use std::convert::Infallible;

use bytes::Bytes;
use futures_util::{StreamExt, TryStreamExt, stream};
use http_body_util::BodyExt;
use sse_engine::decode::{DecodeError, EventStream, EventStreamError, Limits};
use sse_engine::{Event, SseBody};

#[derive(Debug, PartialEq)]
struct Reset;

#[tokio::test]
async fn transport_error_comes_after_the_complete_events_and_ends_the_stream() {
    let chunks = stream::iter([
        Ok(Bytes::from_static(b"data: 1\n\ndata: unfinished")),
        Err(Reset),
        Ok(Bytes::from_static(b"\n\ndata: 2\n\n")),
    ]);
    let mut events = EventStream::new(chunks);
    assert_eq!(events.next().await.unwrap().unwrap().data(), "1");
    assert!(matches!(
        events.next().await,
        Some(Err(EventStreamError::Transport(Reset)))
    ));
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn broken_limit_comes_after_the_complete_events() {
    let chunks = stream::iter([Ok::<_, Infallible>(Bytes::from(
        [&b"data: ok\n\ndata: "[..], &[b'x'; 100]].concat(),
    ))]);
    let mut events = EventStream::with_limits(chunks, Limits::new().max_line_bytes(64));
    assert_eq!(events.next().await.unwrap().unwrap().data(), "ok");
    assert!(matches!(
        events.next().await,
        Some(Err(EventStreamError::Decode(DecodeError::LineTooLong {
            limit: 64
        })))
    ));
    assert!(events.next().await.is_none());
}

#[tokio::test]
async fn event_size_limit_counts_every_data_line() {
    let many_lines = "data: 0123456789\n".repeat(20) + "\n";
    let chunks = stream::iter([Ok::<_, Infallible>(Bytes::from(many_lines))]);
    let result: Result<Vec<_>, _> =
        EventStream::with_limits(chunks, Limits::new().max_event_bytes(100))
            .try_collect()
            .await;
    assert!(matches!(
        result,
        Err(EventStreamError::Decode(DecodeError::EventTooLarge {
            limit: 100
        }))
    ));
}

#[tokio::test]
async fn an_upstream_body_is_proxied_event_for_event() {
    let upstream = SseBody::new(stream::iter([
        Ok::<_, Infallible>(Event::new().event("delta").id(1u64).data("Hel")),
        Ok(Event::new().comment("upstream keep-alive")),
        Ok(Event::new().event("delta").id(2u64).data("lo\r\nworld")),
        Ok(Event::new().data("[DONE]")),
    ]));
    let proxied = EventStream::from_body(upstream).map_ok(Event::from);
    let bytes = SseBody::new(proxied).collect().await.unwrap().to_bytes();
    assert_eq!(
        bytes,
        "event: delta\nid: 1\ndata: Hel\n\nevent: delta\nid: 2\ndata: lo\ndata: world\n\nid: 2\ndata: [DONE]\n\n"
    );
}

#[tokio::test]
async fn decoder_state_is_readable_from_the_stream() {
    let chunks = stream::iter([Ok::<_, Infallible>(&b"retry: 250\nid: 7\ndata: x\n\n"[..])]);
    let mut events = EventStream::new(chunks);
    events.next().await.unwrap().unwrap();
    assert_eq!(events.decoder().last_event_id(), "7");
    assert_eq!(
        events.decoder().reconnection_time(),
        Some(std::time::Duration::from_millis(250))
    );
}

//! Replay for any stream: SseBody::with_replay and Hub::record.

use std::convert::Infallible;
use std::pin::pin;

use bytes::Bytes;
use futures_util::{StreamExt, stream};
use http_body_util::BodyExt;
use sse_engine::decode::Decoder;
use sse_engine::hub::{Hub, LogLimits, RecordError};
use sse_engine::{Event, LastEventId, SseBody};

fn ok(data: &'static str) -> Result<Event, Infallible> {
    Ok(Event::new().data(data))
}

/// (data, last event id) of every event in `bytes`.
fn events(bytes: &[u8]) -> Vec<(String, String)> {
    let mut decoder = Decoder::new();
    decoder.push(bytes).unwrap();
    std::iter::from_fn(|| decoder.next_event())
        .map(|e| (e.data().to_owned(), e.last_event_id().to_owned()))
        .collect()
}

#[tokio::test]
async fn a_reconnecting_client_gets_what_it_missed_then_the_new_stream() {
    let hub = Hub::new();
    // First connection: the stream yields three events, but the client only
    // reads the first frame's worth before the connection drops.
    let first =
        SseBody::with_replay(stream::iter([ok("a"), ok("b"), ok("c")]), &hub, "job", None).unwrap();
    let mut first = Box::pin(first.max_frame_bytes(1));
    let frame = first.frame().await.unwrap().unwrap().into_data().unwrap();
    let received = events(&frame);
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].0, "a");
    // A second frame ("b") was sent but the client was already gone.
    let _ = first.frame().await;
    drop(first);

    let cursor = LastEventId::parse(received[0].1.as_bytes()).unwrap();
    let second = SseBody::with_replay(stream::iter([ok("d")]), &hub, "job", cursor).unwrap();
    let bytes = second.collect().await.unwrap().to_bytes();
    let data: Vec<_> = events(&bytes).into_iter().map(|(data, _)| data).collect();
    // "b" was sent but not received: it is replayed first. "c" was never
    // read from the first stream (it went with the first connection).
    assert_eq!(data, ["b", "d"]);
}

#[tokio::test]
async fn the_body_ends_when_the_stream_has_ended_and_been_read_back() {
    let hub = Hub::new();
    let body = SseBody::with_replay(stream::iter([ok("1"), ok("2")]), &hub, "t", None).unwrap();
    let bytes: Bytes = body.collect().await.unwrap().to_bytes();
    let data: Vec<_> = events(&bytes).into_iter().map(|(data, _)| data).collect();
    assert_eq!(data, ["1", "2"]);
    assert_eq!(hub.stats().subscribers, 0);
}

#[tokio::test]
async fn a_stream_error_ends_the_body_with_it() {
    let hub = Hub::new();
    let source = stream::iter([Ok(Event::new().data("kept")), Err("upstream failed")]);
    let body = SseBody::with_replay(source, &hub, "t", None).unwrap();
    let mut body = pin!(body);
    let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert!(frame.ends_with(b"data: kept\n\n"));
    assert!(matches!(
        body.frame().await,
        Some(Err(RecordError::Source("upstream failed")))
    ));
}

#[tokio::test]
async fn an_unpublishable_event_ends_the_body_with_the_reason() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_event_bytes(64))
        .build();
    let source = stream::iter([Ok::<_, Infallible>(Event::new().data("x".repeat(100)))]);
    let result = SseBody::with_replay(source, &hub, "t", None)
        .unwrap()
        .collect()
        .await;
    assert!(matches!(result, Err(RecordError::Publish(_))));
}

#[tokio::test]
async fn record_keeps_producing_with_no_client_connected() {
    let hub = Hub::new();
    let producer = tokio::spawn({
        let hub = hub.clone();
        async move {
            hub.record("feed", stream::iter([ok("x"), ok("y"), ok("z")]))
                .await
        }
    });
    assert_eq!(producer.await.unwrap().unwrap(), 3);
    let start = sse_engine::hub::Position::new(hub.epoch(), 0).to_string();
    let subscription = hub
        .subscribe(&["feed"], LastEventId::parse(start.as_bytes()).unwrap())
        .unwrap();
    let replayed: Vec<_> = subscription.take(3).collect().await;
    assert_eq!(replayed.len(), 3);
    assert!(replayed[2].as_bytes().ends_with(b"data: z\n\n"));
}

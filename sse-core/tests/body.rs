//! SseBody: frames, keep-alive, preamble, ids, errors and drop, byte for byte.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::{self, StreamExt};
use futures_util::task::noop_waker_ref;
use http_body::Body;
use http_body_util::BodyExt;
use sse_engine::{Event, EventId, KeepAlive, LastSentId, SseBody, Text};
use tokio::sync::mpsc;
use tokio_stream_shim::ReceiverStream;

/// Polls once without a runtime's waker: what the body has ready right now.
fn poll_now<B: Body<Data = Bytes>>(body: Pin<&mut B>) -> Poll<Option<Result<Bytes, B::Error>>> {
    let mut cx = Context::from_waker(noop_waker_ref());
    body.poll_frame(&mut cx)
        .map(|frame| frame.map(|frame| frame.map(|frame| frame.into_data().unwrap_or_default())))
}

fn ok(event: Event) -> Result<Event, Infallible> {
    Ok(event)
}

mod tokio_stream_shim {
    //! A receiver as a stream, without pulling in tokio-stream.
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures_util::Stream;
    use tokio::sync::mpsc;

    pub(crate) struct ReceiverStream<T>(pub(crate) mpsc::UnboundedReceiver<T>);

    impl<T> Stream for ReceiverStream<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            self.0.poll_recv(cx)
        }
    }
}

#[tokio::test]
async fn ready_events_leave_as_one_frame() {
    let events = stream::iter((0..3u64).map(|n| ok(Event::new().id(n).data("x"))));
    let mut body = std::pin::pin!(SseBody::new(events));
    let Poll::Ready(Some(Ok(frame))) = poll_now(body.as_mut()) else {
        panic!("expected a frame");
    };
    assert_eq!(
        frame,
        "id: 0\ndata: x\n\nid: 1\ndata: x\n\nid: 2\ndata: x\n\n"
    );
    assert!(matches!(poll_now(body.as_mut()), Poll::Ready(None)));
    assert!(body.is_end_stream());
    assert_eq!(body.size_hint().exact(), Some(0));
}

#[tokio::test]
async fn frames_stop_growing_at_the_cap() {
    let events = stream::iter((0..100).map(|_| ok(Event::new().data("0123456789"))));
    let mut body = std::pin::pin!(SseBody::new(events).max_frame_bytes(50));
    let mut frames = Vec::new();
    while let Poll::Ready(Some(Ok(frame))) = poll_now(body.as_mut()) {
        frames.push(frame);
    }
    // Each event is 18 bytes: three fit under 50, the third crosses it.
    assert!(
        frames
            .iter()
            .all(|frame| frame.len() == 54 || frame.len() == 18)
    );
    assert_eq!(frames.iter().map(Bytes::len).sum::<usize>(), 1800);
}

#[tokio::test]
async fn never_waits_to_fill_a_frame() {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut body = std::pin::pin!(SseBody::from_infallible_stream(ReceiverStream(rx)));
    assert!(poll_now(body.as_mut()).is_pending());
    tx.send(Event::new().data("one")).unwrap();
    let Poll::Ready(Some(Ok(frame))) = poll_now(body.as_mut()) else {
        panic!("a ready event must be sent at once");
    };
    assert_eq!(frame, "data: one\n\n");
    assert!(poll_now(body.as_mut()).is_pending());
    drop(tx);
    assert!(matches!(poll_now(body.as_mut()), Poll::Ready(None)));
}

#[tokio::test]
async fn preamble_is_sent_before_any_event_exists() {
    let (_tx, rx) = mpsc::unbounded_channel::<Event>();
    let mut body = std::pin::pin!(
        SseBody::from_infallible_stream(ReceiverStream(rx))
            .retry(Duration::from_millis(2500))
            .initial_comment("ok")
    );
    let Poll::Ready(Some(Ok(frame))) = poll_now(body.as_mut()) else {
        panic!("the preamble must not wait for events");
    };
    assert_eq!(frame, ": ok\nretry: 2500\n");
    assert!(poll_now(body.as_mut()).is_pending());
}

#[tokio::test]
async fn events_that_write_nothing_make_no_empty_frame() {
    // An empty chunk ends the body under actix-web's chunked encoder.
    let items = [
        Event::new().encode(),
        Event::new().event("only a name").encode(),
        Event::new().data("x").encode(),
        Event::new().encode(),
    ];
    for max_frame_bytes in [1, 32 * 1024] {
        let mut body = std::pin::pin!(
            SseBody::from_infallible_stream(stream::iter(items.clone()))
                .max_frame_bytes(max_frame_bytes)
        );
        let mut frames = Vec::new();
        while let Poll::Ready(Some(Ok(frame))) = poll_now(body.as_mut()) {
            frames.push(frame);
        }
        assert_eq!(frames, ["data: x\n\n"], "max_frame_bytes {max_frame_bytes}");
    }
}

#[tokio::test]
async fn ready_events_coalesce_whatever_the_frame_limit() {
    // Many ready events through limits from one byte to no limit at all:
    // the same bytes, in frames no larger than the limit allows (the event
    // that crosses it ends the frame).
    let events: Vec<Event> = (0..5_000u64)
        .map(|n| Event::new().id(n).data(format!("event {n}")))
        .collect();
    let expected: Vec<u8> = events
        .iter()
        .flat_map(|event| event.clone().encode().as_bytes().to_vec())
        .collect();
    for max_frame_bytes in [1, 100, 32 * 1024, 1024 * 1024, usize::MAX] {
        let mut body = std::pin::pin!(
            SseBody::from_infallible_stream(stream::iter(events.clone()))
                .max_frame_bytes(max_frame_bytes)
        );
        let mut all = Vec::new();
        let mut frames = 0;
        while let Poll::Ready(Some(Ok(frame))) = poll_now(body.as_mut()) {
            assert!(
                frame.len() < max_frame_bytes.saturating_add(64),
                "{max_frame_bytes}"
            );
            all.extend_from_slice(&frame);
            frames += 1;
        }
        assert_eq!(all, expected, "max_frame_bytes {max_frame_bytes}");
        if max_frame_bytes >= 1024 * 1024 {
            assert_eq!(frames, 1, "every ready event in one frame");
        }
    }
}

#[tokio::test]
async fn sequence_ids_fill_in_missing_ids_only() {
    let events = stream::iter([
        ok(Event::new().data("a")),
        ok(Event::new().try_id("custom").unwrap().data("b")),
        ok(Event::new().data("c")),
        ok(Event::new().data("d")),
    ]);
    let bytes = SseBody::new(events)
        .sequence_ids(10)
        .collect()
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        bytes,
        "id: 10\ndata: a\n\nid: custom\ndata: b\n\nid: 11\ndata: c\n\nid: 12\ndata: d\n\n"
    );
}

#[tokio::test]
async fn encoded_events_are_written_as_they_are() {
    let shared = Event::new().event("tick").data("1").encode();
    let events = stream::iter([shared.clone(), shared]);
    let bytes = SseBody::from_infallible_stream(events)
        .sequence_ids(1)
        .collect()
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        bytes,
        "id: 1\nevent: tick\ndata: 1\n\nid: 2\nevent: tick\ndata: 1\n\n"
    );
}

#[tokio::test]
async fn last_sent_id_follows_the_frames_handed_out() {
    let sent = LastSentId::new();
    let (tx, rx) = mpsc::unbounded_channel();
    let mut body = std::pin::pin!(
        SseBody::from_infallible_stream(ReceiverStream(rx))
            .sequence_ids(1)
            .track_last_sent_id(sent.clone())
    );
    tx.send(Event::new().data("a")).unwrap();
    tx.send(Event::new().data("b")).unwrap();
    assert_eq!(sent.get(), None);
    assert!(matches!(poll_now(body.as_mut()), Poll::Ready(Some(Ok(_)))));
    assert_eq!(sent.get(), Some(EventId::from(2u64)));
    tx.send(Event::new().data("no id").try_id("x-9").unwrap())
        .unwrap();
    assert!(matches!(poll_now(body.as_mut()), Poll::Ready(Some(Ok(_)))));
    assert_eq!(sent.get().map(|id| id.to_string()), Some("x-9".into()));
}

#[tokio::test]
async fn last_sent_id_waits_for_the_last_piece_of_a_zero_copy_event() {
    let sent = LastSentId::new();
    let payload = Text::from_utf8(Bytes::from(vec![b'p'; 64 * 1024])).unwrap();
    let events = stream::iter([Event::new().id(5u64).data(payload)]);
    let mut body =
        std::pin::pin!(SseBody::from_infallible_stream(events).track_last_sent_id(sent.clone()));
    let mut pieces = 0;
    while let Poll::Ready(Some(Ok(_))) = poll_now(body.as_mut()) {
        pieces += 1;
        if pieces < 3 {
            assert_eq!(sent.get(), None, "piece {pieces} is not the whole event");
        }
    }
    assert_eq!(pieces, 3);
    assert_eq!(sent.get(), Some(EventId::from(5u64)));
}

#[tokio::test]
async fn large_shared_payload_is_not_copied() {
    let payload = Bytes::from(vec![b'z'; 64 * 1024]);
    let text = Text::from_utf8(payload.clone()).unwrap();
    let events = stream::iter([Event::new().event("big").data(text)]);
    let mut body = std::pin::pin!(SseBody::from_infallible_stream(events));
    let mut frames = Vec::new();
    while let Poll::Ready(Some(Ok(frame))) = poll_now(body.as_mut()) {
        frames.push(frame);
    }
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0], "event: big\ndata: ");
    assert_eq!(
        frames[1].as_ptr(),
        payload.as_ptr(),
        "the payload must be the caller's bytes"
    );
    assert_eq!(frames[2], "\n\n");
}

#[derive(Debug, PartialEq)]
struct Upstream(&'static str);

#[tokio::test]
async fn an_error_ends_the_body_after_the_events_before_it() {
    let events = stream::iter([
        Ok(Event::new().data("kept")),
        Err(Upstream("gone")),
        Ok(Event::new().data("never sent")),
    ]);
    let mut body = std::pin::pin!(SseBody::new(events));
    let Poll::Ready(Some(Ok(frame))) = poll_now(body.as_mut()) else {
        panic!("events before the error must be sent");
    };
    assert_eq!(frame, "data: kept\n\n");
    assert!(matches!(
        poll_now(body.as_mut()),
        Poll::Ready(Some(Err(Upstream("gone"))))
    ));
    assert!(matches!(poll_now(body.as_mut()), Poll::Ready(None)));
    assert!(body.is_end_stream());
}

#[tokio::test]
async fn dropping_the_body_drops_the_stream() {
    struct Guard(Arc<AtomicBool>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.store(true, Ordering::SeqCst);
        }
    }
    let dropped = Arc::new(AtomicBool::new(false));
    let guard = Guard(dropped.clone());
    let events = stream::pending::<Event>().map(move |event| {
        let _held = &guard;
        event
    });
    let mut body = Box::pin(SseBody::from_infallible_stream(events).keep_alive(KeepAlive::new()));
    assert!(poll_now(body.as_mut()).is_pending());
    assert!(!dropped.load(Ordering::SeqCst));
    drop(body);
    assert!(dropped.load(Ordering::SeqCst));
}

#[tokio::test]
async fn plain_integers_and_borrowed_strings_are_accepted() {
    let name = String::from("update");
    let counter: usize = 3;
    let events = stream::iter([
        Event::new().id(7).data(&name),
        Event::new()
            .id(counter)
            .event(&name)
            .data(Text::copy_from(name.as_str())),
    ]);
    let bytes = SseBody::from_infallible_stream(events)
        .collect()
        .await
        .unwrap()
        .to_bytes();
    assert_eq!(
        bytes,
        "id: 7\ndata: update\n\nevent: update\nid: 3\ndata: update\n\n"
    );
}

#[tokio::test]
async fn size_hint_is_unknown_while_streaming() {
    let body = SseBody::from_infallible_stream(stream::iter([Event::new().data("x")]));
    assert_eq!(body.size_hint().exact(), None);
    assert_eq!(body.size_hint().lower(), 0);
    assert!(!body.is_end_stream());
}

#[tokio::test]
async fn response_has_the_sse_headers() {
    let response = SseBody::from_infallible_stream(stream::empty::<Event>()).into_response();
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert!(headers.get("content-length").is_none());
    assert!(headers.get("connection").is_none());
    assert!(headers.get("content-encoding").is_none());
}

mod keep_alive {
    use super::*;

    async fn next_frame<B>(body: &mut B) -> Bytes
    where
        B: Body<Data = Bytes> + Unpin,
        B::Error: std::fmt::Debug,
    {
        body.frame().await.unwrap().unwrap().into_data().unwrap()
    }

    #[tokio::test(start_paused = true)]
    async fn comment_after_each_idle_interval() {
        let (_tx, rx) = mpsc::unbounded_channel::<Event>();
        let mut body = std::pin::pin!(
            SseBody::from_infallible_stream(ReceiverStream(rx)).keep_alive(
                KeepAlive::new()
                    .interval(Duration::from_secs(10))
                    .text("ping")
            )
        );
        let start = tokio::time::Instant::now();
        assert_eq!(next_frame(&mut body).await, ": ping\n");
        assert_eq!(start.elapsed(), Duration::from_secs(10));
        assert_eq!(next_frame(&mut body).await, ": ping\n");
        assert_eq!(start.elapsed(), Duration::from_secs(20));
    }

    #[tokio::test(start_paused = true)]
    async fn every_event_restarts_the_timer_and_a_burst_delays_it_at_most_a_quarter() {
        let (tx, rx) = mpsc::unbounded_channel();
        let mut body = std::pin::pin!(
            SseBody::from_infallible_stream(ReceiverStream(rx))
                .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        );
        let start = tokio::time::Instant::now();
        assert!(poll_now(body.as_mut()).is_pending());
        tokio::time::sleep(Duration::from_secs(7)).await;
        tx.send(Event::new().data("busy")).unwrap();
        assert_eq!(next_frame(&mut body).await, "data: busy\n\n");
        // Idle from second 7: the comment is due at 17, not 10.
        assert_eq!(next_frame(&mut body).await, ":\n");
        assert_eq!(start.elapsed(), Duration::from_secs(17));

        // A burst, frames at 24, 24.5, ... 26 s: the comment comes at least
        // one interval after the last one, and at most a quarter more.
        tokio::time::sleep(Duration::from_secs(7)).await;
        for n in 0..5 {
            tx.send(Event::new().data(format!("burst {n}"))).unwrap();
            assert_eq!(next_frame(&mut body).await, format!("data: burst {n}\n\n"));
            if n < 4 {
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
        let last_frame = start.elapsed();
        assert_eq!(last_frame, Duration::from_secs(26));
        assert_eq!(next_frame(&mut body).await, ":\n");
        let silence = start.elapsed() - last_frame;
        assert!(
            silence >= Duration::from_secs(10) && silence <= Duration::from_millis(12_500),
            "comment after {silence:?} of silence"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_stream_that_is_never_idle_gets_no_comment_and_one_after_it_stops() {
        // Always ready for 2,000 polls, one per 10 ms: 20 s of frames with a
        // 1 s keep-alive, and no comment among them.
        let events = stream::iter(0..2_000u64).then(|n| async move {
            tokio::time::sleep(Duration::from_millis(10)).await;
            Event::new().data(n.to_string())
        });
        let (tx, rx) = mpsc::unbounded_channel::<Event>();
        let events = events.chain(ReceiverStream(rx));
        let mut body = std::pin::pin!(
            SseBody::from_infallible_stream(Box::pin(events))
                .keep_alive(KeepAlive::new().interval(Duration::from_secs(1)))
        );
        for n in 0..2_000u64 {
            assert_eq!(next_frame(&mut body).await, format!("data: {n}\n\n"));
        }
        let last_frame = tokio::time::Instant::now();
        assert_eq!(next_frame(&mut body).await, ":\n");
        let silence = last_frame.elapsed();
        assert!(
            silence >= Duration::from_secs(1) && silence <= Duration::from_millis(1_250),
            "comment after {silence:?} of silence"
        );
        drop(tx);
    }

    #[tokio::test(start_paused = true)]
    async fn comment_never_lands_inside_an_event() {
        // A slow producer: events arrive 3 s apart for a minute, with a 2 s
        // keep-alive, so comments fall between them all the time.
        let events = stream::iter(0..20u64).then(|n| async move {
            tokio::time::sleep(Duration::from_secs(3)).await;
            Event::new().id(n).data(format!("line one {n}\nline two"))
        });
        let body = SseBody::from_infallible_stream(Box::pin(events))
            .keep_alive(KeepAlive::new().interval(Duration::from_secs(2)).text("ka"));
        let bytes = body.collect().await.unwrap().to_bytes();
        let text = std::str::from_utf8(&bytes).unwrap();
        let comments = text.matches(": ka\n").count();
        assert_eq!(comments, 20, "one comment in each 3 s gap");
        assert!(!text.contains(": ka\n\n"), "a comment never ends a block");
        // Each block: the comments written before the event, then the
        // event's own lines, none of them a comment.
        for block in text.split("\n\n").filter(|block| !block.is_empty()) {
            let event = block.trim_start_matches(": ka\n");
            assert!(
                event.starts_with("id: ") && !event.contains(": ka"),
                "mixed block: {block:?}"
            );
        }
    }

    /// Counts its wake-ups.
    struct Wakes(std::sync::atomic::AtomicUsize);

    impl std::task::Wake for Wakes {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn counting_waker() -> (Arc<Wakes>, std::task::Waker) {
        let wakes = Arc::new(Wakes(std::sync::atomic::AtomicUsize::new(0)));
        (wakes.clone(), std::task::Waker::from(wakes))
    }

    #[tokio::test(start_paused = true)]
    async fn the_timer_wakes_the_waker_of_the_last_poll() {
        // The timer is not polled again while it holds the waker the body is
        // polled with; a body polled with another must hand the timer that
        // one, or the comment would wake a task that no longer polls it.
        let (_tx, rx) = mpsc::unbounded_channel::<Event>();
        let mut body = std::pin::pin!(
            SseBody::from_infallible_stream(ReceiverStream(rx))
                .keep_alive(KeepAlive::new().interval(Duration::from_secs(10)))
        );
        let (first, first_waker) = counting_waker();
        let (second, second_waker) = counting_waker();
        for waker in [&first_waker, &first_waker, &second_waker, &second_waker] {
            let mut cx = Context::from_waker(waker);
            assert!(body.as_mut().poll_frame(&mut cx).is_pending());
        }
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(
            second.0.load(Ordering::SeqCst),
            1,
            "the last waker is woken"
        );
        assert_eq!(first.0.load(Ordering::SeqCst), 0);
        // Polled again with the same waker once woken: the timer has fired,
        // and is looked at.
        let mut cx = Context::from_waker(&second_waker);
        let Poll::Ready(Some(Ok(frame))) = body.as_mut().poll_frame(&mut cx) else {
            panic!("the comment is due");
        };
        assert_eq!(frame.into_data().unwrap(), ":\n");
        assert!(body.as_mut().poll_frame(&mut cx).is_pending());
        tokio::time::advance(Duration::from_secs(10)).await;
        assert_eq!(
            second.0.load(Ordering::SeqCst),
            2,
            "and again an interval later"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn an_interval_of_duration_max_means_never_and_does_not_overflow() {
        let (_tx, rx) = mpsc::unbounded_channel::<Event>();
        let mut body = std::pin::pin!(
            SseBody::from_infallible_stream(ReceiverStream(rx))
                .keep_alive(KeepAlive::new().interval(Duration::MAX))
        );
        let waited = tokio::time::timeout(Duration::from_secs(30 * 24 * 3600), body.frame()).await;
        assert!(waited.is_err(), "no comment within a month");
    }

    #[tokio::test(start_paused = true)]
    async fn no_keep_alive_unless_asked() {
        let (_tx, rx) = mpsc::unbounded_channel::<Event>();
        let mut body = std::pin::pin!(SseBody::from_infallible_stream(ReceiverStream(rx)));
        let waited = tokio::time::timeout(Duration::from_secs(3600), body.frame()).await;
        assert!(
            waited.is_err(),
            "an idle body without keep-alive sends nothing"
        );
    }
}

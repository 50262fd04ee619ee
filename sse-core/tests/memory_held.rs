//! Memory the encoder holds: an encoded event, and each event in a hub's
//! replay log, holds about its own size, not the 8 KiB a frame buffer
//! starts with (before the fix, a log of 1,000 small events held 8 MB); a
//! body that coalesces a few ready events takes no frame-sized buffer for
//! them (a hub wakes thousands of subscribers at once).
//! Counted by a counting global allocator, in a binary of its own so that
//! nothing else allocates while it counts; one test, for the same reason.

use std::alloc::System;
use std::pin::pin;
use std::task::{Context, Poll};

use futures_util::stream;
use futures_util::task::noop_waker_ref;
use http_body::Body;

use sse_engine::hub::Hub;
use sse_engine::{Event, SseBody};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

/// Heap bytes allocated since `region` began and not yet freed (a
/// reallocation counts in both sums already).
fn live(region: &Region<'_, System>) -> isize {
    let change = region.change();
    change.bytes_allocated as isize - change.bytes_deallocated as isize
}

#[tokio::test]
async fn the_encoder_holds_about_what_it_sends() {
    // Encoded events, kept (what a replay log keeps); the vector that
    // holds them is allocated before counting.
    let mut held = Vec::with_capacity(1_000);
    let region = Region::new(GLOBAL);
    held.extend((0..1_000u64).map(|n| Event::new().id(n).data("a small event").encode()));
    let per_event = live(&region) / 1_000;
    let wire = held[999].as_bytes().len() as isize;
    assert!(
        per_event <= wire + 96,
        "an encoded event of {wire} bytes holds {per_event} bytes"
    );
    drop(held);

    // One allocation of exactly the wire size, whatever the id and the
    // line breaks (numbers, CRLF and CR; an empty line would be counted a
    // byte long).
    for event in [
        Event::new().id(7u64).data("x".repeat(1_000)),
        Event::new().id(-1i64).data("hello world"),
        Event::new().id(u64::MAX).data("tick"),
        Event::new().id("7").data("x".repeat(1_000)),
        Event::new()
            .event("delta")
            .id(42u64)
            .data("a\r\nb\rc\n".repeat(200) + "end"),
    ] {
        let region = Region::new(GLOBAL);
        let encoded = event.encode();
        let change = region.change();
        let wire = encoded.as_bytes().len();
        assert_eq!(
            (
                change.allocations,
                change.reallocations,
                change.bytes_allocated
            ),
            (1, 0, wire),
            "{wire} bytes"
        );
    }

    // A long event of many short lines is sized for all of them: one
    // allocation of about its size, neither grown while written nor
    // copied out afterwards.
    let lines = "a line of text\n".repeat(1_000);
    let event = Event::new().data(lines.as_str());
    let region = Region::new(GLOBAL);
    let long = event.encode();
    let wire = long.as_bytes().len();
    let change = region.change();
    // The buffer, and the header `Bytes` shares it with when it is not
    // full to the last byte (an empty line takes a byte less than counted).
    assert!(
        change.allocations <= 2 && change.reallocations == 0,
        "{change:?}"
    );
    assert!(
        change.bytes_allocated <= wire + wire / 4 + 96,
        "an encoded event of {wire} bytes allocated {change:?}"
    );
    drop(long);

    // Lines that end in CRs one after the other (each a break of its own,
    // not a CRLF), and a long line of shared bytes (copied too, not sent as
    // a slice and then copied again): sized for all of it, one buffer.
    let shared = bytes::Bytes::from(vec![b'x'; 1 << 20]);
    for event in [
        Event::new().data("a\r\rb\r\r\rc\n\rd".repeat(50)),
        Event::new().data(sse_engine::Text::from_utf8(shared).unwrap()),
    ] {
        let region = Region::new(GLOBAL);
        let encoded = event.encode();
        let change = region.change();
        let wire = encoded.as_bytes().len();
        assert!(
            change.allocations <= 2
                && change.reallocations == 0
                && change.bytes_allocated <= wire + wire / 4 + 96,
            "an encoded event of {wire} bytes allocated {change:?}"
        );
    }

    // A hub's replay log (in memory).
    let hub = Hub::new();
    hub.publish("warm-up", Event::new().data("x"))
        .await
        .unwrap();
    let region = Region::new(GLOBAL);
    for n in 0..1_000u32 {
        hub.publish("t", Event::new().data(format!("message {n}")))
            .await
            .unwrap();
    }
    let per_event = live(&region) / 1_000;
    assert!(
        per_event < 512,
        "each event in the replay log holds {per_event} bytes"
    );

    // Small events ready at once, up to the first allocation's size (8
    // KiB), whatever the frame limit: one frame, from that buffer, not one
    // sized for a whole frame.
    for (count, max_frame_bytes) in [(3, 32 * 1024), (250, 32 * 1024), (250, 1024 * 1024)] {
        let allocated = allocated_for_one_poll(
            (0..count).map(|n| Event::new().id(n).data("tick")),
            max_frame_bytes,
        );
        assert!(
            allocated <= 9 * 1024,
            "{count} small events (limit {max_frame_bytes}) allocated {allocated} bytes"
        );
    }

    // Long pre-encoded events leave as they are (zero-copy): no buffer for
    // them, whatever their total.
    let long: Vec<_> = (0..4)
        .map(|_| Event::new().data("x".repeat(5_000)).encode())
        .collect();
    for max_frame_bytes in [32 * 1024, 1024 * 1024] {
        let allocated = allocated_for_one_poll(long.clone(), max_frame_bytes);
        assert!(
            allocated <= 1024,
            "4 long pre-encoded events (limit {max_frame_bytes}) allocated {allocated} bytes"
        );
    }
}

/// Bytes allocated while a body over `items`, all ready, yields its frames.
fn allocated_for_one_poll<T>(items: impl IntoIterator<Item = T>, max_frame_bytes: usize) -> usize
where
    T: sse_engine::Encodable,
{
    let items: Vec<T> = items.into_iter().collect();
    let mut body =
        pin!(SseBody::from_infallible_stream(stream::iter(items)).max_frame_bytes(max_frame_bytes));
    let mut cx = Context::from_waker(noop_waker_ref());
    let mut frames = Vec::with_capacity(16);
    let region = Region::new(GLOBAL);
    while let Poll::Ready(Some(Ok(frame))) = body.as_mut().poll_frame(&mut cx) {
        frames.push(frame);
    }
    let allocated = region.change().bytes_allocated;
    assert!((1..=16).contains(&frames.len()));
    allocated
}

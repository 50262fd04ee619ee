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

    // A long event of many short lines grows its buffer while it is
    // written; what is kept is its size.
    let lines = "a line of text\n".repeat(1_000);
    let region = Region::new(GLOBAL);
    let long = Event::new().data(lines.as_str()).encode();
    let wire = long.as_bytes().len() as isize;
    let held = live(&region);
    assert!(
        held <= wire + wire / 4 + 96,
        "an encoded event of {wire} bytes holds {held} bytes"
    );
    drop(long);

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

    // Three small events ready at once: one frame, from a buffer of the
    // first allocation's size (8 KiB), not one sized for a whole frame.
    let events = stream::iter((0..3u64).map(|n| Event::new().id(n).data("tick")));
    let mut body = pin!(SseBody::from_infallible_stream(events));
    let mut cx = Context::from_waker(noop_waker_ref());
    let region = Region::new(GLOBAL);
    let Poll::Ready(Some(Ok(frame))) = body.as_mut().poll_frame(&mut cx) else {
        panic!("three ready events make a frame");
    };
    let allocated = region.change().bytes_allocated;
    assert_eq!(
        frame.into_data().unwrap().len(),
        3 * "id: 0\ndata: tick\n\n".len()
    );
    assert!(
        allocated <= 9 * 1024,
        "three small events allocated {allocated} bytes"
    );
}

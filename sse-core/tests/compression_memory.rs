//! Memory per idle compressed stream, for each codec compiled in: the heap a
//! body holds after it has sent a few events and gone idle, counted by a
//! counting global allocator, less an identity body's, plus what libzstd
//! holds in its own heap (which the allocator does not see).
//!
//! ```text
//! cargo test -p sse-engine --features gzip,br,zstd --test compression_memory -- --nocapture
//! ```
//!
//! One test in this binary, so that nothing else allocates while it counts.
#![cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]
#![allow(clippy::print_stdout)]

use std::alloc::System;
use std::convert::Infallible;
use std::pin::pin;
use std::task::{Context, Poll};

use futures_util::task::noop_waker_ref;
use http_body::Body;
use sse_engine::compression::{Codec, Compression, FrameCompressor};
use sse_engine::{Event, SseBody};
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};
use tokio::sync::mpsc;

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

mod channel {
    //! A receiver as a stream, without pulling in tokio-stream.
    use std::pin::Pin;
    use std::task::{Context, Poll};

    use futures_util::Stream;
    use tokio::sync::mpsc;

    pub(crate) struct Receiver<T>(pub(crate) mpsc::UnboundedReceiver<T>);

    impl<T> Stream for Receiver<T> {
        type Item = T;
        fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
            self.0.poll_recv(cx)
        }
    }
}

const TOKEN: &str = r#"{"id":"chatcmpl-8x9KQ","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o-mini","choices":[{"index":0,"delta":{"content":" token"},"finish_reason":null}]}"#;

/// Live heap bytes of a body with `compression`, idle after 20 events.
fn idle_stream_heap(compression: Compression) -> isize {
    let region = Region::new(GLOBAL);
    let (sender, receiver) = mpsc::unbounded_channel::<Result<Event, Infallible>>();
    let body = SseBody::new(channel::Receiver(receiver)).compression(compression);
    let mut body = pin!(body);
    let mut cx = Context::from_waker(noop_waker_ref());
    for n in 0..20u64 {
        sender.send(Ok(Event::new().id(n).data(TOKEN))).unwrap();
        while let Poll::Ready(Some(frame)) = body.as_mut().poll_frame(&mut cx) {
            drop(frame);
        }
    }
    // Idle: the body has released its frame buffer.
    assert!(body.as_mut().poll_frame(&mut cx).is_pending());
    let change = region.change();
    let live = change.bytes_allocated as isize - change.bytes_deallocated as isize
        + change.bytes_reallocated;
    drop(sender);
    live
}

/// What libzstd holds for one stream after the same events.
fn c_heap(codec: Codec) -> usize {
    let mut compressor = FrameCompressor::new(codec).unwrap();
    for n in 0..20 {
        compressor
            .compress_frame(format!("id: {n}\ndata: {TOKEN}\n\n").as_bytes())
            .unwrap();
    }
    compressor.c_heap_bytes()
}

#[test]
fn an_idle_compressed_stream_holds_a_bounded_state() {
    // Every codec writes through one 16 KiB buffer per thread, allocated
    // the first time the thread compresses: not part of any stream's state.
    let compiled_in = Codec::ALL.into_iter().find(|codec| codec.is_compiled_in());
    let mut warm_up = FrameCompressor::new(compiled_in.unwrap()).unwrap();
    warm_up.compress_frame(b"data: warm-up\n\n").unwrap();
    let identity = idle_stream_heap(Compression::identity());
    println!("identity body: {identity} B");
    for codec in Codec::ALL
        .into_iter()
        .filter(|codec| codec.is_compiled_in())
    {
        let rust_heap = idle_stream_heap(Compression::forced(codec)) - identity;
        let c_heap = c_heap(codec);
        let total = rust_heap + c_heap as isize;
        println!("{codec}: {total} B per idle stream ({rust_heap} B Rust heap, {c_heap} B C heap)");
        // The bounds the compression module documents.
        let bound = match codec {
            // 276 KiB documented: an 8 KiB window, zlib-rs's 128 KiB
            // match table.
            Codec::Gzip => 300 * 1024,
            Codec::Brotli => 340 * 1024,
            // 95 KiB documented: an 8 KiB window and a 2^12 match table.
            _ => 110 * 1024,
        };
        assert!(total > 0 && total < bound, "{codec}: {total} B");
    }
}

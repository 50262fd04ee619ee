//! Compressed bodies: exact bytes after decompression for every codec
//! compiled in (opening block, events, keep-alive and the end included),
//! every frame decodable on arrival, and a stream cut at any byte decoding
//! up to the last complete frame.
//!
//! ```text
//! cargo test -p sse-engine --features gzip,br,zstd --test compression
//! ```
#![cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use futures_util::task::noop_waker_ref;
use http::HeaderMap;
use http_body::Body;
use sse_engine::compression::{Codec, Codecs, Compression};
use sse_engine::{Event, KeepAlive, SseBody};
use tokio::sync::mpsc;

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

fn compiled_codecs() -> Vec<Codec> {
    Codec::ALL
        .into_iter()
        .filter(|codec| codec.is_compiled_in())
        .collect()
}

fn poll_now<B: Body<Data = Bytes, Error = Infallible>>(body: Pin<&mut B>) -> Poll<Option<Bytes>> {
    let mut cx = Context::from_waker(noop_waker_ref());
    body.poll_frame(&mut cx).map(|frame| {
        frame.map(|frame| match frame {
            Ok(frame) => frame.into_data().unwrap_or_default(),
            Err(never) => match never {},
        })
    })
}

/// The chat suite's kinds of data: every line break, empty data, leading
/// spaces, unicode, a long line (held in shared text, so it leaves
/// zero-copy among other events).
fn corpus() -> Vec<Event> {
    vec![
        Event::new().data("lf\nbetween"),
        Event::new().data("cr\rbetween"),
        Event::new().data("crlf\r\nbetween\r\n"),
        Event::new().data(""),
        Event::new().data("  two leading spaces"),
        Event::new().event("unicode").data("héllo wörld ✓ 🚀 日本語"),
        Event::new().id("id-7").data("x".repeat(6000)),
        Event::new().comment("a comment").data("after"),
        Event::new().data(r#"{"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hi"}}]}"#),
    ]
}

/// Runs the same script through a body with `compression`: the opening
/// block, two events ready together, a keep-alive, the corpus one event at a
/// time, several events at once, then the end. Each delivery is what the
/// body had ready at one point of the script, concatenated (identity sends a
/// long shared line as frames of its own; compressed, it is one frame).
async fn script(compression: Compression) -> Vec<Bytes> {
    let (sender, receiver) = mpsc::unbounded_channel::<Result<Event, Infallible>>();
    let body = SseBody::new(channel::Receiver(receiver))
        .retry(Duration::from_secs(2))
        .initial_comment("hello")
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(5)).text("ka"))
        .sequence_ids(1)
        .compression(compression);
    let mut body = std::pin::pin!(body);
    let mut deliveries = Vec::new();
    let compressed = compression.codec().is_some();
    let take =
        |body: Pin<&mut _>, deliveries: &mut Vec<Bytes>| take_ready(body, compressed, deliveries);

    take(body.as_mut(), &mut deliveries); // The opening block.
    sender.send(Ok(Event::new().data("one"))).unwrap();
    sender
        .send(Ok(Event::new().event("two").data("2")))
        .unwrap();
    take(body.as_mut(), &mut deliveries);
    // Keep-alive, once paused time has run to it.
    let keep_alive = std::future::poll_fn(|cx| body.as_mut().poll_frame(cx)).await;
    deliveries.push(keep_alive.unwrap().unwrap().into_data().unwrap());
    for event in corpus() {
        sender.send(Ok(event)).unwrap();
        take(body.as_mut(), &mut deliveries);
    }
    for n in 0..50 {
        sender
            .send(Ok(Event::new().data(format!("burst {n}"))))
            .unwrap();
    }
    take(body.as_mut(), &mut deliveries);
    drop(sender);
    take(body.as_mut(), &mut deliveries); // The compressed stream's end.
    assert!(body.is_end_stream());
    deliveries
}

/// Everything the body has ready now, as one delivery.
fn take_ready<B>(mut body: Pin<&mut B>, compressed: bool, deliveries: &mut Vec<Bytes>)
where
    B: Body<Data = Bytes, Error = Infallible>,
{
    let mut delivery = Vec::new();
    let mut frames = 0;
    while let Poll::Ready(Some(frame)) = poll_now(body.as_mut()) {
        delivery.extend_from_slice(&frame);
        frames += 1;
    }
    if compressed {
        // Everything ready leaves as one compressed frame.
        assert!(frames <= 1, "{frames} frames");
    }
    if frames > 0 {
        deliveries.push(Bytes::from(delivery));
    }
}

/// Decodes what has arrived so far, as a client reading the stream does: no
/// error for a stream that has not ended.
fn decode_so_far(codec: Codec, compressed: &[u8]) -> Vec<u8> {
    match codec {
        Codec::Gzip => {
            #[cfg(feature = "gzip")]
            {
                use std::io::Write as _;
                let mut decoder = flate2::write::GzDecoder::new(Vec::new());
                let _ = decoder.write_all(compressed);
                let _ = decoder.flush();
                return decoder.get_ref().clone();
            }
        }
        Codec::Brotli => {
            #[cfg(feature = "br")]
            {
                // Read until the input runs out (an error, as it has not
                // ended): what was decoded before that is what arrived.
                use std::io::Read as _;
                let mut decoder = brotli::Decompressor::new(compressed, 4096);
                let mut out = Vec::new();
                let mut chunk = [0; 1024];
                while let Ok(read @ 1..) = decoder.read(&mut chunk) {
                    out.extend_from_slice(&chunk[..read]);
                }
                return out;
            }
        }
        Codec::Zstd => {
            #[cfg(feature = "zstd")]
            {
                use std::io::Write as _;
                let mut decoder = zstd::stream::write::Decoder::new(Vec::new()).unwrap();
                let _ = decoder.write_all(compressed);
                let _ = decoder.flush();
                return decoder.get_ref().clone();
            }
        }
        _ => {}
    }
    unreachable!("{codec} is not compiled in")
}

/// Decodes a whole stream, checking its end (gzip's trailer and CRC,
/// Brotli's last block, zstd's frame end).
fn decode_whole(codec: Codec, compressed: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match codec {
        Codec::Gzip => {
            #[cfg(feature = "gzip")]
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(compressed), &mut out)
                .unwrap();
        }
        Codec::Brotli => {
            #[cfg(feature = "br")]
            std::io::Read::read_to_end(&mut brotli::Decompressor::new(compressed, 4096), &mut out)
                .unwrap();
        }
        Codec::Zstd => {
            #[cfg(feature = "zstd")]
            {
                out = zstd::stream::decode_all(compressed).unwrap();
            }
        }
        _ => unreachable!(),
    }
    out
}

fn concat(frames: &[Bytes]) -> Vec<u8> {
    frames
        .iter()
        .flat_map(|frame| frame.iter().copied())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn every_codec_decodes_to_exactly_the_identity_bytes() {
    let plain = script(Compression::identity()).await;
    let plain_bytes = concat(&plain);
    assert!(plain_bytes.starts_with(b": hello\nretry: 2000\nid: 1\ndata: one\n\n"));
    assert!(String::from_utf8_lossy(&plain_bytes).contains("\n: ka\n"));
    for codec in compiled_codecs() {
        let compressed = script(Compression::forced(codec)).await;
        // One compressed frame per delivery, and the stream's end.
        assert_eq!(compressed.len(), plain.len() + 1, "{codec}");
        let decoded = decode_whole(codec, &concat(&compressed));
        assert!(
            decoded == plain_bytes,
            "{codec}: {}",
            String::from_utf8_lossy(&decoded)
        );
    }
}

#[tokio::test(start_paused = true)]
async fn every_frame_decodes_on_arrival() {
    let plain = script(Compression::identity()).await;
    for codec in compiled_codecs() {
        let compressed = script(Compression::forced(codec)).await;
        for sent in 1..=plain.len() {
            let decoded = decode_so_far(codec, &concat(&compressed[..sent]));
            let expected = concat(&plain[..sent]);
            assert!(
                decoded == expected,
                "{codec}: after {sent} deliveries, {} of {} bytes",
                decoded.len(),
                expected.len()
            );
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_stream_cut_at_any_byte_decodes_up_to_the_last_complete_frame() {
    let plain = script(Compression::identity()).await;
    let plain_bytes = concat(&plain);
    for codec in compiled_codecs() {
        let compressed = script(Compression::forced(codec)).await;
        let all = concat(&compressed);
        // Where each compressed frame ends, and the plain bytes up to there.
        let mut frame_ends = Vec::new();
        let (mut end, mut plain_end) = (0, 0);
        for (index, frame) in compressed.iter().enumerate() {
            end += frame.len();
            plain_end += plain.get(index).map_or(0, Bytes::len);
            frame_ends.push((end, plain_end));
        }
        for cut in 0..=all.len() {
            let decoded = decode_so_far(codec, &all[..cut]);
            let complete = frame_ends
                .iter()
                .take_while(|(end, _)| *end <= cut)
                .last()
                .map_or(0, |(_, plain_end)| *plain_end);
            assert!(
                decoded.len() >= complete,
                "{codec}: cut at {cut}: {} of {complete} bytes",
                decoded.len()
            );
            assert!(plain_bytes.starts_with(&decoded), "{codec}: cut at {cut}");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn the_window_carries_across_events() {
    // The same envelope in every event: once the window holds it, each event
    // costs a few bytes.
    for codec in compiled_codecs() {
        let (sender, receiver) = mpsc::unbounded_channel::<Result<Event, Infallible>>();
        let body =
            SseBody::new(channel::Receiver(receiver)).compression(Compression::forced(codec));
        let mut body = std::pin::pin!(body);
        let mut sizes = Vec::new();
        for n in 0..20 {
            let data = format!(
                r#"{{"id":"chatcmpl-9","object":"chat.completion.chunk","created":1700000000,"model":"gpt-4o","choices":[{{"index":0,"delta":{{"content":"t{n}"}}}}]}}"#
            );
            sender.send(Ok(Event::new().data(data))).unwrap();
            let Poll::Ready(Some(frame)) = poll_now(body.as_mut()) else {
                panic!("a frame");
            };
            sizes.push(frame.len());
        }
        let later = sizes[10..].iter().max().unwrap();
        assert!(*later < 40, "{codec}: {sizes:?}");
    }
}

#[test]
fn the_response_says_its_coding_and_varies() {
    let mut request = HeaderMap::new();
    request.insert(
        "accept-encoding",
        "gzip, deflate, br, zstd".parse().unwrap(),
    );
    let events = futures_util::stream::iter([Event::new().data("x")]);
    let response = SseBody::from_infallible_stream(events)
        .compression(Compression::from_accept_encoding(&request))
        .into_response();
    let expected = Codecs::new().iter().next().unwrap();
    assert_eq!(response.headers()["content-encoding"], expected.as_str());
    assert_eq!(response.headers()["vary"], "accept-encoding");
    assert_eq!(response.headers()["content-type"], "text/event-stream");
    assert_eq!(response.body().get_compression().codec(), Some(expected));
}

#[test]
fn a_client_that_did_not_ask_gets_identity() {
    for accept in [
        None,
        Some(""),
        Some("identity"),
        Some("deflate"),
        Some("gzip;q=0, br;q=0, zstd;q=0"),
    ] {
        let mut request = HeaderMap::new();
        if let Some(accept) = accept {
            request.insert("accept-encoding", accept.parse().unwrap());
        }
        let events = futures_util::stream::iter([Event::new().data("x")]);
        let response = SseBody::from_infallible_stream(events)
            .compression(Compression::from_accept_encoding(&request))
            .into_response();
        assert!(
            response.headers().get("content-encoding").is_none(),
            "{accept:?}"
        );
        assert_eq!(response.headers()["vary"], "accept-encoding");
    }
}

#[tokio::test]
async fn an_empty_stream_still_ends_its_compressed_stream() {
    for codec in compiled_codecs() {
        let events = futures_util::stream::iter(Vec::<Event>::new());
        let body = SseBody::from_infallible_stream(events).compression(Compression::forced(codec));
        let mut body = std::pin::pin!(body);
        let mut frames = Vec::new();
        while let Poll::Ready(Some(frame)) = poll_now(body.as_mut()) {
            frames.push(frame);
        }
        assert_eq!(decode_whole(codec, &concat(&frames)), b"", "{codec}");
        assert!(body.is_end_stream());
    }
}

/// A compressor finished from a thread-local value's destructor, after the
/// codecs' shared per-thread buffer is gone (it was first used after that
/// value was set, so it is destroyed before it): the stream still ends with
/// its codec's end, not with an abort.
#[test]
fn a_compressor_finished_during_thread_teardown_still_ends_its_stream() {
    use std::cell::RefCell;
    use std::sync::mpsc as std_mpsc;

    use sse_engine::compression::FrameCompressor;

    struct FinishedOnDrop(FrameCompressor, std_mpsc::Sender<std::io::Result<usize>>);

    impl Drop for FinishedOnDrop {
        fn drop(&mut self) {
            let _ = self.1.send(self.0.finish().map(|end| end.len()));
        }
    }

    thread_local! {
        static HELD: RefCell<Option<FinishedOnDrop>> = const { RefCell::new(None) };
    }

    for codec in Codec::ALL
        .into_iter()
        .filter(|codec| codec.is_compiled_in())
    {
        let (sender, ended) = std_mpsc::channel();
        std::thread::spawn(move || {
            let compressor = FrameCompressor::new(codec).unwrap();
            HELD.with(|held| *held.borrow_mut() = Some(FinishedOnDrop(compressor, sender)));
            HELD.with(|held| {
                let mut held = held.borrow_mut();
                let compressor = &mut held.as_mut().unwrap().0;
                compressor.compress_frame(b"data: x\n\n").unwrap();
            });
        })
        .join()
        .unwrap();
        let end = ended.recv().unwrap().unwrap();
        assert!(end > 0, "{codec}: the stream's end was written");
    }
}

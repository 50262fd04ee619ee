//! Compression built for event streams: negotiated from the request's
//! `Accept-Encoding`, one compressor per stream whose window carries across
//! events, flushed after every frame so that no event waits for the next.
//!
//! ```
//! use std::convert::Infallible;
//! use futures_util::stream;
//! use http::HeaderMap;
//! use sse_engine::compression::Compression;
//! use sse_engine::{Event, SseBody};
//!
//! # fn handler(request_headers: &HeaderMap) -> http::Response<impl http_body::Body> {
//! let events = stream::iter([Ok::<_, Infallible>(Event::new().data("hello"))]);
//! SseBody::new(events)
//!     .compression(Compression::from_accept_encoding(request_headers))
//!     .into_response()
//! # }
//! # let mut headers = HeaderMap::new();
//! # headers.insert("accept-encoding", "gzip, deflate, br, zstd".parse().unwrap());
//! # let response = handler(&headers);
//! # assert_eq!(response.headers()["vary"], "accept-encoding");
//! ```
//!
//! Each codec is a Cargo feature of `sse-engine`, all off by default:
//! `gzip` (flate2 on zlib-rs, a Rust port of zlib-ng), `br` (the pure-Rust
//! `brotli` crate) and `zstd` (the `zstd` crate, which builds the C library
//! libzstd). With none of them on, every stream is identity.
//!
//! # Negotiation
//!
//! [`Codecs`] is what the server offers, in its order of preference;
//! [`Codecs::negotiate`] reads the request's `Accept-Encoding` and gives the
//! [`Compression`] of one response:
//!
//! - The client's weights come first: among the offered codecs it accepts
//!   (`q` above 0, by name or through `*`), the one it weighs highest wins;
//!   the server's order breaks ties (browsers weigh everything 1).
//! - `identity` named with a weight above that codec's wins over it.
//! - Never compressed for a client that did not ask: no `Accept-Encoding`,
//!   an empty one, only codings the server does not offer, or a header
//!   that cannot be read (longer than 1 KiB) all mean identity. Elements
//!   that cannot be read (junk, a bad `q`) are skipped; a coding named twice
//!   keeps its lowest weight. `identity;q=0` with nothing else acceptable
//!   still gets identity: an event stream is never refused for its coding.
//!
//! The default order is **gzip, then zstd, then br** (those compiled in):
//!
//! - A live stream is flushed after every event, so what one small flushed
//!   frame costs decides. gzip at level 1 (zlib-rs's "deflate quick", fixed
//!   Huffman codes) builds no code table per flush; zstd and Brotli build
//!   theirs for every flushed block. On the compression bench's streams
//!   gzip sends the fewest bytes of the three (16.2 bytes per OpenAI-shaped
//!   token event, against 18.2 for zstd and 18.9 for Brotli) for the least
//!   CPU (0.40 to 0.56 µs per event, against 1.09 to 1.44 µs for zstd and
//!   4.65 to 7.68 µs for Brotli), less than axum spends on the same events
//!   uncompressed; hub fan-out multiplies that by the number of subscribers.
//! - zstd second: a third of gzip's memory per stream (see the table
//!   below). A server that holds many idle compressed streams, such as a
//!   hub endpoint with thousands of subscribers, can put it first:
//!   `Codecs::prefer([Codec::Zstd, Codec::Gzip, Codec::Brotli])`.
//! - Brotli last: on flushed event frames it sends no fewer bytes than gzip
//!   for several times the CPU, and holds more memory. It is offered for a
//!   client that accepts nothing else.
//! - Chromium advertises `gzip, deflate, br, zstd` (zstd also over plain
//!   http), Firefox `gzip, deflate, br, zstd` over https, Safari `gzip,
//!   deflate, br`, `curl --compressed` whatever its build has: all of them
//!   get gzip unless the server's order says otherwise.
//! - `deflate` is never offered: servers and clients disagree on whether it
//!   means zlib or raw deflate.
//!
//! # Frames and memory
//!
//! Every frame the body yields (the opening block, coalesced events, a
//! keep-alive comment, a gap or final event) is compressed and flushed: gzip
//! and zstd close their block, Brotli emits a flush. That costs a few bytes
//! per frame (5 for gzip, 3 or so for zstd and Brotli) and is what makes
//! each event readable on arrival. When the stream ends, the compressor
//! writes its end (gzip's trailer, for example).
//!
//! Each stream keeps its compressor for its whole life, so the settings
//! are chosen for long-lived streams. Heap per idle stream after a few
//! events, measured by `sse-core/tests/compression_memory.rs` (a counting
//! allocator, plus libzstd's own `ZSTD_sizeof_CCtx`), and the wire bytes of
//! an OpenAI-shaped token stream (200-byte events), flushed after every
//! event:
//!
//! | codec | settings | heap per idle stream | token stream on the wire |
//! | --- | --- | --- | --- |
//! | gzip | level 1, 8 KiB window | 276 KiB | 6% of identity |
//! | zstd | level 1, 8 KiB window, 16 KiB match table | 95 KiB (libzstd's heap) | 7% |
//! | br | quality 3, 16 KiB window | 313 KiB after small frames; up to about 566 KiB for the rest of the stream once one frame reaches 64 KiB (a burst of events coalesced, a replay) | 7% |
//!
//! CPU per event and stream on the OpenAI-shaped token stream, flushed
//! after every event: 0.56 µs for gzip, 1.44 µs for zstd, 4.65 µs for
//! Brotli (0.16 µs uncompressed, 0.78 µs for axum's uncompressed `Sse` in
//! the same rounds; `BENCHMARKS.md`).
//!
//! gzip goes through flate2 on its zlib-rs backend, which this crate turns
//! on; flate2 has one backend per build, shared by every crate that uses
//! it. If another crate in the build turns on one of flate2's C backends
//! (`zlib`, `zlib-ng`), flate2 uses that one for every crate: with stock
//! zlib, whose level 1 builds code tables as level 3 does, the figures here
//! (measured on zlib-rs) do not hold.

mod accept_encoding;
#[cfg(feature = "br")]
mod brotli;
mod frame_compressor;
#[cfg(feature = "gzip")]
mod gzip;
mod negotiate;
#[cfg(any(feature = "gzip", feature = "br", feature = "zstd"))]
mod scratch;
#[cfg(feature = "zstd")]
mod zstd;

pub use self::frame_compressor::FrameCompressor;
pub use self::negotiate::{Codecs, Compression};

/// A content coding a stream can be compressed with.
///
/// Every variant exists whatever the features; one whose feature is off is
/// never negotiated ([`Codec::is_compiled_in`]).
///
/// ```
/// use sse_engine::compression::Codec;
///
/// assert_eq!(Codec::Brotli.as_str(), "br");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Codec {
    /// `gzip` (feature `gzip`).
    Gzip,
    /// `br`, Brotli (feature `br`).
    Brotli,
    /// `zstd`, Zstandard (feature `zstd`).
    Zstd,
}

impl Codec {
    /// Every codec, in the default order of preference (see the
    /// [module docs](self#negotiation)).
    pub const ALL: [Codec; 3] = [Codec::Gzip, Codec::Zstd, Codec::Brotli];

    /// Its name in `Accept-Encoding` and `Content-Encoding`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Codec::Gzip => "gzip",
            Codec::Brotli => "br",
            Codec::Zstd => "zstd",
        }
    }

    /// Whether its Cargo feature is on.
    ///
    /// ```
    /// use sse_engine::compression::Codec;
    ///
    /// assert_eq!(Codec::Gzip.is_compiled_in(), cfg!(feature = "gzip"));
    /// ```
    pub const fn is_compiled_in(self) -> bool {
        match self {
            Codec::Gzip => cfg!(feature = "gzip"),
            Codec::Brotli => cfg!(feature = "br"),
            Codec::Zstd => cfg!(feature = "zstd"),
        }
    }

    /// Its `Content-Encoding` value.
    pub const fn header_value(self) -> http::HeaderValue {
        http::HeaderValue::from_static(self.as_str())
    }
}

impl std::fmt::Display for Codec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

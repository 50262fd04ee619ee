//! [`FrameCompressor`]: one stream's compressor, flushed after every frame.

use std::fmt;
use std::io;

use bytes::Bytes;

use super::Codec;

/// The compressor of one stream: its window carries across frames, and every
/// frame it compresses is flushed, so the client can decode everything sent
/// so far and no event waits in it for the next.
///
/// [`SseBody`](crate::SseBody) keeps one when given a
/// [`Compression`](super::Compression); this is the same compressor for
/// bodies of other kinds (a middleware, another framework's adapter).
///
/// ```
/// # #[cfg(feature = "gzip")] {
/// use sse_engine::compression::{Codec, FrameCompressor};
///
/// let mut gzip = FrameCompressor::new(Codec::Gzip).expect("the gzip feature is on");
/// let first = gzip.compress_frame(b"data: one\n\n").unwrap();
/// let second = gzip.compress_frame(b"data: two\n\n").unwrap();
/// let end = gzip.finish().unwrap();
/// assert!(!first.is_empty() && !second.is_empty() && !end.is_empty());
/// # }
/// ```
pub struct FrameCompressor {
    inner: Inner,
}

enum Inner {
    #[cfg(feature = "gzip")]
    Gzip(super::gzip::GzipFrames),
    // Boxed: Brotli's state is 5 KiB inline, the others' under 100 bytes.
    #[cfg(feature = "br")]
    Brotli(Box<super::brotli::BrotliFrames>),
    #[cfg(feature = "zstd")]
    Zstd(super::zstd::ZstdFrames),
    /// Finished: nothing more may be written.
    Finished(Codec),
}

impl FrameCompressor {
    /// A compressor for `codec`, or `None` when the codec's feature is not
    /// compiled in (or its library could not set up a stream).
    #[cfg_attr(
        not(any(feature = "gzip", feature = "br", feature = "zstd")),
        allow(unused_variables, unused_mut, unreachable_code, clippy::ptr_arg)
    )]
    pub fn new(codec: Codec) -> Option<Self> {
        let inner = match codec {
            #[cfg(feature = "gzip")]
            Codec::Gzip => Inner::Gzip(super::gzip::GzipFrames::new()),
            #[cfg(feature = "br")]
            Codec::Brotli => Inner::Brotli(Box::new(super::brotli::BrotliFrames::new())),
            #[cfg(feature = "zstd")]
            Codec::Zstd => Inner::Zstd(super::zstd::ZstdFrames::new().ok()?),
            #[allow(unreachable_patterns)]
            _ => return None,
        };
        Some(Self { inner })
    }

    /// The codec.
    pub fn codec(&self) -> Codec {
        match self.inner {
            #[cfg(feature = "gzip")]
            Inner::Gzip(_) => Codec::Gzip,
            #[cfg(feature = "br")]
            Inner::Brotli(_) => Codec::Brotli,
            #[cfg(feature = "zstd")]
            Inner::Zstd(_) => Codec::Zstd,
            Inner::Finished(codec) => codec,
        }
    }

    /// Bytes the codec holds outside Rust's heap, where the global allocator
    /// does not see them: libzstd's context for zstd (allocated by the C
    /// library), 0 for the pure-Rust gzip and Brotli. For memory accounting.
    pub fn c_heap_bytes(&self) -> usize {
        match &self.inner {
            #[cfg(feature = "zstd")]
            Inner::Zstd(zstd) => zstd.c_heap_bytes(),
            #[cfg(feature = "gzip")]
            Inner::Gzip(_) => 0,
            #[cfg(feature = "br")]
            Inner::Brotli(_) => 0,
            Inner::Finished(_) => 0,
        }
    }

    /// Compresses `frame` and flushes: the bytes returned decode, after
    /// those returned before, to everything given so far.
    ///
    /// # Errors
    ///
    /// When the codec's library fails (it runs in memory: in practice, only
    /// if it cannot allocate), or after [`finish`](Self::finish).
    pub fn compress_frame(&mut self, frame: &[u8]) -> io::Result<Bytes> {
        let mut out = Vec::new();
        self.compress_into(frame, &mut out)?;
        Ok(Bytes::from(out))
    }

    #[cfg_attr(
        not(any(feature = "gzip", feature = "br", feature = "zstd")),
        allow(unused_variables, unused_mut, unreachable_code, clippy::ptr_arg)
    )]
    fn compress_into(&mut self, frame: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        match &mut self.inner {
            #[cfg(feature = "gzip")]
            Inner::Gzip(gzip) => gzip.compress_and_flush(frame, out),
            #[cfg(feature = "br")]
            Inner::Brotli(brotli) => brotli.compress_and_flush(frame, out),
            #[cfg(feature = "zstd")]
            Inner::Zstd(zstd) => zstd.compress_and_flush(frame, out),
            Inner::Finished(_) => Err(finished()),
        }
    }

    /// Ends the compressed stream (gzip's trailer, Brotli's last block,
    /// zstd's frame end): the bytes to send last. Later calls return nothing.
    ///
    /// # Errors
    ///
    /// When the codec's library fails.
    #[cfg_attr(
        not(any(feature = "gzip", feature = "br", feature = "zstd")),
        allow(unused_variables, unused_mut, unreachable_code, clippy::ptr_arg)
    )]
    pub fn finish(&mut self) -> io::Result<Bytes> {
        let codec = self.codec();
        let mut out = Vec::new();
        match std::mem::replace(&mut self.inner, Inner::Finished(codec)) {
            #[cfg(feature = "gzip")]
            Inner::Gzip(mut gzip) => gzip.finish(&mut out)?,
            #[cfg(feature = "br")]
            Inner::Brotli(mut brotli) => brotli.finish(&mut out)?,
            #[cfg(feature = "zstd")]
            Inner::Zstd(mut zstd) => zstd.finish(&mut out)?,
            Inner::Finished(_) => {}
        }
        Ok(Bytes::from(out))
    }
}

fn finished() -> io::Error {
    io::Error::other("the compressed stream was finished")
}

impl fmt::Debug for FrameCompressor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FrameCompressor")
            .field("codec", &self.codec())
            .field("finished", &matches!(self.inner, Inner::Finished(_)))
            .finish()
    }
}

//! Zstandard through the `zstd` crate's safe binding of libzstd, flushed
//! after every frame.

use std::io;

use zstd::zstd_safe::zstd_sys::ZSTD_EndDirective;
use zstd::zstd_safe::{CCtx, CParameter, ErrorCode, InBuffer, OutBuffer, get_error_name};

use super::scratch::with_scratch;

/// Level 1: on event streams it sends within a few percent of level 3's
/// bytes, with the smallest state (level 3's match tables are four times
/// larger) and the least CPU per subscriber.
const LEVEL: i32 = 1;

/// An 8 KiB window (2^13) instead of level 1's default of 2^19: libzstd
/// sizes its buffers by the window, and a long-lived stream keeps them for
/// its whole life. The repeats that events share (the JSON envelope, field
/// names) are recent: on the compression bench's four streams a 16 KiB
/// window sent the same bytes for token streams and 1.5-5% fewer for
/// dashboard and chat events, for twice the memory (`BENCHMARKS.md`).
const WINDOW_LOG: u32 = 13;

/// A match table of 2^12 entries (16 KiB) instead of level 1's 2^14
/// (64 KiB): with an 8 KiB window most of the larger table would index
/// positions the window no longer holds. With the window above, libzstd
/// holds 95 KiB per stream instead of 197 KiB.
const HASH_LOG: u32 = 12;

/// One zstd frame for the whole stream; every frame of the body is
/// compressed with `ZSTD_e_flush`, which closes the current block so the
/// decoder has every byte.
pub(super) struct ZstdFrames {
    context: CCtx<'static>,
}

impl ZstdFrames {
    pub(super) fn new() -> io::Result<Self> {
        let mut context = CCtx::try_create().ok_or_else(|| error(0))?;
        context
            .set_parameter(CParameter::CompressionLevel(LEVEL))
            .map_err(error)?;
        context
            .set_parameter(CParameter::WindowLog(WINDOW_LOG))
            .map_err(error)?;
        context
            .set_parameter(CParameter::HashLog(HASH_LOG))
            .map_err(error)?;
        Ok(Self { context })
    }

    pub(super) fn compress_and_flush(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        self.run(input, ZSTD_EndDirective::ZSTD_e_flush, out)
    }

    pub(super) fn finish(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        self.run(&[], ZSTD_EndDirective::ZSTD_e_end, out)
    }

    /// Bytes libzstd holds for this stream, in its own (C) heap.
    pub(super) fn c_heap_bytes(&self) -> usize {
        self.context.sizeof()
    }

    fn run(&mut self, input: &[u8], end: ZSTD_EndDirective, out: &mut Vec<u8>) -> io::Result<()> {
        let mut input = InBuffer::around(input);
        with_scratch(|scratch| {
            loop {
                let mut output = OutBuffer::around(&mut *scratch);
                let remaining = self
                    .context
                    .compress_stream2(&mut output, &mut input, end)
                    .map_err(error)?;
                let written = output.pos();
                out.extend_from_slice(&scratch[..written]);
                if remaining == 0 && input.pos() == input.src.len() {
                    return Ok(());
                }
            }
        })
    }
}

fn error(code: ErrorCode) -> io::Error {
    if code == 0 {
        return io::Error::other("zstd could not allocate a context");
    }
    io::Error::other(get_error_name(code))
}

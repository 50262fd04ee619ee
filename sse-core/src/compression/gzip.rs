//! gzip through flate2 on zlib-rs (a Rust port of zlib-ng): raw deflate in
//! a gzip member, sync-flushed after every frame.

use std::io;

use flate2::{Compress, Crc, FlushCompress, Status};

use super::scratch::with_scratch;

/// Level 1, which zlib-rs (like zlib-ng) runs as "deflate quick": matches
/// from one hash probe, written with deflate's fixed Huffman codes. A frame
/// flushed on its own is short (one event, a few hundred bytes), and fixed
/// codes need no code table built and sent per flush, which is what a
/// dynamic block costs on every flushed event: on the compression bench's
/// token streams level 1 sends fewer bytes than miniz_oxide's level 3 did
/// (16.2 against 27.8 per OpenAI-shaped token event) for a fifth of its CPU (`BENCHMARKS.md`).
const LEVEL: u32 = 1;

/// An 8 KiB window (2^13) instead of deflate's 32 KiB: the repeats events
/// share are recent, so the bytes stay within 1-4% of the full window's on
/// the bench's workloads, and the stream holds 276 KiB instead of 372 KiB
/// (most of what is left is zlib-rs's 128 KiB match table, whose size is
/// fixed).
const WINDOW_BITS: u8 = 13;

/// A gzip member header: deflate, no flags, no time, no extra flags, and
/// "unknown" for the operating system (RFC 1952).
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff];

/// One gzip stream: header, deflate blocks (one sync flush per frame, which
/// costs 5 bytes: an empty stored block), and at the end the trailer.
///
/// zlib-rs allocates the whole compressor state when the stream starts.
pub(super) struct GzipFrames {
    deflate: Compress,
    crc: Crc,
    header_sent: bool,
}

impl GzipFrames {
    pub(super) fn new() -> Self {
        Self {
            deflate: Compress::new_with_window_bits(
                flate2::Compression::new(LEVEL),
                false,
                WINDOW_BITS,
            ),
            crc: Crc::new(),
            header_sent: false,
        }
    }

    pub(super) fn compress_and_flush(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        if !self.header_sent {
            out.extend_from_slice(&HEADER);
            self.header_sent = true;
        }
        self.crc.update(input);
        deflate_all(&mut self.deflate, input, FlushCompress::Sync, out)
    }

    pub(super) fn finish(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        if !self.header_sent {
            out.extend_from_slice(&HEADER);
            self.header_sent = true;
        }
        deflate_all(&mut self.deflate, &[], FlushCompress::Finish, out)?;
        out.extend_from_slice(&self.crc.sum().to_le_bytes());
        out.extend_from_slice(&self.crc.amount().to_le_bytes());
        Ok(())
    }
}

/// Runs `input` through the compressor with `flush` and appends what it
/// writes to `out`, until the flush is complete: the input is consumed and
/// the compressor stopped with room left (for `Finish`: the stream ended).
fn deflate_all(
    deflate: &mut Compress,
    input: &[u8],
    flush: FlushCompress,
    out: &mut Vec<u8>,
) -> io::Result<()> {
    with_scratch(|scratch| {
        let mut input = input;
        loop {
            let (before_in, before_out) = (deflate.total_in(), deflate.total_out());
            let status = deflate
                .compress(input, scratch, flush)
                .map_err(io::Error::other)?;
            let consumed = usize::try_from(deflate.total_in() - before_in).unwrap_or(input.len());
            let written = usize::try_from(deflate.total_out() - before_out).unwrap_or(0);
            input = &input[consumed.min(input.len())..];
            out.extend_from_slice(&scratch[..written.min(scratch.len())]);
            let room_left = written < scratch.len();
            match status {
                Status::StreamEnd => return Ok(()),
                _ if input.is_empty() && room_left && !matches!(flush, FlushCompress::Finish) => {
                    return Ok(());
                }
                _ => {}
            }
        }
    })
}

//! Zstandard through the `zstd` crate (libzstd), flushed after every frame.

use std::io;

use zstd::stream::raw::{CParameter, Encoder, InBuffer, Operation, OutBuffer};

/// Level 3, zstd's default: the fastest levels' savings on event streams
/// are nearly the same, and 3 still runs at hundreds of MB/s.
const LEVEL: i32 = 3;

/// A 64 KiB window (2^16) instead of the default 2^21 for level 3: libzstd
/// keeps a buffer the size of the window per stream, and a long-lived
/// stream keeps it for its whole life. Decoders accept any window up to
/// 8 MiB (RFC 8878's recommended limit).
const WINDOW_LOG: u32 = 16;

/// One zstd frame for the whole stream; every frame of the body ends with a
/// flush (`ZSTD_e_flush`), which closes the current block.
pub(super) struct ZstdFrames {
    encoder: Encoder<'static>,
}

impl ZstdFrames {
    pub(super) fn new() -> io::Result<Self> {
        let mut encoder = Encoder::new(LEVEL)?;
        encoder.set_parameter(CParameter::WindowLog(WINDOW_LOG))?;
        Ok(Self { encoder })
    }

    pub(super) fn compress_and_flush(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        let mut input = InBuffer::around(input);
        while input.pos() < input.src.len() {
            out.reserve((input.src.len() - input.pos()) / 2 + 64);
            let pos = out.len();
            self.encoder
                .run(&mut input, &mut OutBuffer::around_pos(out, pos))?;
        }
        loop {
            out.reserve(64);
            let pos = out.len();
            if self.encoder.flush(&mut OutBuffer::around_pos(out, pos))? == 0 {
                return Ok(());
            }
        }
    }

    pub(super) fn finish(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        loop {
            out.reserve(64);
            let pos = out.len();
            if self
                .encoder
                .finish(&mut OutBuffer::around_pos(out, pos), true)?
                == 0
            {
                return Ok(());
            }
        }
    }
}

//! Brotli through the pure-Rust `brotli` crate, flushed after every frame.

use std::fmt;
use std::io;

use brotli::enc::backward_references::BrotliEncoderMode;
use brotli::enc::encode::{
    BrotliEncoderOperation, BrotliEncoderParameter, BrotliEncoderStateStruct,
};
use brotli::enc::{StandardAlloc, interface};

use super::scratch::with_scratch;

/// Quality 3 of 11. Quality 2 sends nearly twice the bytes on a token
/// stream (11% of identity against 7%) and more than gzip on small JSON;
/// quality 4 holds more than twice the memory (a larger match finder) for
/// a few percent; 5 and above cost megabytes per stream.
const QUALITY: u32 = 3;

/// A 16 KiB window (2^14): the repeats that events share are recent, and a
/// larger window costs memory for the stream's whole life (2^16 adds
/// 96 KiB and sent more bytes on token streams, not fewer).
const WINDOW_BITS: u32 = 14;

/// One Brotli stream; every frame ends with a flush (the encoder's
/// `BROTLI_OPERATION_FLUSH`), which leaves the decoder with every byte.
pub(super) struct BrotliFrames {
    state: BrotliEncoderStateStruct<StandardAlloc>,
}

impl BrotliFrames {
    pub(super) fn new() -> Self {
        let mut state = BrotliEncoderStateStruct::new(StandardAlloc::default());
        state.set_parameter(BrotliEncoderParameter::BROTLI_PARAM_QUALITY, QUALITY);
        state.set_parameter(BrotliEncoderParameter::BROTLI_PARAM_LGWIN, WINDOW_BITS);
        state.set_parameter(
            BrotliEncoderParameter::BROTLI_PARAM_MODE,
            BrotliEncoderMode::BROTLI_MODE_TEXT as u32,
        );
        Self { state }
    }

    pub(super) fn compress_and_flush(&mut self, input: &[u8], out: &mut Vec<u8>) -> io::Result<()> {
        self.run(BrotliEncoderOperation::BROTLI_OPERATION_FLUSH, input, out)
    }

    pub(super) fn finish(&mut self, out: &mut Vec<u8>) -> io::Result<()> {
        self.run(BrotliEncoderOperation::BROTLI_OPERATION_FINISH, &[], out)
    }

    fn run(
        &mut self,
        op: BrotliEncoderOperation,
        input: &[u8],
        out: &mut Vec<u8>,
    ) -> io::Result<()> {
        let mut no_metablock_callback =
            |_: &mut interface::PredictionModeContextMap<interface::InputReferenceMut<'_>>,
             _: &mut [interface::StaticCommand],
             _: interface::InputPair<'_>,
             _: &mut StandardAlloc| ();
        let mut available_in = input.len();
        let mut in_offset = 0;
        with_scratch(|scratch| {
            loop {
                let mut available_out = scratch.len();
                let mut out_offset = 0;
                let ok = self.state.compress_stream(
                    op,
                    &mut available_in,
                    input,
                    &mut in_offset,
                    &mut available_out,
                    scratch,
                    &mut out_offset,
                    &mut None,
                    &mut no_metablock_callback,
                );
                out.extend_from_slice(&scratch[..out_offset.min(scratch.len())]);
                if !ok {
                    return Err(io::Error::other("brotli encoder failed"));
                }
                let done = match op {
                    BrotliEncoderOperation::BROTLI_OPERATION_FINISH => self.state.is_finished(),
                    _ => available_in == 0 && !self.state.has_more_output(),
                };
                if done {
                    return Ok(());
                }
            }
        })
    }
}

impl fmt::Debug for BrotliFrames {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BrotliFrames").finish_non_exhaustive()
    }
}

//! The buffer every codec writes its output into before it is copied out.

use std::cell::RefCell;

/// Bytes of compressed output one call to a codec may write.
const SCRATCH_LEN: usize = 16 * 1024;

thread_local! {
    // Shared by every stream a thread compresses: zeroed once (flate2's
    // `compress_vec` zeroes the spare capacity of its buffer on every call),
    // and no stream keeps room for output it has already handed on. A frame
    // is compressed to a few dozen bytes, copied out into a buffer of
    // exactly that size.
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH_LEN]);
}

/// Runs `write` with the thread's scratch buffer. `write` must not call
/// `with_scratch` itself (the buffer is borrowed for the call); a codec
/// only calls into its own library.
pub(super) fn with_scratch<R>(write: impl FnOnce(&mut [u8]) -> R) -> R {
    SCRATCH.with_borrow_mut(|scratch| write(scratch))
}

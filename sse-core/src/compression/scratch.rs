//! The buffer every codec writes its output into before it is copied out.

use std::cell::RefCell;

/// Bytes of compressed output one call to a codec may write.
const SCRATCH_LEN: usize = 16 * 1024;

thread_local! {
    // Shared by every stream a thread compresses: no stream keeps room for
    // output it has already handed on, and a frame's few dozen compressed
    // bytes are copied out into a buffer of exactly their size (one
    // allocation; a `Vec` grown for the output and turned into `Bytes` took
    // two, as its capacity was not its length).
    static SCRATCH: RefCell<Vec<u8>> = RefCell::new(vec![0; SCRATCH_LEN]);
}

/// Runs `write` once, with the thread's scratch buffer. Where that buffer
/// cannot be had (a compressor used from another thread-local value's
/// destructor, after this one was destroyed), `write` gets a buffer of its
/// own instead of a panic.
pub(super) fn with_scratch<R>(mut write: impl FnMut(&mut [u8]) -> R) -> R {
    let shared = SCRATCH.try_with(|scratch| {
        scratch
            .try_borrow_mut()
            .ok()
            .map(|mut scratch| write(&mut scratch))
    });
    match shared {
        Ok(Some(written)) => written,
        _ => write(&mut vec![0; SCRATCH_LEN]),
    }
}

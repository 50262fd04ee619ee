//! [`Inline`]: the form of a short [`Text`](super::Text), held in the
//! value itself.

/// Text of up to this many bytes is held inside the `Text` itself: with
/// its length, it fills the 24 bytes beside the word of `Bytes` that tells
/// the two forms apart, so a `Text` is as large as a `Bytes` (32 bytes).
/// (38 bytes inline made `Text` 40 bytes with a tag byte of its own, which
/// every move of an event pays for: measurably slower.)
pub(crate) const INLINE_MAX: usize = 23;

// `Inline::copy` gathers the bytes into three words, the length in the top
// byte of the last: written for exactly this length.
const _: () = assert!(INLINE_MAX == 23);

use crate::wire::load_word;

/// Up to [`INLINE_MAX`] bytes of UTF-8, then their length in the last byte.
#[derive(Clone, Copy)]
pub(super) struct Inline([u8; INLINE_MAX + 1]);

impl Inline {
    pub(super) const EMPTY: Self = Self([0; INLINE_MAX + 1]);

    /// A copy of `text`, which holds at most [`INLINE_MAX`] bytes. The
    /// bytes are gathered into three words by fixed-size loads and stored
    /// as whole words: an event name is copied for every event built, and a
    /// copy byte by byte, a call to `memcpy`, or an `Option` around the
    /// result (which puts the bytes at an odd offset) each cost more than
    /// the rest of building the event.
    #[inline(always)]
    pub(super) fn copy(src: &[u8]) -> Self {
        debug_assert!(src.len() <= INLINE_MAX);
        let len = src.len().min(INLINE_MAX);
        let (first, rest) = src[..len].split_at(len.min(8));
        let (second, third) = rest.split_at(rest.len().min(8));
        let mut raw = [0; INLINE_MAX + 1];
        raw[..8].copy_from_slice(&load_word(first).to_le_bytes());
        raw[8..16].copy_from_slice(&load_word(second).to_le_bytes());
        let last = load_word(third) | (len as u64) << 56;
        raw[16..].copy_from_slice(&last.to_le_bytes());
        Self(raw)
    }

    #[inline]
    pub(super) fn as_bytes(&self) -> &[u8] {
        &self.0[..usize::from(self.0[INLINE_MAX])]
    }

    pub(super) fn as_str(&self) -> &str {
        // Copied from a `str` whole, so always UTF-8; the check is the price
        // of `forbid(unsafe_code)`, and the wire path never pays it.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_is_copied_whole() {
        let source: Vec<u8> = (1..=INLINE_MAX as u8).collect();
        for len in 0..=INLINE_MAX {
            let inline = Inline::copy(&source[..len]);
            assert_eq!(inline.as_bytes(), &source[..len]);
        }
    }
}

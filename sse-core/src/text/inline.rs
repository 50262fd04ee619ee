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

use crate::wire::{load_word, low_bytes};

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
        Self::from_words(src.len(), words(src))
    }

    /// [`Inline::copy`], and whether the text holds a byte below 0x0E
    /// (every LF, CR and NUL is one), found in the same words: a field that
    /// must be one line checks further only text that holds one.
    #[inline(always)]
    pub(super) fn copy_flagging_low(src: &[u8]) -> (Self, bool) {
        let words = words(src);
        // Every bit of the text's bytes, none of the zeros after it (which
        // would read as low bytes; being above the text, they cannot make a
        // byte of it read as one).
        let in_text = |from: usize| match src.len().saturating_sub(from).min(8) {
            8 => u64::MAX,
            n => (1u64 << (8 * n)) - 1,
        };
        let low = low_bytes(words[0]) & in_text(0)
            | low_bytes(words[1]) & in_text(8)
            | low_bytes(words[2]) & in_text(16);
        (Self::from_words(src.len(), words), low != 0)
    }

    #[inline(always)]
    fn from_words(len: usize, words: [u64; 3]) -> Self {
        let mut raw = [0; INLINE_MAX + 1];
        raw[..8].copy_from_slice(&words[0].to_le_bytes());
        raw[8..16].copy_from_slice(&words[1].to_le_bytes());
        let last = words[2] | (len.min(INLINE_MAX) as u64) << 56;
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

/// The first [`INLINE_MAX`] bytes of `src` as three little-endian words,
/// zero after them.
#[inline(always)]
fn words(src: &[u8]) -> [u64; 3] {
    debug_assert!(src.len() <= INLINE_MAX);
    let len = src.len().min(INLINE_MAX);
    let (first, rest) = src[..len].split_at(len.min(8));
    let (second, third) = rest.split_at(rest.len().min(8));
    [load_word(first), load_word(second), load_word(third)]
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

    #[test]
    fn low_bytes_are_flagged_only_in_the_text() {
        let source: Vec<u8> = (0..INLINE_MAX).map(|n| b'a' + n as u8).collect();
        for len in 0..=INLINE_MAX {
            let (inline, low) = Inline::copy_flagging_low(&source[..len]);
            assert_eq!(inline.as_bytes(), &source[..len]);
            assert!(!low, "{len}: the zeros after the text are not in it");
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut text = source[..len].to_vec();
                    text[at] = byte;
                    let (inline, low) = Inline::copy_flagging_low(&text);
                    assert_eq!(inline.as_bytes(), &text[..]);
                    assert_eq!(low, text.iter().any(|&b| b < 0x0E), "{text:?}");
                }
            }
        }
    }
}

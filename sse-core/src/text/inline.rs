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

/// Up to eight bytes as a little-endian word, zero above them, read with at
/// most two loads (which may overlap) instead of a loop.
#[inline(always)]
fn load_word(bytes: &[u8]) -> u64 {
    let len = bytes.len();
    if len == 8 {
        let mut word = [0; 8];
        word.copy_from_slice(bytes);
        u64::from_le_bytes(word)
    } else if len >= 4 {
        let (mut low, mut high) = ([0; 4], [0; 4]);
        low.copy_from_slice(&bytes[..4]);
        high.copy_from_slice(&bytes[len - 4..]);
        let low = u64::from(u32::from_le_bytes(low));
        let high = u64::from(u32::from_le_bytes(high));
        low | high << (8 * (len - 4))
    } else if len > 0 {
        let first = u64::from(bytes[0]);
        let middle = u64::from(bytes[len / 2]);
        let last = u64::from(bytes[len - 1]);
        first | middle << (8 * (len / 2)) | last << (8 * (len - 1))
    } else {
        0
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

    #[test]
    fn words_hold_the_bytes_in_order() {
        assert_eq!(load_word(b""), 0);
        assert_eq!(load_word(b"a"), 0x61);
        assert_eq!(load_word(b"ab"), 0x6261);
        assert_eq!(load_word(b"abc"), 0x63_6261);
        assert_eq!(load_word(b"abcde"), 0x65_6463_6261);
        assert_eq!(load_word(b"abcdefgh"), u64::from_le_bytes(*b"abcdefgh"));
    }
}

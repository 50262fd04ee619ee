//! Small pieces of the wire format that several files write or read: decimal
//! digits, the search for line breaks, and the hub's `<epoch>-<seq>` ids,
//! written and parsed here and nowhere else.
//!
//! This file imports nothing from the crate, so that the encoder and the
//! field types can both use it without importing each other.

use bytes::BytesMut;

/// The most digits a `u64` has in decimal.
const DECIMAL_MAX_LEN: usize = 20;

/// The number of decimal digits of `number`.
pub(crate) fn decimal_len(number: u64) -> usize {
    number.checked_ilog10().map_or(1, |log| log as usize + 1)
}

/// Appends `number` in decimal.
pub(crate) fn push_decimal(out: &mut BytesMut, number: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(number).as_bytes());
}

/// The first CR or LF in `bytes`. Short values (event names, ids, a token's
/// JSON) are scanned eight bytes at a time in a `u64`: below 64 bytes that
/// beats the set-up of memchr's vectorised search.
#[inline]
pub(crate) fn find_line_break(bytes: &[u8]) -> Option<usize> {
    if bytes.len() >= 64 {
        return memchr::memchr2(b'\n', b'\r', bytes);
    }
    find_in_words::<false>(bytes)
}

/// The first CR, LF or NUL in `bytes`: the bytes an `id` must not hold.
#[inline]
pub(crate) fn find_line_break_or_nul(bytes: &[u8]) -> Option<usize> {
    if bytes.len() >= 64 {
        return memchr::memchr3(b'\n', b'\r', 0, bytes);
    }
    find_in_words::<true>(bytes)
}

const ONES: u64 = u64::from_ne_bytes([0x01; 8]);
const HIGHS: u64 = u64::from_ne_bytes([0x80; 8]);

/// The high bit of every byte of `word` below 0x0E, which every LF, CR and
/// NUL is, and maybe of bytes above such a byte: the lowest flagged byte is
/// always a true one (borrows only run upward), so the result is zero
/// exactly when no byte is that low.
#[inline(always)]
pub(crate) fn low_bytes(word: u64) -> u64 {
    word.wrapping_sub(ONES * 0x0E) & !word & HIGHS
}

/// The first LF or CR (and NUL, with `NUL`), eight bytes at a time.
///
/// All three are below 0x0E, and text seldom holds any other byte that low
/// (a tab, a form feed): one subtraction tells whether a word holds such a
/// byte, and only a word that does is searched for the bytes themselves.
/// The bytes after the last whole word are read as one more word, which
/// overlaps bytes already searched (none of which matched); a value shorter
/// than a word is read as one, padded with bytes that match nothing.
#[inline(always)]
fn find_in_words<const NUL: bool>(bytes: &[u8]) -> Option<usize> {
    // A byte of `x` is zero where `word` holds `byte`; the lowest flagged
    // byte is always a true match (borrows only run upward).
    let flag = |word: u64, byte: u8| {
        let x = word ^ (ONES * u64::from(byte));
        x.wrapping_sub(ONES) & !x
    };
    let exact = |word: u64| {
        let mut found = flag(word, b'\n') | flag(word, b'\r');
        if NUL {
            found |= flag(word, 0);
        }
        let found = found & HIGHS;
        (found != 0).then(|| (found.trailing_zeros() / 8) as usize)
    };
    let first_wanted = |word: u64| {
        if low_bytes(word) == 0 {
            return None;
        }
        exact(word)
    };
    let len = bytes.len();
    if len < 8 {
        let padding = u64::MAX.checked_shl(8 * len as u32).unwrap_or(0);
        return first_wanted(load_word(bytes) | padding);
    }
    let word_at = |at: usize| {
        let mut word = [0; 8];
        word.copy_from_slice(&bytes[at..at + 8]);
        u64::from_le_bytes(word)
    };
    let mut offset = 0;
    // Two words per test while 16 bytes are left: one branch per 16 bytes
    // of text without low bytes.
    while offset + 16 <= len {
        let (low, high) = (word_at(offset), word_at(offset + 8));
        if low_bytes(low) | low_bytes(high) != 0 {
            if let Some(at) = exact(low) {
                return Some(offset + at);
            }
            if let Some(at) = exact(high) {
                return Some(offset + 8 + at);
            }
        }
        offset += 16;
    }
    if offset + 8 <= len {
        if let Some(at) = first_wanted(word_at(offset)) {
            return Some(offset + at);
        }
        offset += 8;
    }
    if offset < len {
        let last = len - 8;
        return first_wanted(word_at(last)).map(|at| last + at);
    }
    None
}

/// Up to eight bytes as a little-endian word, zero above them, read with at
/// most two loads (which may overlap) instead of a loop.
#[inline(always)]
pub(crate) fn load_word(bytes: &[u8]) -> u64 {
    debug_assert!(bytes.len() <= 8, "a word holds eight bytes");
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

/// Digits of the epoch in a position id: its low 48 bits in hex.
const EPOCH_DIGITS: usize = 12;

/// The longest position id: 12 hex digits, a dash, a `u64` in decimal.
pub(crate) const POSITION_MAX_LEN: usize = EPOCH_DIGITS + 1 + DECIMAL_MAX_LEN;

/// Length of the position id of `seq` (in any epoch).
pub(crate) fn position_len(seq: u64) -> usize {
    EPOCH_DIGITS + 1 + decimal_len(seq)
}

/// A hub position's id, `<epoch>-<seq>`, written on the stack: the low 48
/// bits of `epoch` as 12 lowercase hex digits, a dash, `seq` in decimal.
pub(crate) struct PositionText {
    bytes: [u8; POSITION_MAX_LEN],
    len: usize,
}

impl PositionText {
    pub(crate) fn new(epoch: u64, seq: u64) -> Self {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut bytes = [0u8; POSITION_MAX_LEN];
        for (index, digit) in bytes[..EPOCH_DIGITS].iter_mut().enumerate() {
            let shift = 4 * (EPOCH_DIGITS - 1 - index);
            *digit = HEX[((epoch >> shift) & 0xf) as usize];
        }
        bytes[EPOCH_DIGITS] = b'-';
        let mut digits = itoa::Buffer::new();
        let digits = digits.format(seq).as_bytes();
        let len = EPOCH_DIGITS + 1 + digits.len();
        bytes[EPOCH_DIGITS + 1..len].copy_from_slice(digits);
        Self { bytes, len }
    }

    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }

    pub(crate) fn as_str(&self) -> &str {
        // Hex digits, a dash and decimal digits: always ASCII.
        std::str::from_utf8(self.as_bytes()).unwrap_or_default()
    }
}

/// Reads a position id, `<12 hex digits>-<decimal u64>`, into its epoch and
/// sequence number. Anything else, a sign, spaces or a number too large
/// included, is `None`.
pub(crate) fn parse_position(id: &str) -> Option<(u64, u64)> {
    let (epoch, seq) = id.split_once('-')?;
    if epoch.len() != EPOCH_DIGITS || !epoch.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    if seq.is_empty() || seq.len() > DECIMAL_MAX_LEN || !seq.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let epoch = u64::from_str_radix(epoch, 16).ok()?;
    let seq = seq.parse().ok()?;
    Some((epoch, seq))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_matches_display() {
        for number in [0, 1, 9, 10, 99, 100, 12_345, u64::MAX] {
            let mut out = BytesMut::new();
            push_decimal(&mut out, number);
            assert_eq!(&out[..], number.to_string().as_bytes());
            assert_eq!(decimal_len(number), out.len());
        }
    }

    #[test]
    fn a_position_is_written_as_hex_epoch_dash_decimal_seq() {
        let max_epoch = (1 << 48) - 1;
        for (epoch, seq) in [(0, 0), (0xab, 7), (max_epoch, u64::MAX)] {
            let text = PositionText::new(epoch, seq);
            assert_eq!(text.as_str(), format!("{epoch:012x}-{seq}"));
            assert_eq!(text.as_bytes().len(), position_len(seq));
            assert!(position_len(seq) <= POSITION_MAX_LEN);
        }
        // Only the low 48 bits of the epoch are written.
        assert_eq!(PositionText::new(u64::MAX, 1).as_str(), "ffffffffffff-1");
    }

    #[test]
    fn a_position_round_trips_through_its_text() {
        let epochs = [0, 1, 0xabc, 0x0f3a_9c01_b7e4, (1 << 48) - 1];
        let seqs = [0, 1, 9, 10, 42, 999_999, u64::MAX - 1, u64::MAX];
        for epoch in epochs {
            for seq in seqs {
                let text = PositionText::new(epoch, seq);
                assert_eq!(parse_position(text.as_str()), Some((epoch, seq)));
            }
        }
    }

    /// Lenient where leniency resumes at the same place (upper-case hex,
    /// leading zeros in the sequence number); strict where it would not.
    #[test]
    fn parsing_rejects_what_cannot_be_a_position() {
        for bad in [
            "",
            "-",
            "abc-1",
            "000000000abc-",
            "000000000abc-x",
            "000000000abc--1",
            "000000000abc-+1",
            "00000000zabc-1",
            "000000000abc-18446744073709551616",
            "000000000abc-99999999999999999999999",
            "0000000000abc-1",
            "000000000abc-1-2",
            " 000000000abc-1",
            "000000000abc-1 ",
        ] {
            assert_eq!(parse_position(bad), None, "{bad:?}");
        }
        // Upper-case hex is read, though only lower case is written.
        assert_eq!(parse_position("000000000ABC-1"), Some((0xabc, 1)));
    }

    #[test]
    fn line_breaks_are_found_in_short_and_long_values() {
        for len in [0, 1, 7, 8, 9, 15, 16, 17, 63, 64, 65, 200] {
            let mut value = vec![b'a'; len];
            assert_eq!(find_line_break(&value), None);
            if len > 0 {
                value[len - 1] = b'\r';
                assert_eq!(find_line_break(&value), Some(len - 1));
                value[len / 2] = b'\n';
                assert_eq!(find_line_break(&value), Some(len / 2));
            }
        }
    }

    #[test]
    fn nul_is_found_only_when_asked_for() {
        for len in [1, 7, 8, 9, 63, 64, 65, 200] {
            let mut value = vec![b'a'; len];
            value[len - 1] = 0;
            assert_eq!(find_line_break(&value), None);
            assert_eq!(find_line_break_or_nul(&value), Some(len - 1));
            value[len / 2] = b'\r';
            assert_eq!(find_line_break_or_nul(&value), Some(len / 2));
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

    #[test]
    fn word_scan_finds_the_first_match_behind_other_low_bytes() {
        // Values up to 63 bytes (the word scan), with a low byte that is not
        // wanted (a tab, a NUL, a 0x0B) before, after or in the same word as
        // the byte wanted, and the last bytes read again by the overlapping
        // word.
        let plain = |value: &[u8], nul: bool| {
            value
                .iter()
                .position(|&b| b == b'\n' || b == b'\r' || (nul && b == 0))
        };
        for len in 0..64 {
            for low in [0x09, 0x00, 0x0b, 0x0d] {
                for low_at in (0..len).step_by(3) {
                    for wanted_at in 0..len {
                        for wanted in [b'\n', b'\r'] {
                            let mut value = vec![b'x'; len];
                            value[low_at] = low;
                            value[wanted_at] = wanted;
                            assert_eq!(find_line_break(&value), plain(&value, false), "{value:?}");
                            assert_eq!(
                                find_line_break_or_nul(&value),
                                plain(&value, true),
                                "{value:?}"
                            );
                        }
                    }
                    let mut value = vec![0xe9; len];
                    value[low_at] = low;
                    assert_eq!(find_line_break(&value), plain(&value, false), "{value:?}");
                    assert_eq!(
                        find_line_break_or_nul(&value),
                        plain(&value, true),
                        "{value:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn word_scan_agrees_with_a_plain_search_on_every_byte_value() {
        // Every byte value, at every position of a short value, next to the
        // bytes that confuse word tricks (0x00, 0x01, 0x0b, 0x0c, 0x0e, 0x80, 0xff).
        let tricky = [0x00, 0x01, 0x09, 0x0b, 0x0c, 0x0e, 0x80, 0x8a, 0x8d, 0xff];
        for len in 1..24 {
            for at in 0..len {
                for byte in 0..=255u8 {
                    for &filler in &tricky {
                        let mut value = vec![filler; len];
                        value[at] = byte;
                        let plain = value.iter().position(|&b| b == b'\n' || b == b'\r');
                        assert_eq!(find_line_break(&value), plain, "{value:?}");
                        let plain = value.iter().position(|&b| matches!(b, b'\n' | b'\r' | 0));
                        assert_eq!(find_line_break_or_nul(&value), plain, "{value:?}");
                    }
                }
            }
        }
    }
}

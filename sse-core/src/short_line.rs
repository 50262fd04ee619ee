//! [`ShortLine`]: a field line of up to 32 bytes assembled on the stack.

use crate::text::INLINE_MAX;

/// The longest [`ShortLine`]: `event: ` (7 bytes), 23 bytes of inline
/// text and LF fit, as do `id: `, a sign and the 20 digits of a `u64`.
pub(crate) const SHORT_LINE_MAX: usize = 32;

// The prefix and the 24 raw bytes of inline text are copied whole.
const _: () = assert!("event: ".len() + (INLINE_MAX + 1) < SHORT_LINE_MAX);

/// A field line assembled on the stack, to be written with one copy of a
/// fixed size, which needs no call to `memcpy`; the frame buffer is then
/// cut back to the line's length. For an id or an event name, the field
/// prefix, the value and the LF each copied on their own (the value by
/// `memcpy`, its length being known only at run time) cost more than the
/// rest of writing the line.
pub(crate) struct ShortLine {
    bytes: [u8; SHORT_LINE_MAX],
    len: usize,
}

/// `00` to `99`: two digits per division when writing a number.
const DIGIT_PAIRS: &[u8; 200] = b"\
    0001020304050607080910111213141516171819\
    2021222324252627282930313233343536373839\
    4041424344454647484950515253545556575859\
    6061626364656667686970717273747576777879\
    8081828384858687888990919293949596979899";

impl ShortLine {
    /// `prefix`, then inline text given as its raw 24 bytes (`raw` holds
    /// `len` bytes of text, then anything), then LF.
    #[inline(always)]
    pub(crate) fn with_inline(
        prefix: &'static [u8],
        raw: &[u8; INLINE_MAX + 1],
        len: usize,
    ) -> Self {
        let mut bytes = [0; SHORT_LINE_MAX];
        let start = prefix.len().min(SHORT_LINE_MAX - INLINE_MAX - 2);
        bytes[..start].copy_from_slice(&prefix[..start]);
        bytes[start..start + INLINE_MAX + 1].copy_from_slice(raw);
        let end = start + len.min(INLINE_MAX);
        bytes[end] = b'\n';
        Self {
            bytes,
            len: end + 1,
        }
    }

    /// `prefix`, a minus sign when `negative`, `number` in decimal, LF.
    #[inline(always)]
    pub(crate) fn with_decimal(prefix: &'static [u8], negative: bool, number: u64) -> Self {
        let mut bytes = [0; SHORT_LINE_MAX];
        let mut start = prefix.len().min(SHORT_LINE_MAX - 22);
        bytes[..start].copy_from_slice(&prefix[..start]);
        if negative {
            bytes[start] = b'-';
            start += 1;
        }
        let digits = number.checked_ilog10().unwrap_or(0) as usize + 1;
        let end = start + digits;
        // From the last digit back, two at a time.
        let (mut at, mut rest) = (end, number);
        while rest >= 100 {
            let pair = (rest % 100) as usize * 2;
            rest /= 100;
            at -= 2;
            bytes[at..at + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        }
        if rest >= 10 {
            let pair = rest as usize * 2;
            bytes[start..start + 2].copy_from_slice(&DIGIT_PAIRS[pair..pair + 2]);
        } else {
            bytes[start] = b'0' + rest as u8;
        }
        bytes[end] = b'\n';
        Self {
            bytes,
            len: end + 1,
        }
    }

    /// All [`SHORT_LINE_MAX`] bytes, of which the first [`ShortLine::len`]
    /// are the line.
    #[inline]
    pub(crate) fn padded(&self) -> &[u8; SHORT_LINE_MAX] {
        &self.bytes
    }

    /// The line's length.
    #[inline]
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    #[cfg(test)]
    fn as_bytes(&self) -> &[u8] {
        &self.bytes[..self.len]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_match_display() {
        let mut numbers = vec![
            0,
            1,
            9,
            10,
            11,
            99,
            100,
            101,
            999,
            1000,
            u64::MAX,
            u64::MAX - 1,
        ];
        numbers.extend((0..20).map(|power| 10u64.pow(power)));
        numbers.extend((1..20).map(|power| 10u64.pow(power) - 1));
        numbers.extend((0..2000).map(|n| n * 7919));
        for number in numbers {
            for negative in [false, true] {
                let line = ShortLine::with_decimal(b"id: ", negative, number);
                let sign = if negative { "-" } else { "" };
                assert_eq!(line.as_bytes(), format!("id: {sign}{number}\n").as_bytes());
            }
        }
    }

    #[test]
    fn inline_text_is_cut_at_its_length() {
        for len in 0..=INLINE_MAX {
            let mut raw = [b'x'; INLINE_MAX + 1];
            raw[..len].fill(b'a');
            let line = ShortLine::with_inline(b"event: ", &raw, len);
            let expected = format!("event: {}\n", "a".repeat(len));
            assert_eq!(line.as_bytes(), expected.as_bytes());
        }
    }
}

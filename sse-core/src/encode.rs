//! The wire encoding: fields into lines, events into frames.
//!
//! Everything is appended to one [`FrameBuf`]. Small pieces are copied into its
//! buffer so that many events leave as one frame; a long data line that is
//! already held in shared bytes is queued as a frame of its own instead of
//! being copied.

use std::collections::VecDeque;

use bytes::{Bytes, BytesMut};

use crate::wire::{find_line_break, push_decimal};
use crate::{EventId, Text};

/// Data lines at least this long are sent as a slice of the caller's bytes
/// instead of being copied into the frame buffer. Below it, a copy is cheaper
/// than one more frame for the server to write.
pub(crate) const ZERO_COPY_MIN: usize = 4 * 1024;

/// The first allocation of a frame buffer; later ones are at least as large.
const INITIAL_CAPACITY: usize = 8 * 1024;

/// Frames grow to this size when events are ready faster than they are
/// sent, unless the body says otherwise (`SseBody::max_frame_bytes`).
pub(crate) const DEFAULT_FRAME_BYTES: usize = 32 * 1024;

/// Bytes copied into the frame being filled from which the buffer, when it
/// must grow, grows to a whole frame at once: a burst of events, which
/// would otherwise be copied again at every doubling of the buffer.
const BURST_MIN: usize = 4 * 1024;

/// Room beyond a frame's size for the event that crosses it: an event copies
/// at most [`ZERO_COPY_MIN`] bytes of each long line, so most fit.
const FRAME_SLACK: usize = 2 * ZERO_COPY_MIN;

/// The largest frame that room is made for at once: a body allowed larger
/// frames grows its buffer by doubling beyond it.
const FRAME_ROOM_MAX: usize = 64 * 1024;

/// Output of the encoder: frames ready to send, in order.
#[derive(Debug)]
pub(crate) struct FrameBuf {
    /// The first completed frame, when it is alone: one pre-encoded event,
    /// the usual case when a hub wakes a subscriber, costs no queue (and an
    /// idle stream keeps none allocated).
    solo: Option<Bytes>,
    /// Frames completed after `solo` and before the bytes in `open`
    /// (zero-copy slices, and the buffer content that preceded them).
    ready: VecDeque<Bytes>,
    ready_len: usize,
    /// The frame being filled.
    open: BytesMut,
    /// The size frames are cut at (the body's `max_frame_bytes`).
    frame_size: usize,
    /// Whether what is written is kept (an encoded event): then long lines
    /// are copied too, so that it ends as one buffer of its size rather
    /// than a buffer, shared slices, and a copy of them all.
    kept: bool,
}

impl Default for FrameBuf {
    fn default() -> Self {
        Self {
            solo: None,
            ready: VecDeque::new(),
            ready_len: 0,
            open: BytesMut::new(),
            frame_size: DEFAULT_FRAME_BYTES,
            kept: false,
        }
    }
}

impl FrameBuf {
    /// Bytes waiting to be sent.
    pub(crate) fn len(&self) -> usize {
        self.ready_len + self.open.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Bytes that can be copied in before the buffer must grow.
    #[inline]
    pub(crate) fn spare_capacity(&self) -> usize {
        self.open.capacity() - self.open.len()
    }

    /// Sets the size frames are cut at, which the buffer makes room for
    /// when a burst fills it.
    pub(crate) fn set_frame_size(&mut self, frame_size: usize) {
        self.frame_size = frame_size;
    }

    /// Makes room for `additional` bytes to be copied, in one allocation:
    /// the first one at least [`INITIAL_CAPACITY`], and a buffer that
    /// holds a burst ([`BURST_MIN`] or more) grows to a whole frame, so
    /// that what it holds is copied once, not at every doubling. A few
    /// events never take more than the first allocation.
    pub(crate) fn reserve(&mut self, additional: usize) {
        let (len, capacity) = (self.open.len(), self.open.capacity());
        if capacity - len >= additional {
            return;
        }
        let wanted = if capacity == 0 {
            additional.max(INITIAL_CAPACITY)
        } else if len >= BURST_MIN {
            let frame = self.frame_size.min(FRAME_ROOM_MAX) + FRAME_SLACK;
            additional.max(frame.saturating_sub(len))
        } else {
            additional
        };
        self.open.reserve(wanted);
    }

    /// A buffer for bytes that are kept (an encoded event in a replay
    /// log), with room for exactly `capacity` bytes (the first allocation
    /// of a frame buffer would be 8 KiB held by every one of them), into
    /// which long lines are copied too.
    pub(crate) fn for_keeping(capacity: usize) -> Self {
        Self {
            open: BytesMut::with_capacity(capacity),
            kept: true,
            ..Self::default()
        }
    }

    #[inline]
    pub(crate) fn put(&mut self, bytes: &[u8]) {
        self.open.extend_from_slice(bytes);
    }

    pub(crate) fn put_decimal(&mut self, number: u64) {
        push_decimal(&mut self.open, number);
    }

    pub(crate) fn put_id(&mut self, id: &EventId) {
        id.write_to(&mut self.open);
    }

    /// Appends shared bytes without copying them when they are long, or when
    /// they start a frame (one pre-encoded event, the usual case when a hub
    /// wakes a subscriber, leaves as it is, with no buffer allocated).
    #[inline]
    pub(crate) fn put_shared(&mut self, bytes: Bytes) {
        // An event with no fields encodes to nothing: no empty frame for it
        // (actix-web's chunked encoder would read one as the end of the body).
        if bytes.is_empty() {
            return;
        }
        let starts_frame = self.open.is_empty() && self.solo.is_none() && self.ready.is_empty();
        if bytes.len() < ZERO_COPY_MIN && !starts_frame {
            if self.open.len() >= BURST_MIN {
                self.reserve(bytes.len());
            }
            self.put(&bytes);
            return;
        }
        if !self.open.is_empty() {
            let head = self.open.split().freeze();
            self.push_ready(head);
        }
        self.push_ready(bytes);
    }

    #[inline]
    fn push_ready(&mut self, frame: Bytes) {
        self.ready_len += frame.len();
        if self.solo.is_none() && self.ready.is_empty() {
            self.solo = Some(frame);
            return;
        }
        if let Some(first) = self.solo.take() {
            self.ready.push_back(first);
        }
        self.ready.push_back(frame);
    }

    /// The next frame to send, if any.
    #[inline]
    pub(crate) fn pop(&mut self) -> Option<Bytes> {
        if let Some(frame) = self.solo.take().or_else(|| self.ready.pop_front()) {
            self.ready_len -= frame.len();
            return Some(frame);
        }
        if self.open.is_empty() {
            return None;
        }
        Some(self.open.split().freeze())
    }

    /// Frees the frame buffer of an idle stream once the frames cut from it
    /// are sent, so that an idle connection holds no buffer. The next event
    /// allocates a new one.
    pub(crate) fn release_idle(&mut self) {
        if self.is_empty() && self.open.capacity() > 0 {
            self.open = BytesMut::new();
        }
    }

    /// Everything buffered as one contiguous `Bytes`, holding little more
    /// memory than its length: these bytes are kept (an encoded event, a
    /// keep-alive comment), so a buffer that grew while it was written is
    /// copied out at its size. Otherwise copies only when zero-copy frames
    /// were queued.
    pub(crate) fn take_all(&mut self) -> Bytes {
        if self.ready.is_empty() && self.solo.is_none() {
            let unused = self.open.capacity() - self.open.len();
            if unused > (self.open.len() / 4).max(64) {
                let all = Bytes::copy_from_slice(&self.open);
                self.open = BytesMut::new();
                return all;
            }
            // Taken whole, not split: a split buffer is first made shared,
            // which allocates.
            return std::mem::take(&mut self.open).freeze();
        }
        let mut all = BytesMut::with_capacity(self.len());
        while let Some(frame) = self.pop() {
            all.extend_from_slice(&frame);
        }
        all.freeze()
    }
}

/// How a field starts: `name: ` before a value, `name:` and LF alone when
/// the value is empty (the client removes one space after the colon, so a
/// value that starts with a space survives). Each is written in one copy.
pub(crate) struct FieldPrefix {
    before_value: &'static [u8],
    empty: &'static [u8],
}

pub(crate) const DATA: FieldPrefix = FieldPrefix {
    before_value: b"data: ",
    empty: b"data:\n",
};
pub(crate) const EVENT: FieldPrefix = FieldPrefix {
    before_value: b"event: ",
    empty: b"event:\n",
};
pub(crate) const ID: FieldPrefix = FieldPrefix {
    before_value: b"id: ",
    empty: b"id:\n",
};
const COMMENT: FieldPrefix = FieldPrefix {
    before_value: b": ",
    empty: b":\n",
};

impl FieldPrefix {
    pub(crate) fn prefix(&self) -> &'static [u8] {
        self.before_value
    }

    pub(crate) fn empty_line(&self) -> &'static [u8] {
        self.empty
    }
}

/// Writes `name: value` and LF.
// Inlined so that the constant parts are copied without a call to memcpy.
#[inline(always)]
pub(crate) fn put_field(out: &mut FrameBuf, field: &FieldPrefix, value: &[u8]) {
    if value.is_empty() {
        out.put(field.empty);
    } else {
        out.put(field.before_value);
        out.put(value);
        out.put(b"\n");
    }
}

/// Writes one `data: line` per line of `text`.
pub(crate) fn put_data_lines(out: &mut FrameBuf, text: &Text) {
    put_multiline(out, &DATA, text);
}

/// Writes one `: line` per line of `text`.
pub(crate) fn put_comment_lines(out: &mut FrameBuf, text: &Text) {
    put_multiline(out, &COMMENT, text);
}

/// Writes one field line per line of `text`, splitting on LF, CR and CRLF
/// (CRLF is one break). Empty text still writes one line. Long lines of
/// shared text are sent without being copied.
#[inline(always)]
fn put_multiline(out: &mut FrameBuf, field: &FieldPrefix, text: &Text) {
    let bytes = text.as_bytes();
    let mut start = 0;
    loop {
        let rest = &bytes[start..];
        let (end, next) = match find_line_break(rest) {
            None => (bytes.len(), None),
            Some(offset) => {
                let at = start + offset;
                let crlf = bytes[at] == b'\r' && bytes.get(at + 1) == Some(&b'\n');
                (at, Some(at + if crlf { 2 } else { 1 }))
            }
        };
        let line = &bytes[start..end];
        match text.shared_bytes() {
            Some(shared) if line.len() >= ZERO_COPY_MIN && !out.kept => {
                out.put(field.before_value);
                out.put_shared(shared.slice(start..end));
                out.put(b"\n");
            }
            _ => put_field(out, field, line),
        }
        match next {
            Some(next) => start = next,
            None => return,
        }
    }
}

/// Bytes a multi-line field takes on the wire at most, every line counted
/// (an empty line, or a comment's, as a full data line: a few bytes too
/// many): one pass of memchr's vectorised search, for an event encoded once
/// and kept.
pub(crate) fn multiline_wire_len(text: &Text) -> usize {
    const OVERHEAD: usize = "data: \n".len();
    let bytes = text.as_bytes();
    // Break bytes, and breaks (a CRLF is one).
    let (mut break_bytes, mut breaks, mut lf_of_crlf) = (0, 0, usize::MAX);
    for at in memchr::memchr2_iter(b'\n', b'\r', bytes) {
        break_bytes += 1;
        // Only the LF right after a CR completes a CRLF; a second CR
        // there is a break of its own.
        if at == lf_of_crlf && bytes[at] == b'\n' {
            continue;
        }
        breaks += 1;
        if bytes[at] == b'\r' {
            lf_of_crlf = at + 1;
        }
    }
    bytes.len() - break_bytes + OVERHEAD * (breaks + 1)
}

/// Bytes a multi-line field copies when it is one line, for pre-sizing; text
/// of many lines grows the buffer as it goes (counting its lines first would
/// cost one more pass over every event's data).
pub(crate) fn multiline_copy_len(text: &Text) -> usize {
    const OVERHEAD: usize = "data: \n".len();
    OVERHEAD + text.len().min(ZERO_COPY_MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &'static str) -> Bytes {
        let mut out = FrameBuf::default();
        put_data_lines(&mut out, &Text::from(text));
        out.take_all()
    }

    #[test]
    fn splits_on_every_kind_of_line_break() {
        assert_eq!(lines("a\nb"), "data: a\ndata: b\n");
        assert_eq!(lines("a\rb"), "data: a\ndata: b\n");
        assert_eq!(lines("a\r\nb"), "data: a\ndata: b\n");
        assert_eq!(lines("a\n\rb"), "data: a\ndata:\ndata: b\n");
        assert_eq!(lines("a\r\rb"), "data: a\ndata:\ndata: b\n");
        assert_eq!(lines("a\n"), "data: a\ndata:\n");
        assert_eq!(lines("\r\n"), "data:\ndata:\n");
    }

    #[test]
    fn empty_text_still_writes_a_line() {
        assert_eq!(lines(""), "data:\n");
    }

    #[test]
    fn leading_space_survives() {
        assert_eq!(lines(" x"), "data:  x\n");
    }

    #[test]
    fn long_lines_are_queued_without_copy() {
        let payload = Bytes::from(vec![b'x'; ZERO_COPY_MIN]);
        let text = Text::from_utf8(payload.clone()).unwrap();
        let mut out = FrameBuf::default();
        put_data_lines(&mut out, &text);
        assert_eq!(out.pop().unwrap(), "data: ");
        let middle = out.pop().unwrap();
        assert_eq!(middle.as_ptr(), payload.as_ptr());
        assert_eq!(out.pop().unwrap(), "\n");
        assert!(out.pop().is_none());
        assert!(out.is_empty());
    }

    #[test]
    fn a_shared_piece_that_starts_a_frame_is_not_copied() {
        let first = Bytes::from_static(b"data: a\n\n");
        let mut out = FrameBuf::default();
        out.put_shared(first.clone());
        out.put_shared(Bytes::from_static(b"data: b\n\n"));
        out.put_shared(Bytes::from_static(b"data: c\n\n"));
        let head = out.pop().unwrap();
        assert_eq!(head.as_ptr(), first.as_ptr());
        assert_eq!(out.pop().unwrap(), "data: b\n\ndata: c\n\n");
        assert!(out.pop().is_none());
    }

    #[test]
    fn copy_estimate_covers_one_short_line() {
        for text in ["", "a", "one line of text"] {
            let text = Text::from(text);
            let mut out = FrameBuf::default();
            put_data_lines(&mut out, &text);
            assert!(out.len() <= multiline_copy_len(&text), "{text:?}");
        }
    }
}

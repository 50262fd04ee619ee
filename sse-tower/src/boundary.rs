//! [`EventBoundary`]: where events end in a raw event stream.

/// Follows a `text/event-stream` to tell whether the bytes so far end
/// between events: at the start of a line, in a block that holds no line of
/// an event. Such a block is empty (just after a blank line, or at the start
/// of the stream) or holds only comments and `retry` lines, which no client
/// reads as part of an event: sse-engine writes its opening `retry:` and
/// comment that way, with no blank line after them (see sse-engine's framing
/// rules). Only there can a keep-alive comment be written without landing
/// inside an event.
///
/// Line breaks are LF, CR or CRLF, as the standard reads them, also when a
/// CRLF is split across chunks. After a CR that ended a line with content,
/// an LF may still come as its CRLF: that is no place for a comment.
///
/// Most chunks end with a blank line, and for them only the line breaks at
/// the end are looked at. A chunk that ends elsewhere (an opening block, a
/// long line sent in pieces) is read line by line, jumping from one line
/// break to the next with `memchr`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventBoundary {
    at: At,
    /// The block since the last blank line holds a line of an event
    /// (anything but a comment or `retry`).
    in_event: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum At {
    /// At the start of a line. `after_cr`: the line before ended with a CR,
    /// whose LF may still come; `blank`: that line was blank (or this is the
    /// start of the stream).
    LineStart { after_cr: bool, blank: bool },
    /// Inside a line with content, of this kind so far.
    InLine(Line),
}

/// What a line is, from its first bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Line {
    /// The first `n` bytes spell the start of `retry`; more decide.
    RetryPrefix(u8),
    /// A comment or a `retry` field: no part of an event.
    Benign,
    /// Any other field (`data`, `id`, `event`, unknown names).
    EventField,
}

const RETRY: &[u8] = b"retry";

impl Default for EventBoundary {
    fn default() -> Self {
        Self {
            at: At::LineStart {
                after_cr: false,
                blank: true,
            },
            in_event: false,
        }
    }
}

impl EventBoundary {
    /// Whether the bytes seen so far end between events.
    pub(crate) fn at_boundary(self) -> bool {
        match self.at {
            // After a CR that ended a blank line, what comes next starts a
            // new line whatever it is, as before any comment (a lone LF then
            // is one more blank line: nothing to a conformant client).
            At::LineStart { after_cr, blank } => !self.in_event && (!after_cr || blank),
            At::InLine(_) => false,
        }
    }

    /// Takes the next chunk of the stream into account.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        let breaks = chunk
            .iter()
            .rev()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        if breaks == chunk.len() {
            self.read(chunk);
            return;
        }
        // The chunk's last content line, taken as a line of an event, then
        // its trailing line breaks: when they hold a blank line, the block
        // ended there and the guess made no difference. Otherwise the
        // chunk is read.
        let mut tail = Self {
            at: At::InLine(Line::EventField),
            in_event: true,
        };
        tail.read(&chunk[chunk.len() - breaks..]);
        if !tail.in_event {
            *self = tail;
        } else {
            self.read(chunk);
        }
    }

    /// Reads `bytes` line by line.
    fn read(&mut self, mut bytes: &[u8]) {
        while let Some((&byte, rest)) = bytes.split_first() {
            match self.at {
                At::LineStart { after_cr, blank } => {
                    bytes = rest;
                    self.at = match byte {
                        // The LF of a CRLF whose CR was already counted.
                        b'\n' if after_cr => At::LineStart {
                            after_cr: false,
                            blank,
                        },
                        // A line break at the start of a line: a blank line,
                        // which ends the block.
                        b'\n' | b'\r' => {
                            self.in_event = false;
                            At::LineStart {
                                after_cr: byte == b'\r',
                                blank: true,
                            }
                        }
                        b':' => At::InLine(Line::Benign),
                        _ => At::InLine(Line::RetryPrefix(0).next(byte)),
                    };
                }
                At::InLine(line) => {
                    let end = memchr::memchr2(b'\n', b'\r', bytes).unwrap_or(bytes.len());
                    let mut line = line;
                    for &byte in &bytes[..end] {
                        if !matches!(line, Line::RetryPrefix(_)) {
                            break;
                        }
                        line = line.next(byte);
                    }
                    bytes = &bytes[end..];
                    let Some((&byte, rest)) = bytes.split_first() else {
                        self.at = At::InLine(line);
                        return;
                    };
                    bytes = rest;
                    // The line ends: `retry` with no colon is still `retry`.
                    let benign = match line {
                        Line::RetryPrefix(n) => usize::from(n) == RETRY.len(),
                        Line::Benign => true,
                        Line::EventField => false,
                    };
                    self.in_event |= !benign;
                    self.at = At::LineStart {
                        after_cr: byte == b'\r',
                        blank: false,
                    };
                }
            }
        }
    }
}

impl Line {
    /// The kind after one more byte of the line (never a line break).
    fn next(self, byte: u8) -> Self {
        match self {
            Self::RetryPrefix(n) => match RETRY.get(usize::from(n)) {
                Some(&expected) if byte == expected => Self::RetryPrefix(n + 1),
                None if byte == b':' => Self::Benign,
                _ => Self::EventField,
            },
            decided => decided,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(chunks: &[&[u8]]) -> bool {
        let mut boundary = EventBoundary::default();
        for chunk in chunks {
            boundary.feed(chunk);
        }
        boundary.at_boundary()
    }

    #[test]
    fn start_of_stream_is_a_boundary() {
        assert!(after(&[]));
        assert!(after(&[b""]));
    }

    #[test]
    fn blank_line_with_every_kind_of_break() {
        assert!(after(&[b"data: a\n\n"]));
        assert!(after(&[b"data: a\r\r"]));
        assert!(after(&[b"data: a\r\n\r\n"]));
        assert!(after(&[b"data: a\r\n\r"]));
        assert!(after(&[b"data: a\n\r\n"]));
        assert!(after(&[b": comment\n\n"]));
    }

    #[test]
    fn inside_an_event_is_not_a_boundary() {
        assert!(!after(&[b"data: a"]));
        assert!(!after(&[b"data: a\n"]));
        assert!(!after(&[b"data: a\r\n"]));
        assert!(!after(&[b"data: a\r"]));
        assert!(!after(&[b"data: a\n\ndata: b\n"]));
        assert!(!after(&[b"data: a\n\nid"]));
        assert!(!after(&[b": c\nretry: 1\nid: 1\n"]));
        assert!(!after(&[b"id: 1\n: c\n"]));
        assert!(!after(&[b"retryx: 1\n"]));
        assert!(!after(&[b"retr\n"]));
    }

    #[test]
    fn comments_and_retry_alone_are_between_events() {
        // sse-engine's opening block and keep-alive: no blank line after them.
        assert!(after(&[b"retry: 2000\n: hello\n"]));
        assert!(after(&[b"retry: 2000\n", b":\n", b":\n"]));
        assert!(after(&[b"data: a\n\n: c\r\n"]));
        assert!(after(&[b"retry\n"]));
        assert!(after(&[b"re", b"try", b": 5", b"\n"]));
        assert!(!after(&[b"re", b"tr", b"y5: 5", b"\n"]));
        assert!(!after(&[b": c"]));
        // A CR that ended a comment may still get its LF.
        assert!(!after(&[b": c\r"]));
        assert!(after(&[b": c\r", b"\n"]));
    }

    #[test]
    fn a_crlf_split_across_chunks_is_one_break() {
        assert!(!after(&[b"data: a\r", b"\n"]));
        assert!(after(&[b"data: a\r", b"\n", b"\r", b"\n"]));
        assert!(after(&[b"data: a\r\n", b"\r\n"]));
        assert!(after(&[b"data: a\n", b"\n"]));
        assert!(!after(&[b"data: a\n", b"data: b"]));
    }

    #[test]
    fn long_lines_in_pieces_keep_their_kind() {
        // sse-engine sends a line of 4 KiB or more as a frame of its own.
        let long = [b'c'; 8 * 1024];
        assert!(after(&[b": ", &long, b"\nretry: 2000\n"]));
        assert!(after(&[&[b": ".as_slice(), &long, b"\n"].concat()]));
        assert!(!after(&[b"data: ", &long, b"\n"]));
        assert!(after(&[b"data: ", &long, b"\n\n"]));
        assert!(after(&[
            &[b"data: ".as_slice(), &long, b"\n\n: c\n"].concat()
        ]));
        assert!(!after(&[
            &[b": c\n\ndata: ".as_slice(), &long].concat(),
            b"\n"
        ]));
    }

    /// Every event a client decodes from `stream`, with the id it carries.
    fn decode(stream: &[u8]) -> Vec<(String, String, String)> {
        let mut decoder = sse_engine::decode::Decoder::new();
        decoder.push(stream).unwrap();
        std::iter::from_fn(|| decoder.next_event())
            .map(|e| {
                (
                    e.event_type().to_owned(),
                    e.data().to_owned(),
                    e.last_event_id().to_owned(),
                )
            })
            .collect()
    }

    /// How many messages a client that dispatches at every blank line (as
    /// `@microsoft/fetch-event-source` does) hands to its application: the
    /// blank lines, with CR, LF and CRLF as line breaks.
    fn lax_dispatches(stream: &[u8]) -> usize {
        let mut count = 0;
        let mut line_empty = true;
        let mut after_cr = false;
        for &byte in stream {
            match byte {
                b'\n' if after_cr => after_cr = false,
                b'\n' | b'\r' => {
                    if line_empty {
                        count += 1;
                    }
                    line_empty = true;
                    after_cr = byte == b'\r';
                }
                _ => {
                    line_empty = false;
                    after_cr = false;
                }
            }
        }
        count
    }

    #[test]
    fn writing_a_comment_at_a_boundary_never_changes_what_clients_decode() {
        // Every stream of up to 6 pieces over a line of data, an `id` line, a
        // `retry` line, a comment and the three line breaks, followed by one
        // more event: wherever the tracker says "boundary", a keep-alive
        // comment written there must leave the decoded events and their ids
        // exactly as they were, and give a lax client no extra message
        // (unless a lone CR before it gets its LF only after the comment).
        let pieces: [&[u8]; 7] = [
            b"data: a",
            b"id: 9",
            b"retry: 5",
            b": c",
            b"\r",
            b"\n",
            b"\r\n",
        ];
        let mut boundaries = 0;
        let mut inside = 0;
        for len in 0..=6u32 {
            for mut code in 0..pieces.len().pow(len) {
                let mut stream = Vec::new();
                let mut chunks = Vec::new();
                for _ in 0..len {
                    chunks.push(pieces[code % pieces.len()]);
                    stream.extend_from_slice(pieces[code % pieces.len()]);
                    code /= pieces.len();
                }
                let mut whole = EventBoundary::default();
                whole.feed(&stream);
                let mut chunked = EventBoundary::default();
                for chunk in &chunks {
                    chunked.feed(chunk);
                }
                assert_eq!(whole, chunked, "{:?}", String::from_utf8_lossy(&stream));
                if !whole.at_boundary() {
                    inside += 1;
                    continue;
                }
                boundaries += 1;
                for next in [b"data: x\n\n".as_slice(), b"\ndata: x\n\n"] {
                    let plain = [&stream[..], next].concat();
                    let with_comment = [&stream[..], b":\n", next].concat();
                    let shown = String::from_utf8_lossy(&plain);
                    assert_eq!(decode(&with_comment), decode(&plain), "{shown:?}");
                    if !(stream.ends_with(b"\r") && next.starts_with(b"\n")) {
                        assert_eq!(
                            lax_dispatches(&with_comment),
                            lax_dispatches(&plain),
                            "{shown:?}"
                        );
                    }
                }
            }
        }
        assert!(
            boundaries > 1000 && inside > 1000,
            "{boundaries} boundaries, {inside} inside"
        );
    }
}

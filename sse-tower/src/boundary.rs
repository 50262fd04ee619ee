//! [`EventBoundary`]: where events end in a raw event stream.

/// Follows a `text/event-stream` byte by byte (in fact, only the line
/// breaks at the end of each chunk) to tell whether the bytes so far end at
/// an event boundary: the start of the stream, or just after a blank line.
/// Only there can a comment be written without landing inside an event.
///
/// Line breaks are LF, CR or CRLF, as the standard reads them, also when a
/// CRLF is split across chunks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct EventBoundary(State);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// After a blank line, or at the start of the stream.
    Boundary,
    /// A CR ended a blank line; an LF may follow as its CRLF. Also a boundary:
    /// anything but LF written now starts a new line.
    BoundaryAfterCr,
    /// Inside a line that has content.
    InLine,
    /// A line with content just ended (by LF or CRLF).
    LineStart,
    /// A CR just ended a line with content; an LF may follow.
    LineStartAfterCr,
}

impl Default for EventBoundary {
    fn default() -> Self {
        Self(State::Boundary)
    }
}

impl EventBoundary {
    /// Whether the bytes seen so far end at an event boundary.
    pub(crate) fn at_boundary(self) -> bool {
        matches!(self.0, State::Boundary | State::BoundaryAfterCr)
    }

    /// Takes the next chunk of the stream into account.
    pub(crate) fn feed(&mut self, chunk: &[u8]) {
        // Only the line breaks at the end of the chunk decide the state: any
        // other byte puts the stream inside a line.
        let breaks = chunk
            .iter()
            .rev()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
        if breaks < chunk.len() {
            self.0 = State::InLine;
        }
        for &byte in &chunk[chunk.len() - breaks..] {
            self.0 = next(self.0, byte);
        }
    }
}

fn next(state: State, byte: u8) -> State {
    use State::*;
    match (state, byte) {
        // The LF of a CRLF whose CR was already counted.
        (BoundaryAfterCr, b'\n') => Boundary,
        (LineStartAfterCr, b'\n') => LineStart,
        // A line break right after another one is a blank line.
        (Boundary | BoundaryAfterCr | LineStart | LineStartAfterCr, b'\r') => BoundaryAfterCr,
        (Boundary | LineStart, b'\n') => Boundary,
        (InLine, b'\n') => LineStart,
        (InLine, b'\r') => LineStartAfterCr,
        (_, _) => InLine,
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
    }

    #[test]
    fn a_crlf_split_across_chunks_is_one_break() {
        assert!(!after(&[b"data: a\r", b"\n"]));
        assert!(after(&[b"data: a\r", b"\n", b"\r", b"\n"]));
        assert!(after(&[b"data: a\r\n", b"\r\n"]));
        assert!(after(&[b"data: a\n", b"\n"]));
        assert!(!after(&[b"data: a\n", b"data: b"]));
    }

    /// Every event a client decodes from `stream`, with the id it carries.
    fn decode(stream: &[u8]) -> Vec<(String, String, String)> {
        let mut decoder = sse_core::decode::Decoder::new();
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

    #[test]
    fn writing_a_comment_at_a_boundary_never_changes_what_clients_decode() {
        // Every stream of up to 7 pieces over a line of content, an `id` line
        // and the three line breaks, followed by one more event: wherever the
        // tracker says "boundary", a keep-alive comment written there must
        // leave the decoded events and their ids exactly as they were.
        let pieces: [&[u8]; 5] = [b"data: a", b"id: 9", b"\r", b"\n", b"\r\n"];
        let mut boundaries = 0;
        let mut inside = 0;
        for len in 0..=7u32 {
            for mut code in 0..5usize.pow(len) {
                let mut stream = Vec::new();
                for _ in 0..len {
                    stream.extend_from_slice(pieces[code % 5]);
                    code /= 5;
                }
                let mut boundary = EventBoundary::default();
                boundary.feed(&stream);
                if !boundary.at_boundary() {
                    inside += 1;
                    continue;
                }
                boundaries += 1;
                let plain = [&stream[..], b"data: x\n\n"].concat();
                let with_comment = [&stream[..], b":\n\n", b"data: x\n\n"].concat();
                assert_eq!(
                    decode(&with_comment),
                    decode(&plain),
                    "{:?}",
                    String::from_utf8_lossy(&stream)
                );
            }
        }
        assert!(
            boundaries > 1000 && inside > 1000,
            "{boundaries} boundaries, {inside} inside"
        );
    }
}

//! A lean reader of event streams: counts events and reads the head of each
//! event's first `data:` line, without copying the data.
//!
//! It is not a conformant parser (sse-engine's `decode` is, and the workspace's
//! conformance tests check it): it knows only LF line ends, which is what all
//! measured servers write, and it keeps no more than the first
//! [`HEAD_BYTES`] bytes of a line. That keeps the client cheap enough that
//! the servers, not the client, are what is measured, even at 10,000
//! connections or gigabytes per second.

/// Bytes of a line kept: enough for the `data:` prefix and the event's
/// sequence number and time (see [`wire::parse_head`](super::super::wire::parse_head)).
pub const HEAD_BYTES: usize = 80;

/// One dispatched event, as far as the reader looked at it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeenEvent {
    /// The sequence number and send time from the event's data, when its
    /// first `data:` line starts with them.
    pub head: Option<(u64, u64)>,
}

/// Reads events out of chunks of an event stream.
#[derive(Debug, Default)]
pub struct EventReader {
    /// The start of the line being read (at most [`HEAD_BYTES`]).
    line: Vec<u8>,
    /// Whether the line being read has any bytes (it may be longer than
    /// `line` holds).
    line_started: bool,
    /// The event being read has a `data:` line.
    has_data: bool,
    /// The head of the event's first `data:` line.
    head: Option<(u64, u64)>,
    /// Events dispatched so far.
    events: u64,
}

impl EventReader {
    /// A reader at the start of a stream.
    pub fn new() -> Self {
        Self::default()
    }

    /// Events dispatched so far.
    pub fn events(&self) -> u64 {
        self.events
    }

    /// Reads one chunk; calls `on_event` for every event it completes.
    pub fn feed(&mut self, mut chunk: &[u8], mut on_event: impl FnMut(SeenEvent)) {
        while let Some(end) = memchr::memchr(b'\n', chunk) {
            self.take(&chunk[..end]);
            chunk = &chunk[end + 1..];
            if let Some(event) = self.end_line() {
                on_event(event);
            }
        }
        self.take(chunk);
    }

    fn take(&mut self, part: &[u8]) {
        if part.is_empty() {
            return;
        }
        self.line_started = true;
        let room = HEAD_BYTES.saturating_sub(self.line.len());
        self.line.extend_from_slice(&part[..part.len().min(room)]);
    }

    fn end_line(&mut self) -> Option<SeenEvent> {
        let started = std::mem::take(&mut self.line_started);
        if !started {
            // A blank line: dispatch, if the event had data.
            let dispatched = std::mem::take(&mut self.has_data).then(|| SeenEvent {
                head: self.head.take(),
            });
            self.events += u64::from(dispatched.is_some());
            return dispatched;
        }
        if let Some(value) = self.line.strip_prefix(b"data:") {
            if !self.has_data {
                let value = value.strip_prefix(b" ").unwrap_or(value);
                self.head = super::super::wire::parse_head(value);
            }
            self.has_data = true;
        }
        self.line.clear();
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::wire::event_data;

    fn read_all(chunks: &[&[u8]]) -> Vec<SeenEvent> {
        let mut reader = EventReader::new();
        let mut seen = Vec::new();
        for chunk in chunks {
            reader.feed(chunk, |event| seen.push(event));
        }
        assert_eq!(reader.events(), seen.len() as u64);
        seen
    }

    #[test]
    fn events_split_anywhere() {
        let stream = format!(
            ": hello\n\nretry: 10\nid: 1-1\ndata: {}\n\nevent: x\ndata:{}\n\n:\n\n",
            event_data(1, 5, 64),
            event_data(2, 6, 70_000)
        );
        let bytes = stream.as_bytes();
        let whole = read_all(&[bytes]);
        assert_eq!(
            whole,
            [
                SeenEvent { head: Some((1, 5)) },
                SeenEvent { head: Some((2, 6)) }
            ]
        );
        // Every cut in the small events; every 997th in the large one.
        for cut in (0..300).chain((300..bytes.len()).step_by(997)) {
            assert_eq!(
                read_all(&[&bytes[..cut], &bytes[cut..]]),
                whole,
                "cut {cut}"
            );
        }
    }

    #[test]
    fn data_without_head() {
        assert_eq!(read_all(&[b"data: plain\n\n"]), [SeenEvent { head: None }]);
    }
}

//! [`Decoder`]: bytes in, events out, as the WHATWG standard reads a stream.

use std::collections::VecDeque;
use std::mem;
use std::time::Duration;

use super::{DecodeError, DecodedEvent};
use crate::Text;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// How much of a peer's stream the decoder holds before it gives up.
///
/// ```
/// use sse_engine::decode::{DecodeError, Decoder, Limits};
///
/// let mut decoder = Decoder::with_limits(Limits::new().max_line_bytes(16));
/// assert_eq!(
///     decoder.push(&[b'x'; 17]),
///     Err(DecodeError::LineTooLong { limit: 16 })
/// );
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    max_line_bytes: usize,
    max_event_bytes: usize,
}

impl Limits {
    /// One line up to 1 MiB, one event (data and type) up to 4 MiB.
    pub const fn new() -> Self {
        Self {
            max_line_bytes: 1 << 20,
            max_event_bytes: 4 << 20,
        }
    }

    /// Sets the longest line held, in bytes.
    pub const fn max_line_bytes(mut self, max: usize) -> Self {
        self.max_line_bytes = max;
        self
    }

    /// Sets the largest event held (its data and event type), in bytes.
    pub const fn max_event_bytes(mut self, max: usize) -> Self {
        self.max_event_bytes = max;
        self
    }

    /// The longest line held.
    pub const fn get_max_line_bytes(&self) -> usize {
        self.max_line_bytes
    }

    /// The largest event held.
    pub const fn get_max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self::new()
    }
}

/// An incremental event-stream parser; see the [module docs](super).
///
/// Events wait in the decoder until [`Decoder::next_event`] takes them. One
/// chunk can complete many events; they share the stream's last event id, so
/// what waits is bounded by a small multiple of the chunk's size.
#[derive(Debug, Clone)]
pub struct Decoder {
    limits: Limits,
    /// The start of a line whose end has not arrived yet.
    partial_line: Vec<u8>,
    /// The last byte seen was a CR: an LF right after it ends no new line.
    after_cr: bool,
    /// No line has ended yet, so the first may start with a BOM.
    first_line: bool,
    data: String,
    event_type: String,
    /// The parser's last event id buffer, changed by every `id` field.
    id_buffer: String,
    /// `id_buffer` changed since the last dispatch.
    id_changed: bool,
    /// The stream's last event id: `id_buffer` as of the last dispatch, shared
    /// by every event dispatched with it.
    last_event_id: Text,
    id_seen: bool,
    retry: Option<Duration>,
    reconnection_time: Option<Duration>,
    ready: VecDeque<DecodedEvent>,
    failed: Option<DecodeError>,
}

impl Decoder {
    /// A decoder with the default [`Limits`].
    pub fn new() -> Self {
        Self::with_limits(Limits::new())
    }

    /// A decoder with the given limits.
    pub fn with_limits(limits: Limits) -> Self {
        Self {
            limits,
            partial_line: Vec::new(),
            after_cr: false,
            first_line: true,
            data: String::new(),
            event_type: String::new(),
            id_buffer: String::new(),
            id_changed: false,
            last_event_id: Text::default(),
            id_seen: false,
            retry: None,
            reconnection_time: None,
            ready: VecDeque::new(),
            failed: None,
        }
    }

    /// Reads the next chunk of the stream. Events it completes become
    /// available from [`Decoder::next_event`], in order; events completed
    /// before a limit was broken stay available.
    ///
    /// # Errors
    ///
    /// When a line or an event exceeds the limits. The error is final.
    pub fn push(&mut self, mut chunk: &[u8]) -> Result<(), DecodeError> {
        if let Some(error) = self.failed {
            return Err(error);
        }
        if chunk.is_empty() {
            return Ok(());
        }
        if mem::take(&mut self.after_cr) {
            if let Some(rest) = chunk.strip_prefix(b"\n") {
                chunk = rest;
            }
        }
        while !chunk.is_empty() {
            let Some(end) = memchr::memchr2(b'\n', b'\r', chunk) else {
                self.check_line_len(self.partial_line.len() + chunk.len())?;
                self.partial_line.extend_from_slice(chunk);
                break;
            };
            let mut next = end + 1;
            if chunk[end] == b'\r' {
                match chunk.get(next) {
                    Some(b'\n') => next += 1,
                    Some(_) => {}
                    None => self.after_cr = true,
                }
            }
            if self.partial_line.is_empty() {
                self.check_line_len(end)?;
                self.process_line(&chunk[..end])?;
            } else {
                self.check_line_len(self.partial_line.len() + end)?;
                let mut line = mem::take(&mut self.partial_line);
                line.extend_from_slice(&chunk[..end]);
                let result = self.process_line(&line);
                line.clear();
                self.partial_line = line;
                result?;
            }
            chunk = &chunk[next..];
        }
        Ok(())
    }

    /// The next complete event, oldest first.
    pub fn next_event(&mut self) -> Option<DecodedEvent> {
        self.ready.pop_front()
    }

    /// Ends the stream: an event still incomplete is discarded, as the
    /// standard says, and so is an `id` field in it. Events already complete
    /// stay available.
    pub fn finish(&mut self) {
        self.partial_line.clear();
        self.after_cr = false;
        self.data.clear();
        self.event_type.clear();
        self.id_buffer.clear();
        self.id_buffer.push_str(&self.last_event_id);
        self.id_changed = false;
    }

    /// The stream's last event id: what a client sends as `Last-Event-ID` when
    /// it reconnects. Set when an event ends (blank line), from the newest
    /// `id` field; an `id` in an unfinished event does not count.
    pub fn last_event_id(&self) -> &str {
        &self.last_event_id
    }

    /// The reconnection delay from the newest valid `retry` field.
    pub fn reconnection_time(&self) -> Option<Duration> {
        self.reconnection_time
    }

    /// The limits this decoder enforces.
    pub fn limits(&self) -> Limits {
        self.limits
    }

    fn check_line_len(&mut self, len: usize) -> Result<(), DecodeError> {
        if len > self.limits.max_line_bytes {
            return Err(self.fail(DecodeError::LineTooLong {
                limit: self.limits.max_line_bytes,
            }));
        }
        Ok(())
    }

    fn fail(&mut self, error: DecodeError) -> DecodeError {
        self.failed = Some(error);
        self.partial_line = Vec::new();
        self.data = String::new();
        error
    }

    fn process_line(&mut self, mut line: &[u8]) -> Result<(), DecodeError> {
        if mem::take(&mut self.first_line) {
            line = line.strip_prefix(BOM).unwrap_or(line);
        }
        if line.is_empty() {
            self.dispatch();
            return Ok(());
        }
        let (field, value) = match memchr::memchr(b':', line) {
            Some(0) => return Ok(()),
            Some(colon) => {
                let value = &line[colon + 1..];
                (&line[..colon], value.strip_prefix(b" ").unwrap_or(value))
            }
            None => (line, &b""[..]),
        };
        match field {
            b"data" => {
                push_lossy(&mut self.data, value);
                self.data.push('\n');
                self.check_event_size()?;
            }
            b"event" => {
                self.event_type.clear();
                push_lossy(&mut self.event_type, value);
                self.check_event_size()?;
            }
            b"id" if memchr::memchr(0, value).is_none() => {
                self.id_buffer.clear();
                push_lossy(&mut self.id_buffer, value);
                self.id_changed = true;
            }
            // Digits only, so the one failure left is a number too large for
            // u64, which no client could wait for anyway.
            b"retry" if !value.is_empty() && value.iter().all(u8::is_ascii_digit) => {
                if let Some(millis) = std::str::from_utf8(value)
                    .ok()
                    .and_then(|digits| digits.parse::<u64>().ok())
                {
                    let delay = Duration::from_millis(millis);
                    self.retry = Some(delay);
                    self.reconnection_time = Some(delay);
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn check_event_size(&mut self) -> Result<(), DecodeError> {
        if self.data.len() + self.event_type.len() > self.limits.max_event_bytes {
            return Err(self.fail(DecodeError::EventTooLarge {
                limit: self.limits.max_event_bytes,
            }));
        }
        Ok(())
    }

    fn dispatch(&mut self) {
        if mem::take(&mut self.id_changed) {
            self.last_event_id = Text::copy_from(&self.id_buffer);
            self.id_seen = true;
        }
        if self.data.is_empty() {
            self.event_type.clear();
            return;
        }
        self.data.pop(); // the LF after the last data line
        let event_type = mem::take(&mut self.event_type);
        self.ready.push_back(DecodedEvent {
            event_type: (!event_type.is_empty()).then_some(event_type),
            data: mem::take(&mut self.data),
            last_event_id: self.last_event_id.clone(),
            id_seen: self.id_seen,
            retry: self.retry.take(),
        });
    }
}

fn push_lossy(out: &mut String, bytes: &[u8]) {
    match std::str::from_utf8(bytes) {
        Ok(text) => out.push_str(text),
        Err(_) => out.push_str(&String::from_utf8_lossy(bytes)),
    }
}

impl Default for Decoder {
    fn default() -> Self {
        Self::new()
    }
}

//! The interface every load-test server answers, and the event data both
//! sides agree on.
//!
//! - `GET /events`: the SSE stream of the one topic, [`TOPIC`].
//! - `POST /publish`: the body (UTF-8) is published as one event's data.
//! - `GET /flood?n=<events>&size=<bytes>`: an SSE stream of `n` events of
//!   `size` bytes of data each, as fast as the server can send them; then
//!   the stream ends.
//! - `GET /hold`: a streaming response that never sends a byte: what one
//!   open connection costs the HTTP server itself, without SSE.
//! - `GET /stats`: the number of subscribers now, as decimal text (`404`
//!   where an implementation cannot tell).
//!
//! Event data is JSON that starts with its sequence number and the sender's
//! wall-clock time, padded to the wanted size:
//! `{"seq":7,"ns":1718000000000000000,"pad":"xxxx"}`. Client and server run
//! on the same machine, so one clock serves both ends.

use std::time::{SystemTime, UNIX_EPOCH};

/// The topic (hub topic or broadcast channel) that `/events` streams.
pub const TOPIC: &str = "load";

/// Events kept for subscribers: the hub's log length and the peers'
/// broadcast capacity, the same bound for all.
pub const BACKLOG_EVENTS: usize = 1024;

/// The largest `size` that `/flood` accepts, and the largest published body.
pub const MAX_EVENT_BYTES: usize = 1 << 20;

/// The largest `n` that `/flood` accepts, so a request is bounded.
pub const MAX_FLOOD_EVENTS: u64 = 100_000_000;

/// Nanoseconds since the Unix epoch, by the wall clock (0 before 1970).
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| {
            u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX)
        })
}

/// Event data of exactly `size` bytes (or the shortest the header allows):
/// `{"seq":<seq>,"ns":<ns>,"pad":"x…x"}`.
pub fn event_data(seq: u64, ns: u64, size: usize) -> String {
    let mut data = format!("{{\"seq\":{seq},\"ns\":{ns},\"pad\":\"");
    let pad = size.saturating_sub(data.len() + 2);
    data.extend(std::iter::repeat_n('x', pad));
    data.push_str("\"}");
    data
}

/// The sequence number and send time at the start of event data, if it has
/// them (a prefix of the data is enough).
pub fn parse_head(data: &[u8]) -> Option<(u64, u64)> {
    let rest = data.strip_prefix(b"{\"seq\":")?;
    let (seq, rest) = leading_number(rest)?;
    let rest = rest.strip_prefix(b",\"ns\":")?;
    let (ns, _) = leading_number(rest)?;
    Some((seq, ns))
}

fn leading_number(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 {
        return None;
    }
    let mut value: u64 = 0;
    for &digit in &bytes[..digits] {
        value = value
            .checked_mul(10)?
            .checked_add(u64::from(digit - b'0'))?;
    }
    Some((value, &bytes[digits..]))
}

/// What `GET /flood` was asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Flood {
    /// Events to send.
    pub events: u64,
    /// Bytes of data in each.
    pub size: usize,
}

impl Flood {
    /// Reads `n` and `size` from a query string (`n=1000&size=64`).
    ///
    /// # Errors
    ///
    /// A message for the client when either is missing, not a number or
    /// out of bounds.
    pub fn from_query(query: Option<&str>) -> Result<Self, String> {
        let (mut events, mut size) = (None, None);
        for pair in query.unwrap_or("").split('&') {
            match pair.split_once('=') {
                Some(("n", value)) => events = value.parse::<u64>().ok(),
                Some(("size", value)) => size = value.parse::<usize>().ok(),
                _ => {}
            }
        }
        match (events, size) {
            (Some(events), Some(size)) if events <= MAX_FLOOD_EVENTS && size <= MAX_EVENT_BYTES => {
                Ok(Self { events, size })
            }
            _ => Err(format!(
                "expected ?n=<events, at most {MAX_FLOOD_EVENTS}>&size=<bytes, at most {MAX_EVENT_BYTES}>"
            )),
        }
    }

    /// The data every flood event carries: sequence 0, time 0, `size` bytes.
    /// One value, shared, so that the servers measure sending, not formatting.
    pub fn data(&self) -> String {
        event_data(0, 0, self.size)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_has_its_size_and_head() {
        let data = event_data(42, 1_700_000_000_123_456_789, 64);
        assert_eq!(data.len(), 64);
        assert_eq!(
            parse_head(data.as_bytes()),
            Some((42, 1_700_000_000_123_456_789))
        );
        assert_eq!(event_data(1, 2, 65_536).len(), 65_536);
        assert_eq!(parse_head(b"{\"seq\":x"), None);
        assert_eq!(
            parse_head(b"{\"seq\":99999999999999999999999,\"ns\":1"),
            None
        );
    }

    #[test]
    fn flood_query() {
        assert_eq!(
            Flood::from_query(Some("n=10&size=64")),
            Ok(Flood {
                events: 10,
                size: 64
            })
        );
        assert!(Flood::from_query(Some("n=10")).is_err());
        assert!(Flood::from_query(None).is_err());
        assert!(Flood::from_query(Some("n=1&size=99999999999")).is_err());
    }
}

//! One SSE client: a connection, its open `GET` stream, and a reader.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::Incoming;
use tokio::sync::watch;

use super::http::Connection;
use super::reader::{EventReader, SeenEvent};
use crate::load::Error;
use crate::load::wire::now_ns;

/// An open event stream.
#[derive(Debug)]
pub struct Subscriber {
    /// Kept so that the connection lives as long as the stream.
    _connection: Connection,
    body: Incoming,
    reader: EventReader,
    bytes: u64,
}

impl Subscriber {
    /// Connects to `server` (from `source`) and sends `GET path`; returns
    /// once the response head (`200`) has arrived.
    ///
    /// # Errors
    ///
    /// When the connection or the request fails.
    pub async fn open(
        server: SocketAddr,
        source: Option<IpAddr>,
        path: &str,
    ) -> Result<Self, Error> {
        let mut connection = Connection::open(server, source).await?;
        let body = connection
            .request(http::Method::GET, path, Bytes::new())
            .await?;
        Ok(Self {
            _connection: connection,
            body,
            reader: EventReader::new(),
            bytes: 0,
        })
    }

    /// Reads the next chunk of the stream and reports the events it
    /// completes; `false` when the stream has ended.
    ///
    /// # Errors
    ///
    /// When the connection fails.
    pub async fn read(&mut self, on_event: impl FnMut(SeenEvent)) -> Result<bool, Error> {
        loop {
            let Some(frame) = self.body.frame().await else {
                return Ok(false);
            };
            if let Ok(data) = frame?.into_data() {
                self.bytes += data.len() as u64;
                self.reader.feed(&data, on_event);
                return Ok(true);
            }
        }
    }

    /// Events read so far.
    pub fn events(&self) -> u64 {
        self.reader.events()
    }

    /// Body bytes read so far.
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Reads until the event with sequence number `expected - 1` arrives
    /// (with `None`, never), the stream ends, or `stop` turns true; what
    /// arrived, and when.
    pub async fn receive(
        mut self,
        expected: Option<u64>,
        mut stop: watch::Receiver<bool>,
    ) -> Delivery {
        let mut delivery = Delivery::default();
        let until = expected.unwrap_or(u64::MAX);
        while delivery.next < until && !*stop.borrow() {
            let read = tokio::select! {
                read = self.read(|event| delivery.record(event)) => read,
                _ = stop.changed() => break,
            };
            match read {
                Ok(true) => {}
                Ok(false) => break,
                Err(error) => {
                    delivery.error = Some(error.to_string());
                    break;
                }
            }
        }
        if let Some(expected) = expected {
            // Sequence numbers past the last one sent (a server's error) can
            // count more lost than were sent: no client loses more than that.
            delivery.lost = (delivery.lost + expected.saturating_sub(delivery.next)).min(expected);
        }
        delivery
    }
}

/// What one client received of a sequence of events numbered from 0.
#[derive(Debug, Default)]
pub struct Delivery {
    /// Publish-to-receive time of each event, in nanoseconds.
    pub latencies_ns: Vec<u64>,
    /// The next sequence number expected.
    pub next: u64,
    /// Sequence numbers skipped, and those never received.
    pub lost: u64,
    /// Events that arrived again or out of order.
    pub repeated: u64,
    /// Why the stream stopped early, if it failed.
    pub error: Option<String>,
}

impl Delivery {
    /// Counts `event`. Its sequence number comes from the server and may be
    /// anything up to `u64::MAX`: the events it skips count as lost, and
    /// `next` stops at `u64::MAX` rather than overflow.
    fn record(&mut self, event: SeenEvent) {
        let Some((seq, sent_ns)) = event.head else {
            return;
        };
        self.latencies_ns.push(now_ns().saturating_sub(sent_ns));
        if seq < self.next {
            self.repeated += 1;
            return;
        }
        self.lost += seq - self.next;
        self.next = seq.saturating_add(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(seq: u64) -> SeenEvent {
        SeenEvent {
            head: Some((seq, 0)),
        }
    }

    #[test]
    fn gaps_and_repeats() {
        let mut delivery = Delivery::default();
        for seq in [0, 1, 3, 3, 2, 4] {
            delivery.record(seen(seq));
        }
        assert_eq!((delivery.next, delivery.lost, delivery.repeated), (5, 1, 2));
    }

    #[test]
    fn a_sequence_number_at_the_top_of_the_range_does_not_overflow() {
        let mut delivery = Delivery::default();
        delivery.record(seen(u64::MAX));
        assert_eq!((delivery.next, delivery.lost), (u64::MAX, u64::MAX));
        delivery.record(seen(3));
        assert_eq!(delivery.repeated, 1);
    }
}

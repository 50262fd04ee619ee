//! [`Gap`]: what a subscriber is told when the log cannot give it everything
//! it asked for.

use std::fmt::{self, Write as _};

use super::Position;
use crate::{Event, LastEventId};

/// Why a subscriber's stream has a gap.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum GapReason {
    /// The events after the client's `Last-Event-ID` were evicted from the log
    /// (it holds a bounded number, size and age of events).
    Evicted,
    /// The subscriber read so slowly that the log overwrote its position.
    Lagged,
    /// The `Last-Event-ID` belongs to another epoch: an earlier run of the
    /// server, or another hub.
    Foreign,
    /// The `Last-Event-ID` is not an id this hub could have given: malformed,
    /// or a position it never reached.
    Unknown,
    /// A shared store lost events after the subscriber's position (it
    /// restarted without them, or trimmed them while this process's feed
    /// was away): neither the client's cursor nor a slow reader is to
    /// blame, and a stream is never closed for it (`LagPolicy::Close` is
    /// about slow readers).
    Lost,
}

impl GapReason {
    /// The reason as it appears in the gap event's data.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Evicted => "evicted",
            Self::Lagged => "lagged",
            Self::Foreign => "foreign",
            Self::Unknown => "unknown",
            Self::Lost => "lost",
        }
    }
}

impl fmt::Display for GapReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A gap in a subscriber's stream: events it should have had are not in the
/// log. The subscription goes on after [`Gap::resume_after`].
///
/// Unless the subscription has a gap handler, the client receives this event
/// (name configurable, `gap` by default):
///
/// ```text
/// event: gap
/// id: <resume_after>
/// data: {"reason":"evicted","lastEventId":"<the client's cursor, or empty>"}
/// ```
///
/// `reason` is one of:
///
/// | reason | when | `lastEventId` |
/// | --- | --- | --- |
/// | `evicted` | the events after the client's cursor left the log (count, size or age bounds) and the store could not replay them | the cursor |
/// | `lagged` | a subscriber read so slowly that the log overtook it ([`LagPolicy::Close`](super::LagPolicy::Close) closes the stream instead) | empty |
/// | `foreign` | the cursor is from another epoch: an earlier run, another hub | the cursor |
/// | `unknown` | the cursor is not an id this hub could have given | the cursor |
/// | `lost` | a shared store lost events after the subscriber's position (restarted without them, or trimmed them while the feed was away); never closes a stream | the cursor, when it was being resumed |
///
/// Its id moves the client's `Last-Event-ID` past the gap, so a reconnect
/// does not report it again. A client handles it by reloading its state (for
/// example with a fetch of a snapshot).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gap {
    pub(crate) reason: GapReason,
    pub(crate) requested: Option<LastEventId>,
    pub(crate) resume_after: Position,
}

impl Gap {
    /// Why there is a gap.
    pub fn reason(&self) -> GapReason {
        self.reason
    }

    /// The cursor the client asked to resume from, if it sent one.
    pub fn requested(&self) -> Option<&LastEventId> {
        self.requested.as_ref()
    }

    /// The position the stream continues after.
    pub fn resume_after(&self) -> Position {
        self.resume_after
    }

    /// The default gap event, named `name`.
    pub(crate) fn to_event(&self, name: &crate::Text) -> Event {
        let mut data = String::with_capacity(48);
        data.push_str(r#"{"reason":""#);
        data.push_str(self.reason.as_str());
        data.push_str(r#"","lastEventId":""#);
        if let Some(requested) = &self.requested {
            push_json_escaped(&mut data, requested.as_str());
        }
        data.push_str(r#""}"#);
        Event::new()
            .try_event(name.clone())
            .unwrap_or_else(|_| unreachable!("the gap event name is checked when configured"))
            .id(self.resume_after.to_event_id())
            .data(data)
    }
}

fn push_json_escaped(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", u32::from(c));
            }
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hub::Epoch;

    #[test]
    fn default_event_is_named_json_with_an_id_past_the_gap() {
        let gap = Gap {
            reason: GapReason::Foreign,
            requested: LastEventId::parse(br#"a"b\c	d"#).unwrap(),
            resume_after: Position::new(Epoch::from_bits(1), 7),
        };
        let bytes = gap
            .to_event(&crate::Text::from("gap"))
            .encode()
            .into_bytes();
        assert_eq!(
            bytes,
            "event: gap\nid: 000000000001-7\ndata: {\"reason\":\"foreign\",\"lastEventId\":\"a\\\"b\\\\c\\u0009d\"}\n\n"
        );
    }
}

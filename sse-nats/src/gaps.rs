//! Sequence numbers a consumer passed over, and whether the stream's leader
//! holds a message among them: the check the feed's reader and a replay
//! both make before trusting what a consumer gave them.
//!
//! A consumer served by a replica that is still catching up (after a node
//! was lost or restarted), or by a new leader that has not applied what the
//! lost one was committing, can pass over messages the stream holds. Only
//! the stream's leader says which are really gone.

use async_nats::jetstream::stream::{RawMessageError, RawMessageErrorKind, Stream};

/// The runs `[from, until)` of sequence numbers after `after` that a
/// consumer giving `delivered` (in order) passed over: messages of other
/// subjects, deleted ones, or ones it did not give. With an `end`, only
/// numbers below it count, and what is left up to it is a run too.
pub(crate) fn passed_over(
    after: u64,
    delivered: impl IntoIterator<Item = u64>,
    end: Option<u64>,
) -> Vec<(u64, u64)> {
    let mut runs = Vec::new();
    let mut last = after;
    for seq in delivered {
        if end.is_some_and(|end| seq >= end) {
            break;
        }
        if seq > last.saturating_add(1) {
            runs.push((last + 1, seq));
        }
        last = last.max(seq);
    }
    if let Some(end) = end.filter(|&end| end > last.saturating_add(1)) {
        runs.push((last + 1, end));
    }
    runs
}

/// Whether the stream's leader has a message on `subject` (a wildcard
/// covers the whole stream) in `[from, until)`: one request, whose answer
/// is the first such message at or after `from`.
pub(crate) async fn leader_has(
    stream: &Stream<()>,
    subject: &str,
    from: u64,
    until: u64,
) -> Result<bool, RawMessageError> {
    if from >= until {
        return Ok(false);
    }
    match stream
        .raw_message_builder()
        .sequence(from)
        .next_by_subject(subject)
        .send()
        .await
    {
        Ok(message) => Ok(message.sequence < until),
        Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => Ok(false),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_run_a_consumer_passed_over_is_found() {
        // A reader's batch (no end).
        assert_eq!(passed_over(4, [5, 6, 7], None), []);
        assert_eq!(passed_over(4, [5, 8, 9, 12], None), [(6, 8), (10, 12)]);
        assert_eq!(passed_over(4, [7], None), [(5, 7)]);
        // Numbers read already are no run, nor what follows them in turn.
        assert_eq!(passed_over(4, [3, 4, 5], None), []);
        assert_eq!(passed_over(4, [], None), []);

        // A replay's scan, up to its end.
        assert_eq!(passed_over(4, [5, 6, 7], Some(8)), []);
        // The message a lost leader was committing, passed over in the
        // middle (what the chat cluster test's failure looks like: one
        // acknowledged event never delivered to one subscriber, no gap).
        assert_eq!(passed_over(65, [67, 68], Some(69)), [(66, 67)]);
        // Passed over just before the bound: the consumer's next message
        // was at or past the end, and nothing below it was given.
        assert_eq!(passed_over(65, [], Some(67)), [(66, 67)]);
        assert_eq!(passed_over(65, [66], Some(68)), [(67, 68)]);
        // A scan that stopped early: what is left up to the end.
        assert_eq!(passed_over(4, [5, 9], Some(12)), [(6, 9), (10, 12)]);
        // Only up to the end: what comes after is not this round's.
        assert_eq!(passed_over(4, [5, 9, 15], Some(10)), [(6, 9)]);
        assert_eq!(passed_over(4, [], Some(5)), []);
    }
}

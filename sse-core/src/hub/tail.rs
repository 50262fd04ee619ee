//! [`Tail`]: a topic's newest events, readable without the topic's lock.
//!
//! Every subscriber of a topic reads each event right after it is published.
//! Under the topic's mutex that is a lock and an unlock per event and
//! subscriber, on one cache line that every thread of the server contends
//! for. The tail lets a subscriber that is caught up read on without them:
//! events are written once into blocks of write-once slots, and a reader
//! holds the block it is in, so reading a slot is one atomic load. Moving to
//! the next block costs a reference count; a block holds eight events.
//!
//! The topic keeps its newest two blocks. A block links to the next one
//! weakly, so a reader that stops reading keeps only its own block alive (at
//! most eight events), never the chain after it. A reader that falls
//! further behind finds the next block gone and reads from the topic's log,
//! under its lock, like any other lagging subscriber.

use std::sync::{Arc, OnceLock, Weak};

use bytes::Bytes;
use tokio::time::Instant;

/// Events per block: a reader takes a reference count once per block, and
/// keeps at most one block alive while it does not read.
const BLOCK_LEN: usize = 8;

/// One event as a lock-free reader takes it.
#[derive(Debug, Clone)]
pub(crate) struct TailEntry {
    pub(crate) seq: u64,
    pub(crate) bytes: Bytes,
    pub(crate) published_at: Instant,
}

#[derive(Debug, Default)]
struct Block {
    entries: [OnceLock<TailEntry>; BLOCK_LEN],
    /// Set when the block is sealed: no entry is written to it after this.
    next: OnceLock<Weak<Block>>,
}

impl Block {
    fn newest_seq(&self) -> Option<u64> {
        self.entries
            .iter()
            .rev()
            .find_map(|entry| entry.get().map(|entry| entry.seq))
    }

    fn oldest_seq(&self) -> Option<u64> {
        self.entries[0].get().map(|entry| entry.seq)
    }
}

/// The writer's end, kept under the topic's lock.
#[derive(Debug, Default)]
pub(crate) struct Tail {
    current: Arc<Block>,
    /// Entries written to `current`.
    len: usize,
    /// The block before `current`, kept so that a reader finishing it can
    /// move on.
    previous: Option<Arc<Block>>,
}

impl Tail {
    /// Adds the newest event.
    pub(crate) fn push(&mut self, entry: TailEntry) {
        if self.len == BLOCK_LEN {
            self.seal();
        }
        // Never set already: `len` counts the slots written, under the lock.
        let _ = self.current.entries[self.len].set(entry);
        self.len += 1;
    }

    /// Starts a new block; readers of the old one move to it.
    fn seal(&mut self) {
        let next = Arc::new(Block::default());
        let _ = self.current.next.set(Arc::downgrade(&next));
        self.previous = Some(std::mem::replace(&mut self.current, next));
        self.len = 0;
    }

    /// Lets go of blocks whose events are all evicted, so that the tail
    /// keeps nothing alive that the log has dropped: only readers that
    /// have not moved on since hold them.
    pub(crate) fn release_through(&mut self, evicted: u64) {
        if self
            .previous
            .as_ref()
            .is_some_and(|block| block.newest_seq().is_none_or(|seq| seq <= evicted))
        {
            self.previous = None;
        }
        // A log shorter than a block evicts from the current block: its
        // events still in the log move to a new one, so that nothing evicted
        // stays held. Its readers move on to the copies, which they pass
        // over when they read them already.
        if self.current.oldest_seq().is_some_and(|seq| seq <= evicted) {
            let kept: Vec<TailEntry> = self
                .current
                .entries
                .iter()
                .filter_map(OnceLock::get)
                .filter(|entry| entry.seq > evicted)
                .cloned()
                .collect();
            self.seal();
            self.previous = None;
            for entry in kept {
                self.push(entry);
            }
        }
    }

    /// A reader at the newest event (or where the next one will be written,
    /// when there is none): it reads that event first, so a subscriber that
    /// has not delivered it yet does not miss it, and one that has skips it.
    pub(crate) fn reader(&self) -> TailReader {
        match (self.len, &self.previous) {
            (0, Some(previous)) => TailReader {
                block: previous.clone(),
                index: BLOCK_LEN - 1,
            },
            (0, None) => TailReader {
                block: self.current.clone(),
                index: 0,
            },
            (len, _) => TailReader {
                block: self.current.clone(),
                index: len - 1,
            },
        }
    }
}

/// A reader's place in a tail: the next entry it reads.
#[derive(Debug)]
pub(crate) struct TailReader {
    block: Arc<Block>,
    index: usize,
}

/// Where a reader goes when its place is empty.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Onward {
    /// To the next block (or the entry written at its place meanwhile):
    /// look again.
    Moved,
    /// Nothing was written there yet.
    Nothing,
    /// The tail moved on past the reader's block: the events after it are
    /// only in the log.
    Behind,
}

impl TailReader {
    /// The entry at this place, if one is written there.
    #[inline]
    pub(crate) fn entry(&self) -> Option<&TailEntry> {
        self.block.entries.get(self.index)?.get()
    }

    /// Moves past the entry [`TailReader::entry`] returned.
    #[inline]
    pub(crate) fn advance(&mut self) {
        self.index += 1;
    }

    /// Whether anything may be readable past this place right now: an entry
    /// written there, or a next block. `false` is exact at the time of the
    /// look; `true` may only mean a block to move to.
    #[inline]
    pub(crate) fn may_have_more(&self) -> bool {
        self.entry().is_some() || self.block.next.get().is_some()
    }

    /// When [`TailReader::entry`] finds nothing: moves to the next block if
    /// this one is finished.
    pub(crate) fn onward(&mut self) -> Onward {
        let Some(next) = self.block.next.get() else {
            return Onward::Nothing;
        };
        // Sealed: every entry of this block was written before `next` was
        // set, so one that is still not there never will be.
        if self.entry().is_some() {
            return Onward::Moved;
        }
        let next = next.upgrade();
        match next {
            Some(block) => {
                self.block = block;
                self.index = 0;
                Onward::Moved
            }
            None => Onward::Behind,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(seq: u64) -> TailEntry {
        TailEntry {
            seq,
            bytes: Bytes::from(seq.to_string()),
            published_at: Instant::now(),
        }
    }

    fn read_all(reader: &mut TailReader) -> (Vec<u64>, bool) {
        let mut seen = Vec::new();
        loop {
            if let Some(entry) = reader.entry() {
                seen.push(entry.seq);
                reader.advance();
                continue;
            }
            match reader.onward() {
                Onward::Moved => {}
                Onward::Nothing => return (seen, false),
                Onward::Behind => return (seen, true),
            }
        }
    }

    #[test]
    fn a_reader_sees_every_entry_across_blocks() {
        let mut tail = Tail::default();
        let mut reader = tail.reader();
        assert_eq!(read_all(&mut reader), (vec![], false));
        for seq in 1..=20 {
            tail.push(entry(seq));
            if seq % 3 == 0 {
                assert_eq!(read_all(&mut reader).0.last(), Some(&seq));
            }
        }
        assert_eq!(read_all(&mut reader), (vec![19, 20], false));
        tail.push(entry(21));
        assert_eq!(read_all(&mut reader), (vec![21], false));
    }

    #[test]
    fn a_new_reader_starts_at_the_newest_entry() {
        let mut tail = Tail::default();
        for seq in 1..=BLOCK_LEN as u64 {
            tail.push(entry(seq));
        }
        assert_eq!(read_all(&mut tail.reader()).0, [8]);
        tail.push(entry(9));
        assert_eq!(read_all(&mut tail.reader()).0, [9]);
        // Sealed by a release, with nothing written yet to the new block.
        tail.release_through(9);
        let mut reader = tail.reader();
        assert_eq!(read_all(&mut reader), (vec![], false));
        tail.push(entry(10));
        assert_eq!(read_all(&mut reader), (vec![10], false));
        // A release that keeps some of the block's events keeps them readable.
        tail.push(entry(11));
        tail.release_through(10);
        assert_eq!(read_all(&mut tail.reader()).0, [11]);
        let (seen, behind) = read_all(&mut reader);
        assert_eq!(
            (seen, behind),
            (vec![11, 11], false),
            "the copy comes again"
        );
    }

    #[test]
    fn a_reader_left_far_behind_is_told() {
        let mut tail = Tail::default();
        tail.push(entry(1));
        let mut reader = tail.reader();
        for seq in 2..=4 * BLOCK_LEN as u64 {
            tail.push(entry(seq));
        }
        // Its own block is still readable; the one after it is gone (the
        // tail keeps the newest two).
        let (seen, behind) = read_all(&mut reader);
        assert_eq!(seen, (1..=8).collect::<Vec<_>>());
        assert!(behind);
    }

    #[test]
    fn a_reader_in_a_sealed_block_moves_on() {
        let mut tail = Tail::default();
        tail.push(entry(1));
        let mut reader = tail.reader();
        reader.advance();
        tail.release_through(1);
        tail.push(entry(2));
        assert_eq!(read_all(&mut reader), (vec![2], false));
    }

    #[test]
    fn released_blocks_are_not_kept() {
        let mut tail = Tail::default();
        let first = entry(1);
        let bytes = first.bytes.clone();
        tail.push(first);
        for seq in 2..=10 {
            tail.push(entry(seq));
        }
        assert!(!bytes.is_unique());
        tail.release_through(9);
        assert!(bytes.is_unique(), "the block of evicted events is dropped");
    }
}

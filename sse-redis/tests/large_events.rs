//! A client with an old cursor resuming over large events (issue 16): the
//! replay comes whole, in order, without a false gap, in rounds bounded by
//! bytes, not only by count.
#![allow(clippy::print_stderr, missing_docs)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sse_engine::hub::{Epoch, Feed, Hub, LogLimits, ReplayRound, Store, StoreFuture, StoredEvent};
use sse_engine::{Event, LastEventId, Text};
use sse_redis::RedisStore;

use common::{RedisServer, next_n, quiet};

const BUDGET: usize = 1 << 20;

/// A Redis store that notes the events and bytes of every replay round.
struct Counting {
    store: RedisStore,
    rounds: Arc<Mutex<Vec<(usize, usize)>>>,
}

impl Store for Counting {
    fn epoch(&self) -> Epoch {
        self.store.epoch()
    }
    fn append<'a>(&'a self, topics: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        self.store.append(topics, event)
    }
    fn replay<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        self.store.replay(topic, after, before, limit)
    }
    fn replay_round<'a>(
        &'a self,
        topic: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<ReplayRound>> {
        Box::pin(async move {
            let round = self.store.replay_round(topic, after, before, limit).await?;
            if let Some(round) = &round {
                let bytes = round.events.iter().map(|e| e.event.len()).sum();
                self.rounds
                    .lock()
                    .unwrap()
                    .push((round.events.len(), bytes));
            }
            Ok(round)
        })
    }
    fn head(&self) -> u64 {
        self.store.head()
    }
    fn head_now(&self) -> StoreFuture<'_, u64> {
        self.store.head_now()
    }
    fn feed(&self) -> Option<Feed> {
        self.store.feed()
    }
    fn follow(&self, topic: &Text, after: u64) -> u64 {
        self.store.follow(topic, after)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_over_large_events_is_exact_and_bounded_in_bytes() {
    let Some(redis) = RedisServer::start_with("large-event resume", false) else {
        return;
    };
    let a = redis.hub("large:").await;
    let mut ids = Vec::new();
    for n in 0..1_501 {
        let text = format!("{n:04}{}", "x".repeat(60_000));
        let position = a.publish("t", Event::new().data(text)).await.unwrap();
        ids.push(position.to_string());
    }
    // A late instance whose log holds few events: 1,500 events of 60 KB
    // come from Redis.
    let rounds = Arc::new(Mutex::new(Vec::new()));
    let store = RedisStore::builder(redis.url())
        .prefix("large:")
        .replay_bytes(BUDGET)
        .connect()
        .await
        .unwrap();
    let late = Hub::builder()
        .store(Counting {
            store,
            rounds: rounds.clone(),
        })
        .log_limits(LogLimits::new().max_events(1_000).max_bytes(8 << 20))
        .build();
    let started = Instant::now();
    let cursor = LastEventId::parse(ids[0].as_bytes()).unwrap();
    let mut resumed = late.subscribe(&["t"], cursor).unwrap();
    let replayed = next_n(&mut resumed, 1_500).await;
    let took = started.elapsed();
    let got: Vec<&str> = replayed.iter().map(|e| e.last_event_id()).collect();
    assert_eq!(got, ids[1..], "every event once, in order");
    assert!(
        replayed.iter().enumerate().all(
            |(n, e)| e.data().starts_with(&format!("{:04}", n + 1)) && e.data().len() == 60_004
        )
    );
    quiet(&mut resumed).await;
    assert_eq!(late.stats().gaps, 0, "no false gap");

    let rounds = rounds.lock().unwrap().clone();
    let total: usize = rounds.iter().map(|&(_, bytes)| bytes).sum();
    let largest = rounds.iter().map(|&(_, bytes)| bytes).max().unwrap();
    eprintln!(
        "1,500 events of 60 KB resumed in {took:?}: {} rounds, {total} bytes, at most {largest} bytes and {} events a round",
        rounds.len(),
        rounds.iter().map(|&(n, _)| n).max().unwrap()
    );
    assert!(largest <= BUDGET, "a round of {largest} bytes");
    assert!(rounds.iter().all(|&(n, _)| n >= 1), "{rounds:?}");
    assert!(took < Duration::from_secs(30), "took {took:?}");
}

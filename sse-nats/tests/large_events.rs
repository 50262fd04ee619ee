//! A client with an old cursor resuming over large events: the replay comes
//! whole, in order, without a false gap, in rounds and fetches bounded by
//! bytes.
#![allow(clippy::print_stderr, missing_docs)]

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use sse_engine::Text;
use sse_engine::hub::{Epoch, Feed, Hub, LogLimits, ReplayRound, Store, StoreFuture, StoredEvent};
use sse_nats::NatsStore;

use common::{NatsServer, cursor, ids, next_n, publish, quiet};

/// A store that notes the events and bytes of every replay round.
struct Counting {
    store: NatsStore,
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
async fn a_resume_over_large_events_is_exact_and_bounded_in_time() {
    let Some(nats) = NatsServer::start("large-event resume") else {
        return;
    };
    let a = nats.hub("LARGE").await;
    let first = publish(&a, "t", "first").await;
    let mut expected = Vec::new();
    for n in 0..400 {
        let text = format!("{n:04}{}", "x".repeat(60_000));
        expected.push(publish(&a, "t", &text).await.to_string());
    }
    // A late instance whose log holds few events: the replay comes from
    // the stream, in rounds of at most 100 events and 1 MiB.
    let store = nats
        .builder("LARGE")
        .fetch_bytes(1 << 20)
        .replay_bytes(1 << 20)
        .connect()
        .await
        .unwrap();
    let rounds = Arc::new(Mutex::new(Vec::new()));
    let late = Hub::builder()
        .store(Counting {
            store,
            rounds: rounds.clone(),
        })
        .log_limits(LogLimits::new().max_events(100).max_bytes(8 << 20))
        .build();
    let started = Instant::now();
    let mut resumed = late.subscribe(&["t"], cursor(&first)).unwrap();
    let replayed = next_n(&mut resumed, 400).await;
    let took = started.elapsed();
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(ids(&replayed), expected);
    assert!(
        replayed
            .iter()
            .enumerate()
            .all(|(n, event)| event.data().starts_with(&format!("{n:04}"))
                && event.data().len() == 60_004)
    );
    quiet(&mut resumed).await;
    assert_eq!(late.stats().gaps, 0);

    let rounds = rounds.lock().unwrap().clone();
    let largest = rounds.iter().map(|&(_, bytes)| bytes).max().unwrap();
    eprintln!(
        "400 events of 60 KB resumed in {took:?}: {} rounds, at most {largest} bytes a round",
        rounds.len()
    );
    assert!(largest <= 1 << 20, "a round of {largest} bytes");
    assert!(rounds.iter().all(|&(n, _)| n >= 1), "{rounds:?}");
}

/// Large events of the topic on both of its subjects (its own, and the
/// multi-topic one): each scan and the merged round keep to the bound, and
/// the merge loses nothing at the cut.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_over_large_multi_topic_events_is_exact_and_bounded() {
    let Some(nats) = NatsServer::start("large multi-topic resume") else {
        return;
    };
    let a = nats.hub("LARGEMULTI").await;
    let first = publish(&a, "t", "first").await;
    let mut expected = Vec::new();
    for n in 0..200 {
        let text = format!("{n:04}{}", "x".repeat(60_000));
        let topics: &[&str] = if n % 3 == 0 { &["t", "u"] } else { &["t"] };
        let position = a
            .publish_to(topics, sse_engine::Event::new().data(text))
            .await
            .unwrap();
        expected.push(position.to_string());
        // Events of the other topic alone, which the round skips.
        if n % 5 == 0 {
            publish(&a, "u", "other").await;
        }
    }
    let store = nats
        .builder("LARGEMULTI")
        .replay_bytes(1 << 20)
        .connect()
        .await
        .unwrap();
    let rounds = Arc::new(Mutex::new(Vec::new()));
    let late = Hub::builder()
        .store(Counting {
            store,
            rounds: rounds.clone(),
        })
        .log_limits(LogLimits::new().max_events(100).max_bytes(8 << 20))
        .build();
    let mut resumed = late.subscribe(&["t"], cursor(&first)).unwrap();
    let replayed = next_n(&mut resumed, 200).await;
    assert_eq!(ids(&replayed), expected);
    quiet(&mut resumed).await;
    assert_eq!(late.stats().gaps, 0);
    let rounds = rounds.lock().unwrap().clone();
    let largest = rounds.iter().map(|&(_, bytes)| bytes).max().unwrap();
    assert!(largest <= 1 << 20, "a round of {largest} bytes");
}

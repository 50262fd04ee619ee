//! A store that ends replay rounds early (bounded by bytes, as sse-redis and
//! sse-nats do for large events) through `Store::replay_round`: the hub asks
//! again after what the round completed, and the client gets every event.
#![allow(missing_docs)]

use std::collections::BTreeMap;
use std::sync::Mutex;

use bytes::Bytes;
use futures_util::StreamExt;
use sse_engine::Text;
use sse_engine::decode::Decoder;
use sse_engine::hub::{Epoch, Hub, LogLimits, ReplayRound, Store, StoreFuture, StoredEvent};
use sse_engine::{Event, LastEventId};

/// Keeps every event; a round holds at most two, however many are asked.
#[derive(Default)]
struct TwoPerRound {
    events: Mutex<BTreeMap<u64, Bytes>>,
    rounds: Mutex<Vec<(u64, usize)>>,
}

impl Store for TwoPerRound {
    fn epoch(&self) -> Epoch {
        Epoch::from_bits(9)
    }
    fn append<'a>(&'a self, _: &'a [Text], event: &'a Bytes) -> StoreFuture<'a, u64> {
        let mut events = self.events.lock().unwrap();
        let seq = events.keys().next_back().map_or(1, |last| last + 1);
        events.insert(seq, event.clone());
        Box::pin(async move { Ok(seq) })
    }
    fn replay<'a>(
        &'a self,
        _: &'a Text,
        _: u64,
        _: u64,
        _: usize,
    ) -> StoreFuture<'a, Option<Vec<StoredEvent>>> {
        unreachable!("the hub asks for rounds")
    }
    fn replay_round<'a>(
        &'a self,
        _: &'a Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> StoreFuture<'a, Option<ReplayRound>> {
        let events: Vec<StoredEvent> = self
            .events
            .lock()
            .unwrap()
            .range(after + 1..before)
            .take(2)
            .map(|(&seq, event)| StoredEvent {
                seq,
                event: event.clone(),
            })
            .collect();
        self.rounds.lock().unwrap().push((after, limit));
        let complete_through = if events.len() == 2 {
            events[1].seq
        } else {
            before - 1
        };
        Box::pin(async move { Ok(Some(ReplayRound::new(events, complete_through))) })
    }
}

#[tokio::test]
async fn rounds_a_store_ends_early_are_asked_again_until_complete() {
    let store = std::sync::Arc::new(TwoPerRound::default());
    let hub = Hub::builder()
        .store(store.clone())
        .log_limits(LogLimits::new().max_events(3))
        .build();
    let mut ids = Vec::new();
    for n in 1..=12 {
        ids.push(
            hub.publish("t", Event::new().data(n.to_string()))
                .await
                .unwrap(),
        );
    }
    // Resumes after the first: 2..=9 come from the store, 10..=12 from the log.
    let cursor = LastEventId::parse(ids[0].to_string().as_bytes())
        .unwrap()
        .unwrap();
    let mut subscription = hub.subscribe(&["t"], Some(cursor)).unwrap();
    let mut decoder = Decoder::new();
    let mut data = Vec::new();
    while data.len() < 11 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(5), subscription.next())
            .await
            .expect("every event arrives")
            .unwrap();
        decoder.push(event.as_bytes()).unwrap();
        while let Some(event) = decoder.next_event() {
            assert_ne!(event.event_type(), "gap", "{}", event.data());
            data.push(event.data().to_owned());
        }
    }
    let expected: Vec<String> = (2..=12).map(|n| n.to_string()).collect();
    assert_eq!(data, expected);
    let rounds = store.rounds.lock().unwrap().clone();
    assert!(rounds.len() >= 4, "one round per two events: {rounds:?}");
}

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
use sse_engine::hub::{
    Epoch, Hub, LogLimits, ReplayRound, Store, StoreFuture, StoredEvent, Subscription,
};
use sse_engine::{Event, LastEventId};

/// Keeps every event; a round holds at most two, however many are asked.
/// Or, `before_the_range`, the events just before the range asked and none
/// of it (what a store's reader on a replica that is behind gave: sse-nats
/// once did).
#[derive(Default)]
struct TwoPerRound {
    events: Mutex<BTreeMap<u64, Bytes>>,
    rounds: Mutex<Vec<(u64, usize)>>,
    before_the_range: bool,
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
        let stored = self.events.lock().unwrap();
        let range = if self.before_the_range {
            stored.range(after.saturating_sub(1)..=after)
        } else {
            stored.range(after + 1..before)
        };
        let events: Vec<StoredEvent> = range
            .take(2)
            .map(|(&seq, event)| StoredEvent {
                seq,
                event: event.clone(),
            })
            .collect();
        drop(stored);
        self.rounds.lock().unwrap().push((after, limit));
        let complete_through = if events.len() == 2 {
            events[1].seq
        } else {
            before - 1
        };
        Box::pin(async move { Ok(Some(ReplayRound::new(events, complete_through))) })
    }
}

/// A hub on `store` keeping 3 events in its log, 12 events published to
/// `t`, and a subscription resuming after the first.
async fn twelve_resumed_after_the_first(store: impl Store + 'static) -> (Hub, Subscription) {
    let hub = Hub::builder()
        .store(store)
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
    let cursor = LastEventId::parse(ids[0].to_string().as_bytes())
        .unwrap()
        .unwrap();
    let subscription = hub.subscribe(&["t"], Some(cursor)).unwrap();
    (hub, subscription)
}

#[tokio::test]
async fn rounds_a_store_ends_early_are_asked_again_until_complete() {
    let store = std::sync::Arc::new(TwoPerRound::default());
    // Resumes after the first: 2..=9 come from the store, 10..=12 from the log.
    let (_hub, mut subscription) = twelve_resumed_after_the_first(store.clone()).await;
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

#[tokio::test(start_paused = true)]
async fn a_round_of_events_outside_the_range_is_a_gap_not_silence() {
    let (_hub, mut subscription) = twelve_resumed_after_the_first(TwoPerRound {
        before_the_range: true,
        ..TwoPerRound::default()
    })
    .await;
    let mut decoder = Decoder::new();
    let mut got = Vec::new();
    while got.len() < 4 {
        let event = tokio::time::timeout(std::time::Duration::from_secs(30), subscription.next())
            .await
            .expect("the events arrive")
            .unwrap();
        decoder.push(event.as_bytes()).unwrap();
        while let Some(event) = decoder.next_event() {
            got.push((event.event_type().to_owned(), event.data().to_owned()));
        }
    }
    // 2..=9 are the store's to give, and it did not: told, then the log's.
    assert_eq!(got[0].0, "gap", "{got:?}");
    let rest: Vec<&str> = got[1..].iter().map(|(_, data)| data.as_str()).collect();
    assert_eq!(rest, ["10", "11", "12"]);
}

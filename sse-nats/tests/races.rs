//! Races between instances, the reader and the hub: a topic followed while
//! the hub is behind its reader, and a cursor given by another instance while
//! this one's reader is reconnecting.
#![allow(clippy::print_stderr, missing_docs)]

mod common;

use std::time::Duration;

use futures_util::StreamExt;
use sse_engine::hub::Hub;
use sse_engine::{EncodedEvent, Event, LastEventId};

use common::{NatsServer, decode, publish_when_back};

fn data_of(event: &EncodedEvent) -> String {
    decode(event).data().to_owned()
}

/// A client resuming with a valid id that another instance gave, while this
/// instance's reader is still in its reconnection backoff after a server
/// restart: the hub keeps waiting for its reader, instead of calling the id
/// unknown and sending again what the client already had.
#[tokio::test]
async fn a_cursor_from_another_instance_waits_for_a_reconnecting_reader() {
    let Some(mut nats) = NatsServer::start("backoff ahead") else {
        return;
    };
    let slow = nats
        .builder("BACKOFF")
        .backoff(Duration::from_secs(4), Duration::from_secs(4));
    let a = common::hub_with(slow).await;
    let b = nats.hub("BACKOFF").await;
    let mut on_a = a.subscribe(&["t"], None).unwrap();
    b.publish("t", Event::new().data("zero")).await.unwrap();
    let first = tokio::time::timeout(Duration::from_secs(5), on_a.next())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(data_of(&first), "zero");
    drop(on_a);

    nats.kill();
    nats.restart();
    let one = publish_when_back(&b, "t", "one").await;
    b.publish("t", Event::new().data("two")).await.unwrap();

    // The client had "one" (from B) and now reconnects to A.
    let cursor = LastEventId::parse(one.to_string().as_bytes()).unwrap();
    let mut resumed = a.subscribe(&["t"], cursor).unwrap();
    // The reader comes back after its backoff; then exactly "two".
    let event = tokio::time::timeout(Duration::from_secs(15), resumed.next())
        .await
        .expect("an event once the reader is back")
        .expect("the stream goes on");
    let event = decode(&event);
    assert_eq!(
        format!("{}:{}", event.event_type(), event.data()),
        "message:two",
        "exactly what the client missed"
    );
    let more = tokio::time::timeout(Duration::from_millis(300), resumed.next()).await;
    assert!(more.is_err(), "nothing more: {more:?}");
}

/// The NATS store, with the hub's consumption of its feed held back while
/// `open` is false: as when the hub's feed task waits in a busy runtime's
/// queue after the reader has sent it a batch.
struct Gated {
    inner: sse_nats::NatsStore,
    open: tokio::sync::watch::Receiver<bool>,
}

impl sse_engine::hub::Store for Gated {
    fn epoch(&self) -> sse_engine::hub::Epoch {
        self.inner.epoch()
    }
    fn append<'a>(
        &'a self,
        topics: &'a [sse_engine::Text],
        event: &'a bytes::Bytes,
    ) -> sse_engine::hub::StoreFuture<'a, u64> {
        self.inner.append(topics, event)
    }
    fn replay<'a>(
        &'a self,
        topic: &'a sse_engine::Text,
        after: u64,
        before: u64,
        limit: usize,
    ) -> sse_engine::hub::StoreFuture<'a, Option<Vec<sse_engine::hub::StoredEvent>>> {
        self.inner.replay(topic, after, before, limit)
    }
    fn head(&self) -> u64 {
        self.inner.head()
    }
    fn head_now(&self) -> sse_engine::hub::StoreFuture<'_, u64> {
        self.inner.head_now()
    }
    fn feed(&self) -> Option<sse_engine::hub::Feed> {
        let feed = self.inner.feed()?;
        let open = self.open.clone();
        Some(Box::pin(futures_util::stream::unfold(
            (feed, open),
            |(mut feed, mut open)| async move {
                let item = feed.next().await?;
                let _ = open.wait_for(|open| *open).await;
                Some((item, (feed, open)))
            },
        )))
    }
    fn follow(&self, topic: &sse_engine::Text, after: u64) -> u64 {
        self.inner.follow(topic, after)
    }
}

/// The reader has reported `t1` and `u1`, the hub has not applied them yet,
/// and a subscription to `["u", "t"]` creates `t` now. `t` must start where
/// the reader's reports end, not at the hub's older head, so that `t1` is
/// replayed instead of passed by the horizon.
#[tokio::test(flavor = "current_thread")]
async fn a_topic_followed_while_the_hub_is_behind_its_reader_loses_nothing() {
    let Some(nats) = NatsServer::start("gated late follow") else {
        return;
    };
    let (gate, open) = tokio::sync::watch::channel(true);
    let inner = nats.builder("GATED").connect().await.unwrap();
    let a = Hub::builder().store(Gated { inner, open }).build();
    let b = nats.hub("GATED").await;
    let _keep_u = a.subscribe(&["u"], None).unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    gate.send_replace(false);
    let t1 = b.publish("t", Event::new().data("t1")).await.unwrap();
    let u1 = b.publish("u", Event::new().data("u1")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    let mut both = a.subscribe(&["u", "t"], None).unwrap();
    let cursor = both.cursor();
    assert!(
        cursor.seq() < t1.seq(),
        "the subscription starts before t1 and u1"
    );
    gate.send_replace(true);
    let mut got = Vec::new();
    while let Ok(Some(event)) = tokio::time::timeout(Duration::from_secs(1), both.next()).await {
        got.push(data_of(&event));
    }
    assert_eq!(got, ["t1", "u1"], "cursor {cursor}, t1 {t1}, u1 {u1}");
}

//! Wake-ups of fed hubs and memory of replays, with scripted stores.
#![allow(missing_docs)]

mod scripted;

use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use bytes::Bytes;
use futures_core::Stream;
use futures_util::StreamExt;
use scripted::{Counting, Keeping, let_the_feed_task_run, scripted_hub};
use sse_engine::hub::{FedEvent, FeedItem, Hub, LogLimits, Position};
use sse_engine::{Event, LastEventId, Text};

/// A loss wakes a caught-up subscriber without a publish: its next poll must
/// read again, not answer from its idle fast path (which would leave it
/// registered nowhere, never woken for the events that follow).
#[tokio::test(flavor = "current_thread")]
async fn a_subscriber_woken_by_a_loss_reads_again_and_is_woken_for_what_follows() {
    let (sender, hub) = scripted_hub();
    let subscription = hub.subscribe(&["t"], None).unwrap();
    let mut subscription = pin!(subscription);
    let count = Arc::new(Counting::default());
    let waker = Waker::from(count.clone());
    let mut cx = Context::from_waker(&waker);
    assert!(subscription.as_mut().poll_next(&mut cx).is_pending());

    sender
        .send(FeedItem::Lost {
            topic: Text::from_static("t"),
            through: 5,
        })
        .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(count.count(), 1, "woken by the loss");
    // The woken task reads again (not the idle fast path): it is behind the
    // lost events, so it is told of a gap, then waits.
    let Poll::Ready(Some(gap)) = subscription.as_mut().poll_next(&mut cx) else {
        panic!("a gap signal after the loss");
    };
    assert!(gap.as_bytes().starts_with(b"event: gap\n"), "{gap:?}");
    assert!(subscription.as_mut().poll_next(&mut cx).is_pending());

    sender
        .send(FeedItem::Events {
            events: vec![FedEvent {
                seq: 6,
                topic: Text::from_static("t"),
                event: Bytes::from_static(b"data: after\n\n"),
            }],
            through: 6,
        })
        .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(count.count(), 2, "woken for the new event");
    let Poll::Ready(Some(after)) = subscription.as_mut().poll_next(&mut cx) else {
        panic!("the new event is readable");
    };
    assert!(after.as_bytes().ends_with(b"data: after\n\n"));
}

/// Replay runs in rounds of at most one log's worth per topic, and each
/// round's events are delivered before the next is asked for, so that a
/// subscriber never holds more than one round.
#[tokio::test(flavor = "current_thread")]
async fn replay_rounds_are_delivered_one_at_a_time() {
    let store = Arc::new(Keeping::default());
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(2))
        .store(store.clone())
        .build();
    let mut first = None;
    for n in 0..100 {
        let position = hub
            .publish("t", Event::new().data(n.to_string()))
            .await
            .unwrap();
        first.get_or_insert(position);
    }
    let cursor: Position = first.unwrap();
    let id = LastEventId::parse(cursor.to_string().as_bytes()).unwrap();
    let mut subscription = hub.subscribe(&["t"], id).unwrap();
    let event = subscription.next().await.unwrap();
    assert!(event.as_bytes().ends_with(b"data: 1\n\n"));
    assert!(
        store.replays() <= 2,
        "{} replay rounds (each of 2 events) ran before the first delivery",
        store.replays()
    );
}

//! A subscriber is woken once per wake-up: a client that stopped reading
//! (its stream is not polled) costs the publisher nothing after the first
//! publish, and a subscriber that reads on is woken again by the next.
#![allow(missing_docs)]

mod scripted;

use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use futures_util::Stream;
use scripted::Counting;
use sse_engine::Event;
use sse_engine::hub::{Hub, Subscription};

fn poll(subscription: &mut Subscription, waker: &Waker) -> Poll<Option<sse_engine::EncodedEvent>> {
    std::pin::Pin::new(subscription).poll_next(&mut Context::from_waker(waker))
}

/// Reads until the subscription has nothing more; returns how many events.
fn drain(subscription: &mut Subscription, waker: &Waker) -> usize {
    let mut read = 0;
    while let Poll::Ready(Some(_)) = poll(subscription, waker) {
        read += 1;
    }
    read
}

async fn publish(hub: &Hub, topics: &[&str], count: usize) {
    for n in 0..count {
        let event = Event::new().data(n.to_string());
        hub.publish_to(topics, event).await.unwrap();
    }
}

#[tokio::test]
async fn a_subscriber_not_polled_since_its_wakeup_is_not_woken_again() {
    let hub = Hub::new();
    let counting = Arc::new(Counting::default());
    let waker = Waker::from(counting.clone());
    let mut subscription = hub.subscribe(&["news"], None).unwrap();
    assert!(poll(&mut subscription, &waker).is_pending());

    publish(&hub, &["news"], 100).await;
    assert_eq!(counting.count(), 1, "woken by the first publish only");

    // Polled: it reads everything, then the next publish wakes it again.
    assert_eq!(drain(&mut subscription, &waker), 100);
    publish(&hub, &["news"], 3).await;
    assert_eq!(counting.count(), 2);

    // A poll that returns an event (the client reads one frame, then
    // stalls) takes the wake-up too: the next publish wakes it once more.
    assert!(poll(&mut subscription, &waker).is_ready());
    publish(&hub, &["news"], 5).await;
    assert_eq!(counting.count(), 3);
    assert_eq!(drain(&mut subscription, &waker), 7, "nothing was lost");
}

#[tokio::test]
async fn a_subscriber_of_several_topics_is_woken_once_across_them() {
    let hub = Hub::new();
    let counting = Arc::new(Counting::default());
    let waker = Waker::from(counting.clone());
    let mut subscription = hub.subscribe(&["a", "b"], None).unwrap();
    assert!(poll(&mut subscription, &waker).is_pending());
    publish(&hub, &["a"], 2).await;
    publish(&hub, &["b"], 2).await;
    assert_eq!(counting.count(), 1);
    assert_eq!(drain(&mut subscription, &waker), 4);
    publish(&hub, &["b"], 1).await;
    assert_eq!(counting.count(), 2);
}

#[tokio::test]
async fn closing_the_hub_still_wakes_a_subscriber_that_was_polled() {
    let hub = Hub::new();
    let counting = Arc::new(Counting::default());
    let waker = Waker::from(counting.clone());
    let mut subscription = hub.subscribe(&["news"], None).unwrap();
    assert!(poll(&mut subscription, &waker).is_pending());
    publish(&hub, &["news"], 1).await;
    assert_eq!(drain(&mut subscription, &waker), 1);
    hub.close(Some(Event::new().event("bye").data("")));
    assert_eq!(counting.count(), 2, "the close woke it");
    let rest: Vec<_> = std::iter::from_fn(|| match poll(&mut subscription, &waker) {
        Poll::Ready(Some(event)) => Some(event),
        _ => None,
    })
    .collect();
    assert_eq!(rest.len(), 1, "the final event, then the end");
    assert!(matches!(poll(&mut subscription, &waker), Poll::Ready(None)));
}

//! `Hub::end_topic`: a topic closed for good. Its subscribers read what they
//! have not, then their streams end; a client that comes back is refused
//! with `204 No Content` (what stops an `EventSource`), a publisher with
//! `410 Gone`; other topics go on.
#![allow(missing_docs)]

use futures_util::StreamExt;
use sse_engine::Event;
use sse_engine::hub::{Hub, PublishError, Refusal, SubscribeError, Subscription, TopicError};

/// The next item, or a failure (not a hang) when none comes.
async fn next(subscription: &mut Subscription) -> Option<sse_engine::EncodedEvent> {
    tokio::time::timeout(std::time::Duration::from_secs(10), subscription.next())
        .await
        .expect("the subscription answered")
}

#[tokio::test]
async fn subscribers_read_what_is_left_then_end_and_the_name_is_refused() {
    let hub = Hub::new();
    let mut live = hub.subscribe(&["auction"], None).unwrap();
    let mut other = hub.subscribe(&["news"], None).unwrap();
    hub.publish("auction", Event::new().data("last bid"))
        .await
        .unwrap();
    hub.end_topic("auction");

    let left = next(&mut live)
        .await
        .expect("the event published before the end");
    assert!(String::from_utf8_lossy(left.as_bytes()).contains("last bid"));
    assert!(next(&mut live).await.is_none(), "then the stream ends");

    let refused = hub.subscribe(&["auction"], None).unwrap_err();
    assert_eq!(
        refused,
        SubscribeError::InvalidTopic(TopicError::Ended("auction".into()))
    );
    assert_eq!(refused.status(), http::StatusCode::NO_CONTENT);
    assert_eq!(refused.retry_after(), None);
    let response = Refusal::from(refused).into_response();
    assert_eq!(response.status(), 204);
    assert!(response.body().is_empty() && response.headers().is_empty());

    let failed = hub
        .publish("auction", Event::new().data("too late"))
        .await
        .unwrap_err();
    assert!(matches!(
        failed,
        PublishError::InvalidTopic(TopicError::Ended(_))
    ));
    assert_eq!(failed.status(), http::StatusCode::GONE);

    // A subscription that names it among others is refused too.
    assert!(hub.subscribe(&["news", "auction"], None).is_err());
    hub.publish("news", Event::new().data("on")).await.unwrap();
    assert!(next(&mut other).await.is_some(), "other topics go on");
}

#[tokio::test]
async fn a_topic_can_be_ended_before_it_exists_and_close_topic_does_not_end_it() {
    let hub = Hub::new();
    hub.end_topic("never");
    assert!(hub.subscribe(&["never"], None).is_err());

    let _first = hub.subscribe(&["reused"], None).unwrap();
    hub.close_topic("reused");
    assert!(
        hub.subscribe(&["reused"], None).is_ok(),
        "a closed topic's name is used again: only an ended one is refused"
    );
}

#[tokio::test]
async fn the_oldest_ended_names_are_forgotten_past_the_topic_limit() {
    let hub = Hub::builder().max_topics(2).build();
    for name in ["a", "b", "c"] {
        hub.end_topic(name);
    }
    assert!(hub.subscribe(&["a"], None).is_ok(), "forgotten");
    assert!(hub.subscribe(&["b"], None).is_err());
    assert!(hub.subscribe(&["c"], None).is_err());
}

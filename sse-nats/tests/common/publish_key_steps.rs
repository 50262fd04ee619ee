//! Steps of the publish-key tests (issue 16) that take hubs built on any
//! shared store, so that the sse-redis and sse-nats tests run the same
//! logic: included by `#[path]` from both crates' `publish_key*.rs`, next
//! to their own `common` module, whose `next_n` and `quiet` (the same in
//! both) it uses. What only one store has (paused servers, Redis keys,
//! JetStream headers) stays in that crate's tests.
#![allow(dead_code)]

use sse_engine::hub::{Hub, Position, PublishKey, Published, Subscription};
use sse_engine::{Event, LastEventId};

use crate::common::{next_n, quiet};

pub(crate) fn key(text: &str) -> PublishKey {
    PublishKey::try_from(text).unwrap()
}

/// Two processes (`one`, `other`) subscribed to topic `t`, and a first
/// publish of `hello` under the key `msg-1` on `one`, which is no
/// duplicate: the head before it, `one`'s and `other`'s subscriptions, and
/// its answer.
pub(crate) async fn a_first_keyed_publish(
    one: &Hub,
    other: &Hub,
) -> (Position, Subscription, Subscription, Published) {
    let before = one.head();
    let live = one.subscribe(&["t"], None).unwrap();
    let live_other = other.subscribe(&["t"], None).unwrap();
    let first = one
        .publish_keyed("t", &key("msg-1"), Event::new().data("hello"))
        .await
        .unwrap();
    assert!(!first.is_duplicate());
    (before, live, live_other, first)
}

/// `key` sent again to topic `t` from each of `hubs`, in turn: each is
/// answered as a duplicate, at the position of `first`.
pub(crate) async fn retries_are_duplicates_of(
    first: &Published,
    hubs: &[&Hub],
    key: &PublishKey,
    data: &str,
) {
    for hub in hubs {
        let retried = hub
            .publish_keyed("t", key, Event::new().data(data.to_owned()))
            .await
            .unwrap();
        assert!(retried.is_duplicate());
        assert_eq!(retried.position(), first.position());
    }
}

/// The key `race-{round}` sent at once to topic `t` from two processes
/// (`one`, `other`): both are answered with one position, one of them as
/// the duplicate; the answer `one` had.
pub(crate) async fn the_same_key_at_once(one: &Hub, other: &Hub, round: u64) -> Published {
    let key = key(&format!("race-{round}"));
    let event = || Event::new().data(format!("round {round}"));
    let (a, b) = tokio::join!(
        one.publish_keyed("t", &key, event()),
        other.publish_keyed("t", &key, event())
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.position(), b.position(), "round {round}");
    assert!(
        a.is_duplicate() != b.is_duplicate(),
        "one stored it, the other was told: {a:?} {b:?}"
    );
    a
}

/// The event of [`the_same_key_at_once`]'s round arrives at `live`, once
/// so far, with the position it was answered with.
pub(crate) async fn the_round_arrives(live: &mut Subscription, round: u64, published: &Published) {
    let seen = next_n(live, 1).await;
    assert_eq!(seen[0].data(), format!("round {round}"));
    assert_eq!(seen[0].last_event_id(), published.position().to_string());
}

/// A duplicate's position, answered by `other` while its feed may not have
/// the event yet, is a cursor its client can resume from at once: 20 rounds
/// of a keyed publish on `one`, retried on `other`, then a resume on
/// `other` from the answer, which must get the next event.
pub(crate) async fn a_duplicates_id_resumes_at_once(one: &Hub, other: &Hub) {
    for round in 0..20 {
        let key = key(&format!("r-{round}"));
        let first = one
            .publish_keyed("t", &key, Event::new().data("first"))
            .await
            .unwrap();
        // The retry lands on the other process, whose feed may not have
        // the event yet; its client resumes from the answer at once.
        let retried = other
            .publish_keyed("t", &key, Event::new().data("first"))
            .await
            .unwrap();
        assert!(retried.is_duplicate());
        assert_eq!(retried.position(), first.position());
        let cursor = LastEventId::parse(retried.position().to_string().as_bytes()).unwrap();
        let mut resumed = other.subscribe(&["t"], cursor).unwrap();
        one.publish("t", Event::new().data(format!("next {round}")))
            .await
            .unwrap();
        let got = next_n(&mut resumed, 1).await;
        assert_eq!(got[0].data(), format!("next {round}"), "round {round}");
        quiet(&mut resumed).await;
    }
}

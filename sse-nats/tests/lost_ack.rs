//! A publish whose acknowledgement does not come in time: the store sends
//! it again with the same `Nats-Msg-Id`, JetStream stores it once, and a
//! publish that still has no acknowledgement says that its outcome is
//! unknown instead of claiming that nothing was stored.
#![allow(clippy::print_stderr, missing_docs)]

mod common;

use std::time::Duration;

use sse_engine::Event;

use common::{NatsServer, data, hub_with, ids, next_n, publish, quiet};

/// The server stalls (SIGSTOP) for longer than one attempt's timeout but
/// less than all of them: the first attempt's acknowledgement is lost, the
/// second is told "duplicate" with the first's sequence number.
#[tokio::test]
async fn a_publish_sent_again_after_a_lost_acknowledgement_is_stored_once() {
    let Some(nats) = NatsServer::start("lost acknowledgement") else {
        return;
    };
    let builder = nats
        .builder("LOSTACK")
        .publish_timeout(Duration::from_millis(400), 4);
    let hub = hub_with(builder).await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    let before = publish(&hub, "t", "before").await;
    assert_eq!(data(&next_n(&mut live, 1).await), ["before"]);

    nats.signal("STOP");
    let publishing = {
        let hub = hub.clone();
        tokio::spawn(async move { hub.publish("t", Event::new().data("stalled")).await })
    };
    tokio::time::sleep(Duration::from_millis(900)).await;
    nats.signal("CONT");
    let stalled = publishing
        .await
        .unwrap()
        .expect("acknowledged on a later attempt");
    assert_eq!(
        stalled.seq(),
        before.seq() + 1,
        "stored once, numbered once"
    );

    let after = publish(&hub, "t", "after").await;
    assert_eq!(
        after.seq(),
        stalled.seq() + 1,
        "no second copy took a number"
    );
    let seen = next_n(&mut live, 2).await;
    assert_eq!(data(&seen), ["stalled", "after"]);
    assert_eq!(ids(&seen), [stalled.to_string(), after.to_string()]);
    quiet(&mut live).await;
}

/// The server stalls for longer than every attempt: the publish fails, says
/// its outcome is unknown, and when the server goes on the event is stored
/// once, however many attempts were sent.
#[tokio::test]
async fn a_publish_never_acknowledged_says_it_may_be_stored_and_is_stored_at_most_once() {
    let Some(nats) = NatsServer::start("never acknowledged") else {
        return;
    };
    let builder = nats
        .builder("NOACK")
        .publish_timeout(Duration::from_millis(200), 3);
    let hub = hub_with(builder).await;
    let mut live = hub.subscribe(&["t"], None).unwrap();
    let before = publish(&hub, "t", "before").await;
    assert_eq!(data(&next_n(&mut live, 1).await), ["before"]);

    nats.signal("STOP");
    let refused = hub.publish("t", Event::new().data("unknown")).await;
    nats.signal("CONT");
    let error = refused.expect_err("no acknowledgement, no success");
    assert!(error.to_string().contains("may still be stored"), "{error}");
    let after = publish(&hub, "t", "after").await;
    let seen = next_n(&mut live, 2).await;
    assert_eq!(
        data(&seen),
        ["unknown", "after"],
        "the three attempts stored once"
    );
    assert_eq!(
        seen[0].last_event_id(),
        format!("{:012x}-{}", before.epoch().bits(), before.seq() + 1)
    );
    assert_eq!(after.seq(), before.seq() + 2);
    quiet(&mut live).await;
}

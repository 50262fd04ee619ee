//! Hubs in the same process standing in for server instances, on one real
//! `nats-server`: ids, order and resume are shared, and what the stream no
//! longer holds is a gap signal.

mod common;

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sse_engine::Event;
use sse_engine::hub::{Hub, Position};

use common::{
    NatsServer, consumer_names, cursor, data, hub_with, ids, next_n, publish, quiet,
    until_consumers,
};

#[tokio::test]
async fn an_event_published_on_one_instance_reaches_the_other() {
    let Some(nats) = NatsServer::start("publish on one, receive on another") else {
        return;
    };
    let a = nats.hub("ACROSS").await;
    let b = nats.hub("ACROSS").await;
    assert_eq!(a.epoch(), b.epoch(), "instances share the stream's epoch");
    let mut on_b = b.subscribe(&["chat"], None).unwrap();
    let sent = publish(&a, "chat", "hello").await;
    let seen = next_n(&mut on_b, 1).await;
    assert_eq!(data(&seen), ["hello"]);
    assert_eq!(ids(&seen), [sent.to_string()]);
    quiet(&mut on_b).await;
}

#[tokio::test]
async fn a_client_resumes_on_another_instance_with_exactly_what_it_missed() {
    let Some(nats) = NatsServer::start("resume on another instance") else {
        return;
    };
    let a = nats.hub("RESUME").await;
    let b = nats.hub("RESUME").await;

    let mut on_a = a.subscribe(&["chat"], None).unwrap();
    let first = publish(&a, "chat", "one").await;
    let seen = next_n(&mut on_a, 1).await;
    assert_eq!(ids(&seen), [first.to_string()]);
    drop(on_a);

    let mut later = Vec::new();
    later.push(publish(&b, "chat", "two").await);
    later.push(publish(&a, "chat", "three").await);
    later.push(publish(&b, "chat", "four").await);

    let mut on_b = b.subscribe(&["chat"], cursor(&first)).unwrap();
    let resumed = next_n(&mut on_b, 3).await;
    assert_eq!(data(&resumed), ["two", "three", "four"]);
    assert_eq!(
        ids(&resumed),
        later.iter().map(ToString::to_string).collect::<Vec<_>>()
    );
    quiet(&mut on_b).await;
    assert_eq!(b.stats().gaps, 0);
}

#[tokio::test]
async fn a_cursor_older_than_an_instance_is_replayed_from_the_stream() {
    let Some(nats) = NatsServer::start("replay from the stream") else {
        return;
    };
    let a = nats.hub("REPLAY").await;
    let mut positions = Vec::new();
    for n in 1..=6 {
        positions.push(publish(&a, "news", &n.to_string()).await);
        // Other topics, and events in several topics, between them.
        publish(&a, "other", "x").await;
        if n == 4 {
            positions.push(
                a.publish_to(&["sports", "news"], Event::new().data("both"))
                    .await
                    .unwrap(),
            );
        }
    }
    // An instance started after all of them: its log is empty, the stream
    // has them.
    let late = nats.hub("REPLAY").await;
    let mut resumed = late.subscribe(&["news"], cursor(&positions[1])).unwrap();
    let replayed = next_n(&mut resumed, 5).await;
    assert_eq!(data(&replayed), ["3", "4", "both", "5", "6"]);
    assert_eq!(
        ids(&replayed),
        positions[2..]
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
    );
    publish(&a, "news", "7").await;
    assert_eq!(data(&next_n(&mut resumed, 1).await), ["7"]);
    quiet(&mut resumed).await;
    assert_eq!(late.stats().gaps, 0);
}

/// A replay's consumer: any but the hubs' readers' (`sse-feed-*`).
fn is_replays(name: &str) -> bool {
    !name.starts_with("sse-feed-")
}

#[tokio::test]
async fn a_replay_given_up_halfway_leaves_no_consumer() {
    let Some(nats) = NatsServer::start("a replay given up halfway") else {
        return;
    };
    let a = nats.hub("LEFT").await;
    let first = publish(&a, "t", "first").await;
    let text = "x".repeat(4_000);
    for _ in 0..600 {
        publish(&a, "t", &text).await;
        publish(&a, "u", "noise").await;
    }
    // Fetches cut at 16 KiB: the replay's scans take many requests.
    let late = hub_with(nats.builder("LEFT").fetch_bytes(16 << 10)).await;
    let client = async_nats::connect(nats.url()).await.expect("connects");
    let stream = async_nats::jetstream::new(client)
        .get_stream("LEFT")
        .await
        .expect("the stream");
    let mut resumed = late.subscribe(&["t"], cursor(&first)).unwrap();
    // The subscription is polled (its replay runs) a moment at a time, and
    // between moments, while the replay waits, the stream's consumers are
    // listed: once a replay's consumer is there, the client goes.
    let deadline = Instant::now() + common::WAIT;
    loop {
        tokio::select! {
            event = resumed.next() => assert!(event.is_some(), "the subscription ended"),
            () = tokio::time::sleep(Duration::from_millis(2)) => {}
        }
        if consumer_names(&stream)
            .await
            .iter()
            .any(|name| is_replays(name))
        {
            break;
        }
        assert!(Instant::now() < deadline, "no replay's consumer was seen");
    }
    drop(resumed);
    // Deleted at once, not after the server's 30 s of inactivity.
    until_consumers(
        &stream,
        Duration::from_secs(5),
        "the replay's consumer is still there after its client went",
        |names| !names.iter().any(|name| is_replays(name)),
    )
    .await;
    // The hub goes on: a new client resumes from the same place.
    let mut again = late.subscribe(&["t"], cursor(&first)).unwrap();
    assert_eq!(next_n(&mut again, 600).await.len(), 600);
}

/// A replay that cannot make a consumer (here the stream's consumer limit,
/// an operator's, is reached; in a cluster, JetStream placed it on a node
/// that is down) reads from the stream's leader instead: the same events,
/// in the same order, multi-topic ones included, in rounds cut by bytes.
#[tokio::test]
async fn a_replay_without_a_consumer_comes_whole_and_in_order() {
    let Some(nats) = NatsServer::start("a replay without a consumer") else {
        return;
    };
    // The stream as the store makes it, made again with room for two
    // consumers: the two hubs' readers (JetStream cannot change the limit
    // of a stream).
    let config = {
        let made = nats.hub("NOCONS").await;
        drop(made);
        let client = async_nats::connect(nats.url()).await.expect("connects");
        let jetstream = async_nats::jetstream::new(client);
        let mut stream = jetstream.get_stream("NOCONS").await.expect("the stream");
        let config = stream.info().await.expect("its info").config.clone();
        jetstream.delete_stream("NOCONS").await.expect("deleted");
        let limited = async_nats::jetstream::stream::Config {
            max_consumers: 2,
            ..config
        };
        jetstream
            .create_stream(limited.clone())
            .await
            .expect("made again");
        limited
    };
    assert_eq!(config.max_consumers, 2);
    let a = nats.hub("NOCONS").await;
    let first = publish(&a, "t", "first").await;
    let mut expected = Vec::new();
    for n in 0..300 {
        let text = format!("{n}:{}", "x".repeat(4_000));
        let position = if n % 50 == 0 {
            a.publish_to(&["u", "t"], Event::new().data(text.clone()))
                .await
                .unwrap()
        } else {
            publish(&a, "t", &text).await
        };
        publish(&a, "u", "noise").await;
        if n % 25 == 0 {
            // Multi-topic events of other topics, which the replay passes
            // over.
            a.publish_to(&["u", "v"], Event::new().data("not t"))
                .await
                .unwrap();
        }
        expected.push((position.to_string(), text));
    }
    let late = hub_with(nats.builder("NOCONS").replay_bytes(256 << 10)).await;
    // Both readers have their consumer: no room for a replay's.
    let client = async_nats::connect(nats.url()).await.expect("connects");
    let stream = async_nats::jetstream::new(client)
        .get_stream("NOCONS")
        .await
        .expect("the stream");
    until_consumers(&stream, common::WAIT, "the readers' consumers", |names| {
        names.len() == 2
    })
    .await;
    assert!(
        stream
            .create_consumer(async_nats::jetstream::consumer::pull::Config::default())
            .await
            .is_err(),
        "the limit is reached"
    );

    let mut resumed = late.subscribe(&["t"], cursor(&first)).unwrap();
    let replayed = next_n(&mut resumed, 300).await;
    let got: Vec<(String, String)> = replayed
        .iter()
        .map(|e| (e.last_event_id().to_owned(), e.data().to_owned()))
        .collect();
    assert!(
        got == expected,
        "the replay differs from what was published"
    );
    publish(&a, "t", "live").await;
    assert_eq!(data(&next_n(&mut resumed, 1).await), ["live"]);
    quiet(&mut resumed).await;
    assert_eq!(late.stats().gaps, 0);
}

#[tokio::test]
async fn a_replay_longer_than_a_round_comes_whole_and_in_order() {
    let Some(nats) = NatsServer::start("replay in rounds") else {
        return;
    };
    let a = nats.hub("ROUNDS").await;
    let first = publish(&a, "t", "first").await;
    let mut expected = Vec::new();
    for n in 0..700 {
        // Large events, so that fetches are cut by bytes too.
        let text = format!("{n}:{}", "x".repeat(4_000));
        let position = if n % 50 == 0 {
            a.publish_to(&["t", "u"], Event::new().data(text.clone()))
                .await
                .unwrap()
        } else {
            publish(&a, "t", &text).await
        };
        publish(&a, "u", "noise").await;
        expected.push((position.to_string(), text));
    }
    let late = hub_with(nats.builder("ROUNDS").fetch_bytes(16 << 10)).await;
    let mut resumed = late.subscribe(&["t"], cursor(&first)).unwrap();
    let replayed = next_n(&mut resumed, 700).await;
    let got: Vec<(String, String)> = replayed
        .iter()
        .map(|e| (e.last_event_id().to_owned(), e.data().to_owned()))
        .collect();
    assert_eq!(got.len(), expected.len());
    assert!(
        got == expected,
        "the replay differs from what was published"
    );
    quiet(&mut resumed).await;
    assert_eq!(late.stats().gaps, 0);
}

#[tokio::test]
async fn every_instance_delivers_one_order_of_ids_across_topics() {
    let Some(nats) = NatsServer::start("one order") else {
        return;
    };
    let a = nats.hub("ORDER").await;
    let b = nats.hub("ORDER").await;
    let mut on_a = a.subscribe(&["x", "y"], None).unwrap();
    let mut on_b = b.subscribe(&["x", "y"], None).unwrap();
    let mut published = Vec::new();
    for n in 0..40 {
        let position = match n % 5 {
            0 => publish(&a, "x", &n.to_string()).await,
            1 => publish(&b, "y", &n.to_string()).await,
            2 => publish(&b, "x", &n.to_string()).await,
            3 => publish(&a, "y", &n.to_string()).await,
            // In both topics: arrives once.
            _ => a
                .publish_to(&["x", "y"], Event::new().data(n.to_string()))
                .await
                .unwrap(),
        };
        published.push(position.to_string());
    }
    let from_a = ids(&next_n(&mut on_a, 40).await);
    let from_b = ids(&next_n(&mut on_b, 40).await);
    assert_eq!(from_a, published);
    assert_eq!(from_b, published);
    quiet(&mut on_a).await;
    quiet(&mut on_b).await;

    // And a late multi-topic resume on either instance continues the order.
    let mut resumed = b.subscribe(&["x", "y"], cursor_of(&published[9])).unwrap();
    assert_eq!(ids(&next_n(&mut resumed, 30).await), published[10..]);
    quiet(&mut resumed).await;
}

fn cursor_of(id: &str) -> Option<sse_engine::LastEventId> {
    cursor(&Position::parse(id).expect("an id of ours"))
}

#[tokio::test]
async fn topics_that_are_not_subject_tokens_work() {
    let Some(nats) = NatsServer::start("odd topic names") else {
        return;
    };
    let a = nats.hub("NAMES").await;
    let b = nats.hub("NAMES").await;
    let names = ["a.b", "room:1 > *", "_5F", "é", "a_2Eb"];
    let mut subscriptions: Vec<_> = names
        .iter()
        .map(|name| b.subscribe(&[name], None).unwrap())
        .collect();
    for name in names {
        publish(&a, name, name).await;
    }
    for (name, subscription) in names.iter().zip(&mut subscriptions) {
        assert_eq!(data(&next_n(subscription, 1).await), [*name]);
        quiet(subscription).await;
    }
}

/// A replay's consumer is asked for with its filter in the request's body:
/// named, async-nats would put the filter into the request's subject, and
/// this one (a long prefix and the longest topic, 768 characters encoded)
/// would pass the server's 4 KiB control line, and the server would close
/// the connection instead of answering.
#[tokio::test]
async fn a_replay_of_the_longest_topic_under_a_long_prefix_works() {
    let Some(nats) = NatsServer::start("the longest topic under a long prefix") else {
        return;
    };
    let prefix = "p".repeat(3_200);
    let topic = "é".repeat(128);
    let a = hub_with(nats.builder("LONG").prefix(prefix.clone())).await;
    let first = publish(&a, &topic, "first").await;
    publish(&a, &topic, "second").await;
    let late = hub_with(nats.builder("LONG").prefix(prefix)).await;
    let mut resumed = late.subscribe(&[topic.as_str()], cursor(&first)).unwrap();
    assert_eq!(data(&next_n(&mut resumed, 1).await), ["second"]);
    quiet(&mut resumed).await;
    assert_eq!(late.stats().gaps, 0);
}

#[tokio::test]
async fn a_cursor_from_a_stream_created_again_is_foreign() {
    let Some(nats) = NatsServer::start("re-created stream") else {
        return;
    };
    let old = {
        let hub = nats.hub("AGAIN").await;
        publish(&hub, "t", "one").await;
        publish(&hub, "t", "two").await
    };
    nats.jetstream()
        .await
        .delete_stream("AGAIN")
        .await
        .expect("deleted");
    let hub = nats.hub("AGAIN").await;
    assert_ne!(hub.epoch(), old.epoch(), "a new stream, a new epoch");
    let mut watching = hub.subscribe(&["t"], None).unwrap();
    publish(&hub, "t", "new-1").await;
    publish(&hub, "t", "new-2").await;
    publish(&hub, "t", "new-3").await;
    // The hub has them (the subscription below starts after them).
    assert_eq!(
        data(&next_n(&mut watching, 3).await),
        ["new-1", "new-2", "new-3"]
    );
    // Sequence number 2 exists in the new stream too: it must not be read
    // as a position there.
    let mut subscription = hub.subscribe(&["t"], cursor(&old)).unwrap();
    let signal = next_n(&mut subscription, 1).await;
    assert_eq!(signal[0].event_type(), "gap", "{signal:?}");
    publish(&hub, "t", "live").await;
    assert_eq!(data(&next_n(&mut subscription, 1).await), ["live"]);
}

#[tokio::test]
async fn the_stream_purged_from_outside_is_a_gap() {
    let Some(nats) = NatsServer::start("purged stream") else {
        return;
    };
    let a = nats.hub("PURGED").await;
    let seen = publish(&a, "t", "seen").await;
    publish(&a, "t", "missed-1").await;
    publish(&a, "t", "missed-2").await;
    let stream = nats
        .jetstream()
        .await
        .get_stream("PURGED")
        .await
        .expect("the stream");
    stream.purge().await.expect("purged");
    let after = publish(&a, "t", "after").await;
    assert!(after.seq() > seen.seq(), "ids keep growing after a purge");

    let late = nats.hub("PURGED").await;
    let mut resumed = late.subscribe(&["t"], cursor(&seen)).unwrap();
    let first = next_n(&mut resumed, 1).await;
    assert_eq!(first[0].event_type(), "gap", "{first:?}");
    publish(&a, "t", "live").await;
    assert_eq!(data(&next_n(&mut resumed, 1).await), ["live"]);
}

#[tokio::test]
async fn a_message_deleted_from_the_middle_is_a_gap() {
    let Some(nats) = NatsServer::start("hole in the middle") else {
        return;
    };
    let a = nats.hub("HOLE").await;
    let seen = publish(&a, "t", "seen").await;
    let hole = publish(&a, "t", "deleted").await;
    publish(&a, "t", "kept").await;
    let stream = nats
        .jetstream()
        .await
        .get_stream("HOLE")
        .await
        .expect("the stream");
    assert!(stream.delete_message(hole.seq()).await.expect("deleted"));

    let late = nats.hub("HOLE").await;
    let mut resumed = late.subscribe(&["t"], cursor(&seen)).unwrap();
    let first = next_n(&mut resumed, 1).await;
    assert_eq!(first[0].event_type(), "gap", "{first:?}");
    // A cursor after the hole is exact.
    let mut exact = late.subscribe(&["t"], cursor(&hole)).unwrap();
    assert_eq!(data(&next_n(&mut exact, 1).await), ["kept"]);
    quiet(&mut exact).await;
}

#[tokio::test]
async fn events_past_the_stream_limits_are_a_gap() {
    let Some(nats) = NatsServer::start("stream limits") else {
        return;
    };
    let a = hub_with(nats.builder("LIMITS").max_messages(4)).await;
    let first = publish(&a, "t", "first").await;
    let mut last = first;
    for n in 0..10 {
        last = publish(&a, "t", &n.to_string()).await;
    }
    let late: Hub = hub_with(nats.builder("LIMITS").max_messages(4)).await;
    let mut trimmed = late.subscribe(&["t"], cursor(&first)).unwrap();
    let signal = next_n(&mut trimmed, 1).await;
    assert_eq!(signal[0].event_type(), "gap", "{signal:?}");
    let recent = Position::new(last.epoch(), last.seq() - 2);
    let mut kept = late.subscribe(&["t"], cursor(&recent)).unwrap();
    assert_eq!(data(&next_n(&mut kept, 2).await), ["8", "9"]);
    quiet(&mut kept).await;
}

#[tokio::test]
async fn a_store_that_cannot_connect_says_so() {
    let unused = common::free_port();
    let refused = sse_nats::NatsStore::builder([format!("nats://127.0.0.1:{unused}")])
        .connect()
        .await;
    assert!(refused.is_err());
    let bad_prefix = sse_nats::NatsStore::builder(["nats://127.0.0.1:4222"])
        .prefix("a.*")
        .connect()
        .await;
    assert!(bad_prefix.is_err());
}

#[tokio::test]
async fn max_age_drops_old_events() {
    let Some(nats) = NatsServer::start("max age") else {
        return;
    };
    let a = hub_with(nats.builder("AGE").max_age(Duration::from_millis(500))).await;
    let old = publish(&a, "t", "old").await;
    publish(&a, "t", "old-2").await;
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    let recent = publish(&a, "t", "new-1").await;
    publish(&a, "t", "new-2").await;
    let late = hub_with(nats.builder("AGE").max_age(Duration::from_millis(500))).await;
    let mut too_old = late.subscribe(&["t"], cursor(&old)).unwrap();
    assert_eq!(next_n(&mut too_old, 1).await[0].event_type(), "gap");
    let mut young = late.subscribe(&["t"], cursor(&recent)).unwrap();
    assert_eq!(data(&next_n(&mut young, 1).await), ["new-2"]);
    quiet(&mut young).await;
}

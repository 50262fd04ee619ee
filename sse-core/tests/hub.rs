//! The hub: publish, fan-out, exact resume, gaps, filters, lifecycle.

mod scripted;

use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::BodyExt;
use scripted::{decode, ready};
use sse_engine::decode::{DecodedEvent, Decoder};
use sse_engine::hub::{
    Epoch, Hub, LagPolicy, LogLimits, Position, PublishError, SubscribeError, TopicError,
};
use sse_engine::{EncodedEvent, Event, LastEventId};

fn cursor(id: &str) -> Option<LastEventId> {
    LastEventId::parse(id.as_bytes()).unwrap()
}

fn data(events: &[EncodedEvent]) -> Vec<String> {
    decode(events)
        .into_iter()
        .map(DecodedEvent::into_data)
        .collect()
}

async fn publish_n(hub: &Hub, topic: &str, range: std::ops::RangeInclusive<u32>) -> Vec<Position> {
    let mut positions = Vec::new();
    for n in range {
        positions.push(
            hub.publish(topic, Event::new().data(format!("{n}")))
                .await
                .unwrap(),
        );
    }
    positions
}

#[tokio::test]
async fn live_events_reach_every_subscriber_with_the_hub_id() {
    let hub = Hub::builder().epoch(Epoch::from_bits(0xbeef)).build();
    let mut a = hub.subscribe(&["chat"], None).unwrap();
    let mut b = hub.subscribe(&["chat"], None).unwrap();
    let position = hub
        .publish("chat", Event::new().event("msg").data("hi"))
        .await
        .unwrap();
    assert_eq!(position.to_string(), "00000000beef-1");
    let expected = "id: 00000000beef-1\nevent: msg\ndata: hi\n\n";
    assert_eq!(a.next().await.unwrap().as_bytes(), expected);
    assert_eq!(b.next().await.unwrap().as_bytes(), expected);
    let stats = hub.stats();
    assert_eq!(
        (stats.published, stats.delivered, stats.subscribers),
        (1, 2, 2)
    );
}

#[tokio::test]
async fn a_dataless_event_is_an_id_only_block_that_clients_record() {
    // Its id must not wait for a later event's blank line: a stream that
    // ends after it would otherwise resume from an older id.
    let hub = Hub::builder().epoch(Epoch::from_bits(0xbeef)).build();
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    hub.publish("t", Event::new().comment("typing"))
        .await
        .unwrap();
    hub.publish("t", Event::new().event("ignored"))
        .await
        .unwrap();
    let first = subscription.next().await.unwrap();
    assert_eq!(first.as_bytes(), "id: 00000000beef-1\n: typing\n\n");
    let second = subscription.next().await.unwrap();
    assert_eq!(second.as_bytes(), "id: 00000000beef-2\n\n");
    let mut decoder = Decoder::new();
    decoder.push(first.as_bytes()).unwrap();
    decoder.push(second.as_bytes()).unwrap();
    assert!(decoder.next_event().is_none());
    assert_eq!(decoder.last_event_id(), "00000000beef-2");
}

#[tokio::test]
async fn every_subscriber_shares_the_bytes_encoded_at_publish() {
    let hub = Hub::new();
    let mut a = hub.subscribe(&["t"], None).unwrap();
    let mut b = hub.subscribe(&["t"], None).unwrap();
    hub.publish("t", Event::new().data("x".repeat(1000)))
        .await
        .unwrap();
    let (a, b) = (a.next().await.unwrap(), b.next().await.unwrap());
    assert_eq!(a.as_bytes().as_ptr(), b.as_bytes().as_ptr());
}

#[tokio::test]
async fn no_cursor_means_live_only() {
    let hub = Hub::new();
    publish_n(&hub, "t", 1..=3).await;
    let mut late = hub.subscribe(&["t"], None).unwrap();
    assert!(ready(&mut late).is_empty());
    publish_n(&hub, "t", 4..=4).await;
    assert_eq!(data(&ready(&mut late)), ["4"]);
}

#[tokio::test]
async fn resume_is_exact_and_exclusive_then_live() {
    let hub = Hub::new();
    let positions = publish_n(&hub, "t", 1..=10).await;
    let mut resumed = hub
        .subscribe(&["t"], cursor(&positions[3].to_string()))
        .unwrap();
    assert_eq!(data(&ready(&mut resumed)), ["5", "6", "7", "8", "9", "10"]);
    publish_n(&hub, "t", 11..=11).await;
    assert_eq!(data(&ready(&mut resumed)), ["11"]);
    let stats = hub.stats();
    assert_eq!((stats.replayed, stats.delivered), (6, 7));
}

#[tokio::test]
async fn resuming_at_the_newest_event_replays_nothing() {
    let hub = Hub::new();
    let positions = publish_n(&hub, "t", 1..=3).await;
    let mut resumed = hub
        .subscribe(&["t"], cursor(&positions[2].to_string()))
        .unwrap();
    assert!(ready(&mut resumed).is_empty());
}

#[tokio::test]
async fn an_event_published_to_several_topics_arrives_once_in_order() {
    let hub = Hub::new();
    let mut both = hub.subscribe(&["a", "b"], None).unwrap();
    let mut only_b = hub.subscribe(&["b"], None).unwrap();
    hub.publish("a", Event::new().data("a1")).await.unwrap();
    hub.publish_to(&["a", "b"], Event::new().data("ab"))
        .await
        .unwrap();
    hub.publish("b", Event::new().data("b1")).await.unwrap();
    hub.publish("a", Event::new().data("a2")).await.unwrap();
    assert_eq!(data(&ready(&mut both)), ["a1", "ab", "b1", "a2"]);
    assert_eq!(data(&ready(&mut only_b)), ["ab", "b1"]);
}

#[tokio::test]
async fn a_multi_topic_cursor_resumes_both_topics() {
    let hub = Hub::new();
    hub.publish("a", Event::new().data("a1")).await.unwrap();
    let mark = hub.publish("b", Event::new().data("b1")).await.unwrap();
    hub.publish("a", Event::new().data("a2")).await.unwrap();
    hub.publish("b", Event::new().data("b2")).await.unwrap();
    let mut resumed = hub
        .subscribe(&["b", "a"], cursor(&mark.to_string()))
        .unwrap();
    assert_eq!(data(&ready(&mut resumed)), ["a2", "b2"]);
}

#[tokio::test]
async fn an_evicted_cursor_gets_a_gap_then_the_oldest_retained_event() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(3))
        .build();
    let positions = publish_n(&hub, "t", 1..=10).await;
    let requested = positions[1].to_string();
    let mut resumed = hub.subscribe(&["t"], cursor(&requested)).unwrap();
    let events = decode(&ready(&mut resumed));
    assert_eq!(events.len(), 4);
    assert_eq!(events[0].event_type(), "gap");
    assert_eq!(
        events[0].data(),
        format!(r#"{{"reason":"evicted","lastEventId":"{requested}"}}"#)
    );
    // The gap's id is the last evicted position: resuming after it is exact.
    assert_eq!(events[0].last_event_id(), positions[6].to_string());
    let rest: Vec<_> = events[1..].iter().map(DecodedEvent::data).collect();
    assert_eq!(rest, ["8", "9", "10"]);
    assert_eq!(hub.stats().gaps, 1);
}

#[tokio::test]
async fn foreign_unknown_and_malformed_cursors_get_a_gap_and_no_replay() {
    let hub = Hub::new();
    let mut newest = *publish_n(&hub, "t", 1..=5).await.last().unwrap();
    let foreign = Position::new(Epoch::from_bits(hub.epoch().bits() ^ 1), 2).to_string();
    let future = Position::new(hub.epoch(), 99).to_string();
    for (id, reason) in [
        (foreign.as_str(), "foreign"),
        (future.as_str(), "unknown"),
        ("garbage", "unknown"),
        ("0-0", "unknown"),
        (&"x".repeat(1024), "unknown"),
    ] {
        let mut subscription = hub.subscribe(&["t"], cursor(id)).unwrap();
        let events = decode(&ready(&mut subscription));
        assert_eq!(
            events.len(),
            1,
            "only the gap for {id:?}, never the whole log"
        );
        assert_eq!(events[0].event_type(), "gap");
        assert!(
            events[0]
                .data()
                .contains(&format!(r#""reason":"{reason}""#))
        );
        assert_eq!(
            events[0].last_event_id(),
            newest.to_string(),
            "resumes after the newest"
        );
        newest = publish_n(&hub, "t", 6..=6).await[0];
        assert_eq!(data(&ready(&mut subscription)), ["6"]);
    }
}

#[tokio::test]
async fn a_stalled_subscriber_costs_nothing_and_learns_of_its_lag() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(100).max_bytes(64 * 1024))
        .build();
    let mut stalled = hub.subscribe(&["t"], None).unwrap();
    let mut reader = hub.subscribe(&["t"], None).unwrap();
    for n in 0..10_000 {
        hub.publish("t", Event::new().data(format!("{n:0>200}")))
            .await
            .unwrap();
        if n % 100 == 0 {
            assert_eq!(ready(&mut reader).len(), if n == 0 { 1 } else { 100 });
        }
        let sse_engine::hub::TopicStats { events, bytes, .. } = hub.topic_stats("t").unwrap();
        assert!(events <= 100 && bytes <= 64 * 1024);
    }
    let events = decode(&ready(&mut stalled));
    assert_eq!(events[0].event_type(), "gap");
    assert!(events[0].data().contains(r#""reason":"lagged""#));
    assert_eq!(events.len(), 1 + 100);
    assert_eq!(events[1].data(), format!("{:0>200}", 9_900));
    assert_eq!(hub.stats().lagged, 1);
}

#[tokio::test]
async fn a_subscriber_that_stops_reading_keeps_at_most_eight_events_alive() {
    // Caught up, a subscriber reads the newest events without the topic's
    // lock, from a block of eight that it holds; when it stops reading it
    // keeps that block, and nothing after it, however much is published.
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(100))
        .build();
    let mut stopped = hub.subscribe(&["t"], None).unwrap();
    let mut reader = hub.subscribe(&["t"], None).unwrap();
    let mut delivered = Vec::new();
    for n in 1..=10_000 {
        hub.publish("t", Event::new().data(n.to_string()))
            .await
            .unwrap();
        let events = ready(&mut reader);
        if n <= 24 {
            delivered.extend(events.into_iter().map(|event| event.as_bytes().clone()));
        }
        if n == 2 {
            assert_eq!(data(&ready(&mut stopped)), ["1", "2"]);
        }
    }
    let held: Vec<bool> = delivered.iter().map(|bytes| !bytes.is_unique()).collect();
    assert_eq!(held.iter().filter(|&&held| held).count(), 8, "{held:?}");
    assert!(
        held[..8].iter().all(|&held| held),
        "its own block: {held:?}"
    );
    // It then learns of its lag like any other subscriber.
    let events = decode(&ready(&mut stopped));
    assert_eq!(events[0].event_type(), "gap");
    assert_eq!(events.len(), 1 + 100);
    drop(stopped);
    assert!(
        delivered.iter().all(Bytes::is_unique),
        "released when it leaves"
    );
}

#[tokio::test]
async fn a_subscriber_registers_its_waker_once_and_every_publish_wakes_it() {
    use std::pin::Pin;
    use std::sync::Arc;
    use std::task::{Context, Poll, Waker};

    use futures_util::Stream;

    let hub = Hub::new();
    let mut subscription = hub.subscribe(&["a", "b"], None).unwrap();
    let counter = Arc::new(scripted::Counting::default());
    let waker = Waker::from(counter.clone());
    let mut cx = Context::from_waker(&waker);
    let mut poll = || Pin::new(&mut subscription).poll_next(&mut cx);
    assert!(poll().is_pending());
    // This test's two handles, and one copy in each topic.
    assert_eq!(Arc::strong_count(&counter), 4);
    for n in 1..=50 {
        let topic = if n % 2 == 0 { "a" } else { "b" };
        hub.publish(topic, Event::new().data(n.to_string()))
            .await
            .unwrap();
        assert_eq!(counter.count(), n);
        let Poll::Ready(Some(event)) = poll() else {
            panic!("event {n} is readable once its publish has woken the subscriber");
        };
        assert_eq!(data(&[event]), [n.to_string()]);
        assert!(poll().is_pending());
        assert_eq!(Arc::strong_count(&counter), 4, "registered once, kept");
    }
    drop(subscription);
    assert_eq!(Arc::strong_count(&counter), 2, "released when it leaves");
}

#[tokio::test]
async fn the_close_policy_ends_a_lagging_stream() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(2))
        .lag_policy(LagPolicy::Close)
        .build();
    let mut slow = hub.subscribe(&["t"], None).unwrap();
    publish_n(&hub, "t", 1..=5).await;
    assert!(slow.next().await.is_none());
    assert_eq!(hub.stats().lagged, 1);
}

#[tokio::test]
async fn the_filter_applies_to_replay_and_live_and_may_panic() {
    let hub = Hub::new();
    let start = hub.publish("t", Event::new().data("0")).await.unwrap();
    publish_n(&hub, "t", 1..=4).await;
    let mut even = hub
        .subscribe(&["t"], cursor(&start.to_string()))
        .unwrap()
        .filter(|event| {
            event
                .data()
                .is_some_and(|d| d.parse::<u32>().unwrap() % 2 == 0)
        });
    let mut panicky = hub.subscribe(&["t"], None).unwrap().filter(|event| {
        if event.data() == Some("6") {
            panic!("bad filter")
        } else {
            true
        }
    });
    let mut unaffected = hub.subscribe(&["t"], None).unwrap();
    assert_eq!(data(&ready(&mut even)), ["2", "4"]);
    publish_n(&hub, "t", 5..=7).await;
    assert_eq!(data(&ready(&mut even)), ["6"]);
    assert_eq!(data(&ready(&mut panicky)), ["5", "7"]);
    assert_eq!(data(&ready(&mut unaffected)), ["5", "6", "7"]);
}

#[tokio::test]
async fn a_gap_handler_sends_a_snapshot_that_moves_the_cursor() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(1))
        .build();
    publish_n(&hub, "t", 1..=3).await;
    let mut subscription = hub
        .subscribe(&["t"], cursor("garbage"))
        .unwrap()
        .on_gap(|gap| {
            vec![
                Event::new()
                    .event("snapshot")
                    .data(format!("state ({})", gap.reason())),
            ]
        });
    let events = decode(&ready(&mut subscription));
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event_type(), "snapshot");
    assert_eq!(events[0].data(), "state (unknown)");
    assert!(events[0].last_event_id().ends_with("-3"));

    let mut panicking = hub
        .subscribe(&["t"], cursor("garbage"))
        .unwrap()
        .on_gap(|_| panic!("handler bug"));
    let events = decode(&ready(&mut panicking));
    assert_eq!(
        events[0].event_type(),
        "gap",
        "the default signal replaces a panicking handler"
    );
}

#[tokio::test]
async fn dropping_a_subscription_releases_it_at_once() {
    let hub = Hub::new();
    let subscriptions: Vec<_> = (0..50)
        .map(|_| hub.subscribe(&["a", "b"], None).unwrap())
        .collect();
    assert_eq!(hub.stats().subscribers, 50);
    assert_eq!(hub.topic_stats("a").unwrap().subscribers, 50);
    drop(subscriptions);
    assert_eq!(hub.stats().subscribers, 0);
    assert_eq!(hub.topic_stats("a").unwrap().subscribers, 0);
    assert_eq!(hub.topic_stats("b").unwrap().subscribers, 0);
}

#[tokio::test]
async fn dropping_the_body_releases_the_subscription() {
    let hub = Hub::new();
    let body = hub.subscribe(&["t"], None).unwrap().into_body();
    assert_eq!(hub.stats().subscribers, 1);
    drop(body);
    assert_eq!(hub.stats().subscribers, 0);
}

#[tokio::test]
async fn closing_the_hub_delivers_the_rest_then_a_final_event_then_ends() {
    let hub = Hub::new();
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    publish_n(&hub, "t", 1..=2).await;
    hub.close(Some(
        Event::new()
            .event("bye")
            .retry(Duration::from_secs(30))
            .data("restarting"),
    ));
    let events: Vec<_> = subscription.by_ref().collect().await;
    let decoded = decode(&events);
    assert_eq!(
        decoded.iter().map(DecodedEvent::data).collect::<Vec<_>>(),
        ["1", "2", "restarting"]
    );
    assert_eq!(decoded[2].event_type(), "bye");
    assert!(matches!(
        hub.publish("t", Event::new().data("late")).await,
        Err(PublishError::Closed)
    ));
    assert!(matches!(
        hub.subscribe(&["t"], None),
        Err(SubscribeError::Closed)
    ));
}

#[tokio::test(start_paused = true)]
async fn shutdown_waits_for_subscribers_within_the_grace_period() {
    let hub = Hub::new();
    let subscription = hub.subscribe(&["t"], None).unwrap();
    let reader = tokio::spawn(async move { subscription.collect::<Vec<_>>().await.len() });
    assert_eq!(hub.shutdown(None, Duration::from_secs(5)).await, 0);
    assert_eq!(reader.await.unwrap(), 0);

    let hub = Hub::new();
    let _held = hub.subscribe(&["t"], None).unwrap();
    let start = tokio::time::Instant::now();
    assert_eq!(hub.shutdown(None, Duration::from_secs(5)).await, 1);
    assert_eq!(start.elapsed(), Duration::from_secs(5));
}

#[tokio::test]
async fn closing_a_topic_ends_its_streams_only() {
    let hub = Hub::new();
    let mut closing = hub.subscribe(&["a"], None).unwrap();
    let mut other = hub.subscribe(&["b"], None).unwrap();
    publish_n(&hub, "a", 1..=1).await;
    hub.close_topic("a");
    assert_eq!(data(&closing.by_ref().collect::<Vec<_>>().await), ["1"]);
    publish_n(&hub, "b", 2..=2).await;
    assert_eq!(data(&ready(&mut other)), ["2"]);
    // The name can be used again.
    assert!(hub.publish("a", Event::new().data("new")).await.is_ok());
}

#[tokio::test]
async fn an_oversized_event_is_refused_and_takes_no_id() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_event_bytes(100))
        .build();
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    let error = hub
        .publish("t", Event::new().data("x".repeat(200)))
        .await
        .unwrap_err();
    assert!(matches!(error, PublishError::TooLarge { limit: 100, .. }));
    assert_eq!(
        error.to_string(),
        "event is 227 bytes encoded, more than the 100 allowed"
    );
    let position = hub.publish("t", Event::new().data("ok")).await.unwrap();
    assert_eq!(position.seq(), 1);
    assert_eq!(data(&ready(&mut subscription)), ["ok"]);
}

#[tokio::test]
async fn topic_names_are_checked_and_bounded() {
    let hub = Hub::builder().max_topics(2).build();
    assert!(matches!(
        hub.subscribe(&[], None),
        Err(SubscribeError::InvalidTopic(TopicError::NoTopic))
    ));
    assert!(matches!(
        hub.subscribe(&[""], None),
        Err(SubscribeError::InvalidTopic(TopicError::Empty))
    ));
    let long = "t".repeat(257);
    assert!(matches!(
        hub.subscribe(&[long.as_str()], None),
        Err(SubscribeError::InvalidTopic(TopicError::TooLong {
            len: 257
        }))
    ));
    let _both = hub.subscribe(&["one", "two"], None).unwrap();
    assert!(matches!(
        hub.publish("three", Event::new().data("x")).await,
        Err(PublishError::InvalidTopic(TopicError::TooMany { limit: 2 }))
    ));

    let strict = Hub::builder().create_topics(false).topic("known").build();
    assert!(strict.subscribe(&["known"], None).is_ok());
    assert!(matches!(
        strict.subscribe(&["unknown"], None),
        Err(SubscribeError::InvalidTopic(TopicError::Unknown(name))) if name == "unknown"
    ));
}

#[tokio::test(start_paused = true)]
async fn events_older_than_the_age_limit_are_evicted() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_age(Duration::from_secs(60)))
        .build();
    let first = hub.publish("t", Event::new().data("old")).await.unwrap();
    tokio::time::advance(Duration::from_secs(45)).await;
    hub.publish("t", Event::new().data("recent")).await.unwrap();
    tokio::time::advance(Duration::from_secs(30)).await;
    let mut resumed = hub
        .subscribe(&["t"], cursor(&format!("{}-0", &first.to_string()[..12])))
        .unwrap();
    let events = decode(&ready(&mut resumed));
    assert_eq!(events[0].event_type(), "gap");
    assert_eq!(events[1].data(), "recent");
}

#[tokio::test(start_paused = true)]
async fn max_lifetime_ends_the_stream_with_jitter() {
    let hub = Hub::new();
    let subscription = hub
        .subscribe(&["t"], None)
        .unwrap()
        .max_lifetime(Duration::from_secs(100));
    let start = tokio::time::Instant::now();
    let events: Vec<_> = subscription.collect().await;
    assert!(events.is_empty());
    let lived = start.elapsed();
    assert!(
        lived >= Duration::from_secs(90) && lived <= Duration::from_secs(100),
        "{lived:?}"
    );
}

#[tokio::test]
async fn into_body_writes_a_jittered_retry_then_events() {
    let hub = Hub::new();
    let body = hub
        .subscribe(&["t"], None)
        .unwrap()
        .retry(Duration::from_secs(2))
        .into_body();
    publish_n(&hub, "t", 1..=2).await;
    hub.close(None);
    let bytes: Bytes = body.collect().await.unwrap().to_bytes();
    let text = std::str::from_utf8(&bytes).unwrap();
    let retry: u64 = text
        .strip_prefix("retry: ")
        .unwrap()
        .split('\n')
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert!((2000..=3000).contains(&retry), "{retry}");
    let mut decoder = Decoder::new();
    decoder.push(&bytes).unwrap();
    let events: Vec<_> = std::iter::from_fn(|| decoder.next_event()).collect();
    assert_eq!(
        events.iter().map(DecodedEvent::data).collect::<Vec<_>>(),
        ["1", "2"]
    );
}

#[tokio::test]
async fn ten_thousand_subscribers_on_one_topic() {
    let hub = Hub::new();
    let mut subscriptions: Vec<_> = (0..10_000)
        .map(|_| hub.subscribe(&["t"], None).unwrap())
        .collect();
    for subscription in &mut subscriptions {
        assert!(ready(subscription).is_empty());
    }
    hub.publish("t", Event::new().data("to all")).await.unwrap();
    for subscription in &mut subscriptions {
        assert_eq!(data(&ready(subscription)), ["to all"]);
    }
    assert_eq!(hub.stats().delivered, 10_000);
    drop(subscriptions);
    assert_eq!(hub.stats().subscribers, 0);
}

#[tokio::test]
async fn an_unusable_cursor_in_a_request_gets_a_gap_not_a_silent_fresh_start() {
    use http::{HeaderMap, HeaderValue, Uri};
    let hub = Hub::new();
    publish_n(&hub, "t", 1..=3).await;
    let plain: Uri = "/events".parse().unwrap();
    let cases: Vec<(HeaderMap, Uri, bool)> = vec![
        (HeaderMap::new(), plain.clone(), false),
        (
            HeaderMap::new(),
            "/events?lastEventId=".parse().unwrap(),
            false,
        ),
        (
            {
                let mut h = HeaderMap::new();
                h.insert(
                    "last-event-id",
                    HeaderValue::from_bytes(&[b'9'; 2048]).unwrap(),
                );
                h
            },
            plain.clone(),
            true,
        ),
        (
            {
                let mut h = HeaderMap::new();
                h.insert(
                    "last-event-id",
                    HeaderValue::from_bytes(b"\xfe\xff").unwrap(),
                );
                h
            },
            plain.clone(),
            true,
        ),
        (
            HeaderMap::new(),
            "/events?lastEventId=%0A".parse().unwrap(),
            true,
        ),
        (
            HeaderMap::new(),
            "/events?lastEventId=forged".parse().unwrap(),
            true,
        ),
    ];
    for (headers, uri, gap) in cases {
        let mut subscription = hub.subscribe_request(&["t"], &headers, &uri).unwrap();
        let events = decode(&ready(&mut subscription));
        if gap {
            assert_eq!(events.len(), 1, "{uri}");
            assert!(events[0].data().starts_with(r#"{"reason":"unknown""#));
        } else {
            assert!(events.is_empty(), "{uri}: live only, nothing to signal");
        }
    }
}

#[tokio::test]
async fn an_eviction_in_one_topic_does_not_hide_events_another_still_holds() {
    // Found in review: the gap in "a" used to drop "both", still in "b". The
    // hub cannot tell that the event "a" evicted is the one "b" holds, so a
    // cautious gap may come first; but nothing is dropped and its id skips
    // nothing.
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(1))
        .build();
    let zero = Position::new(hub.epoch(), 0).to_string();
    hub.publish_to(&["a", "b"], Event::new().data("both"))
        .await
        .unwrap();
    hub.publish("a", Event::new().data("a2")).await.unwrap();
    let mut subscription = hub.subscribe(&["a", "b"], cursor(&zero)).unwrap();
    let events = decode(&ready(&mut subscription));
    let (gaps, delivered): (Vec<_>, Vec<_>) = events.iter().partition(|e| e.event_type() == "gap");
    let data: Vec<_> = delivered.iter().map(|e| e.data()).collect();
    assert_eq!(data, ["both", "a2"], "nothing dropped");
    for gap in gaps {
        assert_eq!(
            gap.last_event_id(),
            zero,
            "the gap's id skips no retained event"
        );
    }
}

#[tokio::test]
async fn a_gap_in_one_topic_moves_the_cursor_only_past_what_is_really_gone() {
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_events(1))
        .build();
    let zero = Position::new(hub.epoch(), 0).to_string();
    hub.publish("a", Event::new().data("a1")).await.unwrap();
    hub.publish("a", Event::new().data("a2")).await.unwrap(); // evicts a1
    hub.publish("b", Event::new().data("b3")).await.unwrap();
    let mut subscription = hub.subscribe(&["a", "b"], cursor(&zero)).unwrap();
    let events = decode(&ready(&mut subscription));
    assert_eq!(events[0].event_type(), "gap");
    assert!(
        events[0].last_event_id().ends_with("-1"),
        "the gap covers a1 only"
    );
    let rest: Vec<_> = events[1..].iter().map(DecodedEvent::data).collect();
    assert_eq!(rest, ["a2", "b3"]);
}

#[tokio::test]
async fn an_event_larger_than_the_whole_log_is_refused() {
    // Found in review: it used to be accepted, then evicted on append, and
    // every subscriber was told it lagged.
    let hub = Hub::builder()
        .log_limits(LogLimits::new().max_bytes(100))
        .build();
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    let error = hub
        .publish("t", Event::new().data("x".repeat(200)))
        .await
        .unwrap_err();
    assert!(matches!(error, PublishError::TooLarge { limit: 100, .. }));
    assert!(ready(&mut subscription).is_empty());
    assert_eq!(hub.stats().lagged, 0);
}

#[tokio::test]
async fn no_topic_can_be_created_once_the_hub_is_closed() {
    let hub = Hub::new();
    hub.close(None);
    assert!(matches!(
        hub.subscribe(&["new"], None),
        Err(SubscribeError::Closed)
    ));
    assert!(hub.topic_names().is_empty());
}

#[tokio::test]
async fn the_log_keeps_no_reference_to_the_publishers_buffer() {
    // Data cut from a large buffer (a request's read buffer, say): the log
    // holds its own copy of the encoded event, so the buffer is freed once
    // the publisher drops it, even with a filter reading the event's data.
    let hub = Hub::new();
    let mut filtered = hub
        .subscribe(&["t"], None)
        .unwrap()
        .filter(|event| event.data() == Some("hello"));
    let buffer = Bytes::from(b"hello, and a lot more after it".repeat(1_000));
    let hello = sse_engine::Text::from_utf8(buffer.slice(0..5)).unwrap();
    hub.publish("t", Event::new().data(hello)).await.unwrap();
    assert_eq!(data(&ready(&mut filtered)), ["hello"]);
    assert!(
        buffer.is_unique(),
        "the hub still holds the publisher's buffer"
    );
}

//! What a subscriber is told when a shared store's feed reports a loss
//! (`GapReason::Lost`, issue 16). The faults reviews found in the loss path
//! are tested here and in `hub_lost_interleavings*.rs`; the scripted store
//! is `loss_harness`.
#![allow(missing_docs, clippy::print_stderr)]

mod loss_harness;

use loss_harness::*;

/// A subscriber that has not yet read events the log holds from before the
/// loss reads them first, then is told of the loss, where the events are
/// missing.
#[tokio::test(start_paused = true)]
async fn a_lost_gap_comes_after_the_events_the_log_still_holds() {
    let h = Harness::new();
    let hub = h.hub(100, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.publish(1..=5);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 2).await, ["1", "2"]);

    // 6..=10 lost; 3, 4, 5 are still in the log.
    h.lose(10);
    h.publish(11..=11);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 10).await;
    eprintln!("got: {got:?}");
    assert_eq!(
        got,
        [
            "3",
            "4",
            "5",
            r#"gap@10 {"reason":"lost","lastEventId":""}"#,
            "11"
        ]
    );
}

/// After the loss, more events arrive than the log holds before the
/// subscriber reads: the store still has them (11..=15), but only the ones
/// after the loss can be replayed. The replay asks from the subscriber's
/// cursor (before the loss), fails as a whole, and 11..=13 are skipped.
#[tokio::test(start_paused = true)]
async fn events_the_store_kept_after_a_loss_are_replayed() {
    let h = Harness::new();
    let hub = h.hub(2, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.publish(1..=2);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 2).await, ["1", "2"]);

    h.lose(10);
    h.publish(11..=15);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 10).await;
    eprintln!("got: {got:?}");
    eprintln!("replays asked: {:?}", h.store.replays.lock().unwrap());
    assert_eq!(
        got,
        [
            r#"gap@10 {"reason":"lost","lastEventId":""}"#,
            "11",
            "12",
            "13",
            "14",
            "15"
        ]
    );
}

/// The same with a store that lost nothing it still could replay (its feed
/// dropped reports, say): the replay succeeds in rounds of `max_events`;
/// once the rounds pass the loss, the rest of the same gap (events the log
/// evicted while the rounds ran) is still the loss's, never `lagged`, so
/// LagPolicy::Close does not end the stream of a subscriber that was caught
/// up.
#[tokio::test(start_paused = true)]
async fn a_lost_gap_replayed_in_rounds_never_turns_lagged() {
    let h = Harness::new();
    let hub = h.hub(2, LagPolicy::Close);
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.publish(1..=2);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 2).await, ["1", "2"]);

    // The feed says 3..=10 may be lost; the store still has them all.
    {
        let mut kept = h.store.kept.lock().unwrap();
        for seq in 3..=10 {
            kept.insert(seq, Bytes::from(format!("data: {seq}\n\n")));
        }
    }
    h.feed
        .send(FeedItem::Lost {
            topic: Text::from_static("t"),
            through: 10,
        })
        .unwrap();
    h.publish(11..=15);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 20).await;
    eprintln!("got: {got:?}");
    eprintln!("replays asked: {:?}", h.store.replays.lock().unwrap());
    eprintln!("stats: {:?}", hub.stats());
    assert!(!got.iter().any(|e| e == "END"), "stream closed: {got:?}");
    assert_eq!(got.last().map(String::as_str), Some("15"), "{got:?}");
    assert_eq!(hub.stats().lagged, 0);
}

/// A subscriber that lagged (the log overtook it) before the store lost
/// events is told `lost` and not closed under LagPolicy::Close (by design:
/// "the gap is its loss, whatever else it is"); recorded here as evidence.
#[tokio::test(start_paused = true)]
async fn a_subscriber_that_lagged_before_a_loss_is_told_lost() {
    let h = Harness::new();
    let hub = h.hub(2, LagPolicy::Close);
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.publish(1..=1);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 1).await, ["1"]);
    // It does not read while 2..=6 are published: the log (2 events)
    // overtakes it. Then the store loses 7..=10.
    h.publish(2..=6);
    h.lose(10);
    h.publish(11..=11);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 10).await;
    let lost = |through: u64| format!(r#"gap@{through} {{"reason":"lost","lastEventId":""}}"#);
    assert_eq!(got, [lost(5), "6".to_owned(), lost(10), "11".to_owned()]);
    assert_eq!(hub.stats().lagged, 0, "a loss, not a lag");
}

/// A subscriber of two topics lags in "u"; while the store is asked for
/// u's evicted events (a round trip, retried for seconds while Redis is
/// away), the store reports seq 3 of "t" lost. The replay fails, and the
/// one gap signalled for both topics is told as a loss (it was folded into
/// a `lagged` gap before).
#[tokio::test(start_paused = true)]
async fn a_loss_during_a_lagged_replay_is_told_as_a_loss() {
    let h = Harness::new();
    let (open, gate) = tokio::sync::watch::channel(false);
    *h.store.gate.lock().unwrap() = Some(gate);
    *h.store.lost_through.lock().unwrap() = u64::MAX; // nothing replayable
    let hub = Hub::builder()
        .store(h.store.clone())
        .log_limits(LogLimits::new().max_events(2))
        .topic("t")
        .topic("u")
        .build();
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    let fed = |seq: u64, topic: &'static str| FedEvent {
        seq,
        topic: Text::from_static(topic),
        event: Bytes::from(format!("data: {topic}{seq}\n\n")),
    };
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(1, "t")],
            through: 1,
        })
        .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 1).await, ["t1"]);
    // u: 2, 4, 5, 6, 7 (3 was t's, never reported); u's log keeps 6, 7.
    h.feed
        .send(FeedItem::Events {
            events: [2, 4, 5, 6, 7].into_iter().map(|s| fed(s, "u")).collect(),
            through: 7,
        })
        .unwrap();
    let_the_feed_task_run().await;
    // The read finds u's gap (lagged) and asks the store: pending.
    assert!(read(&mut subscription, 1).await.is_empty());
    // Meanwhile the store reports t's seq 3 lost.
    h.feed
        .send(FeedItem::Lost {
            topic: Text::from_static("t"),
            through: 3,
        })
        .unwrap();
    let_the_feed_task_run().await;
    open.send(true).unwrap();
    let got = read(&mut subscription, 10).await;
    eprintln!("got: {got:?} stats {:?}", hub.stats());
    assert!(
        got.iter().any(|e| e.contains(r#""reason":"lost""#)),
        "t's loss is never signalled: {got:?}"
    );
}

/// A subscriber that joins after a loss never meets it: it reads on from
/// where it joined.
#[tokio::test(start_paused = true)]
async fn a_subscriber_that_joins_after_a_loss_is_told_nothing() {
    let h = Harness::new();
    let hub = h.hub(100, LagPolicy::Close);
    h.publish(1..=2);
    h.lose(10);
    h.publish(11..=11);
    let_the_feed_task_run().await;
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    h.publish(12..=12);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 10).await, ["12"]);
    assert_eq!(hub.stats().gaps, 0);
}

/// A client whose `Last-Event-ID` falls inside a lost range (another
/// process gave it that id before the store lost it) is told of the loss,
/// with its cursor, then reads on; one whose cursor is before the loss
/// first reads what the log holds before it.
#[tokio::test(start_paused = true)]
async fn a_cursor_inside_or_before_a_loss_meets_it_where_events_are_missing() {
    let h = Harness::new();
    let hub = h.hub(100, LagPolicy::SignalGap);
    h.publish(1..=2);
    h.lose(10);
    h.publish(11..=11);
    let_the_feed_task_run().await;
    let id = |seq: u64| {
        let position = sse_engine::hub::Position::new(Epoch::from_bits(7), seq);
        sse_engine::LastEventId::parse(position.to_string().as_bytes())
            .unwrap()
            .unwrap()
    };
    let mut inside = hub.subscribe(&["t"], Some(id(7))).unwrap();
    let cursor = id(7);
    assert_eq!(
        read(&mut inside, 10).await,
        [
            format!(
                r#"gap@10 {{"reason":"lost","lastEventId":"{}"}}"#,
                cursor.as_str()
            ),
            "11".to_owned()
        ]
    );
    let mut before = hub.subscribe(&["t"], Some(id(1))).unwrap();
    assert_eq!(
        read(&mut before, 10).await,
        ["2", r#"gap@10 {"reason":"lost","lastEventId":""}"#, "11"]
    );
}

/// Two topics: "u" loses 3..=6 while "t" has events in that range. The loss
/// is told once, as soon as every event of "u" before it is read (after u1:
/// the hub does not assume that a loss reported after the events up to 2
/// starts after 2), and no event of either topic is skipped: "t"'s events
/// follow it.
#[tokio::test(start_paused = true)]
async fn a_loss_in_one_topic_skips_no_event_of_another() {
    let h = Harness::new();
    let hub = Hub::builder()
        .store(h.store.clone())
        .log_limits(LogLimits::new().max_events(100))
        .topic("t")
        .topic("u")
        .build();
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    let fed = |seq: u64, topic: &'static str| FedEvent {
        seq,
        topic: Text::from_static(topic),
        event: Bytes::from(format!("data: {topic}{seq}\n\n")),
    };
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(1, "u"), fed(2, "t")],
            through: 2,
        })
        .unwrap();
    // u's events 3..=6 lost; t goes on with 4 and 8.
    h.feed
        .send(FeedItem::Lost {
            topic: Text::from_static("u"),
            through: 6,
        })
        .unwrap();
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(4, "t"), fed(7, "u"), fed(8, "t")],
            through: 8,
        })
        .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(
        read(&mut subscription, 10).await,
        [
            "u1",
            r#"gap@1 {"reason":"lost","lastEventId":""}"#,
            "t2",
            "t4",
            "u7",
            "t8"
        ]
    );
}

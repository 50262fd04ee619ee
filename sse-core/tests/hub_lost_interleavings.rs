//! Interleavings of a store's losses with reads, replays and other topics,
//! found by an adversarial review of the loss path (issue 16): each `fN_`
//! test failed at 8b4c06f and passes since; `sound_` tests are what the
//! review checked and found sound; the ignored ones are a documented
//! limitation (more than 16 losses) and stress / search runs
//! (`cargo test -p sse-engine --test hub_lost_interleavings -- --ignored`).
//! The harness is hub_lost.rs's, with the store's replay reading
//! `lost_through` and `kept` under one lock (an atomic answer on a
//! multi-thread runtime) and able to yield (`delay`).
#![allow(missing_docs, clippy::print_stderr)]

mod loss_harness;

use loss_harness::*;

/// F1. Redis's feed sends a reply's losses before its events (`process`:
/// `Lost { through: entry.prev }`, then `Events`), so a loss can reach past
/// the head. A reader woken by the loss meets it at once and `skip_gap`
/// moves its cursor to `through` (nothing held after the cursor bounds it):
/// past the head (invariant 1). Another topic's events up to `through`,
/// which were not lost and arrive in the next item, are then skipped.
#[tokio::test(start_paused = true)]
async fn f1_a_loss_past_the_head_skips_another_topics_later_events() {
    let h = Harness::new();
    let hub = two_topic_hub(&h, 100, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(1, "u")],
            through: 1,
        })
        .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 1).await, ["u1"]);
    // One Redis reply: u's entry 7 has prev 6 > read 1, so u lost 2..=6;
    // t's 4 is in the same reply. The loss item comes first.
    h.feed.send(lost("u", 6)).unwrap();
    let_the_feed_task_run().await;
    let mut got = read(&mut subscription, 10).await;
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(4, "t"), fed(7, "u")],
            through: 7,
        })
        .unwrap();
    let_the_feed_task_run().await;
    got.extend(read(&mut subscription, 10).await);
    eprintln!("got: {got:?}");
    // At 8b4c06f: [gap@6 lost, u7]: t4 is never delivered.
    assert!(got.iter().any(|e| e == "t4"), "t4 skipped: {got:?}");
    assert_ids_increase(&got);
}

/// F2. The same window for a single topic: a subscriber that joins after
/// the loss was reported, before the feed's next events, starts with its
/// cursor (the head, below the loss's `through`) as dealt with, and meets
/// the loss it joined after (the tail path also never arms for it).
#[tokio::test(start_paused = true)]
async fn f2_a_subscriber_joining_before_the_head_passes_a_loss_meets_it() {
    let h = Harness::new();
    let hub = h.hub(100, LagPolicy::SignalGap);
    h.publish(1..=2);
    h.lose(10);
    let_the_feed_task_run().await;
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    h.publish(11..=11);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 10).await;
    eprintln!("got: {got:?}");
    // At 8b4c06f: [gap@10 lost, 11].
    assert_eq!(got, ["11"]);
    assert_eq!(hub.stats().gaps, 0);
}

/// F3. A loss is told before events replayed from the store that come
/// before it. `loss_reached` is asked with `max(cursor, handled)`; after a
/// replay round `handled` is the round's end (here the loss's `after`)
/// while the round's events are still to be delivered, so `Read::Lost`
/// is returned before they are merged, and `skip_gap` stops before them:
/// the gap goes out at the cursor, and nothing is told between 6 and 11.
#[tokio::test(start_paused = true)]
async fn f3_a_loss_is_told_after_the_events_replayed_before_it() {
    let h = Harness::new();
    let hub = h.hub(2, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.publish(1..=2);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 2).await, ["1", "2"]);
    // 3..=6 arrive (the log keeps 5, 6); the store keeps 1..=6 but lost
    // 7..=10, never reported; then 11, 12 (the log evicts 5, 6).
    h.publish(3..=6);
    h.feed.send(lost("t", 10)).unwrap();
    h.publish(11..=12);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 20).await;
    eprintln!("got: {got:?}");
    eprintln!("replays asked: {:?}", h.store.replays.lock().unwrap());
    // At 8b4c06f: [3, 4, gap@4 lost, 5, 6, 11, 12].
    assert_eq!(
        got,
        [
            "3",
            "4",
            "5",
            "6",
            r#"gap@10 {"reason":"lost","lastEventId":""}"#,
            "11",
            "12"
        ]
    );
}

/// F4. `continues` is set to `Lost` by a `Read::Lost` signal and is only
/// cleared by a log event or a `Pending` read. A subscriber that stalls
/// right after the lost signal (the signal is returned before any further
/// read) and then lags behind events published after the loss is told
/// `lost`, not `lagged`: LagPolicy::Close does not close it and the lag is
/// not counted.
#[tokio::test(start_paused = true)]
async fn f4_a_lag_after_a_lost_signal_is_not_told_as_a_loss() {
    let h = Harness::new();
    let hub = h.hub(2, LagPolicy::Close);
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.publish(1..=2);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 2).await, ["1", "2"]);
    h.lose(10);
    h.publish(11..=11);
    let_the_feed_task_run().await;
    assert_eq!(
        read(&mut subscription, 1).await,
        [r#"gap@10 {"reason":"lost","lastEventId":""}"#]
    );
    // The client stalls; 11..=15 overtake it (the log keeps 14, 15).
    h.publish(12..=15);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 20).await;
    eprintln!("got: {got:?} stats {:?}", hub.stats());
    // At 8b4c06f: [11, 12, 13, 14, 15], lagged 0 (replayed as the loss's).
    assert_eq!(got, ["END"]);
    assert_eq!(hub.stats().lagged, 1);
}

/// F5. A loss folded into a failed replay's gap (ff162f2's
/// `lost_after_cursor`) is not marked dealt with, so the next read meets it
/// again: two `lost` gaps with the same id (hub_lost.rs's
/// `a_loss_during_a_lagged_replay_is_told_as_a_loss` shows it, and only
/// asserts that one of them is there).
#[tokio::test(start_paused = true)]
async fn f5_a_loss_folded_into_a_failed_replay_is_told_once() {
    let h = Harness::new();
    let (open, gate) = tokio::sync::watch::channel(false);
    *h.store.gate.lock().unwrap() = Some(gate);
    *h.store.lost_through.lock().unwrap() = u64::MAX; // nothing replayable
    let hub = two_topic_hub(&h, 2, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(1, "t")],
            through: 1,
        })
        .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 1).await, ["t1"]);
    h.feed
        .send(FeedItem::Events {
            events: [2, 4, 5, 6, 7].into_iter().map(|s| fed(s, "u")).collect(),
            through: 7,
        })
        .unwrap();
    let_the_feed_task_run().await;
    assert!(read(&mut subscription, 1).await.is_empty());
    h.feed.send(lost("t", 3)).unwrap();
    let_the_feed_task_run().await;
    open.send(true).unwrap();
    let got = read(&mut subscription, 10).await;
    eprintln!("got: {got:?}");
    // At 8b4c06f: [gap@5 lost, gap@5 lost, u6, u7].
    assert_ids_increase(&got);
}

/// F6. ff162f2's `lost_after_cursor` looks at every topic's `lost_through`,
/// also a loss the failed replay's range does not reach (and which
/// 8b4c06f's `Read::Lost` tells on its own later): a slow reader's failed
/// replay of "u" is told `lost` (not counted as lagged), then t's loss is
/// told again where it is.
#[tokio::test(start_paused = true)]
async fn f6_a_failed_lagged_replay_is_not_told_as_a_later_loss() {
    let h = Harness::new();
    *h.store.lost_through.lock().unwrap() = u64::MAX; // nothing replayable
    let hub = two_topic_hub(&h, 2, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(1, "t")],
            through: 1,
        })
        .unwrap();
    h.feed
        .send(FeedItem::Events {
            events: [2, 4, 5, 6, 7].into_iter().map(|s| fed(s, "u")).collect(),
            through: 7,
        })
        .unwrap();
    // t's 3 lost: after t1, which the subscriber has not read yet.
    h.feed.send(lost("t", 3)).unwrap();
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 10).await;
    eprintln!("got: {got:?} stats {:?}", hub.stats());
    // At 8b4c06f: [gap@0 lost, t1, gap@3 lost, u6, u7], lagged 0.
    assert_eq!(
        got,
        [
            r#"gap@0 {"reason":"lagged","lastEventId":""}"#,
            "t1",
            r#"gap@3 {"reason":"lost","lastEventId":""}"#,
            "u6",
            "u7"
        ]
    );
}

/// F7. A topic that has reached a loss is left out of the read's gapped
/// topics while another topic's evicted events are replayed first (the
/// `Read::Lost` is held back while `gap_through > 0`). That replay is not
/// capped at the loss, and once the loss is signalled the lost topic's own
/// evicted events after it are asked for only when the restored events are
/// all delivered: the restored t6 is delivered before u5 (evicted, still in
/// the store) is replayed, and u's replay then asks after the cursor (6).
/// u5 is skipped with no gap. (Found by `stress_two_topics`: u's 267
/// skipped between the restored t266 and t268.)
#[tokio::test(start_paused = true)]
async fn f7_a_loss_in_one_topic_and_a_replay_of_another_skip_an_event() {
    let (feed, receiver) = mpsc::unbounded_channel();
    let store = Arc::new(Fed2 {
        feed: Mutex::new(Some(receiver)),
        ..Fed2::default()
    });
    let hub = Hub::builder()
        .store(store.clone())
        .log_limits(LogLimits::new().max_events(2))
        .topic("t")
        .topic("u")
        .build();
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    let send = |events: Vec<FedEvent>, through: u64| {
        let mut kept = store.kept.lock().unwrap();
        for event in &events {
            let topic = if event.topic == "t" { "t" } else { "u" };
            let entry = kept.entry(topic).or_default();
            entry.0.insert(event.seq, event.event.clone());
        }
        drop(kept);
        feed.send(FeedItem::Events { events, through }).unwrap();
    };
    send(vec![fed(1, "u")], 1);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 1).await, ["u1"]);
    // u's 2, 3 lost (reported once the head has passed them: not F1).
    store.kept.lock().unwrap().entry("u").or_default().1 = 3;
    store.kept.lock().unwrap().get_mut("u").unwrap().0.clear();
    send(vec![], 3);
    feed.send(lost("u", 3)).unwrap();
    // t: 4, 6, 7, 8 (the log keeps 7, 8); u: 5, 9, 10 (the log keeps 9, 10).
    send(
        vec![
            fed(4, "t"),
            fed(5, "u"),
            fed(6, "t"),
            fed(7, "t"),
            fed(8, "t"),
            fed(9, "u"),
            fed(10, "u"),
        ],
        10,
    );
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 20).await;
    eprintln!("got: {got:?}");
    // At 8b4c06f: [gap@3 lost, t4, t6, t7, t8, u9, u10]: u5 skipped. The
    // gap resumes after 1, not 3: t's evicted events (4, 6) could have been
    // anywhere after 1, for all the hub knows, and are replayed after it.
    assert_eq!(
        got,
        [
            r#"gap@1 {"reason":"lost","lastEventId":""}"#,
            "t4",
            "u5",
            "t6",
            "t7",
            "t8",
            "u9",
            "u10"
        ]
    );
}

/// F4's control: the same stall without a loss closes the stream.
#[tokio::test(start_paused = true)]
async fn sound_f4_control_the_same_lag_without_a_loss_closes() {
    let h = Harness::new();
    let hub = h.hub(2, LagPolicy::Close);
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.publish(1..=2);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 2).await, ["1", "2"]);
    h.publish(11..=11);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 1).await, ["11"]);
    h.publish(12..=15);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 20).await, ["END"]);
    assert_eq!(hub.stats().lagged, 1);
}

/// The documented fallback past `MAX_LOSSES` (16 losses held per topic):
/// the oldest loss becomes an eviction, so a reader behind it is told of a
/// gap before events the log still holds from before the loss ("told
/// early", not "told where missing"). Nothing is lost silently or repeated:
/// every event published arrives once, in order, and the first lost one is
/// covered by a gap told before it.
#[tokio::test(start_paused = true)]
async fn past_sixteen_losses_the_oldest_is_told_early_and_nothing_is_skipped() {
    let h = Harness::new();
    let hub = h.hub(1000, LagPolicy::SignalGap);
    let mut behind = hub.subscribe(&["t"], None).unwrap();
    assert!(read(&mut behind, 1).await.is_empty());
    h.publish(1..=1);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut behind, 1).await, ["1"]);
    h.publish(2..=2);
    let_the_feed_task_run().await;
    // Loss k: 2k+1 lost after 2k, k = 1..=17.
    for k in 1..=17u64 {
        h.lose(2 * k + 1);
        h.publish(2 * k + 2..=2 * k + 2);
        let_the_feed_task_run().await;
    }
    let got = read(&mut behind, 100).await;
    let events: Vec<&str> = got
        .iter()
        .map(String::as_str)
        .filter(|item| !item.starts_with("gap@"))
        .collect();
    let expected: Vec<String> = (1..=18u64).map(|k| (2 * k).to_string()).collect();
    assert_eq!(events, expected, "every held event once, in order: {got:?}");
    let first_gap = got.iter().position(|item| item.starts_with("gap@"));
    let four = got.iter().position(|item| item == "4");
    assert!(
        first_gap.zip(four).is_some_and(|(gap, four)| gap < four),
        "the loss of 3 is told before 4: {got:?}"
    );
    assert!(
        got.iter()
            .all(|item| !item.starts_with("gap@") || item.contains(r#""reason":"lost""#))
    );
}

struct Wakes(std::sync::atomic::AtomicUsize);
impl std::task::Wake for Wakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Sound: a cursor ahead of the head and inside a lost range waits for
/// the check (`Read::Lost` is Pending in `Phase::Ahead`) without waking
/// itself, is woken by the next append, and is then told `lost` with its
/// cursor.
#[tokio::test(start_paused = true)]
async fn sound_a_cursor_ahead_inside_a_loss_waits_without_spinning() {
    let h = Harness::new();
    let hub = h.hub(100, LagPolicy::SignalGap);
    h.publish(1..=2);
    h.lose(10);
    let_the_feed_task_run().await;
    let position = sse_engine::hub::Position::new(Epoch::from_bits(7), 7);
    let id = sse_engine::LastEventId::parse(position.to_string().as_bytes())
        .unwrap()
        .unwrap();
    let mut inside = hub.subscribe(&["t"], Some(id.clone())).unwrap();
    let wakes = Arc::new(Wakes(std::sync::atomic::AtomicUsize::new(0)));
    let waker = std::task::Waker::from(wakes.clone());
    for _ in 0..5 {
        let mut cx = Context::from_waker(&waker);
        assert!(inside.poll_next_unpin(&mut cx).is_pending());
        let_the_feed_task_run().await;
    }
    assert_eq!(wakes.0.load(std::sync::atomic::Ordering::SeqCst), 0);
    tokio::time::sleep(std::time::Duration::from_millis(1000)).await;
    h.publish(11..=11);
    let_the_feed_task_run().await;
    assert!(wakes.0.load(std::sync::atomic::Ordering::SeqCst) >= 1);
    assert_eq!(
        read(&mut inside, 10).await,
        [
            format!(
                r#"gap@10 {{"reason":"lost","lastEventId":"{}"}}"#,
                id.as_str()
            ),
            "11".to_owned()
        ]
    );
}

/// Stress (not a fault test): two worker threads, a feed with losses, and
/// readers on the tail path. Checks no silent skip, no duplicate, losses
/// told between the events around them.
#[test]
#[ignore = "stress"]
fn stress_tail_vs_losses() {
    for round in std::env::var("ROUNDS").map_or(0..200u64, |r| {
        let r: u64 = r.parse().unwrap();
        r..r + 1
    }) {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        if std::env::var("HOLES").is_err() && round % 4 >= 2 {
            continue;
        }
        rt.block_on(async move {
            let h = Harness::new();
            let hub = h.hub(if round % 2 == 0 { 1000 } else { 4 }, LagPolicy::SignalGap);
            let mut tasks = Vec::new();
            for _ in 0..3 {
                let mut s = hub.subscribe(&["t"], None).unwrap();
                tasks.push(tokio::spawn(async move {
                    let mut out = Vec::new();
                    while let Some(e) = s.next().await {
                        for d in decode(&[e]) {
                            let d = describe(&d);
                            let done = d == "400" ;
                            out.push(d);
                            if done { return out; }
                        }
                        if out.last().is_some_and(|l| l.starts_with("gap@") && l.contains("@40")) {}
                    }
                    out
                }));
            }
            let mut published = Vec::new();
            let mut losses = Vec::new();
            let mut seq = 0u64;
            let mut x = round * 7919 + 1;
            while seq < 400 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                if (x >> 60) == 0 && seq + 3 < 399 && losses.len() < std::env::var("MAXL").map_or(16, |v| v.parse().unwrap()) {
                    let a = seq;
                    seq += 1 + (x >> 40) % 3;
                    if round % 4 < 2 {
                        h.lose(seq);
                    } else {
                        h.feed.send(lost("t", seq)).unwrap();
                    }
                    losses.push((a, seq));
                } else {
                    let n = 1 + (x >> 50) % 3;
                    let end = (seq + n).min(400);
                    h.publish(seq + 1..=end);
                    published.extend(seq + 1..=end);
                    seq = end;
                }
                if (x >> 33) % 4 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            for t in tasks {
                let out = tokio::time::timeout(std::time::Duration::from_secs(10), t)
                    .await
                    .expect("reader hung")
                    .unwrap();
                // Check.
                let mut last_event: Option<u64> = None;
                let mut gap_since = false;
                let mut last_gap: Option<u64> = None;
                for (i, e) in out.iter().enumerate() {
                    let window = &out[i.saturating_sub(8)..(i + 3).min(out.len())];
                    if let Some(rest) = e.strip_prefix("gap@") {
                        let g: u64 = rest.split(' ').next().unwrap().parse().unwrap();
                        gap_since = true;
                        last_gap = Some(g);
                        continue;
                    }
                    let v: u64 = e.parse().unwrap();
                    if let Some(p) = last_event {
                        assert!(v > p, "round {round}: not increasing {out:?}");
                        if !gap_since {
                            let missing: Vec<_> = published.iter().filter(|&&s| s > p && s < v).collect();
                            assert!(missing.is_empty(), "round {round}: skipped {} events between {p} and {v}: window {window:?} losses {losses:?}", missing.len());
                            for &(a, b) in &losses {
                                assert!(!(p <= a && v > b), "round {round}: loss ({a},{b}] untold between {p} and {v}: losses {losses:?} {out:?}");
                            }
                        }
                    }
                    if let Some(g) = last_gap {
                        assert!(v > g, "round {round}: event {v} not past gap {g}");
                    }
                    last_event = Some(v);
                    gap_since = false;
                }
                assert_eq!(out.last().map(String::as_str), Some("400"), "round {round}: {out:?}");
            }
        });
    }
}

/// Deterministic search: one subscriber read a random number of events
/// between feed items (current-thread runtime).
#[tokio::test(start_paused = true)]
#[ignore = "search"]
async fn search_single_thread() {
    let seeds: u64 = std::env::var("SEEDS").map_or(2000, |v| v.parse().unwrap());
    for seed in 0..seeds {
        let h = Harness::new();
        let max_events = 2 + (seed % 4) as usize;
        let hub = h.hub(max_events, LagPolicy::SignalGap);
        h.store.delay.store(
            (seed / 4 % 3) as usize * 3,
            std::sync::atomic::Ordering::Relaxed,
        );
        let mut s = hub.subscribe(&["t"], None).unwrap();
        let mut ops = Vec::new();
        let mut out = Vec::new();
        let mut published = Vec::new();
        let mut losses = Vec::new();
        let mut seq = 0u64;
        let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
        let mut next = || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        for _ in 0..std::env::var("OPS").map_or(30, |v| v.parse().unwrap()) {
            let r = next();
            match r % 5 {
                4 => {
                    let k = 1 + (r >> 8) as usize % 4;
                    let got = read(&mut s, k).await;
                    ops.push(format!("read_now({k}) -> {got:?}"));
                    out.extend(got);
                }
                0 => {
                    let a = seq;
                    seq += 1 + (r >> 8) % 3;
                    h.lose(seq);
                    losses.push((a, seq));
                    ops.push(format!("lose({seq})"));
                }
                1 | 2 => {
                    let n = 1 + (r >> 8) % 4;
                    h.publish(seq + 1..=seq + n);
                    published.extend(seq + 1..=seq + n);
                    ops.push(format!("publish({}..={})", seq + 1, seq + n));
                    seq += n;
                }
                _ => {
                    let_the_feed_task_run().await;
                    let k = 1 + (r >> 8) as usize % 4;
                    let got = read(&mut s, k).await;
                    ops.push(format!("read({k}) -> {got:?}"));
                    out.extend(got);
                }
            }
        }
        h.publish(seq + 1..=seq + 1);
        published.push(seq + 1);
        ops.push(format!("publish({}..={})", seq + 1, seq + 1));
        let_the_feed_task_run().await;
        let got = read(&mut s, 100).await;
        ops.push(format!("read(100) -> {got:?}"));
        out.extend(got);
        // Check.
        let mut last_event: Option<u64> = None;
        let mut gap_since = false;
        let mut bad = None;
        for e in &out {
            if e.starts_with("gap@") {
                gap_since = true;
                continue;
            }
            let v: u64 = e.parse().unwrap();
            if let Some(p) = last_event {
                if v <= p {
                    bad = Some(format!("not increasing {p} {v}"));
                } else if !gap_since {
                    if published.iter().any(|&s| s > p && s < v) {
                        bad = Some(format!("skipped between {p} and {v}"));
                    }
                    if losses.iter().any(|&(a, b)| p <= a && v > b) {
                        bad = Some(format!("loss untold between {p} and {v}"));
                    }
                }
            }
            if bad.is_some() {
                break;
            }
            last_event = Some(v);
            gap_since = false;
        }
        if last_event != Some(seq + 1) && bad.is_none() {
            bad = Some(format!("did not end at {}", seq + 1));
        }
        if let Some(bad) = bad {
            eprintln!(
                "seed {seed} max_events {max_events} delay {}: {bad}",
                h.store.delay.load(std::sync::atomic::Ordering::Relaxed)
            );
            for op in &ops {
                eprintln!("  {op}");
            }
            panic!("seed {seed}");
        }
    }
}

/// Stress, two topics: readers of t, of u and of both; losses in either,
/// reported once the head has passed them (so not F1's window).
#[test]
#[ignore = "stress"]
fn stress_two_topics() {
    let rounds = std::env::var("ROUNDS").map_or(0..100u64, |r| {
        let r: u64 = r.parse().unwrap();
        r..r + 1
    });
    for round in rounds {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let (feed, receiver) = mpsc::unbounded_channel();
            let store = Arc::new(Fed2 {
                feed: Mutex::new(Some(receiver)),
                ..Fed2::default()
            });
            let hub = Hub::builder()
                .store(store.clone())
                .log_limits(LogLimits::new().max_events(if round % 2 == 0 { 1000 } else { 3 }))
                .topic("t")
                .topic("u")
                .build();
            let sets: [&[&'static str]; 3] = [&["t"], &["u"], &["t", "u"]];
            let mut tasks = Vec::new();
            for set in sets {
                let mut s = hub.subscribe(set, None).unwrap();
                tasks.push(tokio::spawn(async move {
                    let mut out = Vec::new();
                    while let Some(e) = s.next().await {
                        for d in decode(&[e]) {
                            let d = describe(&d);
                            let done = d.ends_with("400") && !d.starts_with("gap");
                            out.push(d);
                            if done {
                                return out;
                            }
                        }
                    }
                    out
                }));
            }
            // (seq, topics) published; (topic, newest of topic before, through) lost.
            let mut published: Vec<(u64, Vec<&'static str>)> = Vec::new();
            let mut losses: Vec<(&'static str, u64, u64)> = Vec::new();
            let mut newest: std::collections::HashMap<&'static str, u64> = Default::default();
            let mut seq = 0u64;
            let mut x = round * 7919 + 3;
            while seq < 399 {
                x = x.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                if (x >> 60) == 0 && seq + 4 < 399 && losses.len() < 12 {
                    let topic = if (x >> 20) % 2 == 0 { "t" } else { "u" };
                    let a = *newest.get(topic).unwrap_or(&0);
                    seq += 1 + (x >> 40) % 3;
                    {
                        let mut kept = store.kept.lock().unwrap();
                        let entry = kept.entry(topic).or_default();
                        entry.0.retain(|&s, _| s > seq);
                        entry.1 = seq;
                    }
                    feed.send(FeedItem::Events { events: vec![], through: seq }).unwrap();
                    feed.send(lost(topic, seq)).unwrap();
                    losses.push((topic, a, seq));
                } else {
                    let n = 1 + (x >> 50) % 3;
                    let mut events = Vec::new();
                    for s in seq + 1..=(seq + n).min(399) {
                        let topics: Vec<&'static str> = match (x >> (s % 16 + 8)) % 3 {
                            0 => vec!["t"],
                            1 => vec!["u"],
                            _ => vec!["t", "u"],
                        };
                        for &topic in &topics {
                            let event = Bytes::from(format!("data: {s}\n\n"));
                            store.kept.lock().unwrap().entry(topic).or_default().0.insert(s, event.clone());
                            events.push(FedEvent { seq: s, topic: Text::from_static(topic), event });
                            newest.insert(topic, s);
                        }
                        published.push((s, topics));
                        seq = s;
                    }
                    feed.send(FeedItem::Events { events, through: seq }).unwrap();
                }
                if (x >> 33) % 4 == 0 {
                    tokio::task::yield_now().await;
                }
            }
            // Last event, 400, in both.
            let mut events = Vec::new();
            for topic in ["t", "u"] {
                let event = Bytes::from("data: 400\n\n".to_owned());
                store.kept.lock().unwrap().entry(topic).or_default().0.insert(400, event.clone());
                events.push(FedEvent { seq: 400, topic: Text::from_static(topic), event });
            }
            published.push((400, vec!["t", "u"]));
            feed.send(FeedItem::Events { events, through: 400 }).unwrap();
            for (set, task) in sets.iter().zip(tasks) {
                let out = tokio::time::timeout(std::time::Duration::from_secs(10), task)
                    .await
                    .unwrap_or_else(|_| panic!("round {round}: reader of {set:?} hung"))
                    .unwrap();
                let mine: Vec<u64> = published
                    .iter()
                    .filter(|(_, topics)| topics.iter().any(|t| set.contains(t)))
                    .map(|(s, _)| *s)
                    .collect();
                let seq_of = |e: &String| -> Option<u64> {
                    (!e.starts_with("gap@")).then(|| e.parse().unwrap())
                };
                let mut last: Option<u64> = None;
                let mut gap_since = false;
                // A reader of two topics is told of a gap where the first of
                // its events could be missing: a later event of the other
                // topic may follow the signal before the gap's end, and what
                // is missing after it is covered by that signal.
                let mut last_gap: Option<u64> = None;
                for (i, e) in out.iter().enumerate() {
                    let window = &out[i.saturating_sub(8)..(i + 3).min(out.len())];
                    let Some(v) = seq_of(e) else {
                        gap_since = true;
                        last_gap = e
                            .strip_prefix("gap@")
                            .and_then(|rest| rest.split(' ').next())
                            .and_then(|seq| seq.parse().ok());
                        continue;
                    };
                    if let Some(p) = last {
                        assert!(v > p, "round {round} {set:?}: not increasing {window:?}");
                        let covered = |s: u64| set.len() > 1 && last_gap.is_some_and(|g| g < s);
                        let missing = mine.iter().filter(|&&s| s > p && s < v && !covered(s)).count();
                        assert!(gap_since || missing == 0, "round {round} {set:?}: {missing} skipped between {p} and {v}: {window:?} losses {losses:?} published {:?}", published.iter().filter(|(s, _)| *s + 12 >= p && *s <= v + 2).collect::<Vec<_>>());
                    }
                    last = Some(v);
                    gap_since = false;
                }
                for &(topic, a, b) in &losses {
                    // A reader of both topics may be told of a loss before
                    // an event of the other topic that comes before it (when
                    // a failed replay had already dealt with the lost
                    // topic's events there): told early, never late; only
                    // single-topic readers are held to "exactly where".
                    if !set.contains(&topic) || set.len() > 1 {
                        continue;
                    }
                    let before = out.iter().rposition(|e| seq_of(e).is_some_and(|s| s <= a));
                    let after = out.iter().position(|e| seq_of(e).is_some_and(|s| s > b));
                    if let (Some(i), Some(j)) = (before, after) {
                        assert!(
                            i < j && out[i..j].iter().any(|e| e.starts_with("gap@")),
                            "round {round} {set:?}: loss of {topic} ({a},{b}] untold: {:?}",
                            &out[i.saturating_sub(3)..(j + 3).min(out.len())]
                        );
                    }
                }
                assert_eq!(out.last().map(String::as_str), Some("400"), "round {round} {set:?}");
            }
        });
    }
}

//! A second adversarial review of the loss path (after 58c56cc): each
//! `gN_` test is a fault found, failing at 58c56cc; `sound_` tests are
//! what the review checked and found sound. The harness is
//! hub_lost_interleavings.rs's (Fed, Harness, Fed2).
#![allow(missing_docs, clippy::print_stderr)]

mod loss_harness;

use loss_harness::*;

/// G1 (ordering: an event after a loss is delivered before the loss is
/// told). Event 3 is in both topics. u's copy is evicted and replayed
/// (capped at u's loss, which starts after 3); t's log copy wins the tie
/// and is delivered, so the restored u3 stays in `restored`, stale
/// (seq <= cursor), until the next read pops it, after the loss checks.
/// That read's `restored_before` counts the stale u3 as "a restored event
/// of u before the loss": the loss is not met, and u11, after the loss, is
/// the candidate and is delivered. The loss is then told after it, at 11.
/// (A `restored_before` that only counts entries past the cursor fixes it.)
#[tokio::test(start_paused = true)]
async fn g1_a_stale_restored_copy_lets_an_event_past_a_loss_go_first() {
    let (hub, store, feed) = fed2_hub(2, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    send2(&store, &feed, vec![fed(2, "t")], 2);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 1).await, ["t2"]);
    // 3 in both topics; then u's 4..=10 lost (u had been given 3), then
    // u's 11, 12 (u's log keeps them and evicts 3). The store has u3.
    send2(&store, &feed, vec![fed(3, "t"), fed(3, "u")], 3);
    feed.send(lost("u", 10)).unwrap();
    send2(&store, &feed, vec![fed(11, "u"), fed(12, "u")], 12);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 20).await;
    eprintln!("got: {got:?}");
    // At 58c56cc: ["t3", "u11", gap@11 lost, "u12"].
    assert_eq!(
        got,
        [
            "t3",
            r#"gap@10 {"reason":"lost","lastEventId":""}"#,
            "u11",
            "u12"
        ]
    );
}

/// G2 (LagPolicy::Close, low): "evicted events after a loss are replayed"
/// holds when the loss is told by `Read::Lost` (which sets `continues`
/// to (Lost, head)), not when the same loss is told by a failed replay
/// (`replayed`'s `None` branch, via `deal_with_losses_reached`, which sets
/// no `continues`): there the events evicted after the loss are a
/// `lagged` gap and Close ends the stream. See
/// `sound_g2_control_told_by_read_lost_replays` for the same events
/// evicted after the same loss, replayed.
#[tokio::test(start_paused = true)]
async fn g2_a_loss_told_by_a_failed_replay_does_not_replay_what_follows() {
    let h = Harness::new();
    let hub = h.hub(2, LagPolicy::Close);
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.publish(1..=1);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 1).await, ["1"]);
    // 2, 3 given (then evicted), the store loses through 10, 11..=15 come
    // (the log keeps 14, 15): the same as the control, but with 2, 3 unread
    // before the loss.
    h.publish(2..=3);
    h.lose(10);
    h.publish(11..=15);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 20).await;
    eprintln!("got: {got:?} stats {:?}", hub.stats());
    eprintln!("replays asked: {:?}", h.store.replays.lock().unwrap());
    // At 58c56cc: [gap@3 lost, END], lagged 1.
    assert_eq!(
        got,
        [
            r#"gap@3 {"reason":"lost","lastEventId":""}"#,
            "11",
            "12",
            "13",
            "14",
            "15"
        ]
    );
}

#[tokio::test(start_paused = true)]
async fn sound_g2_control_told_by_read_lost_replays() {
    let h = Harness::new();
    let hub = h.hub(2, LagPolicy::Close);
    let mut subscription = hub.subscribe(&["t"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.publish(1..=2);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 2).await, ["1", "2"]);
    h.lose(10);
    h.publish(11..=15);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 20).await;
    eprintln!("got: {got:?} stats {:?}", hub.stats());
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
    assert_eq!(hub.stats().lagged, 0);
}

/// Deterministic search, two topics on [`Fed2`] (not a fault test):
/// events in t, u or both; losses in either, reported after the head
/// passed them or before the other topic's events inside them (the Redis
/// order); one reader of both, of t and of u reading a random number of
/// events between feed items. Checks ids increase, no silent skip, no loss
/// untold between the events around it, and that every reader ends at the
/// last event.
#[tokio::test(start_paused = true)]
#[ignore = "search; its checker is strict: it counts a gap told early (before held events of the other topic, which the gap covers) and the same gap told twice at one position; about half the seeds report those, and whether any is a skip with no gap at all is not yet sorted out (issue 16)"]
async fn search_two_topics_shared_events() {
    let seeds: u64 = std::env::var("SEEDS").map_or(3000, |v| v.parse().unwrap());
    let only: Option<u64> = std::env::var("SEED").ok().map(|v| v.parse().unwrap());
    let mut failures = Vec::new();
    for seed in 0..seeds {
        if only.is_some_and(|s| s != seed) {
            continue;
        }
        let max_events = 2 + (seed % 3) as usize;
        let (hub, store, feed) = fed2_hub(max_events, LagPolicy::SignalGap);
        let sets: [&[&'static str]; 3] = [&["t", "u"], &["t"], &["u"]];
        let mut subs: Vec<Subscription> = sets
            .iter()
            .map(|s| hub.subscribe(s, None).unwrap())
            .collect();
        let mut outs: Vec<Vec<String>> = vec![Vec::new(); 3];
        for s in &mut subs {
            assert!(read(s, 1).await.is_empty());
        }
        // Per topic: published seqs, losses (a, b].
        let mut published: BTreeMap<&'static str, Vec<u64>> = BTreeMap::new();
        let mut losses: Vec<(&'static str, u64, u64)> = Vec::new();
        let mut seq = 0u64;
        let mut ops = Vec::new();
        let mut x = seed.wrapping_mul(0x9E3779B97F4A7C15) | 1;
        let mut next = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let n_ops = std::env::var("OPS").map_or(30, |v| v.parse().unwrap());
        for _ in 0..n_ops {
            let r = next();
            match r % 6 {
                0 | 1 => {
                    // Publish 1..=3 events, each in t, u or both.
                    let n = 1 + (r >> 8) % 3;
                    let mut events = Vec::new();
                    for i in 0..n {
                        seq += 1;
                        let which = (r >> (12 + 2 * i)) % 3;
                        for topic in ["t", "u"] {
                            if which == 2
                                || (which == 0 && topic == "t")
                                || (which == 1 && topic == "u")
                            {
                                events.push(fed(seq, topic));
                                published.entry(topic).or_default().push(seq);
                            }
                        }
                    }
                    ops.push(format!(
                        "publish {events:?}",
                        events = events
                            .iter()
                            .map(|e| format!("{}{}", e.topic, e.seq))
                            .collect::<Vec<_>>()
                    ));
                    send2(&store, &feed, events, seq);
                }
                2 => {
                    // Lose k numbers of topic X; the other topic may have
                    // events among them, sent after the loss (Redis order)
                    // or before (head passed).
                    let topic: &'static str = if (r >> 8) % 2 == 0 { "t" } else { "u" };
                    let other: &'static str = if topic == "t" { "u" } else { "t" };
                    let a = seq;
                    let k = 1 + (r >> 10) % 4;
                    let mut events = Vec::new();
                    for i in 0..k {
                        seq += 1;
                        if (r >> (14 + i)) % 2 == 0 {
                            events.push(fed(seq, other));
                            published.entry(other).or_default().push(seq);
                        }
                    }
                    let b = seq;
                    {
                        let mut kept = store.kept.lock().unwrap();
                        let log = kept.entry(topic).or_default();
                        log.0.retain(|&s, _| s > b);
                        log.1 = b;
                    }
                    // Where the hub's loss starts: the topic's newest
                    // event, or its previous loss's end (`mark_lost`).
                    let a_eff = published
                        .get(topic)
                        .and_then(|v| v.last().copied())
                        .unwrap_or(0)
                        .max(
                            losses
                                .iter()
                                .filter(|l| l.0 == topic)
                                .map(|l| l.2)
                                .max()
                                .unwrap_or(0),
                        )
                        .min(a);
                    losses.push((topic, a_eff, b));
                    let redis_order = (r >> 20) % 2 == 0;
                    ops.push(format!(
                        "lose {topic} ({a},{b}] other {:?} {}",
                        events.iter().map(|e| e.seq).collect::<Vec<_>>(),
                        if redis_order {
                            "lost-first"
                        } else {
                            "events-first"
                        }
                    ));
                    if redis_order {
                        feed.send(lost(topic, b)).unwrap();
                        send2(&store, &feed, events, b);
                    } else {
                        send2(&store, &feed, events, b);
                        feed.send(lost(topic, b)).unwrap();
                    }
                }
                _ => {
                    let which = (r >> 8) as usize % 3;
                    let k = 1 + (r >> 12) as usize % 4;
                    let_the_feed_task_run().await;
                    let got = read(&mut subs[which], k).await;
                    ops.push(format!("read[{which}]({k}) -> {got:?}"));
                    outs[which].extend(got);
                }
            }
            if (r >> 30) % 2 == 0 {
                let_the_feed_task_run().await;
            }
        }
        let_the_feed_task_run().await;
        for (which, s) in subs.iter_mut().enumerate() {
            let got = read(s, 10_000).await;
            ops.push(format!("final read[{which}] -> {got:?}"));
            outs[which].extend(got);
        }
        // Check.
        let mut problems = Vec::new();
        for (which, out) in outs.iter().enumerate() {
            let topics = sets[which];
            let mine: Vec<u64> = {
                let mut v: Vec<u64> = topics
                    .iter()
                    .flat_map(|t| published.get(t).cloned().unwrap_or_default())
                    .collect();
                v.sort_unstable();
                v.dedup();
                v
            };
            let mut last_event: Option<u64> = None;
            let mut gap_since = false;
            let mut last_gap: Option<u64> = None;
            for e in out {
                let num: u64 = e
                    .trim_start_matches("gap@")
                    .trim_start_matches(|c: char| c.is_ascii_alphabetic())
                    .chars()
                    .take_while(char::is_ascii_digit)
                    .collect::<String>()
                    .parse()
                    .unwrap();
                if e.starts_with("gap@") {
                    if let Some(g) = last_gap.filter(|_| gap_since) {
                        if num <= g {
                            problems.push(format!("reader {which}: gap@{num} again after gap@{g}"));
                        }
                    }
                    gap_since = true;
                    last_gap = Some(num);
                    continue;
                }
                if let Some(p) = last_event {
                    if num <= p {
                        problems.push(format!("reader {which}: {num} not after {p}"));
                    }
                    if !gap_since {
                        let missing: Vec<_> = mine.iter().filter(|&&s| s > p && s < num).collect();
                        if !missing.is_empty() {
                            problems.push(format!(
                                "reader {which}: skipped {missing:?} between {p} and {num}"
                            ));
                        }
                    }
                }
                if let Some(g) = last_gap {
                    if num <= g {
                        problems.push(format!("reader {which}: event {num} not past gap {g}"));
                    }
                    if gap_since {
                        let missing: Vec<_> = mine.iter().filter(|&&s| s > g && s < num).collect();
                        if !missing.is_empty() {
                            problems.push(format!(
                                "reader {which}: skipped {missing:?} between gap@{g} and {num}"
                            ));
                        }
                    }
                }
                last_event = Some(num);
                gap_since = false;
            }
            // Each loss of its topics is told (in a multi-topic stream,
            // possibly early): by a gap after the last event of its topic
            // before it and before the first event after it.
            let seqs: Vec<Option<u64>> = out
                .iter()
                .map(|e| {
                    (!e.starts_with("gap@") && e != "END").then(|| {
                        e.trim_start_matches(|c: char| c.is_ascii_alphabetic())
                            .parse()
                            .unwrap()
                    })
                })
                .collect();
            for l in losses.iter().filter(|l| topics.contains(&l.0)) {
                let (x, a, b) = *l;
                let of_x = published.get(x).cloned().unwrap_or_default();
                let Some(first_after) = seqs.iter().position(|s| s.is_some_and(|s| s > b)) else {
                    continue;
                };
                let from = seqs[..first_after]
                    .iter()
                    .rposition(|s| s.is_some_and(|s| s <= a && of_x.contains(&s)))
                    .map_or(0, |i| i + 1);
                if !out[from..first_after].iter().any(|e| e.starts_with("gap@")) {
                    problems.push(format!(
                        "reader {which}: loss {x}({a},{b}] untold before {}",
                        out[first_after]
                    ));
                }
            }
            if let Some(&newest) = mine.last() {
                if last_event != Some(newest) {
                    problems.push(format!(
                        "reader {which}: ends at {last_event:?}, not {newest}"
                    ));
                }
            }
        }
        if !problems.is_empty() {
            eprintln!("seed {seed} (max_events {max_events}): {problems:?}");
            if only.is_some() {
                for op in &ops {
                    eprintln!("  {op}");
                }
                eprintln!("  outs: {outs:?}");
            }
            failures.push(seed);
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing seeds: {:?}",
        failures.len(),
        &failures[..failures.len().min(30)]
    );
}

/// G3 (no loss involved; as before the loss work). A failed replay of t's
/// evicted events (through 3) is signalled by one gap that resumes after 1
/// (u2 is still in u's log): the signal comes where events may first be
/// missing, and u2, held, follows it; t3 is covered by that signal, not
/// told again after u2. (The review asked for a signal between u2 and t4;
/// telling it there would mean asking the store again for t after every
/// event of u, a round trip each, with no end while u has events.) A gap
/// in a subscription to several topics is told at the earliest position
/// the missing events can have.
#[tokio::test(start_paused = true)]
async fn g3_a_failed_replay_is_told_before_the_held_events_it_covers() {
    let h = Harness::new();
    *h.store.lost_through.lock().unwrap() = u64::MAX; // nothing replayable
    let hub = two_topic_hub(&h, 2, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    // t: 1, 3, 4, 5 (its log keeps 4, 5: 1, 3 evicted); u: 2.
    h.feed
        .send(FeedItem::Events {
            events: vec![
                fed(1, "t"),
                fed(2, "u"),
                fed(3, "t"),
                fed(4, "t"),
                fed(5, "t"),
            ],
            through: 5,
        })
        .unwrap();
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 20).await;
    eprintln!("got: {got:?}");
    assert_eq!(
        got,
        [
            r#"gap@1 {"reason":"lagged","lastEventId":""}"#,
            "u2",
            "t4",
            "t5"
        ]
    );
    assert_ids_increase(&got);
}

/// G4 (silent skip, no loss involved). Restored events are delivered
/// before a gap found meanwhile in another topic: `read` holds a
/// `Read::Gap` back while `restored` is not empty, and the restored t5 is
/// the smallest candidate, though u's 3, 4, evicted after the round was
/// taken in, come before it. Once t5 is delivered the cursor (5) is past
/// u's evicted mark (4): u3, u4 are never replayed nor signalled.
#[tokio::test(start_paused = true)]
async fn g4_restored_events_go_before_another_topics_newer_eviction() {
    let (hub, store, feed) = fed2_hub(2, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    send2(&store, &feed, vec![fed(1, "t")], 1);
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 1).await, ["t1"]);
    // t: 2, 5, 6, 7 (its log keeps 6, 7); u: 3, 4 (in its log).
    send2(
        &store,
        &feed,
        vec![
            fed(2, "t"),
            fed(3, "u"),
            fed(4, "u"),
            fed(5, "t"),
            fed(6, "t"),
            fed(7, "t"),
        ],
        7,
    );
    let_the_feed_task_run().await;
    // t's 2, 5 are replayed; the first is read.
    assert_eq!(read(&mut subscription, 1).await, ["t2"]);
    // u's 8, 9 come: u's log evicts 3, 4.
    send2(&store, &feed, vec![fed(8, "u"), fed(9, "u")], 9);
    let_the_feed_task_run().await;
    let got = read(&mut subscription, 20).await;
    eprintln!("got: {got:?}");
    eprintln!("stats {:?}", hub.stats());
    // At 58c56cc: [t5, t6, t7, u8, u9]: u3, u4 skipped, no gap.
    assert_eq!(got, ["u3", "u4", "t5", "t6", "t7", "u8", "u9"]);
}

/// G5 (a gap told twice at the same position). Two topics' losses met
/// in one read, Redis's order (the losses before the reply's events, so
/// the head is below both): `Read::Lost` deals with both topics only up to
/// the smaller `through` (u's 5), and `skip_gap` stops at the head (1).
/// The next read meets t's loss again (dealt with up to 5 of 8) and tells
/// it again at 1. Two `lost` gaps with the same id (F5 held this to be a
/// fault); each topic dealt with up to its own `through` would tell one.
#[tokio::test(start_paused = true)]
async fn g5_two_losses_met_together_are_told_twice_at_the_head() {
    let h = Harness::new();
    let hub = two_topic_hub(&h, 100, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(1, "t"), fed(1, "u")],
            through: 1,
        })
        .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 1).await, ["t1"]);
    // One Redis reply: u's 6 (prev 5), t's 9 (prev 8).
    h.feed.send(lost("u", 5)).unwrap();
    h.feed.send(lost("t", 8)).unwrap();
    let_the_feed_task_run().await;
    let mut got = read(&mut subscription, 10).await;
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(6, "u"), fed(9, "t")],
            through: 9,
        })
        .unwrap();
    let_the_feed_task_run().await;
    got.extend(read(&mut subscription, 10).await);
    eprintln!("got: {got:?}");
    // At 58c56cc: [gap@1 lost, gap@1 lost, u6, t9].
    assert_eq!(
        got,
        [r#"gap@1 {"reason":"lost","lastEventId":""}"#, "u6", "t9"]
    );
}

/// Sound: a subscriber of two topics that joins in F1's window (a loss
/// reported past the head) never meets it, reads the other topic's events
/// inside the lost range, and then reads on from the tails.
#[tokio::test(start_paused = true)]
async fn sound_a_fresh_two_topic_reader_in_the_loss_window() {
    let h = Harness::new();
    let hub = two_topic_hub(&h, 100, LagPolicy::SignalGap);
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(1, "u")],
            through: 1,
        })
        .unwrap();
    h.feed.send(lost("u", 6)).unwrap();
    let_the_feed_task_run().await;
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(4, "t"), fed(7, "u")],
            through: 7,
        })
        .unwrap();
    let_the_feed_task_run().await;
    assert_eq!(read(&mut subscription, 10).await, ["t4", "u7"]);
    for seq in 8..=12 {
        h.feed
            .send(FeedItem::Events {
                events: vec![fed(seq, if seq % 2 == 0 { "t" } else { "u" })],
                through: seq,
            })
            .unwrap();
    }
    let_the_feed_task_run().await;
    assert_eq!(
        read(&mut subscription, 10).await,
        ["t8", "u9", "t10", "u11", "t12"]
    );
    assert_eq!(hub.stats().gaps, 0);
}

/// G6 (low, multi-topic only): NATS's form (every topic lost through the
/// same number, reported after the events before it). `mark_lost` starts
/// t's loss after t's newest event (1), though the head (2) says t has
/// none up to 2: the loss is told at 1, before u2, and u's at 5: two gaps
/// for one loss. (Starting a loss after max(newest, head) would tell one.)
#[tokio::test(start_paused = true)]
#[ignore = "known (issue 16): two gaps for one loss in two topics; starting a loss at the head made the two-topic search skip an event, so it is left"]
async fn g6_a_loss_in_both_topics_through_the_same_number_is_told_twice() {
    let h = Harness::new();
    let hub = two_topic_hub(&h, 100, LagPolicy::SignalGap);
    let mut subscription = hub.subscribe(&["t", "u"], None).unwrap();
    assert!(read(&mut subscription, 1).await.is_empty());
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(1, "t"), fed(2, "u")],
            through: 2,
        })
        .unwrap();
    h.feed.send(lost("t", 5)).unwrap();
    h.feed.send(lost("u", 5)).unwrap();
    h.feed
        .send(FeedItem::Events {
            events: vec![fed(6, "u"), fed(7, "t")],
            through: 7,
        })
        .unwrap();
    let_the_feed_task_run().await;
    // At 58c56cc: [t1, gap@1 lost, u2, gap@5 lost, u6, t7].
    assert_eq!(
        read(&mut subscription, 10).await,
        [
            "t1",
            "u2",
            r#"gap@5 {"reason":"lost","lastEventId":""}"#,
            "u6",
            "t7"
        ]
    );
}

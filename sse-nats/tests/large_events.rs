//! A client with an old cursor resuming over large events: the replay comes
//! whole, in order, without a false gap, in fetches bounded by bytes.
#![allow(clippy::print_stderr, missing_docs)]

mod common;

use std::time::{Duration, Instant};

use sse_engine::hub::{Hub, LogLimits};

use common::{NatsServer, cursor, ids, next_n, publish, quiet};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_over_large_events_is_exact_and_bounded_in_time() {
    let Some(nats) = NatsServer::start("large-event resume") else {
        return;
    };
    let a = nats.hub("LARGE").await;
    let first = publish(&a, "t", "first").await;
    let mut expected = Vec::new();
    for n in 0..400 {
        let text = format!("{n:04}{}", "x".repeat(60_000));
        expected.push(publish(&a, "t", &text).await.to_string());
    }
    // A late instance whose log holds few events: the replay comes from
    // the stream, in rounds of 100 events, fetches of at most 1 MiB.
    let store = nats
        .builder("LARGE")
        .fetch_bytes(1 << 20)
        .connect()
        .await
        .unwrap();
    let late = Hub::builder()
        .store(store)
        .log_limits(LogLimits::new().max_events(100).max_bytes(8 << 20))
        .build();
    let started = Instant::now();
    let mut resumed = late.subscribe(&["t"], cursor(&first)).unwrap();
    let replayed = next_n(&mut resumed, 400).await;
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(ids(&replayed), expected);
    assert!(
        replayed
            .iter()
            .enumerate()
            .all(|(n, event)| event.data().starts_with(&format!("{n:04}"))
                && event.data().len() == 60_004)
    );
    quiet(&mut resumed).await;
    assert_eq!(late.stats().gaps, 0);
}

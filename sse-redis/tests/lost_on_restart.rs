//! A Redis restarted without persistence loses what it held: a subscriber
//! that was caught up is told `lost` (issue 16), never `lagged`, and a hub
//! that closes lagging streams keeps it open.
#![allow(clippy::print_stderr, missing_docs)]

mod common;

use std::time::Duration;

use sse_engine::Event;
use sse_engine::hub::{Hub, LagPolicy};

use common::{RedisServer, next_n, publish_when_back, quiet};

async fn hub_on(redis: &RedisServer, prefix: &str, policy: LagPolicy) -> Hub {
    let store = sse_redis::RedisStore::builder(redis.url())
        .prefix(prefix)
        .backoff(Duration::from_millis(20), Duration::from_millis(200))
        .connect()
        .await
        .expect("connects to the test redis-server");
    Hub::builder().store(store).lag_policy(policy).build()
}

/// A live subscriber that was caught up is
/// told `lost` (not `lagged`), once, with an empty lastEventId and an id
/// just before the first event after the restart; it is not counted as
/// lagged, and `LagPolicy::Close` does not end its stream.
#[tokio::test]
async fn a_caught_up_subscriber_is_told_lost_when_redis_restarts_empty() {
    for policy in [LagPolicy::SignalGap, LagPolicy::Close] {
        let Some(mut redis) = RedisServer::start_with("restart without persistence", false) else {
            return;
        };
        let hub = hub_on(&redis, "lost-restart:", policy).await;
        let mut live = hub.subscribe(&["t"], None).unwrap();
        for text in ["before-1", "before-2"] {
            hub.publish("t", Event::new().data(text)).await.unwrap();
        }
        let data: Vec<_> = next_n(&mut live, 2)
            .await
            .iter()
            .map(|e| e.data().to_owned())
            .collect();
        assert_eq!(data, ["before-1", "before-2"], "{policy:?}: caught up");

        redis.restart();
        let after = publish_when_back(&hub, "t", "after").await;

        let events = next_n(&mut live, 2).await;
        assert_eq!(events[0].event_type(), "gap", "{policy:?}: {events:?}");
        assert_eq!(
            events[0].data(),
            r#"{"reason":"lost","lastEventId":""}"#,
            "{policy:?}"
        );
        // The gap moves the client's Last-Event-ID to just before "after".
        let gap_seq: u64 = events[0]
            .last_event_id()
            .rsplit('-')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(gap_seq + 1, after.seq(), "{policy:?}");
        assert_eq!(events[1].data(), "after", "{policy:?}");
        assert_eq!(events[1].last_event_id(), after.to_string());
        quiet(&mut live).await;
        let stats = hub.stats();
        assert_eq!(stats.gaps, 1, "{policy:?}: {stats:?}");
        assert_eq!(stats.lagged, 0, "{policy:?}: nobody lagged: {stats:?}");

        // The stream goes on.
        hub.publish("t", Event::new().data("later")).await.unwrap();
        assert_eq!(next_n(&mut live, 1).await[0].data(), "later");
    }
}

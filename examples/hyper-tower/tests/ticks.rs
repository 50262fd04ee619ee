//! The hyper example on 127.0.0.1: ticks stream, and a client that reconnects
//! gets exactly the ticks it missed.

use std::time::Duration;

use example_chat_common::suite::Stream;
use sse_engine::hub::Hub;

#[tokio::test]
async fn ticks_stream_and_a_reconnect_resumes_exactly() {
    let hub = Hub::new();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(example_hyper_tower::serve(listener, hub.clone()));
    tokio::spawn(example_hyper_tower::tick(
        hub.clone(),
        Duration::from_millis(20),
    ));

    let mut stream = Stream::open(&base, "", None).await;
    let first = stream.next(2).await;
    assert_eq!(first[0].event_type(), "tick");
    drop(stream);

    // Ticks go on while the client is away; it comes back with its last id.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let last = first[1].last_event_id().to_owned();
    let mut stream = Stream::open(&base, "", Some(&last)).await;
    let resumed = stream.next(3).await;
    let seq = |id: &str| id.rsplit('-').next().unwrap().parse::<u64>().unwrap();
    assert_eq!(
        seq(resumed[0].last_event_id()),
        seq(&last) + 1,
        "exactly the next tick"
    );
    assert_eq!(seq(resumed[2].last_event_id()), seq(&last) + 3);
}

//! What the store's check of a consumer's passed-over runs (`gaps.rs`)
//! relies on, asked of a real `nats-server`: one `STREAM.MSG.GET` with
//! `next_by_subj` and a wildcard finds the first message at or after a
//! sequence number on any subject, so a message held in the middle of a
//! run whose ends were deleted is found (the feed's reader asked for the
//! run's two ends only, and missed it).
#![allow(missing_docs)]

mod common;

use async_nats::jetstream;
use async_nats::jetstream::stream::RawMessageErrorKind;

use common::NatsServer;

#[tokio::test]
async fn one_wildcard_request_finds_a_message_between_deleted_ones() {
    let Some(nats) = NatsServer::start("leader check") else {
        return;
    };
    let client = async_nats::connect(nats.url()).await.expect("connects");
    let js = jetstream::new(client);
    let stream = js
        .create_stream(jetstream::stream::Config {
            name: "GAPS".into(),
            subjects: vec!["gaps.>".into()],
            ..Default::default()
        })
        .await
        .expect("stream");
    for subject in ["gaps.a", "gaps.b.c", "gaps.a", "gaps.d"] {
        js.publish(subject, "x".into())
            .await
            .expect("sent")
            .await
            .expect("stored");
    }
    // 1..=4 stored; 2 and 4 deleted: the run 2..=4 still holds 3.
    stream.delete_message(2).await.expect("deleted");
    stream.delete_message(4).await.expect("deleted");

    let next = |from: u64, subject: &'static str| {
        let stream = stream.clone();
        async move {
            match stream
                .raw_message_builder()
                .sequence(from)
                .next_by_subject(subject)
                .send()
                .await
            {
                Ok(message) => Some(message.sequence),
                Err(error) if error.kind() == RawMessageErrorKind::NoMessageFound => None,
                Err(error) => panic!("asked from {from} on {subject}: {error}"),
            }
        }
    };
    assert_eq!(next(2, "gaps.>").await, Some(3), "the middle of the run");
    assert_eq!(next(4, "gaps.>").await, None, "nothing at or after 4");
    assert_eq!(next(2, "gaps.d").await, None, "4, on gaps.d, was deleted");
    assert_eq!(next(1, "gaps.a").await, Some(1));
    assert_eq!(next(2, "gaps.a").await, Some(3));
}

//! Review of `Idempotency-Key` on actix-web's `POST /messages` (issue 16):
//! header values the suite does not send, and one key posted at once by
//! many clients.
#![allow(missing_docs)]

use example_chat_common::retried_posts::post_with_keys;

mod common;

#[tokio::test]
async fn odd_header_values_are_refused_or_read_as_the_same_key() {
    let base = format!("http://{}", common::start_with(example_chat_common::hub()));
    let bad: [&[u8]; 4] = [b"caf\xc3\xa9", b"a\tb", b"\"\"", b"\"a b\""];
    for value in bad {
        let (status, answer) = post_with_keys(&base, &[value], r#"{"data":"x"}"#).await;
        assert_eq!(status, 400, "{value:?}: {answer}");
    }
    let inner = "q".repeat(128);
    let quoted = format!("\"{inner}\"");
    let (status, first) = post_with_keys(&base, &[quoted.as_bytes()], r#"{"data":"q"}"#).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = post_with_keys(&base, &[inner.as_bytes()], r#"{"data":"q"}"#).await;
    assert_eq!((status, again), (200, first));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_posted_at_once_by_many_is_published_once() {
    let hub = example_chat_common::hub();
    let base = format!("http://{}", common::start_with(hub.clone()));
    let before = hub.stats().published;
    let mut posts = Vec::new();
    for _ in 0..12 {
        let base = base.clone();
        posts.push(tokio::spawn(async move {
            post_with_keys(&base, &[b"many-1"], r#"{"data":"once"}"#).await
        }));
    }
    let mut answers = Vec::new();
    for post in posts {
        answers.push(post.await.unwrap());
    }
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );
    assert_eq!(answers[0].0, 200);
    assert_eq!(hub.stats().published, before + 1);
}

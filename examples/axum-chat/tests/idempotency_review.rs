//! Review of `Idempotency-Key` on `POST /messages` (issue 16): header
//! values the suite does not send, a key whose first post was refused,
//! and the same key posted at once by many clients.
#![allow(missing_docs)]

use std::future::IntoFuture;

use example_chat_common::retried_posts::post_with_keys;
use example_chat_common::suite;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn start_with(hub: sse_axum::hub::Hub) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let chat = example_chat_common::Chat::new(hub).with_body_read_timeout(suite::BODY_READ_TIMEOUT);
    let app = example_axum_chat::app(chat);
    tokio::spawn(sse_axum::serve(listener, app).into_future());
    format!("http://{address}")
}

/// One `POST /messages` written by hand, with `header_line` as it is.
async fn raw_post(base: &str, header_line: &[u8], body: &str) -> String {
    let address = base.strip_prefix("http://").unwrap();
    let mut socket = tokio::net::TcpStream::connect(address).await.unwrap();
    let mut request = format!(
        "POST /messages HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
         content-length: {}\r\nconnection: close\r\n",
        body.len()
    )
    .into_bytes();
    request.extend_from_slice(header_line);
    request.extend_from_slice(b"\r\n\r\n");
    request.extend_from_slice(body.as_bytes());
    socket.write_all(&request).await.unwrap();
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.unwrap();
    String::from_utf8_lossy(&answer).into_owned()
}

#[tokio::test]
async fn odd_header_values_are_refused_or_read_as_the_same_key() {
    let base = start_with(example_chat_common::hub()).await;
    let bad: [&[u8]; 4] = [b"caf\xc3\xa9", b"a\tb", b"\"\"", b"\"a b\""];
    for value in bad {
        let (status, answer) = post_with_keys(&base, &[value], r#"{"data":"x"}"#).await;
        assert_eq!(status, 400, "{value:?}: {answer}");
    }
    // DEL, which the http crate will not even build: written by hand.
    let del = raw_post(&base, b"idempotency-key: a\x7fb", r#"{"data":"x"}"#).await;
    assert!(del.starts_with("HTTP/1.1 400"), "{del}");
    let inner = "q".repeat(128);
    let quoted = format!("\"{inner}\"");
    let (status, first) = post_with_keys(&base, &[quoted.as_bytes()], r#"{"data":"q"}"#).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = post_with_keys(&base, &[inner.as_bytes()], r#"{"data":"q"}"#).await;
    assert_eq!((status, again), (200, first));

    // Spaces around the value are not the key's.
    let spaced = raw_post(&base, b"idempotency-key:   ws-1  \t", r#"{"data":"w"}"#).await;
    assert!(spaced.starts_with("HTTP/1.1 200"), "{spaced}");
    let body = spaced.split("\r\n\r\n").nth(1).unwrap().to_owned();
    let (status, plain) = post_with_keys(&base, &[b"ws-1"], r#"{"data":"w"}"#).await;
    assert_eq!(status, 200);
    assert!(body.contains(&plain), "{body} vs {plain}");
}

#[tokio::test]
async fn a_key_whose_first_post_was_refused_posts_when_sent_right() {
    let hub = example_chat_common::hub();
    let base = start_with(hub.clone()).await;
    let (status, _) = post_with_keys(&base, &[b"fix-1"], "not json").await;
    assert_eq!(status, 400);
    let before = hub.stats().published;
    let (status, first) = post_with_keys(&base, &[b"fix-1"], r#"{"data":"fixed"}"#).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(hub.stats().published, before + 1);
    let (status, again) = post_with_keys(&base, &[b"fix-1"], r#"{"data":"fixed"}"#).await;
    assert_eq!((status, again), (200, first));
    assert_eq!(hub.stats().published, before + 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_key_posted_at_once_by_many_is_published_once() {
    let hub = example_chat_common::hub();
    let base = start_with(hub.clone()).await;
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

//! `POST /messages` with an `Idempotency-Key`: a retried post is published
//! once; odd header values are refused or read as the key they quote; a key
//! whose first post was refused is free; one key posted at once by many
//! clients is published once. Run by `example-axum-chat` and
//! `example-actix-chat` alike.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;
use sse_engine::hub::Hub;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::suite::{Stream, send};

/// Posts `body` with the `Idempotency-Key` header values given; the status
/// and answer.
pub async fn post_with_keys(base: &str, keys: &[&[u8]], body: &str) -> (u16, String) {
    let mut request =
        Request::post(format!("{base}/messages")).header("content-type", "application/json");
    for key in keys {
        request = request.header("idempotency-key", *key);
    }
    let request = request
        .body(Full::new(Bytes::from(body.to_owned())))
        .expect("request");
    let (status, body, content_type) = send(request).await;
    assert_eq!(content_type.as_deref(), Some("application/json"), "{body}");
    (status, body)
}

/// A message posted again with the same `Idempotency-Key` (a client that
/// retries after a timeout) is answered `200` with the first one's id, and
/// reaches each client once; another key is another message; a malformed
/// key is refused with `400` and publishes nothing.
pub async fn a_retried_post_with_an_idempotency_key_is_published_once(base: &str) {
    let mut first_client = Stream::open(base, "", None).await;
    first_client.ready().await;
    let mut second_client = Stream::open(base, "", None).await;
    second_client.ready().await;
    // Unique per run: a shared store remembers keys across servers.
    let key = format!("retry-{:x}", rand_suffix());

    let message = r#"{"data":"sent twice"}"#;
    let (status, first) = post_with_keys(base, &[key.as_bytes()], message).await;
    assert_eq!(status, 200, "{first}");
    // Quoted, as the IETF draft writes the header: the same key.
    let quoted = format!("\"{key}\"");
    for retry in [key.as_bytes(), quoted.as_bytes()] {
        let (status, again) = post_with_keys(base, &[retry], message).await;
        assert_eq!((status, &again), (200, &first), "the same id");
    }

    let bad: [(&[&[u8]], &str); 4] = [
        (&[b"has space"], "visible ASCII"),
        (&[b""], "empty"),
        (&[b"a", b"b"], "more than one"),
        (&[&[b'k'; 129]], "129 bytes"),
    ];
    for (keys, reason) in bad {
        let (status, answer) = post_with_keys(base, keys, r#"{"data":"refused"}"#).await;
        assert_eq!(status, 400, "{answer}");
        assert!(answer.contains("Idempotency-Key"), "{answer}");
        assert!(answer.contains(reason), "{reason}: {answer}");
    }

    let other_key = format!("{key}-other");
    let (status, other) =
        post_with_keys(base, &[other_key.as_bytes()], r#"{"data":"other key"}"#).await;
    assert_eq!(status, 200, "{other}");
    assert_ne!(other, first);
    let id = |answer: &str| {
        answer
            .strip_prefix(r#"{"id":""#)
            .and_then(|rest| rest.strip_suffix(r#""}"#))
            .unwrap_or_else(|| panic!("not an id answer: {answer}"))
            .to_owned()
    };
    for client in [&mut first_client, &mut second_client] {
        let events = client.next(2).await;
        let got: Vec<(&str, String)> = events
            .iter()
            .map(|event| (event.data(), event.last_event_id().to_owned()))
            .collect();
        assert_eq!(
            got,
            [("sent twice", id(&first)), ("other key", id(&other))],
            "once each, nothing refused in between"
        );
    }
}

/// One `POST /messages` written by hand, with `header_line` as it is (for
/// header values the `http` crate will not build); the whole answer.
async fn raw_post(base: &str, header_line: &[u8], body: &str) -> String {
    let mut socket = send_head(base, header_line, body.len(), "connection: close\r\n").await;
    socket.write_all(body.as_bytes()).await.expect("write");
    let mut answer = Vec::new();
    socket.read_to_end(&mut answer).await.expect("read");
    String::from_utf8_lossy(&answer).into_owned()
}

/// Connects to `base` and sends the head of a `POST /messages` announcing
/// `body_len` bytes of JSON, with `extra` and `header_line` among its
/// headers.
async fn send_head(
    base: &str,
    header_line: &[u8],
    body_len: usize,
    extra: &str,
) -> tokio::net::TcpStream {
    let address = base.strip_prefix("http://").expect("an http:// base");
    let mut socket = tokio::net::TcpStream::connect(address)
        .await
        .expect("connect");
    let mut head = format!(
        "POST /messages HTTP/1.1\r\nhost: {address}\r\ncontent-type: application/json\r\n\
         content-length: {body_len}\r\n{extra}"
    )
    .into_bytes();
    head.extend_from_slice(header_line);
    head.extend_from_slice(b"\r\n\r\n");
    socket.write_all(&head).await.expect("write");
    socket
}

/// Sends the head of a `POST /messages` announcing a 1,000-byte body, with
/// `header_line` among its headers, and never the body; returns the
/// answer's head, which must come within 5 s.
async fn answer_without_body(base: &str, header_line: &[u8]) -> String {
    let mut socket = send_head(base, header_line, 1_000, "").await;
    let mut answer = Vec::new();
    let read_head = async {
        let mut chunk = [0; 1024];
        while !answer.windows(4).any(|window| window == b"\r\n\r\n") {
            let read = socket.read(&mut chunk).await.expect("read");
            if read == 0 {
                break;
            }
            answer.extend_from_slice(&chunk[..read]);
        }
    };
    tokio::time::timeout(std::time::Duration::from_secs(5), read_head)
        .await
        .expect("an answer while the body is unsent");
    String::from_utf8_lossy(&answer).into_owned()
}

/// Header values the suite does not send: not visible ASCII (UTF-8, a tab,
/// DEL) or an empty or spaced quoted string are refused with `400`; a quoted
/// 128-byte key is the key it quotes; spaces around a value are not the
/// key's.
pub async fn odd_header_values_are_refused_or_read_as_the_same_key(base: &str) {
    let bad: [&[u8]; 4] = [b"caf\xc3\xa9", b"a\tb", b"\"\"", b"\"a b\""];
    for value in bad {
        let (status, answer) = post_with_keys(base, &[value], r#"{"data":"x"}"#).await;
        assert_eq!(status, 400, "{value:?}: {answer}");
    }
    // DEL, which the http crate will not even build: written by hand.
    let del = raw_post(base, b"idempotency-key: a\x7fb", r#"{"data":"x"}"#).await;
    assert!(del.starts_with("HTTP/1.1 400"), "{del}");
    // A bad key is answered before the body comes: a client that waits for
    // an answer before sending it (`Expect: 100-continue`) is not left
    // hanging, and a server reads no body it will refuse.
    let unsent = answer_without_body(base, b"idempotency-key: has space").await;
    assert!(unsent.starts_with("HTTP/1.1 400"), "{unsent}");
    let inner = "q".repeat(128);
    let quoted = format!("\"{inner}\"");
    let (status, first) = post_with_keys(base, &[quoted.as_bytes()], r#"{"data":"q"}"#).await;
    assert_eq!(status, 200, "{first}");
    let (status, again) = post_with_keys(base, &[inner.as_bytes()], r#"{"data":"q"}"#).await;
    assert_eq!((status, again), (200, first));

    // Spaces around the value are not the key's.
    let spaced = raw_post(base, b"idempotency-key:   ws-1  \t", r#"{"data":"w"}"#).await;
    assert!(spaced.starts_with("HTTP/1.1 200"), "{spaced}");
    let body = spaced.split("\r\n\r\n").nth(1).expect("a body").to_owned();
    let (status, plain) = post_with_keys(base, &[b"ws-1"], r#"{"data":"w"}"#).await;
    assert_eq!(status, 200);
    assert!(body.contains(&plain), "{body} vs {plain}");
}

/// A post refused for its body (`400`) does not use its key: sent right
/// under the same key, it is published, once (`hub` is the server's).
pub async fn a_key_whose_first_post_was_refused_posts_when_sent_right(base: &str, hub: &Hub) {
    let (status, _) = post_with_keys(base, &[b"fix-1"], "not json").await;
    assert_eq!(status, 400);
    let before = hub.stats().published;
    let (status, first) = post_with_keys(base, &[b"fix-1"], r#"{"data":"fixed"}"#).await;
    assert_eq!(status, 200, "{first}");
    assert_eq!(hub.stats().published, before + 1);
    let (status, again) = post_with_keys(base, &[b"fix-1"], r#"{"data":"fixed"}"#).await;
    assert_eq!((status, again), (200, first));
    assert_eq!(hub.stats().published, before + 1);
}

/// Twelve clients post one key at once: all get the same `200` answer, and
/// the message is published once (`hub` is the server's; run it on a
/// multi-threaded runtime, so that the posts overlap).
pub async fn the_same_key_posted_at_once_by_many_is_published_once(base: &str, hub: &Hub) {
    let before = hub.stats().published;
    let mut posts = Vec::new();
    for _ in 0..12 {
        let base = base.to_owned();
        posts.push(tokio::spawn(async move {
            post_with_keys(&base, &[b"many-1"], r#"{"data":"once"}"#).await
        }));
    }
    let mut answers = Vec::new();
    for post in posts {
        answers.push(post.await.expect("the post's task"));
    }
    assert!(
        answers.iter().all(|answer| *answer == answers[0]),
        "{answers:?}"
    );
    assert_eq!(answers[0].0, 200);
    assert_eq!(hub.stats().published, before + 1);
}

/// A few random bits, from the standard library's randomly seeded hasher.
pub(crate) fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(u64::from(std::process::id()));
    hasher.finish()
}

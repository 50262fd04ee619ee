//! `POST /messages` with an `Idempotency-Key`: a retried post is published
//! once. Run by `example-axum-chat` and `example-actix-chat` alike.

use bytes::Bytes;
use http_body_util::Full;
use hyper::Request;

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

/// A few random bits, from the standard library's randomly seeded hasher.
pub(crate) fn rand_suffix() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u64(u64::from(std::process::id()));
    hasher.finish()
}

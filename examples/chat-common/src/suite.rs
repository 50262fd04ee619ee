//! The HTTP interface every chat server must serve, checked as a client sees
//! it: a real HTTP/1.1 client on loopback, and the workspace's decoder.
//! `example-axum-chat` and `example-actix-chat` run the same checks.
#![allow(clippy::missing_panics_doc)]

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::Request;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sse_engine::decode::{DecodedEvent, Decoder};

pub use crate::retried_posts::a_retried_post_with_an_idempotency_key_is_published_once;

const WAIT: Duration = Duration::from_secs(10);

type HttpClient = Client<HttpConnector, Full<Bytes>>;

fn client() -> HttpClient {
    Client::builder(TokioExecutor::new()).build_http()
}

/// The status and body of a request.
pub(crate) async fn send(request: Request<Full<Bytes>>) -> (u16, String, Option<String>) {
    let response = client().request(request).await.expect("the server answers");
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    (
        status,
        String::from_utf8_lossy(&body).into_owned(),
        content_type,
    )
}

/// Posts a message; its status and answer.
pub async fn post(base: &str, body: impl Into<Bytes>) -> (u16, String) {
    let request = Request::post(format!("{base}/messages"))
        .header("content-type", "application/json")
        .body(Full::new(body.into()))
        .expect("request");
    let (status, body, content_type) = send(request).await;
    assert_eq!(content_type.as_deref(), Some("application/json"), "{body}");
    (status, body)
}

/// Posts `data` (and an event name) and returns the id the server gave.
pub async fn post_ok(base: &str, data: &str, event: Option<&str>) -> String {
    let message = match event {
        Some(event) => format!(
            r#"{{"data":{},"event":{}}}"#,
            json_string(data),
            json_string(event)
        ),
        None => format!(r#"{{"data":{}}}"#, json_string(data)),
    };
    let (status, answer) = post(base, message).await;
    assert_eq!(status, 200, "{answer}");
    let id = answer
        .strip_prefix(r#"{"id":""#)
        .and_then(|rest| rest.strip_suffix(r#""}"#))
        .unwrap_or_else(|| panic!("not an id answer: {answer}"));
    id.to_owned()
}

fn json_string(text: &str) -> String {
    let mut out = String::from('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// The status and `Allow` header of `method` on `path`.
async fn answer_to(base: &str, method: &str, path: &str) -> (u16, Option<String>, Option<String>) {
    let request = Request::builder()
        .method(method)
        .uri(format!("{base}{path}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let response = client().request(request).await.expect("the server answers");
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::to_owned)
    };
    (
        response.status().as_u16(),
        header("allow"),
        header("content-type"),
    )
}

/// Each route answers only its methods: `GET` (and `HEAD`) for the stream,
/// `POST` for messages, `405` with `Allow` for the others, and nothing else
/// opens a subscription.
pub async fn each_route_answers_only_its_methods(base: &str) {
    // The same bytes on both servers: axum's spelling of the list.
    for method in ["POST", "PUT", "DELETE", "OPTIONS", "PATCH"] {
        let (status, allow, _) = answer_to(base, method, "/events").await;
        assert_eq!(status, 405, "{method} /events");
        assert_eq!(allow.as_deref(), Some("GET,HEAD"), "{method} /events");
    }
    let (status, _, content_type) = answer_to(base, "HEAD", "/events").await;
    assert_eq!(
        (status, content_type.as_deref()),
        (200, Some("text/event-stream"))
    );
    for method in ["GET", "PUT", "DELETE"] {
        let (status, allow, _) = answer_to(base, method, "/messages").await;
        assert_eq!(status, 405, "{method} /messages");
        assert_eq!(allow.as_deref(), Some("POST"), "{method} /messages");
    }
    for method in ["POST", "PUT", "DELETE"] {
        let (status, allow, _) = answer_to(base, method, "/event-names").await;
        assert_eq!(status, 405, "{method} /event-names");
        assert_eq!(allow.as_deref(), Some("GET,HEAD"), "{method} /event-names");
    }
    let (status, _, content_type) = answer_to(base, "HEAD", "/event-names").await;
    assert_eq!(
        (status, content_type.as_deref()),
        (200, Some("application/json"))
    );
    let (status, _, _) = answer_to(base, "GET", "/no-such-page").await;
    assert_eq!(status, 404);
}

/// An open event stream.
#[derive(Debug)]
pub struct Stream {
    body: Incoming,
    decoder: Decoder,
}

impl Stream {
    /// Connects to `/events{query}`, with a `Last-Event-ID` header if given.
    pub async fn open(base: &str, query: &str, last_event_id: Option<&str>) -> Self {
        let mut request = Request::get(format!("{base}/events{query}"));
        if let Some(id) = last_event_id {
            request = request.header("last-event-id", id);
        }
        let response = client()
            .request(request.body(Full::new(Bytes::new())).expect("request"))
            .await
            .expect("the server answers");
        assert_eq!(response.status(), 200);
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        assert_eq!(response.headers()["cache-control"], "no-cache");
        assert!(response.headers().get("content-length").is_none());
        Self {
            body: response.into_body(),
            decoder: Decoder::new(),
        }
    }

    /// The next `count` events (keep-alive comments are skipped by the decoder).
    pub async fn next(&mut self, count: usize) -> Vec<DecodedEvent> {
        let mut events = Vec::new();
        while events.len() < count {
            if let Some(event) = self.decoder.next_event() {
                events.push(event);
                continue;
            }
            let frame = tokio::time::timeout(WAIT, self.body.frame())
                .await
                .expect("an event in time")
                .expect("the stream is open")
                .expect("no transport error");
            if let Ok(data) = frame.into_data() {
                self.decoder.push(&data).expect("a well-formed stream");
            }
        }
        events
    }

    /// Waits until the stream is open on the server: its first frame (the
    /// `retry` line) has arrived.
    pub async fn ready(&mut self) {
        let frame = tokio::time::timeout(WAIT, self.body.frame())
            .await
            .expect("the first frame in time")
            .expect("the stream is open")
            .expect("no transport error");
        if let Ok(data) = frame.into_data() {
            self.decoder.push(&data).expect("a well-formed stream");
        }
    }

    /// Whether the stream ends with no more events (keep-alive comments may
    /// come first).
    pub async fn ended(&mut self) -> bool {
        loop {
            if self.decoder.next_event().is_some() {
                return false;
            }
            let frame = tokio::time::timeout(WAIT, self.body.frame())
                .await
                .expect("the end of the stream in time");
            match frame {
                None => return true,
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.decoder.push(&data).expect("a well-formed stream");
                    }
                }
                // The server closed the connection after the last chunk.
                Some(Err(_)) => return true,
            }
        }
    }
}

/// `GET /` serves the page.
pub async fn the_page_is_served(base: &str) {
    let request = Request::get(format!("{base}/"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let (status, body, content_type) = send(request).await;
    assert_eq!(status, 200);
    assert!(content_type.is_some_and(|t| t.starts_with("text/html")));
    assert!(body.contains("new EventSource(\"/events?lastEventId=\""));
    assert!(body.contains("fetch(\"/event-names\""));
}

/// `GET /event-names`: the names in use and the id they are known up to,
/// waiting, with `?lastEventId=`, until the server has read that far.
pub async fn event_names(base: &str, last_event_id: Option<&str>) -> (Vec<String>, String) {
    let query = last_event_id.map_or_else(String::new, |id| format!("?lastEventId={id}"));
    let request = Request::get(format!("{base}/event-names{query}"))
        .body(Full::new(Bytes::new()))
        .expect("request");
    let (status, body, content_type) = send(request).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(content_type.as_deref(), Some("application/json"), "{body}");
    let answer: serde_json::Value = serde_json::from_str(&body).expect("JSON");
    let names = answer["names"]
        .as_array()
        .unwrap_or_else(|| panic!("no names: {body}"))
        .iter()
        .map(|name| name.as_str().expect("a name").to_owned())
        .collect();
    let id = answer["lastEventId"]
        .as_str()
        .unwrap_or_else(|| panic!("no lastEventId: {body}"))
        .to_owned();
    (names, id)
}

/// The events a stream gets for `messages` posted on a chat that has seen
/// the names in `announced`: each message with a new name comes after the
/// announcement of that name. As (type, data) pairs; `announced` is updated.
pub fn with_announcements(
    messages: &[(&str, Option<&str>)],
    announced: &mut Vec<String>,
) -> Vec<(String, String)> {
    let mut events = Vec::new();
    for (data, event) in messages {
        let new = |name: &&str| {
            !name.is_empty() && *name != "message" && !announced.iter().any(|known| known == name)
        };
        if let Some(name) = event.filter(new) {
            announced.push(name.to_owned());
            events.push((crate::ANNOUNCEMENT.to_owned(), name.to_owned()));
        }
        let data = data.replace("\r\n", "\n").replace('\r', "\n");
        events.push((event.unwrap_or("message").to_owned(), data));
    }
    events
}

/// A message with a name never used before comes after the announcement of
/// the name, once; `GET /event-names` lists it then, and a stream opened
/// after the id it gives meets every announcement it did not list.
pub async fn new_event_names_are_announced_before_their_first_message(base: &str) {
    let (names, through) = event_names(base, None).await;
    assert!(names.is_empty(), "{names:?}");
    let mut stream = Stream::open(base, &format!("?lastEventId={through}"), None).await;
    let messages = [
        ("first", Some("note")),
        ("second", Some("note")),
        ("plain", None),
        ("named message", Some("message")),
        ("another", Some("shout")),
        ("again", Some("note")),
    ];
    let mut ids = Vec::new();
    for (data, event) in messages {
        ids.push(post_ok(base, data, event).await);
    }
    let expected = with_announcements(&messages, &mut Vec::new());
    let events = stream.next(expected.len()).await;
    let got: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.event_type().to_owned(), e.data().to_owned()))
        .collect();
    assert_eq!(got, expected);
    let message_ids: Vec<&str> = events
        .iter()
        .filter(|e| e.event_type() != crate::ANNOUNCEMENT)
        .map(DecodedEvent::last_event_id)
        .collect();
    assert_eq!(message_ids, ids);

    // Once the server has read up to the last message, it lists both names;
    // a page that loads now listens to them and misses no announcement.
    let last = ids.last().expect("an id");
    let (names, through) = event_names(base, Some(last)).await;
    assert_eq!(names, ["note", "shout"]);
    assert_eq!(&through, last);
    let mut fresh = Stream::open(base, &format!("?lastEventId={through}"), None).await;
    let id = post_ok(base, "to the new page", Some("note")).await;
    let new_name = post_ok(base, "and a new name", Some("whisper")).await;
    let events = fresh.next(3).await;
    let got: Vec<(&str, &str)> = events.iter().map(|e| (e.event_type(), e.data())).collect();
    assert_eq!(
        got,
        [
            ("note", "to the new page"),
            (crate::ANNOUNCEMENT, "whisper"),
            ("whisper", "and a new name"),
        ]
    );
    assert_eq!(events[0].last_event_id(), id);
    assert_eq!(events[2].last_event_id(), new_name);

    // The announcement's name is the server's own.
    let (status, answer) = post(base, r#"{"data":"x","event":"event-name"}"#).await;
    assert_eq!(status, 400, "{answer}");
}

/// At most [`crate::MAX_EVENT_NAMES`] names: a new one past them is refused
/// with `409` and announces nothing; the names in use still work.
pub async fn event_names_are_bounded(base: &str) {
    let mut last = String::new();
    for n in 0..crate::MAX_EVENT_NAMES {
        last = post_ok(base, "x", Some(&format!("name {n}"))).await;
    }
    let mut stream = Stream::open(base, &format!("?lastEventId={last}"), None).await;
    let (status, answer) = post(base, r#"{"data":"x","event":"one too many"}"#).await;
    assert_eq!(status, 409, "{answer}");
    assert!(answer.starts_with(r#"{"error":""#), "{answer}");
    let id = post_ok(base, "still fine", Some("name 7")).await;
    let events = stream.next(1).await;
    assert_eq!(
        (
            events[0].event_type(),
            events[0].data(),
            events[0].last_event_id()
        ),
        ("name 7", "still fine", id.as_str())
    );
    let (names, _) = event_names(base, Some(&id)).await;
    assert_eq!(names.len(), crate::MAX_EVENT_NAMES);
}

/// Every kind of data arrives as it was posted, with its event name and id.
pub async fn posted_messages_arrive_as_posted(base: &str) {
    let mut stream = Stream::open(base, "", None).await;
    stream.ready().await;
    let messages = [
        ("plain", None),
        ("two\nlines", Some("note")),
        ("cr\rcrlf\r\nend", None),
        ("", None),
        ("  leading spaces", Some("spaced")),
        ("Unicode: é € 😀", None),
        ("data: forged\n\nid: 1", None),
    ];
    let mut ids = Vec::new();
    for (data, event) in messages {
        ids.push(post_ok(base, data, event).await);
    }
    // Each new event name is announced first.
    let expected = with_announcements(&messages, &mut Vec::new());
    let events = stream.next(expected.len()).await;
    let got: Vec<(String, String)> = events
        .iter()
        .map(|e| (e.event_type().to_owned(), e.data().to_owned()))
        .collect();
    assert_eq!(got, expected);
    let message_ids: Vec<&str> = events
        .iter()
        .filter(|e| e.event_type() != crate::ANNOUNCEMENT)
        .map(DecodedEvent::last_event_id)
        .collect();
    assert_eq!(message_ids, ids);
}

/// Bad requests are refused with a JSON error, and nothing is published.
pub async fn bad_requests_are_refused_and_publish_nothing(base: &str) {
    let mut stream = Stream::open(base, "", None).await;
    stream.ready().await;
    let oversized = format!(r#"{{"data":"{}"}}"#, "x".repeat(crate::MAX_MESSAGE_BYTES));
    // Small enough to read, too large once encoded (a `data:` line per line
    // break), with a name never used: not even its announcement is published.
    let encoded_too_large = format!(
        r#"{{"data":"{}","event":"never used"}}"#,
        "\\n".repeat(crate::MAX_MESSAGE_BYTES / 2 - 100)
    );
    let long_name = format!(
        r#"{{"data":"x","event":"{}"}}"#,
        "n".repeat(crate::MAX_EVENT_NAME_BYTES + 1)
    );
    let cases: [(Bytes, u16); 9] = [
        (Bytes::from(encoded_too_large), 413),
        (Bytes::from(long_name), 400),
        (Bytes::from_static(br#"{"data":"x","event":"a\nb"}"#), 400),
        (
            Bytes::from_static(br#"{"data":"x","event":"event-name"}"#),
            400,
        ),
        (Bytes::from_static(br#"{"data":"x","event":"a\rb"}"#), 400),
        (Bytes::from_static(b"{not json"), 400),
        (Bytes::from_static(br#"{"event":"no data"}"#), 400),
        (Bytes::from_static(br#"{"data":42}"#), 400),
        (Bytes::from(oversized), 413),
    ];
    for (body, status) in cases {
        let (got, answer) = post(base, body).await;
        assert_eq!(got, status, "{answer}");
        assert!(answer.starts_with(r#"{"error":""#), "{answer}");
    }
    // The next event on the stream is the next good message: nothing else got in.
    let id = post_ok(base, "after the bad ones", None).await;
    let events = stream.next(1).await;
    assert_eq!(events[0].data(), "after the bad ones");
    assert_eq!(events[0].last_event_id(), id);
}

/// A client that reconnects with `Last-Event-ID` (header) or `?lastEventId=`
/// (query) gets exactly what it missed, then live messages.
pub async fn a_reconnecting_client_gets_exactly_what_it_missed(base: &str) {
    let seen = post_ok(base, "seen", None).await;
    let missed: Vec<String> = vec![
        post_ok(base, "missed 1", None).await,
        post_ok(base, "missed 2", None).await,
    ];
    for (query, header) in [
        (String::new(), Some(seen.as_str())),
        (format!("?lastEventId={seen}"), None),
    ] {
        let mut stream = Stream::open(base, &query, header).await;
        let events = stream.next(2).await;
        let ids: Vec<&str> = events.iter().map(DecodedEvent::last_event_id).collect();
        assert_eq!(ids, missed);
        assert_eq!(events[1].data(), "missed 2");
    }
}

/// A cursor the server cannot honour gets the gap signal, never the whole log.
pub async fn an_unknown_cursor_gets_a_gap_signal(base: &str) {
    post_ok(base, "before", None).await;
    let mut stream = Stream::open(base, "", Some("000000000000-1")).await;
    let events = stream.next(1).await;
    assert_eq!(events[0].event_type(), "gap");
    assert!(events[0].data().contains(r#""reason":"foreign""#));
    let id = post_ok(base, "after the gap", None).await;
    let events = stream.next(1).await;
    assert_eq!(events[0].data(), "after the gap");
    assert_eq!(events[0].last_event_id(), id);
}

/// Many clients at once all get every message.
pub async fn many_concurrent_subscribers_all_receive(base: &str, subscribers: usize) {
    let mut streams = Vec::new();
    for _ in 0..subscribers {
        let mut stream = Stream::open(base, "", None).await;
        stream.ready().await;
        streams.push(stream);
    }
    let first = post_ok(base, "to everyone", None).await;
    let second = post_ok(base, "and again", None).await;
    let readers: Vec<_> = streams
        .into_iter()
        .map(|mut stream| tokio::spawn(async move { stream.next(2).await }))
        .collect();
    for reader in readers {
        let events = reader.await.expect("reader");
        assert_eq!(events[0].last_event_id(), first);
        assert_eq!(events[1].last_event_id(), second);
        assert_eq!(events[1].data(), "and again");
    }
}

/// A message the chat cannot take for now (its hub closing, its store
/// unavailable) is refused with `503` and a `Retry-After` in seconds, so
/// that a client knows it may try again and when.
pub async fn a_post_the_hub_cannot_take_now_is_503_with_retry_after(
    base: &str,
    hub: &sse_engine::hub::Hub,
) {
    hub.close(None);
    let request = Request::post(format!("{base}/messages"))
        .header("content-type", "application/json")
        .body(Full::new(Bytes::from_static(br#"{"data":"too late"}"#)))
        .expect("request");
    let response = client().request(request).await.expect("the server answers");
    assert_eq!(response.status().as_u16(), 503);
    let retry_after: u64 = response
        .headers()
        .get("retry-after")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After in seconds");
    assert!(retry_after >= 1, "{retry_after}");
}

/// Clients that go away release their subscriptions: the hub's subscriber
/// count comes back to where it was, within two keep-alive intervals (a
/// server may notice a departed client only when a write to it fails).
pub async fn disconnecting_clients_release_their_subscriptions(
    base: &str,
    hub: &sse_engine::hub::Hub,
) {
    let before = hub.stats().subscribers;
    let mut streams = Vec::new();
    for _ in 0..20 {
        let mut stream = Stream::open(base, "", None).await;
        stream.ready().await;
        streams.push(stream);
    }
    assert_eq!(hub.stats().subscribers, before + 20);
    drop(streams);
    let deadline = tokio::time::Instant::now() + WAIT;
    while hub.stats().subscribers > before {
        assert!(
            tokio::time::Instant::now() < deadline,
            "subscriptions still open after the clients left"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The body read timeout of the chats under test (`Chat::with_body_read_timeout`).
pub const BODY_READ_TIMEOUT: Duration = Duration::from_millis(500);

/// A `POST /messages` whose body arrives a byte at a time (a "slowloris")
/// is answered `408` once the chat's body read timeout
/// ([`BODY_READ_TIMEOUT`] here) has passed, not when the client is done,
/// and publishes nothing.
pub async fn a_body_sent_a_byte_at_a_time_is_refused(base: &str, hub: &sse_engine::hub::Hub) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let address = base.trim_start_matches("http://");
    let stream = tokio::net::TcpStream::connect(address)
        .await
        .expect("the server accepts");
    let (mut reader, mut writer) = stream.into_split();
    writer
        .write_all(
            b"POST /messages HTTP/1.1\r\nHost: chat\r\nContent-Type: application/json\r\n\
              Content-Length: 64\r\nConnection: close\r\n\r\n",
        )
        .await
        .expect("headers sent");
    let started = std::time::Instant::now();
    // One byte every 100 ms, for longer than the timeout: the body never
    // arrives whole before the server answers.
    let drip = tokio::spawn(async move {
        for byte in br#"{"data":"slow..........................................."}"# {
            if writer.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    });
    let mut answer = Vec::new();
    let read = tokio::time::timeout(WAIT, reader.read_to_end(&mut answer)).await;
    drip.abort();
    let answer = String::from_utf8_lossy(&answer);
    assert!(read.is_ok(), "no answer within {WAIT:?}: {answer}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(
        answer.ends_with(r#"{"error":"the message did not arrive within 500 ms"}"#),
        "{answer}"
    );
    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_millis(64 * 100),
        "answered only after {elapsed:?}, when the body was whole"
    );
    assert_eq!(hub.stats().published, 0, "a refused message was published");
}

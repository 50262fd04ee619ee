//! sse-axum through a Router, in process: responses byte for byte, the
//! extractors, and the hub route.

use std::convert::Infallible;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::routing::{get, post};
use futures_util::stream;
use http::{Request, StatusCode};
use http_body_util::BodyExt;
use sse_axum::extract::LastEventId;
use sse_axum::{HubError, Resume, Sse};
use sse_engine::InfallibleStream;
use sse_engine::hub::{Endpoint, Hub, Subscription};
use sse_engine::{Event, RequestCursor};
use sse_tower::last_event_id::ParseLastEventIdLayer;
use tower::ServiceExt;

async fn send(app: &Router, request: Request<Body>) -> (StatusCode, http::HeaderMap, String) {
    let response = app.clone().oneshot(request).await.unwrap();
    let (parts, body) = response.into_parts();
    let bytes = tokio::time::timeout(Duration::from_secs(5), body.collect())
        .await
        .expect("the body ends")
        .unwrap()
        .to_bytes();
    (
        parts.status,
        parts.headers,
        String::from_utf8(bytes.to_vec()).unwrap(),
    )
}

fn get_with(uri: &str, last_event_id: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri);
    if let Some(id) = last_event_id {
        request = request.header("last-event-id", id);
    }
    request.body(Body::empty()).unwrap()
}

#[tokio::test]
async fn sse_responds_with_the_headers_and_exact_bytes_from_get_and_post() {
    async fn events() -> Sse<impl futures_util::TryStream<Ok = Event, Error = Infallible>> {
        Sse::new(stream::iter([
            Ok(Event::new()
                .event("greeting")
                .id(1u64)
                .data("hello\r\nworld")),
            Ok(Event::new().data("")),
        ]))
    }
    let app = Router::new()
        .route("/events", get(events))
        .route("/stream", post(events));
    let (status, headers, body) = send(&app, get_with("/events", None)).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "text/event-stream");
    assert_eq!(headers["cache-control"], "no-cache");
    assert_eq!(headers["x-accel-buffering"], "no");
    assert!(headers.get("content-length").is_none());
    assert_eq!(
        body,
        "event: greeting\nid: 1\ndata: hello\ndata: world\n\ndata:\n\n"
    );

    let post = Request::post("/stream").body(Body::from("{}")).unwrap();
    let (status, _, body) = send(&app, post).await;
    assert_eq!(status, 200);
    assert!(body.starts_with("event: greeting\n"));
}

async fn describe(Resume(cursor): Resume<RequestCursor>) -> String {
    match cursor {
        RequestCursor::Absent => "absent".into(),
        RequestCursor::Valid(id) => format!("valid {id}"),
        RequestCursor::Invalid(error) => format!("invalid: {error}"),
    }
}

async fn optional(resume: Option<Resume<LastEventId>>) -> String {
    resume.map_or_else(|| "none".into(), |Resume(id)| format!("some {id}"))
}

async fn required(Resume(id): Resume<LastEventId>) -> String {
    format!("resume after {id}")
}

/// The names of the first release still compile, and answer the same.
#[allow(deprecated)]
mod first_release {
    use sse_axum::{Cursor, LastEventId, RequestCursor};

    pub(crate) async fn describe(Cursor(cursor): Cursor) -> String {
        super::describe(sse_axum::Resume(cursor)).await
    }

    pub(crate) async fn optional(cursor: Option<LastEventId>) -> String {
        cursor.map_or_else(|| "none".into(), |LastEventId(id)| format!("some {id}"))
    }

    pub(crate) async fn required(LastEventId(id): LastEventId) -> String {
        format!("resume after {id}")
    }

    pub(crate) fn hub_route(hub: sse_engine::hub::Hub) -> axum::routing::MethodRouter {
        let _: fn(RequestCursor) -> Cursor = Cursor;
        sse_axum::hub_route(hub, ["chat"])
    }
}

#[tokio::test]
async fn the_extractors_report_absent_valid_and_invalid_cursors() {
    let app = Router::new()
        .route("/cursor", get(describe))
        .route("/optional", get(optional))
        .route("/required", get(required));
    let old = Router::new()
        .route("/cursor", get(first_release::describe))
        .route("/optional", get(first_release::optional))
        .route("/required", get(first_release::required));
    let huge = "9".repeat(2000);
    let cases = [
        ("/cursor", None, 200, "absent"),
        ("/cursor", Some("7"), 200, "valid 7"),
        ("/cursor?lastEventId=8", None, 200, "valid 8"),
        (
            "/cursor",
            Some(huge.as_str()),
            200,
            "invalid: Last-Event-ID is 2000 bytes long, more than the 1024 allowed",
        ),
        ("/optional", None, 200, "none"),
        ("/optional", Some("7"), 200, "some 7"),
        (
            "/optional",
            Some(huge.as_str()),
            400,
            "Last-Event-ID is 2000 bytes long, more than the 1024 allowed",
        ),
        ("/required", None, 400, "missing Last-Event-ID"),
        ("/required", Some("7"), 200, "resume after 7"),
    ];
    for (uri, id, status, body) in cases {
        for app in [&app, &old] {
            let (got_status, _, got_body) = send(app, get_with(uri, id)).await;
            assert_eq!(
                (got_status.as_u16(), got_body.as_str()),
                (status, body),
                "{uri} {id:?}"
            );
        }
    }
}

#[tokio::test]
async fn the_extractor_agrees_with_the_tower_layer_when_it_ran() {
    // The layer's extension wins: a handler behind it sees what the layer saw.
    let app = Router::new()
        .route("/cursor", get(describe))
        .layer(ParseLastEventIdLayer::new());
    let (_, _, body) = send(&app, get_with("/cursor?lastEventId=%0A", None)).await;
    assert_eq!(body, "invalid: Last-Event-ID contains CR, LF or NUL");
}

#[tokio::test]
async fn endpoint_route_resumes_in_one_line() {
    /// What `endpoint_route` does, written by hand as its docs say.
    async fn own(
        axum::extract::State(endpoint): axum::extract::State<Endpoint>,
        Resume(cursor): Resume<RequestCursor>,
    ) -> Result<Sse<InfallibleStream<Subscription>>, HubError> {
        endpoint.open(cursor).map(Sse::from).map_err(HubError::from)
    }
    let hub = Hub::new();
    let endpoint = Endpoint::new(hub.clone(), ["chat"]);
    let app: Router = Router::new()
        .route("/events", sse_axum::endpoint_route(endpoint.clone()))
        .route("/first-release", first_release::hub_route(hub.clone()))
        .route("/own", get(own).with_state(endpoint));
    let first = hub.publish("chat", Event::new().data("1")).await.unwrap();
    hub.publish("chat", Event::new().data("2")).await.unwrap();
    for path in ["/events", "/first-release", "/own"] {
        let response = app
            .clone()
            .oneshot(get_with(path, Some(&first.to_string())))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(response.headers()["content-type"], "text/event-stream");
        let mut body = response.into_body();
        let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
        assert!(frame.ends_with(b"data: 2\n\n"), "{path}: {frame:?}");
    }
    let (status, headers, _) =
        send(&app, Request::post("/events").body(Body::empty()).unwrap()).await;
    assert_eq!(status, 405);
    assert_eq!(headers["allow"], "GET,HEAD");
    hub.close(None);
    for path in ["/events", "/first-release", "/own"] {
        let (status, headers, _) = send(&app, get_with(path, None)).await;
        assert_eq!(status, 503, "{path}");
        assert_eq!(headers["retry-after"], "5");
    }
}

#[tokio::test]
async fn the_builders_read_as_axum_and_refusals_answer_with_the_hub_policy() {
    async fn ticks() -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
        Sse::new(stream::iter([Ok(Event::new().data("tick"))]))
            .retry(Duration::from_millis(1500))
            .sequence_ids(7)
            .keep_alive(sse_axum::KeepAlive::default())
    }
    async fn publish(
        axum::extract::State(hub): axum::extract::State<Hub>,
        body: String,
    ) -> Result<String, HubError> {
        Ok(hub
            .publish("chat", Event::new().data(body))
            .await?
            .to_string())
    }
    let hub = Hub::builder()
        .log_limits(sse_engine::hub::LogLimits::new().max_event_bytes(64))
        .build();
    let app = Router::new()
        .route("/ticks", get(ticks))
        .route("/messages", post(publish))
        .with_state(hub.clone());

    let (status, _, body) = send(&app, get_with("/ticks", None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "retry: 1500\nid: 7\ndata: tick\n\n");

    let post_body = |text: &str| {
        Request::post("/messages")
            .body(Body::from(text.to_owned()))
            .unwrap()
    };
    let (status, _, _) = send(&app, post_body("hello")).await;
    assert_eq!(status, StatusCode::OK);
    let (status, headers, reason) = send(&app, post_body(&"x".repeat(100))).await;
    assert_eq!(status, StatusCode::PAYLOAD_TOO_LARGE, "{reason}");
    assert!(headers.get("retry-after").is_none());
    hub.close(None);
    let (status, headers, reason) = send(&app, post_body("late")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{reason}");
    assert_eq!(headers["retry-after"], "5");
    assert_eq!(headers["content-type"], "text/plain; charset=utf-8");
}

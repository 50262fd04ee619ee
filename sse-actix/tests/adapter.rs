//! sse-actix in an actix-web app: exact bytes, headers, the Compress
//! middleware, the hub endpoint, and release on disconnect.

use std::convert::Infallible;
use std::future::poll_fn;
use std::pin::pin;

use actix_web::body::MessageBody;
use actix_web::middleware::Compress;
use actix_web::{App, test, web};
use futures_util::stream;
use sse_actix::extract::LastEventId;
use sse_actix::{Resume, Sse};
use sse_engine::hub::{Endpoint, Hub};
use sse_engine::{Event, RequestCursor};

async fn events() -> Sse<impl futures_util::TryStream<Ok = Event, Error = Infallible>> {
    Sse::new(stream::iter([
        Ok(Event::new()
            .event("greeting")
            .id(1u64)
            .data("hello\r\nworld")),
        Ok(Event::new().data("")),
    ]))
}

/// Every chunk of a body, until it ends.
async fn chunks<B: MessageBody>(body: B) -> Vec<bytes::Bytes>
where
    B::Error: std::fmt::Debug,
{
    let mut body = pin!(body);
    let mut out = Vec::new();
    while let Some(chunk) = poll_fn(|cx| body.as_mut().poll_next(cx)).await {
        out.push(chunk.unwrap());
    }
    out
}

#[actix_web::test]
async fn responds_with_the_headers_and_exact_bytes() {
    let app = test::init_service(App::new().route("/events", web::get().to(events))).await;
    let response =
        test::call_service(&app, test::TestRequest::get().uri("/events").to_request()).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers();
    assert_eq!(headers.get("content-type").unwrap(), "text/event-stream");
    assert_eq!(headers.get("cache-control").unwrap(), "no-cache");
    assert_eq!(headers.get("x-accel-buffering").unwrap(), "no");
    assert_eq!(headers.get("content-encoding").unwrap(), "identity");
    assert!(headers.get("content-length").is_none());
    let body = chunks(response.into_body()).await.concat();
    assert_eq!(
        body,
        b"event: greeting\nid: 1\ndata: hello\ndata: world\n\ndata:\n\n"
    );
}

#[actix_web::test]
async fn the_compress_middleware_leaves_the_stream_alone() {
    let app = test::init_service(
        App::new()
            .wrap(Compress::default())
            .route("/events", web::get().to(events)),
    )
    .await;
    let request = test::TestRequest::get()
        .uri("/events")
        .insert_header(("accept-encoding", "gzip"))
        .to_request();
    let response = test::call_service(&app, request).await;
    assert_eq!(
        response.headers().get("content-encoding").unwrap(),
        "identity"
    );
    let body = chunks(response.into_body()).await.concat();
    assert!(body.starts_with(b"event: greeting\n"));
}

async fn describe(Resume(cursor): Resume<RequestCursor>) -> String {
    match cursor {
        RequestCursor::Absent => "absent".into(),
        RequestCursor::Valid(id) => format!("valid {id}"),
        RequestCursor::Invalid(error) => format!("invalid: {error}"),
    }
}

async fn required(Resume(id): Resume<LastEventId>) -> String {
    format!("resume after {id}")
}

async fn optional(resume: Option<Resume<LastEventId>>) -> String {
    resume.map_or_else(|| "none".into(), |Resume(id)| format!("some {id}"))
}

/// The names of the first release still compile, and answer the same.
#[allow(deprecated)]
mod first_release {
    use actix_web::Resource;
    use sse_actix::{Cursor, HubEndpoint, LastEventId};
    use sse_engine::hub::{Endpoint, Hub};

    pub(crate) async fn describe(Cursor(cursor): Cursor) -> String {
        super::describe(sse_actix::Resume(cursor)).await
    }

    pub(crate) async fn required(LastEventId(id): LastEventId) -> String {
        format!("resume after {id}")
    }

    pub(crate) fn resources(hub: &Hub) -> [Resource; 3] {
        [
            actix_web::web::resource("/first-release/route")
                .route(sse_actix::hub_route(hub.clone(), ["chat"])),
            HubEndpoint::new(hub.clone(), ["chat"]).resource("/first-release/resource"),
            actix_web::web::resource("/first-release/from")
                .route(HubEndpoint::from(Endpoint::new(hub.clone(), ["chat"])).route()),
        ]
    }
}

#[actix_web::test]
async fn the_cursor_extractor_reports_every_kind() {
    let app = test::init_service(
        App::new()
            .route("/c", web::get().to(describe))
            .route("/old", web::get().to(first_release::describe)),
    )
    .await;
    let cases = [
        ("", None, "absent"),
        ("", Some("7"), "valid 7"),
        ("?lastEventId=8", None, "valid 8"),
        (
            "?lastEventId=%0A",
            None,
            "invalid: Last-Event-ID contains CR, LF or NUL",
        ),
    ];
    for path in ["/c", "/old"] {
        for (query, header, expected) in cases {
            let mut request = test::TestRequest::get().uri(&format!("{path}{query}"));
            if let Some(id) = header {
                request = request.insert_header(("last-event-id", id));
            }
            let body = test::call_and_read_body(&app, request.to_request()).await;
            assert_eq!(body, expected, "{path}{query} {header:?}");
        }
    }
}

#[actix_web::test]
async fn the_last_event_id_extractor_rejects_missing_and_unusable_ids() {
    let app = test::init_service(
        App::new()
            .route("/r", web::get().to(required))
            .route("/old", web::get().to(first_release::required))
            .route("/o", web::get().to(optional)),
    )
    .await;
    for path in ["/r", "/old"] {
        let ok = test::TestRequest::get()
            .uri(path)
            .insert_header(("last-event-id", "7"))
            .to_request();
        assert_eq!(test::call_and_read_body(&app, ok).await, "resume after 7");
        for query in ["", "?lastEventId=%FF"] {
            let request = test::TestRequest::get().uri(&format!("{path}{query}"));
            let response = test::call_service(&app, request.to_request()).await;
            assert_eq!(response.status(), 400, "{path}{query}");
        }
    }
    for (query, expected) in [
        ("", "none"),
        ("?lastEventId=7", "some 7"),
        ("?lastEventId=%FF", "none"),
    ] {
        let request = test::TestRequest::get().uri(&format!("/o{query}"));
        let body = test::call_and_read_body(&app, request.to_request()).await;
        assert_eq!(body, expected, "{query}");
    }
}

#[actix_web::test]
async fn the_endpoint_route_resumes_and_dropping_the_body_releases_the_subscription() {
    let hub = Hub::new();
    let [route, resource, from] = first_release::resources(&hub);
    let app = test::init_service(
        App::new()
            .route(
                "/events",
                sse_actix::endpoint_route(Endpoint::new(hub.clone(), ["chat"])),
            )
            .service(sse_actix::endpoint_resource(
                "/resource",
                Endpoint::new(hub.clone(), ["chat"]),
            ))
            .service(route)
            .service(resource)
            .service(from),
    )
    .await;
    let first = hub.publish("chat", Event::new().data("1")).await.unwrap();
    hub.publish("chat", Event::new().data("2")).await.unwrap();
    let paths = [
        "/events",
        "/resource",
        "/first-release/route",
        "/first-release/resource",
        "/first-release/from",
    ];
    for path in paths {
        let request = test::TestRequest::get()
            .uri(path)
            .insert_header(("last-event-id", first.to_string()))
            .to_request();
        let response = test::call_service(&app, request).await;
        assert_eq!(response.status(), 200, "{path}");
        assert_eq!(hub.stats().subscribers, 1);
        let mut body = Box::pin(response.into_body());
        let chunk = poll_fn(|cx| body.as_mut().poll_next(cx))
            .await
            .unwrap()
            .unwrap();
        assert!(chunk.ends_with(b"data: 2\n\n"), "{path}: {chunk:?}");
        drop(body);
        assert_eq!(
            hub.stats().subscribers,
            0,
            "the client went away: the subscription is released"
        );
    }

    // The resource answers `HEAD` with the head and no subscription, and
    // other methods with 405 and `Allow`.
    for path in ["/resource", "/first-release/resource"] {
        let response = test::call_service(
            &app,
            test::TestRequest::default()
                .method(actix_web::http::Method::HEAD)
                .uri(path)
                .to_request(),
        )
        .await;
        assert_eq!(response.status(), 200);
        assert_eq!(
            response.headers().get("content-type").unwrap(),
            "text/event-stream"
        );
        assert_eq!(hub.stats().subscribers, 0);
        let response =
            test::call_service(&app, test::TestRequest::post().uri(path).to_request()).await;
        assert_eq!(response.status(), 405);
        assert_eq!(response.headers().get("allow").unwrap(), "GET,HEAD");
    }

    hub.close(None);
    for path in paths {
        let response =
            test::call_service(&app, test::TestRequest::get().uri(path).to_request()).await;
        assert_eq!(response.status(), 503, "{path}");
        assert_eq!(response.headers().get("retry-after").unwrap(), "5");
    }
}

#[actix_web::test]
async fn the_builders_read_as_actix_web_lab_and_refusals_answer_with_the_hub_policy() {
    async fn ticks() -> Sse<impl futures_util::Stream<Item = Result<Event, Infallible>>> {
        Sse::new(stream::iter([Ok(Event::new().data("tick"))]))
            .retry(std::time::Duration::from_millis(1500))
            .sequence_ids(7)
            .keep_alive(sse_actix::KeepAlive::default())
    }
    async fn publish(hub: web::Data<Hub>, body: String) -> Result<String, sse_actix::HubError> {
        Ok(hub
            .publish("chat", Event::new().data(body))
            .await?
            .to_string())
    }
    let hub = Hub::builder()
        .log_limits(sse_engine::hub::LogLimits::new().max_event_bytes(64))
        .build();
    let app = test::init_service(
        App::new()
            .app_data(web::Data::new(hub.clone()))
            .route("/ticks", web::get().to(ticks))
            .route("/messages", web::post().to(publish)),
    )
    .await;

    let response =
        test::call_service(&app, test::TestRequest::get().uri("/ticks").to_request()).await;
    assert_eq!(response.status(), 200);
    let body = chunks(response.into_body()).await.concat();
    assert_eq!(body, b"retry: 1500\nid: 7\ndata: tick\n\n");

    let post = |text: String| {
        test::TestRequest::post()
            .uri("/messages")
            .set_payload(text)
            .to_request()
    };
    let response = test::call_service(&app, post("hello".to_owned())).await;
    assert_eq!(response.status(), 200);
    let response = test::call_service(&app, post("x".repeat(100))).await;
    assert_eq!(response.status(), 413);
    hub.close(None);
    let response = test::call_service(&app, post("late".to_owned())).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers().get("retry-after").unwrap(), "5");
}

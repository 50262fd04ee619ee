//! What the middleware does with bodies and requests that misbehave.

mod support;

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderValue, Request, Response};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use sse_engine::{LastEventIdError, RequestCursor};
use sse_tower::last_event_id::ParseLastEventIdLayer;
use sse_tower::response::SseResponseLayer;
use tower::{ServiceBuilder, ServiceExt, service_fn};

/// A body that yields its frames, then fails.
struct Failing(Vec<Bytes>);

#[derive(Debug, PartialEq)]
struct Broken;

impl Body for Failing {
    type Data = Bytes;
    type Error = Broken;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Broken>>> {
        if self.0.is_empty() {
            return Poll::Ready(Some(Err(Broken)));
        }
        Poll::Ready(Some(Ok(Frame::data(self.0.remove(0)))))
    }
}

fn event_stream<B>(body: B) -> Response<B> {
    let mut response = Response::new(body);
    response.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    response
}

#[tokio::test]
async fn a_body_error_mid_stream_reaches_the_server_after_the_data_before_it() {
    let service = ServiceBuilder::new()
        .layer(SseResponseLayer::new())
        .service(service_fn(|_: Request<()>| async {
            Ok::<_, Infallible>(event_stream(Failing(vec![Bytes::from_static(
                b"data: a\n\n",
            )])))
        }));
    let response = service.oneshot(Request::new(())).await.unwrap();
    let mut body = std::pin::pin!(response.into_body());
    let first = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(first, "data: a\n\n");
    assert_eq!(body.frame().await.unwrap().unwrap_err(), Broken);
    assert!(body.frame().await.is_none(), "nothing after the error");
}

#[tokio::test]
async fn an_enormous_frame_passes_through_whole_and_is_not_copied() {
    let huge = Bytes::from([&b"data: "[..], &vec![b'x'; 8 << 20], b"\n\n"].concat());
    let sent = huge.clone();
    let service = ServiceBuilder::new()
        .layer(SseResponseLayer::new())
        .service(service_fn(move |_: Request<()>| {
            let huge = huge.clone();
            async move { Ok::<_, Infallible>(event_stream(http_body_util::Full::new(huge))) }
        }));
    let response = service.oneshot(Request::new(())).await.unwrap();
    let mut body = std::pin::pin!(response.into_body());
    let frame = body.frame().await.unwrap().unwrap().into_data().unwrap();
    assert_eq!(frame.len(), sent.len());
    assert_eq!(frame.as_ptr(), sent.as_ptr());
}

#[tokio::test]
async fn a_trace_layer_in_front_sees_the_stream_and_changes_nothing() {
    use tower_http::trace::TraceLayer;
    let service = ServiceBuilder::new()
        .layer(TraceLayer::new_for_http())
        .layer(SseResponseLayer::new())
        .service(service_fn(
            |_: Request<http_body_util::Empty<Bytes>>| async {
                Ok::<_, Infallible>(event_stream(http_body_util::Full::new(Bytes::from_static(
                    b"data: traced\n\n",
                ))))
            },
        ));
    let response = service
        .oneshot(Request::new(http_body_util::Empty::new()))
        .await
        .unwrap();
    assert_eq!(response.headers()["cache-control"], "no-cache");
    let body = tokio::time::timeout(Duration::from_secs(5), response.into_body().collect())
        .await
        .unwrap()
        .unwrap()
        .to_bytes();
    assert_eq!(body, "data: traced\n\n");
}

async fn cursor_of(request: Request<()>) -> RequestCursor {
    let service = ServiceBuilder::new()
        .layer(ParseLastEventIdLayer::new())
        .service(service_fn(|request: Request<()>| async move {
            Ok::<_, Infallible>(
                request
                    .extensions()
                    .get::<RequestCursor>()
                    .cloned()
                    .unwrap(),
            )
        }));
    service.oneshot(request).await.unwrap()
}

#[tokio::test]
async fn every_kind_of_cursor_is_reported_never_a_failure() {
    let plain = Request::get("/events").body(()).unwrap();
    assert_eq!(cursor_of(plain).await, RequestCursor::Absent);

    let query = Request::get("/events?lastEventId=abc-1").body(()).unwrap();
    assert_eq!(
        cursor_of(query).await.last_event_id().unwrap().as_str(),
        "abc-1"
    );

    let too_long = Request::get("/events")
        .header("last-event-id", "9".repeat(2000))
        .body(())
        .unwrap();
    assert_eq!(
        cursor_of(too_long).await,
        RequestCursor::Invalid(LastEventIdError::TooLong { len: 2000 })
    );

    let not_utf8 = Request::get("/events")
        .header(
            "last-event-id",
            HeaderValue::from_bytes(b"\xfe\xff").unwrap(),
        )
        .body(())
        .unwrap();
    assert_eq!(
        cursor_of(not_utf8).await,
        RequestCursor::Invalid(LastEventIdError::NotUtf8)
    );

    let twice = Request::get("/events")
        .header("last-event-id", "1")
        .header("last-event-id", "2")
        .body(())
        .unwrap();
    assert_eq!(
        cursor_of(twice).await,
        RequestCursor::Invalid(LastEventIdError::Repeated)
    );

    let newline = Request::get("/events?lastEventId=a%0Adata:%20forged")
        .body(())
        .unwrap();
    assert_eq!(
        cursor_of(newline).await,
        RequestCursor::Invalid(LastEventIdError::ForbiddenCharacter)
    );
}

#[tokio::test(start_paused = true)]
async fn a_compressed_event_stream_is_passed_through_without_keep_alive() {
    // Found in review: plain-text comments used to be written into a gzip body.
    let layer = SseResponseLayer::new()
        .keep_alive(sse_tower::response::KeepAlive::new().interval(Duration::from_millis(10)));
    let service = ServiceBuilder::new()
        .layer(layer)
        .service(service_fn(|_: Request<()>| async {
            let mut response = event_stream(http_body_util::StreamBody::new(
                futures_util::stream::pending::<Result<Frame<Bytes>, Infallible>>(),
            ));
            response
                .headers_mut()
                .insert("content-encoding", HeaderValue::from_static("gzip"));
            Ok::<_, Infallible>(response)
        }));
    let response = service.oneshot(Request::new(())).await.unwrap();
    assert!(
        response.headers().get("x-accel-buffering").is_none(),
        "untouched"
    );
    let mut body = std::pin::pin!(response.into_body());
    let waited = tokio::time::timeout(Duration::from_secs(60), body.frame()).await;
    assert!(
        waited.is_err(),
        "nothing may be written into compressed bytes"
    );
}

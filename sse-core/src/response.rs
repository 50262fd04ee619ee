//! The response head of an event stream.

use http::header::{CACHE_CONTROL, CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Response, StatusCode};

/// `X-Accel-Buffering`: `no` stops nginx from buffering the stream.
pub const X_ACCEL_BUFFERING: HeaderName = HeaderName::from_static("x-accel-buffering");

/// The headers every event stream carries, in order.
///
/// No `Content-Length` (the body is open-ended) and no `Connection` (it is
/// forbidden in HTTP/2, and HTTP/1.1 keeps connections alive by default).
pub const SSE_HEADERS: [(HeaderName, HeaderValue); 3] = [
    (CONTENT_TYPE, HeaderValue::from_static("text/event-stream")),
    (CACHE_CONTROL, HeaderValue::from_static("no-cache")),
    (X_ACCEL_BUFFERING, HeaderValue::from_static("no")),
];

/// A `200 OK` response builder with the SSE headers set.
///
/// ```
/// use sse_engine::response_builder;
///
/// let response = response_builder()
///     .header("access-control-allow-origin", "*")
///     .body(())
///     .unwrap();
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// assert_eq!(response.headers()["cache-control"], "no-cache");
/// assert_eq!(response.headers()["x-accel-buffering"], "no");
/// ```
pub fn response_builder() -> http::response::Builder {
    let mut builder = Response::builder().status(StatusCode::OK);
    if let Some(headers) = builder.headers_mut() {
        insert_sse_headers(headers);
    }
    builder
}

/// `body` in a `200 OK` response with the SSE headers.
///
/// ```
/// use sse_engine::sse_response;
///
/// let response = sse_response("data: hi\n\n");
/// assert_eq!(response.headers()["content-type"], "text/event-stream");
/// assert!(response.headers().get("content-length").is_none());
/// ```
pub fn sse_response<B>(body: B) -> Response<B> {
    let mut response = Response::new(body);
    insert_sse_headers(response.headers_mut());
    response
}

fn insert_sse_headers(headers: &mut HeaderMap) {
    // Sized once for what is added: hyper keeps a response's header map per
    // connection (to reuse it), so its size is memory per open stream.
    headers.reserve(SSE_HEADERS.len());
    for (name, value) in SSE_HEADERS {
        headers.insert(name, value);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_header_map_is_sized_for_the_sse_headers() {
        // http's first insert would size it for 6; hyper keeps it per
        // connection.
        let response = sse_response(());
        assert_eq!(response.headers().len(), SSE_HEADERS.len());
        assert!(response.headers().capacity() < 6);
    }
}

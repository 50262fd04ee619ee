//! [`ResponseFuture`]: the inner response, with its head fixed and its body
//! wrapped when it is an event stream.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use http::header::{
    CACHE_CONTROL, CONNECTION, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, HeaderName,
    HeaderValue,
};
use http::{HeaderMap, Response};
use pin_project_lite::pin_project;
use sse_engine::X_ACCEL_BUFFERING;
use sse_engine::compression::{Compression, FrameCompressor};

use super::SseResponseBody;
use super::config::Config;

pin_project! {
    /// Response future of [`SseResponse`](super::SseResponse).
    #[must_use = "futures do nothing unless polled"]
    pub struct ResponseFuture<F> {
        #[pin]
        inner: F,
        config: Option<Arc<Config>>,
        compression: Compression,
    }
}

impl<F> ResponseFuture<F> {
    pub(crate) fn new(inner: F, config: Arc<Config>, compression: Compression) -> Self {
        Self {
            inner,
            config: Some(config),
            compression,
        }
    }
}

impl<F, B, E> Future for ResponseFuture<F>
where
    F: Future<Output = Result<Response<B>, E>>,
{
    type Output = Result<Response<SseResponseBody<B>>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let response = ready!(this.inner.poll(cx))?;
        let config = this.config.take();
        let response = match config {
            Some(config)
                if is_event_stream(response.headers())
                    && !is_encoded(response.headers())
                    && has_body(response.status()) =>
            {
                let compressor = this
                    .compression
                    .codec()
                    .and_then(FrameCompressor::new)
                    .map(Box::new);
                let mut response =
                    response.map(|body| SseResponseBody::stream(body, &config, compressor));
                fix_headers(response.headers_mut());
                let compression = if response.body().is_compressed() {
                    *this.compression
                } else {
                    // Not asked for, or the codec could not set up a stream.
                    this.compression.to_identity()
                };
                compression.insert_headers(response.headers_mut());
                response
            }
            _ => response.map(SseResponseBody::passthrough),
        };
        Poll::Ready(Ok(response))
    }
}

impl<F> std::fmt::Debug for ResponseFuture<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResponseFuture")
            .field("inner", &std::any::type_name::<F>())
            .finish_non_exhaustive()
    }
}

/// `Content-Type: text/event-stream`, in any case, with or without parameters.
pub(crate) fn is_event_stream(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence.eq_ignore_ascii_case("text/event-stream")
}

/// A `Content-Encoding` other than `identity`: the body's bytes are not the
/// event stream itself (a compressor ran first), so no boundary can be found
/// in them and nothing may be written between them.
pub(crate) fn is_encoded(headers: &HeaderMap) -> bool {
    // Every line, every coding in a line: `identity` then `gzip` is gzip.
    headers.get_all(CONTENT_ENCODING).iter().any(|value| {
        value
            .as_bytes()
            .split(|&byte| byte == b',')
            .map(<[u8]>::trim_ascii)
            .any(|coding| !coding.is_empty() && !coding.eq_ignore_ascii_case(b"identity"))
    })
}

/// Whether a response with `status` may carry a body: not a `204 No
/// Content` (the way to tell an `EventSource` to stop reconnecting), a
/// `304` or a `1xx`, which the layer leaves as they are (no keep-alive,
/// no compression).
fn has_body(status: http::StatusCode) -> bool {
    !(status.is_informational()
        || status == http::StatusCode::NO_CONTENT
        || status == http::StatusCode::NOT_MODIFIED)
}

/// Headers that only make sense for one HTTP/1.1 connection; HTTP/2 forbids them.
const CONNECTION_SPECIFIC: [HeaderName; 3] = [
    CONNECTION,
    HeaderName::from_static("keep-alive"),
    HeaderName::from_static("proxy-connection"),
];

/// The head every event stream needs, keeping what the handler chose where
/// it may choose: its `Cache-Control` (for example `no-store`) and its
/// `X-Accel-Buffering` stay. A length cannot be right for an open-ended
/// stream, and connection headers break HTTP/2: those go.
pub(crate) fn fix_headers(headers: &mut HeaderMap) {
    headers.remove(CONTENT_LENGTH);
    for name in CONNECTION_SPECIFIC {
        headers.remove(name);
    }
    if !headers.contains_key(CACHE_CONTROL) {
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    }
    if !headers.contains_key(X_ACCEL_BUFFERING) {
        headers.insert(X_ACCEL_BUFFERING, HeaderValue::from_static("no"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(value: &'static str) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
        headers
    }

    #[test]
    fn recognises_event_streams() {
        assert!(is_event_stream(&with_type("text/event-stream")));
        assert!(is_event_stream(&with_type(
            "Text/Event-Stream; charset=utf-8"
        )));
        assert!(is_event_stream(&with_type(" text/event-stream ;x=y")));
        assert!(!is_event_stream(&with_type("text/plain")));
        assert!(!is_event_stream(&with_type("text/event-streams")));
        assert!(!is_event_stream(&HeaderMap::new()));
    }

    #[test]
    fn fixes_what_must_be_fixed_and_keeps_what_the_handler_chose() {
        let mut headers = with_type("text/event-stream");
        headers.insert(CONTENT_LENGTH, HeaderValue::from_static("42"));
        headers.insert(CONNECTION, HeaderValue::from_static("keep-alive"));
        headers.insert("keep-alive", HeaderValue::from_static("timeout=5"));
        headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
        fix_headers(&mut headers);
        assert!(headers.get(CONTENT_LENGTH).is_none());
        assert!(headers.get(CONNECTION).is_none());
        assert!(headers.get("keep-alive").is_none());
        assert_eq!(headers[CACHE_CONTROL], "no-store");
        assert_eq!(headers[X_ACCEL_BUFFERING], "no");
    }
}

#[cfg(test)]
mod review_tests {
    use http::header::CONTENT_ENCODING;
    use http::{HeaderMap, HeaderValue, StatusCode};

    use super::{has_body, is_encoded};

    /// Found by review: only the first `Content-Encoding` line was read, so
    /// `identity` then `gzip` was compressed a second time.
    #[test]
    fn every_content_encoding_line_and_coding_counts() {
        let mut headers = HeaderMap::new();
        assert!(!is_encoded(&headers));
        headers.append(CONTENT_ENCODING, HeaderValue::from_static("identity"));
        assert!(!is_encoded(&headers));
        headers.append(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        assert!(is_encoded(&headers));
        let mut listed = HeaderMap::new();
        listed.insert(CONTENT_ENCODING, HeaderValue::from_static("identity, br"));
        assert!(is_encoded(&listed));
        listed.insert(CONTENT_ENCODING, HeaderValue::from_static(" Identity , "));
        assert!(!is_encoded(&listed));
    }

    /// Found by review: a `204` event stream (how a server tells an
    /// `EventSource` to stop) got a compressed, non-empty body.
    #[test]
    fn responses_without_a_body_are_left_alone() {
        assert!(!has_body(StatusCode::NO_CONTENT));
        assert!(!has_body(StatusCode::NOT_MODIFIED));
        assert!(!has_body(StatusCode::CONTINUE));
        assert!(has_body(StatusCode::OK));
        assert!(has_body(StatusCode::SERVICE_UNAVAILABLE));
    }
}

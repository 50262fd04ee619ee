//! An upstream's body that fails once the upstream has been silent too long.

use std::fmt;
use std::time::Duration;

use axum::http::StatusCode;
use futures_util::{Stream, StreamExt, stream};

use crate::error::ApiError;

/// The chunks of `body`, ending with a `504` after `idle_timeout` without a
/// byte, or with a `502` when the connection fails.
///
/// The timer restarts with every chunk, not only with every event: an
/// upstream that sends keep-alive comments while its model thinks is alive,
/// while one that sends nothing at all is hung (and the keep-alive comments
/// sent toward the client would otherwise hide it for ever).
pub(super) fn idle_limited<S, B, E>(
    body: S,
    idle_timeout: Duration,
) -> impl Stream<Item = Result<B, ApiError>> + Send
where
    S: Stream<Item = Result<B, E>> + Send + Unpin,
    B: Send,
    E: fmt::Display,
{
    stream::unfold(Some(body), move |body| async move {
        let mut body = body?;
        match tokio::time::timeout(idle_timeout, body.next()).await {
            Ok(Some(Ok(chunk))) => Some((Ok(chunk), Some(body))),
            Ok(Some(Err(error))) => Some((
                Err(ApiError::upstream(format!(
                    "the connection failed mid-answer: {error}"
                ))),
                None,
            )),
            Ok(None) => None,
            // The body is dropped with the state, and the connection with it.
            Err(_) => Some((Err(silent(idle_timeout)), None)),
        }
    })
}

/// The error of an upstream that went silent mid-answer: a gateway
/// timeout, which Anthropic calls `timeout_error`.
fn silent(idle_timeout: Duration) -> ApiError {
    ApiError::new(
        StatusCode::GATEWAY_TIMEOUT,
        format!(
            "upstream: no data for {} ms in the middle of the answer",
            idle_timeout.as_millis()
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const IDLE: Duration = Duration::from_millis(300);

    type Chunk = Result<&'static str, std::io::Error>;

    #[tokio::test(start_paused = true)]
    async fn a_silent_body_times_out() {
        let body = stream::iter([Ok("a")]).chain(stream::pending::<Chunk>());
        let chunks: Vec<_> = idle_limited(Box::pin(body), IDLE).collect().await;
        assert_eq!(chunks.len(), 2);
        assert_eq!(chunks[0], Ok("a"));
        let error = chunks[1].clone().unwrap_err();
        assert_eq!(error.status(), StatusCode::GATEWAY_TIMEOUT);
        assert_eq!(error.anthropic()["error"]["type"], "timeout_error");
    }

    #[tokio::test(start_paused = true)]
    async fn any_chunk_restarts_the_timer() {
        // Five chunks, each after most of the timeout: together far longer
        // than the timeout, never silent for as long.
        let body = stream::iter([": keep-alive\n\n"; 5]).then(|chunk| async move {
            tokio::time::sleep(IDLE * 4 / 5).await;
            Chunk::Ok(chunk)
        });
        let chunks: Vec<_> = idle_limited(Box::pin(body), IDLE).collect().await;
        assert_eq!(chunks.len(), 5);
        assert!(chunks.iter().all(Result::is_ok));
    }

    #[tokio::test(start_paused = true)]
    async fn a_failed_connection_is_a_bad_gateway() {
        let body = stream::iter([Ok("a"), Err(std::io::Error::other("reset")), Ok("b")]);
        let chunks: Vec<_> = idle_limited(body, IDLE).collect().await;
        assert_eq!(chunks.len(), 2);
        let error = chunks[1].clone().unwrap_err();
        assert_eq!(error.status(), StatusCode::BAD_GATEWAY);
        assert!(error.message().contains("reset"), "{error}");
    }
}

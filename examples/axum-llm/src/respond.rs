//! What both APIs do with a request once it is read: start the answer,
//! then stream it as events or send it whole as JSON, in the API's
//! [`Format`].

use std::time::Duration;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use futures_util::{Stream, StreamExt, stream};
use serde_json::Value;
use sse_axum::Sse;
use sse_engine::{Event, InfallibleStream, KeepAlive, SseBody};

use crate::Llm;
use crate::config::DEFAULT_KEEP_ALIVE;
use crate::error::ApiError;
use crate::generation::{Finish, Generation, Piece};
use crate::prompt::Prompt;

/// The longest whole answer collected for a client that did not stream, in
/// bytes: far more than any model writes in one answer, and a bound on what
/// a runaway or hostile upstream can make the server hold in memory.
pub const MAX_COLLECTED_BYTES: usize = 8 * 1024 * 1024;

/// How the event streams are framed around the API's events: the same for
/// both APIs, set by [`Llm::keep_alive`] and [`Llm::retry`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct StreamSettings {
    /// The quiet time after which a keep-alive comment is sent.
    pub(crate) keep_alive: Duration,
    /// The `retry:` every stream opens with, if any.
    pub(crate) retry: Option<Duration>,
}

impl Default for StreamSettings {
    fn default() -> Self {
        Self {
            keep_alive: DEFAULT_KEEP_ALIVE,
            retry: None,
        }
    }
}

impl StreamSettings {
    /// The body that streams `events` with these settings. sse-engine writes
    /// the keep-alive comments and the opening `retry:` as lines that join
    /// the next event's block, so no client sees an event the API did not
    /// send (an SDK that parses every event as JSON would fail on an empty one).
    fn body<S>(self, events: S) -> SseBody<InfallibleStream<S>>
    where
        S: Stream<Item = Event>,
    {
        let body = SseBody::from_infallible_stream(events)
            .keep_alive(KeepAlive::new().interval(self.keep_alive));
        match self.retry {
            Some(delay) => body.retry(delay),
            None => body,
        }
    }
}

/// How one API writes answers and errors.
pub(crate) trait Format: Send + 'static {
    /// The API's error body.
    fn error_body(error: &ApiError) -> Value;
    /// The events that open a stream.
    fn start(&mut self, input_tokens: Option<u32>) -> Vec<Event>;
    /// The events of more text.
    fn text(&mut self, text: String) -> Vec<Event>;
    /// The events that end a complete answer.
    fn finish(&mut self, finish: Finish) -> Vec<Event>;
    /// The events that end a failed answer.
    fn fail(&mut self, error: &ApiError) -> Vec<Event>;
    /// A whole answer, not streamed.
    fn whole(self, answer: Answer) -> Value;
}

/// A whole answer.
#[derive(Debug)]
pub(crate) struct Answer {
    pub(crate) text: String,
    pub(crate) finish: Finish,
}

/// A request read by one API: what to answer, and how.
#[derive(Debug)]
pub(crate) struct Request<F> {
    pub(crate) prompt: Prompt,
    pub(crate) stream: bool,
    pub(crate) format: F,
}

/// The body of a request, or the API-shaped error of one that could not be
/// read (`413` when it is too large).
pub(crate) fn body(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|rejection| ApiError::new(rejection.status(), rejection.body_text()))
}

/// Answers `request` from `llm`, or refuses it, in the API's format.
pub(crate) async fn answer<F: Format>(
    llm: &Llm,
    request: Result<Request<F>, ApiError>,
) -> Response {
    let Request {
        prompt,
        stream,
        format,
    } = match request {
        Ok(request) => request,
        Err(error) => return refuse::<F>(&error),
    };
    let generation = match llm.generate(&prompt).await {
        Ok(generation) => generation,
        Err(error) => return refuse::<F>(&error),
    };
    if stream {
        let body = llm.stream_settings().body(events(format, generation));
        return Sse::from(body).into_response();
    }
    match collect(generation).await {
        Ok(answer) => json(StatusCode::OK, &format.whole(answer)),
        Err(error) => refuse::<F>(&error),
    }
}

/// `error` as the response, in the API's shape.
pub(crate) fn refuse<F: Format>(error: &ApiError) -> Response {
    json(error.status(), &F::error_body(error))
}

/// A JSON response.
fn json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        body.to_string(),
    )
        .into_response()
}

/// The events of an answer as it is produced. The generation is dropped
/// as soon as it has ended, and with the stream if the client leaves first.
fn events<F: Format>(mut format: F, generation: Generation) -> impl Stream<Item = Event> + Send {
    let opening = format.start(generation.input_tokens());
    let rest = stream::unfold(Some((format, generation)), |state| async move {
        let (mut format, mut generation) = state?;
        let (events, state) = match generation.next().await {
            Some(Ok(Piece::Text(text))) => (format.text(text), Some((format, generation))),
            Some(Ok(Piece::Finish(finish))) => (format.finish(finish), None),
            Some(Err(error)) => (format.fail(&error), None),
            None => (format.fail(&unfinished()), None),
        };
        Some((stream::iter(events), state))
    });
    stream::iter(opening).chain(rest.flatten())
}

/// The whole answer, for a client that did not ask for a stream; a `502`
/// once it grows past [`MAX_COLLECTED_BYTES`], which drops the generation
/// (and closes the upstream connection).
async fn collect(mut generation: Generation) -> Result<Answer, ApiError> {
    let mut text = String::new();
    while let Some(piece) = generation.next().await {
        match piece? {
            Piece::Text(more) => {
                if text.len().saturating_add(more.len()) > MAX_COLLECTED_BYTES {
                    return Err(ApiError::upstream(format!(
                        "the answer is longer than {} MiB; ask for a stream to get it",
                        MAX_COLLECTED_BYTES / (1024 * 1024)
                    )));
                }
                text.push_str(&more);
            }
            Piece::Finish(finish) => {
                return Ok(Answer { text, finish });
            }
        }
    }
    Err(unfinished())
}

/// A generation ends with a finish or an error; should one ever just stop,
/// the client still learns that the answer is incomplete.
fn unfinished() -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "the answer ended before it was finished",
    )
}

//! An upstream's chat completion stream, read into [`Piece`]s: `data:`
//! chunks of `{"choices": [{"delta": {"content": "..."}}]}`, a chunk with a
//! `finish_reason`, perhaps one with `usage`, then `data: [DONE]`.

use axum::http::StatusCode;
use futures_util::{Stream, StreamExt, stream};
use serde::Deserialize;
use serde_json::Value;
use sse_engine::decode::{DecodedEvent, EventStreamError};

use super::refusal;
use crate::error::ApiError;
use crate::generation::{Finish, FinishReason, Piece, Usage};

/// The pieces of an upstream answer, from its decoded events. It ends after
/// the finish, or with an error: the upstream's own error object, a failure
/// of its body (a broken connection, or a silence longer than the idle
/// timeout: see [`idle_limited`](super::idle::idle_limited)), a line over
/// the decoder's limit, a chunk that is not JSON, or an end before the
/// answer was finished.
pub(super) fn pieces<S>(events: S) -> impl Stream<Item = Result<Piece, ApiError>> + Send
where
    S: Stream<Item = Result<DecodedEvent, EventStreamError<ApiError>>> + Send + Unpin,
{
    stream::unfold(Some((events, Reader::default())), |state| async move {
        let (mut events, mut reader) = state?;
        loop {
            let step = match events.next().await {
                Some(Ok(event)) => reader.read(&event),
                Some(Err(EventStreamError::Decode(error))) => Err(ApiError::upstream(error)),
                Some(Err(EventStreamError::Transport(error))) => Err(error),
                None => reader.ended(),
            };
            match step {
                Ok(Step::Skip) => {}
                Ok(Step::Text(text)) => {
                    return Some((Ok(Piece::Text(text)), Some((events, reader))));
                }
                // The last piece: the state is dropped with the connection.
                Ok(Step::Done(finish)) => return Some((Ok(Piece::Finish(finish)), None)),
                Err(error) => return Some((Err(error), None)),
            }
        }
    })
}

/// What one event means for the answer.
#[derive(Debug, PartialEq, Eq)]
enum Step {
    Text(String),
    Done(Finish),
    Skip,
}

/// What has been learnt from the stream so far.
#[derive(Debug, Default)]
struct Reader {
    finish_reason: Option<FinishReason>,
    usage: Option<Usage>,
    deltas: u32,
}

#[derive(Deserialize)]
struct Chunk {
    // `null` from some servers in their usage chunk: no choices either.
    #[serde(default)]
    choices: Option<Vec<Choice>>,
    usage: Option<ChunkUsage>,
    error: Option<Value>,
}

#[derive(Deserialize)]
struct Choice {
    #[serde(default)]
    index: u32,
    delta: Option<Delta>,
    finish_reason: Option<String>,
}

#[derive(Deserialize)]
struct Delta {
    content: Option<String>,
    /// Read only to refuse: this example passes text, and an answer that
    /// ends with `finish_reason: "tool_calls"` but without the calls is one
    /// no client can act on.
    tool_calls: Option<Value>,
    /// The deprecated form of `tool_calls`.
    function_call: Option<Value>,
}

#[derive(Deserialize)]
struct ChunkUsage {
    prompt_tokens: u32,
    completion_tokens: u32,
}

impl Reader {
    fn read(&mut self, event: &DecodedEvent) -> Result<Step, ApiError> {
        let data = event.data();
        if data == "[DONE]" {
            return Ok(Step::Done(self.finish()));
        }
        // Some servers name an error event; OpenAI sends an error object.
        if event.event_type() == "error" {
            let error = serde_json::from_str(data).unwrap_or_else(|_| Value::from(data));
            return Err(refusal::from_value(StatusCode::BAD_GATEWAY, &error));
        }
        let chunk: Chunk = serde_json::from_str(data).map_err(|error| {
            ApiError::upstream(format!(
                "a chunk of its stream is not a chat completion chunk: {error}"
            ))
        })?;
        if let Some(error) = chunk.error.filter(|error| !error.is_null()) {
            return Err(refusal::from_value(StatusCode::BAD_GATEWAY, &error));
        }
        if let Some(usage) = chunk.usage {
            self.usage = Some(Usage {
                input_tokens: usage.prompt_tokens,
                output_tokens: usage.completion_tokens,
            });
        }
        // One answer is asked for (`n` = 1): other choices cannot appear.
        let Some(choice) = chunk
            .choices
            .unwrap_or_default()
            .into_iter()
            .find(|choice| choice.index == 0)
        else {
            return Ok(Step::Skip);
        };
        if let Some(reason) = choice.finish_reason {
            self.finish_reason = Some(FinishReason::from_openai(&reason));
        }
        let Some(delta) = choice.delta else {
            return Ok(Step::Skip);
        };
        let calls_a_tool = [&delta.tool_calls, &delta.function_call]
            .into_iter()
            .any(|call| call.as_ref().is_some_and(|call| !call.is_null()));
        if calls_a_tool {
            return Err(ApiError::upstream(
                "it answered with a tool call, which this example does not pass on",
            ));
        }
        match delta.content {
            Some(text) if !text.is_empty() => {
                self.deltas = self.deltas.saturating_add(1);
                Ok(Step::Text(text))
            }
            _ => Ok(Step::Skip),
        }
    }

    /// The stream ended without `[DONE]`: complete if a finish reason came
    /// (some servers stop there), cut short otherwise.
    fn ended(&self) -> Result<Step, ApiError> {
        match self.finish_reason {
            Some(_) => Ok(Step::Done(self.finish())),
            None => Err(ApiError::upstream(
                "its stream ended before the answer was finished",
            )),
        }
    }

    fn finish(&self) -> Finish {
        Finish {
            reason: self.finish_reason.unwrap_or(FinishReason::Stop),
            // Without the upstream's usage, each delta counts as one token.
            usage: self.usage.unwrap_or(Usage {
                input_tokens: 0,
                output_tokens: self.deltas,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sse_engine::decode::Decoder;

    /// The pieces and errors of a whole upstream body.
    async fn read_all(body: &str) -> Vec<Result<Piece, ApiError>> {
        let mut decoder = Decoder::new();
        decoder.push(body.as_bytes()).unwrap();
        decoder.finish();
        let events: Vec<Result<DecodedEvent, EventStreamError<ApiError>>> =
            std::iter::from_fn(|| decoder.next_event())
                .map(Ok)
                .collect();
        pieces(stream::iter(events)).collect().await
    }

    fn chunk(content: &str) -> String {
        format!(
            "data: {}\n\n",
            serde_json::json!({"choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
        )
    }

    #[tokio::test]
    async fn a_whole_answer() {
        let body = format!(
            "data: {}\n\n{}{}data: {}\n\ndata: [DONE]\n\n",
            r#"{"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}"#,
            chunk("Hel"),
            chunk("lo"),
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}"#,
        );
        assert_eq!(
            read_all(&body).await,
            [
                Ok(Piece::Text("Hel".to_owned())),
                Ok(Piece::Text("lo".to_owned())),
                Ok(Piece::Finish(Finish {
                    reason: FinishReason::Length,
                    usage: Usage {
                        input_tokens: 0,
                        output_tokens: 2
                    },
                })),
            ]
        );
    }

    #[tokio::test]
    async fn the_upstreams_usage_is_taken() {
        let body = format!(
            "{}data: {}\n\ndata: {}\n\ndata: [DONE]\n\n",
            chunk("x"),
            r#"{"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}"#,
            r#"{"choices":null,"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}"#,
        );
        let last = read_all(&body).await.pop().unwrap().unwrap();
        assert_eq!(
            last,
            Piece::Finish(Finish {
                reason: FinishReason::Stop,
                usage: Usage {
                    input_tokens: 9,
                    output_tokens: 4
                },
            })
        );
    }

    #[tokio::test]
    async fn failures_end_the_answer() {
        let error = r#"data: {"error":{"message":"overloaded","type":"server_error","code":null}}"#;
        let cases = [
            format!("{}{error}\n\n{}", chunk("a"), chunk("never")),
            format!("{}data: not json\n\n", chunk("a")),
            format!("{}event: error\ndata: boom\n\n", chunk("a")),
            // The connection ended without a finish or [DONE].
            chunk("a"),
            format!(
                "{}data: {}\n\n",
                chunk("a"),
                r#"{"choices":[{"index":0,"delta":{"tool_calls":[{"index":0,"id":"c","type":"function","function":{"name":"f","arguments":"{}"}}]}}]}"#
            ),
        ];
        for body in cases {
            let pieces = read_all(&body).await;
            assert_eq!(pieces.len(), 2, "{body}");
            assert_eq!(pieces[0], Ok(Piece::Text("a".to_owned())));
            let error = pieces[1].clone().unwrap_err();
            assert_eq!(error.status(), StatusCode::BAD_GATEWAY);
        }
        let pieces = read_all(&format!("{}{error}\n\n", chunk("a"))).await;
        assert_eq!(
            pieces[1].clone().unwrap_err().message(),
            "upstream: overloaded"
        );
    }
}

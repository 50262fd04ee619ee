//! Anthropic's answers: named events from `message_start` to
//! `message_stop`, or one `message` object.

use serde_json::{Value, json};
use sse_engine::Event;

use crate::error::ApiError;
use crate::generation::Finish;
use crate::ids;
use crate::respond::{Answer, Format};

/// One answer in Anthropic's format.
#[derive(Debug)]
pub(crate) struct Anthropic {
    id: String,
    model: String,
}

impl Anthropic {
    /// An answer from `model`.
    pub(crate) fn new(model: &str) -> Self {
        Self {
            id: ids::new_id("msg_"),
            model: model.to_owned(),
        }
    }
}

/// An event named as its data's `type`, as every Anthropic event is.
fn event(name: &'static str, data: &Value) -> Event {
    Event::new().event(name).data(data.to_string())
}

impl Format for Anthropic {
    fn error_body(error: &ApiError) -> Value {
        error.anthropic()
    }

    /// The message (empty), its one text block, and a `ping`, as Anthropic
    /// opens a stream. The prompt's size is known here only from the demo;
    /// an upstream's comes in `message_delta`.
    fn start(&mut self, input_tokens: Option<u32>) -> Vec<Event> {
        let message = json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [],
            "stop_reason": null,
            "stop_sequence": null,
            "usage": { "input_tokens": input_tokens.unwrap_or(0), "output_tokens": 0 },
        });
        vec![
            event(
                "message_start",
                &json!({ "type": "message_start", "message": message }),
            ),
            event(
                "content_block_start",
                &json!({
                    "type": "content_block_start",
                    "index": 0,
                    "content_block": { "type": "text", "text": "" },
                }),
            ),
            event("ping", &json!({ "type": "ping" })),
        ]
    }

    fn text(&mut self, text: String) -> Vec<Event> {
        vec![event(
            "content_block_delta",
            &json!({
                "type": "content_block_delta",
                "index": 0,
                "delta": { "type": "text_delta", "text": text },
            }),
        )]
    }

    fn finish(&mut self, finish: Finish) -> Vec<Event> {
        vec![
            event(
                "content_block_stop",
                &json!({ "type": "content_block_stop", "index": 0 }),
            ),
            event(
                "message_delta",
                &json!({
                    "type": "message_delta",
                    "delta": { "stop_reason": finish.reason.anthropic(), "stop_sequence": null },
                    "usage": {
                        "input_tokens": finish.usage.input_tokens,
                        "output_tokens": finish.usage.output_tokens,
                    },
                }),
            ),
            event("message_stop", &json!({ "type": "message_stop" })),
        ]
    }

    /// Anthropic ends a failed stream with an `error` event; its SDKs raise
    /// it as an `APIStatusError`.
    fn fail(&mut self, error: &ApiError) -> Vec<Event> {
        vec![event("error", &error.anthropic())]
    }

    fn whole(self, answer: Answer) -> Value {
        json!({
            "id": self.id,
            "type": "message",
            "role": "assistant",
            "model": self.model,
            "content": [{ "type": "text", "text": answer.text }],
            "stop_reason": answer.finish.reason.anthropic(),
            "stop_sequence": null,
            "usage": {
                "input_tokens": answer.finish.usage.input_tokens,
                "output_tokens": answer.finish.usage.output_tokens,
            },
        })
    }
}

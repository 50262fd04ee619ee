//! OpenAI's answers: `chat.completion.chunk` events ending with
//! `data: [DONE]`, or one `chat.completion` object.

use serde_json::{Value, json};
use sse_engine::Event;

use crate::error::ApiError;
use crate::generation::{Finish, Usage};
use crate::ids;
use crate::respond::{Answer, Format};

/// One answer in OpenAI's format: its id, time and model, the same in every
/// chunk.
#[derive(Debug)]
pub(crate) struct OpenAi {
    id: String,
    created: u64,
    model: String,
    include_usage: bool,
}

impl OpenAi {
    /// An answer from `model`; `include_usage` adds the usage chunk that
    /// `stream_options.include_usage` asks for.
    pub(crate) fn new(model: &str, include_usage: bool) -> Self {
        Self {
            id: ids::new_id("chatcmpl-"),
            created: ids::unix_time(),
            model: model.to_owned(),
            include_usage,
        }
    }

    /// A chunk with `choices` (and `"usage": null` where a usage chunk will
    /// follow, as OpenAI writes it).
    fn chunk(&self, choices: &Value, usage: Option<Usage>) -> Event {
        let mut chunk = json!({
            "id": self.id,
            "object": "chat.completion.chunk",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": null,
            "choices": choices,
        });
        if self.include_usage {
            if let Some(fields) = chunk.as_object_mut() {
                fields.insert("usage".to_owned(), usage.map_or(Value::Null, usage_json));
            }
        }
        Event::new().data(chunk.to_string())
    }

    fn delta(&self, delta: &Value, finish_reason: Option<&str>) -> Event {
        let choice = json!({
            "index": 0,
            "delta": delta,
            "logprobs": null,
            "finish_reason": finish_reason,
        });
        self.chunk(&Value::Array(vec![choice]), None)
    }
}

fn usage_json(usage: Usage) -> Value {
    json!({
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens.saturating_add(usage.output_tokens),
    })
}

impl Format for OpenAi {
    fn error_body(error: &ApiError) -> Value {
        error.openai()
    }

    fn start(&mut self, _input_tokens: Option<u32>) -> Vec<Event> {
        vec![self.delta(&json!({"role": "assistant", "content": ""}), None)]
    }

    fn text(&mut self, text: String) -> Vec<Event> {
        vec![self.delta(&json!({ "content": text }), None)]
    }

    fn finish(&mut self, finish: Finish) -> Vec<Event> {
        let mut events = vec![self.delta(&json!({}), Some(finish.reason.openai()))];
        if self.include_usage {
            events.push(self.chunk(&json!([]), Some(finish.usage)));
        }
        events.push(Event::new().data("[DONE]"));
        events
    }

    /// OpenAI ends a failed stream with the error object, and no `[DONE]`;
    /// its SDKs raise it as an `APIError`.
    fn fail(&mut self, error: &ApiError) -> Vec<Event> {
        vec![Event::new().data(error.openai().to_string())]
    }

    fn whole(self, answer: Answer) -> Value {
        json!({
            "id": self.id,
            "object": "chat.completion",
            "created": self.created,
            "model": self.model,
            "system_fingerprint": null,
            "choices": [{
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": answer.text,
                    "refusal": null,
                    "annotations": [],
                },
                "logprobs": null,
                "finish_reason": answer.finish.reason.openai(),
            }],
            "usage": usage_json(answer.finish.usage),
        })
    }
}

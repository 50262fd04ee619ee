//! The body of an upstream request: an OpenAI chat completion request,
//! always streamed.

use bytes::Bytes;
use serde_json::{Value, json};

use crate::prompt::Prompt;

/// `prompt` as OpenAI's `POST /chat/completions` takes it, with
/// `"stream": true` whether or not the client streams (one way of reading
/// the upstream serves both), and the usage chunk asked for.
pub(super) fn body(prompt: &Prompt) -> Bytes {
    let mut body = prompt.options.clone();
    let messages: Vec<Value> = prompt
        .messages
        .iter()
        .map(|message| json!({ "role": message.role, "content": message.content }))
        .collect();
    body.insert("model".to_owned(), Value::from(prompt.model.as_str()));
    body.insert("messages".to_owned(), Value::from(messages));
    body.insert("stream".to_owned(), Value::Bool(true));
    // Always: the client's answer reports the upstream's token counts (both
    // APIs carry usage), whether or not an OpenAI client asked for them.
    body.insert(
        "stream_options".to_owned(),
        json!({ "include_usage": true }),
    );
    // A client of the OpenAI API chose its own field, which is in `options`;
    // otherwise `max_tokens`, which every OpenAI-compatible server takes.
    if let Some(max_tokens) = prompt.max_tokens {
        if !body.contains_key("max_completion_tokens") {
            body.entry("max_tokens").or_insert(Value::from(max_tokens));
        }
    }
    Bytes::from(Value::Object(body).to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(prompt: &Prompt) -> Value {
        serde_json::from_slice(&body(prompt)).unwrap()
    }

    #[test]
    fn a_streamed_chat_request() {
        let mut prompt = Prompt::user("gpt-4o-mini", "hi");
        prompt.max_tokens = Some(20);
        prompt
            .options
            .insert("temperature".to_owned(), Value::from(0.5));
        assert_eq!(
            parsed(&prompt),
            json!({
                "model": "gpt-4o-mini",
                "messages": [{"role": "user", "content": "hi"}],
                "stream": true,
                "stream_options": {"include_usage": true},
                "max_tokens": 20,
                "temperature": 0.5,
            })
        );
    }

    #[test]
    fn the_clients_own_limit_field_is_kept() {
        let mut prompt = Prompt::user("m", "hi");
        prompt.max_tokens = Some(7);
        prompt
            .options
            .insert("max_completion_tokens".to_owned(), Value::from(7));
        let body = parsed(&prompt);
        assert_eq!(body["max_completion_tokens"], 7);
        assert!(body.get("max_tokens").is_none());
    }
}

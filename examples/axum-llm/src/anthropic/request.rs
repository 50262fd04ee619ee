//! Reading `POST /v1/messages`, with Anthropic's refusals for what it would
//! refuse, into a prompt in OpenAI's terms (which is what an upstream
//! speaks): `system` becomes the first message.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Anthropic;
use crate::content::Content;
use crate::error::ApiError;
use crate::prompt::{Message, Prompt};
use crate::respond::Request;

#[derive(Deserialize)]
struct MessagesRequest {
    model: Option<String>,
    // Signed, so that `-1` gets the minimum's message, not a type error.
    max_tokens: Option<i64>,
    messages: Option<Vec<AnthropicMessage>>,
    system: Option<Content>,
    stream: Option<bool>,
    temperature: Option<f64>,
    top_p: Option<f64>,
    stop_sequences: Option<Vec<String>>,
    // Read only to refuse: this example passes text and offers no tools.
    tools: Option<Value>,
    tool_choice: Option<Value>,
}

#[derive(Deserialize)]
struct AnthropicMessage {
    role: String,
    content: Content,
}

/// Reads a messages request.
///
/// # Errors
///
/// `400` (`invalid_request_error`) for a body that is not JSON, a missing
/// `model`, `max_tokens` or `messages`, `max_tokens` below 1, no messages, a
/// role other than `user` or `assistant`, content other than text (tool
/// use and results included), or `tools` and `tool_choice`.
pub(super) fn parse(body: &[u8]) -> Result<Request<Anthropic>, ApiError> {
    let request: MessagesRequest = serde_json::from_slice(body).map_err(|error| {
        if error.is_data() {
            ApiError::invalid(format!("Invalid request: {error}"))
        } else {
            ApiError::invalid(format!("The request body is not valid JSON: {error}"))
        }
    })?;
    let required = |field: &str| ApiError::invalid(format!("{field}: Field required"));
    let model = request.model.ok_or_else(|| required("model"))?;
    let max_tokens = request.max_tokens.ok_or_else(|| required("max_tokens"))?;
    let conversation = request.messages.ok_or_else(|| required("messages"))?;
    if max_tokens < 1 {
        return Err(ApiError::invalid(
            "max_tokens: Input should be greater than or equal to 1",
        ));
    }
    // Beyond u32 is no limit at all in practice.
    let max_tokens = u32::try_from(max_tokens).unwrap_or(u32::MAX);
    for (field, value) in [
        ("tools", &request.tools),
        ("tool_choice", &request.tool_choice),
    ] {
        if value.is_some() {
            return Err(ApiError::invalid(format!(
                "{field}: this example passes text only and offers no tools"
            ))
            .param(field));
        }
    }
    if conversation.is_empty() {
        return Err(ApiError::invalid(
            "messages: at least one message is required",
        ));
    }
    let mut messages = Vec::with_capacity(conversation.len() + 1);
    if let Some(system) = request.system {
        messages.push(Message {
            role: "system".to_owned(),
            content: system.into_text("system")?,
        });
    }
    for (index, message) in conversation.into_iter().enumerate() {
        if !matches!(message.role.as_str(), "user" | "assistant") {
            return Err(ApiError::invalid(format!(
                "messages.{index}.role: Input should be 'user' or 'assistant'"
            )));
        }
        messages.push(Message {
            role: message.role,
            content: message
                .content
                .into_text(&format!("messages.{index}.content"))?,
        });
    }
    // Sampling options, in the names an OpenAI-compatible upstream knows.
    let mut options = Map::new();
    let sampling = [
        ("temperature", request.temperature.map(Value::from)),
        ("top_p", request.top_p.map(Value::from)),
        ("stop", request.stop_sequences.map(Value::from)),
    ];
    for (name, value) in sampling {
        if let Some(value) = value {
            options.insert(name.to_owned(), value);
        }
    }
    let format = Anthropic::new(&model);
    Ok(Request {
        prompt: Prompt {
            model,
            messages,
            max_tokens: Some(max_tokens),
            options,
        },
        stream: request.stream.unwrap_or(false),
        format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> String {
        let error = parse(body.as_bytes()).unwrap_err().anthropic();
        assert_eq!(error["type"], "error");
        assert_eq!(error["error"]["type"], "invalid_request_error");
        error["error"]["message"].as_str().unwrap().to_owned()
    }

    #[test]
    fn a_full_request() {
        let request = parse(
            br#"{"model": "demo", "max_tokens": 64, "stream": true, "temperature": 1,
                "stop_sequences": ["END"], "system": [{"type": "text", "text": "Be brief."}],
                "messages": [{"role": "user", "content": "Hi"},
                             {"role": "assistant", "content": "Hello"},
                             {"role": "user", "content": [{"type": "text", "text": "Again"}]}]}"#,
        )
        .unwrap();
        assert!(request.stream);
        let prompt = request.prompt;
        assert_eq!(prompt.max_tokens, Some(64));
        assert_eq!(prompt.messages[0].role, "system");
        assert_eq!(prompt.messages[0].content, "Be brief.");
        assert_eq!(prompt.last_user_text(), "Again");
        assert_eq!(prompt.options["stop"], serde_json::json!(["END"]));
    }

    #[test]
    fn refusals() {
        let user = r#"[{"role": "user", "content": "hi"}]"#;
        assert!(refusal("{").contains("not valid JSON"));
        assert!(refusal("[]").contains("Invalid request"));
        assert_eq!(refusal(r#"{"max_tokens": 5}"#), "model: Field required");
        assert_eq!(
            refusal(&format!(r#"{{"model": "demo", "messages": {user}}}"#)),
            "max_tokens: Field required"
        );
        assert_eq!(
            refusal(r#"{"model": "demo", "max_tokens": 5}"#),
            "messages: Field required"
        );
        assert!(
            refusal(&format!(
                r#"{{"model": "demo", "max_tokens": 0, "messages": {user}}}"#
            ))
            .starts_with("max_tokens")
        );
        assert!(
            refusal(r#"{"model": "demo", "max_tokens": 5, "messages": []}"#)
                .starts_with("messages")
        );
        assert!(
            refusal(&format!(
                r#"{{"model": "demo", "max_tokens": -1, "messages": {user}}}"#
            ))
            .starts_with("max_tokens")
        );
        for field in ["tools", "tool_choice"] {
            assert!(
                refusal(&format!(
                    r#"{{"model": "demo", "max_tokens": 5, "messages": {user}, "{field}": []}}"#
                ))
                .starts_with(field)
            );
        }
        assert!(refusal(r#"{"model": "demo", "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]}"#)
            .starts_with("messages.0.role"));
    }
}

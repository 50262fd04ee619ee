//! Reading `POST /v1/chat/completions`, with OpenAI's refusals for what it
//! would refuse.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::OpenAi;
use crate::content::Content;
use crate::error::ApiError;
use crate::prompt::{Message, Prompt};
use crate::respond::Request;

#[derive(Deserialize)]
struct ChatCompletionRequest {
    model: Option<String>,
    messages: Option<Vec<ChatMessage>>,
    stream: Option<bool>,
    stream_options: Option<StreamOptions>,
    // Signed, so that `-1` is refused as below the minimum (with its
    // `param`), not as a type error.
    max_tokens: Option<i64>,
    max_completion_tokens: Option<i64>,
    n: Option<u32>,
    /// Everything else (`temperature`, `stop`, `seed`, ...): for an upstream.
    #[serde(flatten)]
    options: Map<String, Value>,
}

#[derive(Deserialize)]
struct ChatMessage {
    role: String,
    /// `null` for an assistant message that only called tools.
    content: Option<Content>,
    // Read only to refuse: this example passes text, and dropping a call or
    // its id would leave a conversation the upstream cannot follow.
    tool_calls: Option<Value>,
    tool_call_id: Option<Value>,
    function_call: Option<Value>,
}

/// Request fields that offer the model tools. This example passes text
/// only, so it refuses them rather than answering as if they were absent.
const TOOL_FIELDS: [&str; 4] = ["tools", "tool_choice", "functions", "function_call"];

/// `400` naming `param`: a tool field this example does not take.
fn no_tools(param: &str) -> ApiError {
    ApiError::invalid(format!(
        "Invalid '{param}': this example passes text only and takes no tools or tool calls."
    ))
    .param(param)
}

#[derive(Deserialize)]
struct StreamOptions {
    #[serde(default)]
    include_usage: bool,
}

/// Reads a chat completion request.
///
/// # Errors
///
/// `400` with OpenAI's `param` and `code` for a body that is not JSON, a
/// missing `model` or `messages`, an empty conversation, a limit below 1,
/// `n` other than 1, `stream_options` without `stream`, content other
/// than text, or tools and tool calls (`tools`, `tool_choice`, a message's
/// `tool_calls` or `tool_call_id`, a `tool` message).
pub(super) fn parse(body: &[u8]) -> Result<Request<OpenAi>, ApiError> {
    let request: ChatCompletionRequest = serde_json::from_slice(body).map_err(|error| {
        if error.is_data() {
            ApiError::invalid(format!("Invalid request body: {error}")).code("invalid_type")
        } else {
            ApiError::invalid(format!(
                "We could not parse the JSON body of your request. ({error})"
            ))
        }
    })?;
    let Some(model) = request.model else {
        return Err(ApiError::invalid("you must provide a model parameter"));
    };
    let Some(messages) = request.messages else {
        return Err(ApiError::invalid("Missing required parameter: 'messages'.")
            .param("messages")
            .code("missing_required_parameter"));
    };
    if messages.is_empty() {
        return Err(ApiError::invalid(
            "Invalid 'messages': empty array. Expected an array with minimum length 1, \
             but got an empty array instead.",
        )
        .param("messages")
        .code("empty_array"));
    }
    if let Some(n) = request.n.filter(|&n| n != 1) {
        return Err(ApiError::invalid(format!(
            "Invalid 'n': this example answers with one choice only, not {n}."
        ))
        .param("n"));
    }
    let stream = request.stream.unwrap_or(false);
    if request.stream_options.is_some() && !stream {
        return Err(ApiError::invalid(
            "The 'stream_options' parameter is only allowed when 'stream' is enabled.",
        )
        .param("stream_options"));
    }
    let mut options = request.options;
    if let Some(field) = TOOL_FIELDS
        .into_iter()
        .find(|field| options.get(*field).is_some_and(|value| !value.is_null()))
    {
        return Err(no_tools(field));
    }
    let mut max_tokens = None;
    for (name, value) in [
        ("max_tokens", request.max_tokens),
        ("max_completion_tokens", request.max_completion_tokens),
    ] {
        let Some(value) = value else { continue };
        if value < 1 {
            return Err(ApiError::invalid(format!(
                "Invalid '{name}': integer below minimum value. \
                 Expected a value >= 1, but got {value} instead."
            ))
            .param(name)
            .code("integer_below_min_value"));
        }
        // Beyond u32 is no limit at all in practice.
        let limit = u32::try_from(value).unwrap_or(u32::MAX);
        // The smaller limit holds; the client's field goes upstream as it is.
        max_tokens = Some(max_tokens.map_or(limit, |max: u32| max.min(limit)));
        options.insert(name.to_owned(), Value::from(value));
    }
    let messages = messages
        .into_iter()
        .enumerate()
        .map(|(index, message)| {
            let fields = [
                ("tool_calls", message.tool_calls.is_some()),
                ("tool_call_id", message.tool_call_id.is_some()),
                ("function_call", message.function_call.is_some()),
                ("role", matches!(message.role.as_str(), "tool" | "function")),
            ];
            if let Some((field, _)) = fields.into_iter().find(|(_, present)| *present) {
                return Err(no_tools(&format!("messages[{index}].{field}")));
            }
            let content = match message.content {
                None => String::new(),
                Some(content) => content.into_text(&format!("messages[{index}].content"))?,
            };
            Ok(Message {
                role: message.role,
                content,
            })
        })
        .collect::<Result<_, ApiError>>()?;
    let include_usage = request
        .stream_options
        .is_some_and(|options| options.include_usage);
    let format = OpenAi::new(&model, include_usage);
    Ok(Request {
        prompt: Prompt {
            model,
            messages,
            max_tokens,
            options,
        },
        stream,
        format,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refusal(body: &str) -> ApiError {
        parse(body.as_bytes()).unwrap_err()
    }

    #[test]
    fn a_full_request() {
        let request = parse(
            br#"{"model": "demo", "stream": true, "stream_options": {"include_usage": true},
                "max_completion_tokens": 5, "temperature": 0.2,
                "messages": [{"role": "system", "content": "Be brief."},
                             {"role": "user", "content": [{"type": "text", "text": "Hi"}]},
                             {"role": "assistant", "content": null}]}"#,
        )
        .unwrap();
        assert!(request.stream);
        let prompt = request.prompt;
        assert_eq!(prompt.model, "demo");
        assert_eq!(prompt.max_tokens, Some(5));
        assert_eq!(prompt.last_user_text(), "Hi");
        assert_eq!(prompt.messages.len(), 3);
        assert_eq!(prompt.options["temperature"], 0.2);
        assert_eq!(prompt.options["max_completion_tokens"], 5);
        assert!(!prompt.options.contains_key("stream"));
    }

    #[test]
    fn refusals_name_the_parameter() {
        let user = r#"[{"role": "user", "content": "hi"}]"#;
        let cases = [
            ("{", None, None),
            ("[]", None, Some("invalid_type")),
            (r#"{"messages": []}"#, None, None),
            (
                r#"{"model": "demo"}"#,
                Some("messages"),
                Some("missing_required_parameter"),
            ),
            (
                r#"{"model": "demo", "messages": []}"#,
                Some("messages"),
                Some("empty_array"),
            ),
            (
                r#"{"model": 5, "messages": []}"#,
                None,
                Some("invalid_type"),
            ),
        ];
        for (body, param, code) in cases {
            let error = refusal(body).openai();
            assert_eq!(error["error"]["param"].as_str(), param, "{body}");
            assert_eq!(error["error"]["code"].as_str(), code, "{body}");
            assert_eq!(error["error"]["type"], "invalid_request_error");
        }
        for (body, param) in [
            (format!(r#"{{"model": "demo", "messages": {user}, "max_tokens": 0}}"#), "max_tokens"),
            (format!(r#"{{"model": "demo", "messages": {user}, "max_tokens": -1}}"#), "max_tokens"),
            (format!(r#"{{"model": "demo", "messages": {user}, "n": 2}}"#), "n"),
            (
                format!(r#"{{"model": "demo", "messages": {user}, "tools": [{{"type": "function"}}]}}"#),
                "tools",
            ),
            (
                format!(r#"{{"model": "demo", "messages": {user}, "tool_choice": "auto"}}"#),
                "tool_choice",
            ),
            (
                r#"{"model": "demo", "messages": [{"role": "assistant", "content": null,
                    "tool_calls": [{"id": "c", "type": "function"}]}]}"#
                    .to_owned(),
                "messages[0].tool_calls",
            ),
            (
                r#"{"model": "demo", "messages": [{"role": "tool", "tool_call_id": "c", "content": "x"}]}"#
                    .to_owned(),
                "messages[0].tool_call_id",
            ),
            (
                r#"{"model": "demo", "messages": [{"role": "tool", "content": "x"}]}"#.to_owned(),
                "messages[0].role",
            ),
            (
                format!(r#"{{"model": "demo", "messages": {user}, "stream_options": {{}}}}"#),
                "stream_options",
            ),
            (
                r#"{"model": "demo", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]}"#
                    .to_owned(),
                "messages[0].content",
            ),
        ] {
            let error = refusal(&body);
            assert_eq!(error.status(), 400, "{body}");
            assert_eq!(error.openai()["error"]["param"], param, "{body}");
        }
    }
}

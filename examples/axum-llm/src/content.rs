//! A message's `content` as both APIs write it: a string, or a list of
//! parts (OpenAI) or blocks (Anthropic) of which this example reads the
//! text ones.

use serde::Deserialize;

use crate::error::ApiError;

/// A message's content.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(crate) enum Content {
    /// `"content": "Hello"`.
    Text(String),
    /// `"content": [{"type": "text", "text": "Hello"}]`.
    Parts(Vec<Part>),
}

/// One part or block of a content list.
#[derive(Debug, Deserialize)]
pub(crate) struct Part {
    #[serde(rename = "type")]
    kind: String,
    text: Option<String>,
}

impl Content {
    /// The text, its parts joined by line breaks.
    ///
    /// # Errors
    ///
    /// `400` for a part that is not text (an image, a tool call): this
    /// example passes text only, and says so rather than dropping the part.
    /// `at` names the content in the message, as the API would
    /// (`messages[2].content`).
    pub(crate) fn into_text(self, at: &str) -> Result<String, ApiError> {
        match self {
            Self::Text(text) => Ok(text),
            Self::Parts(parts) => {
                let mut texts = Vec::with_capacity(parts.len());
                for (index, part) in parts.into_iter().enumerate() {
                    match (part.kind.as_str(), part.text) {
                        ("text", Some(text)) => texts.push(text),
                        (kind, _) => {
                            return Err(ApiError::invalid(format!(
                                "{at}[{index}]: this example takes text content only, not {kind:?}"
                            ))
                            .param(at));
                        }
                    }
                }
                Ok(texts.join("\n"))
            }
        }
    }
}

//! [`Prompt`]: a chat request as the sources see it, whichever of the two
//! APIs it came through.

use serde_json::{Map, Value};

/// What to answer: a model, a conversation, a length limit, and options an
/// upstream may understand.
#[derive(Debug, Clone, PartialEq)]
pub struct Prompt {
    /// The model asked for.
    pub model: String,
    /// The conversation, oldest first, in OpenAI's roles (`system`,
    /// `developer`, `user`, `assistant`, ...).
    pub messages: Vec<Message>,
    /// At most this many tokens of answer.
    pub max_tokens: Option<u32>,
    /// Further fields of an OpenAI chat request (`temperature`, `stop`, or the
    /// client's own `max_completion_tokens`), passed to an upstream as they
    /// are. The demo ignores them.
    pub options: Map<String, Value>,
}

/// One message of the conversation, as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Who said it.
    pub role: String,
    /// What was said.
    pub content: String,
}

impl Prompt {
    /// A prompt for `model` with one user message, and nothing else.
    pub fn user(model: impl Into<String>, text: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            messages: vec![Message {
                role: "user".to_owned(),
                content: text.into(),
            }],
            max_tokens: None,
            options: Map::new(),
        }
    }

    /// The text of the last user message: what the demo answers. Empty when
    /// no user has spoken.
    pub fn last_user_text(&self) -> &str {
        self.messages
            .iter()
            .rev()
            .find(|message| message.role == "user")
            .map_or("", |message| &message.content)
    }
}

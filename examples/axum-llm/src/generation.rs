//! [`Generation`]: an answer as it is produced, whatever produces it (the
//! demo generator or an upstream API), before it is written in either API's
//! format.

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use futures_util::Stream;

use crate::error::ApiError;

/// One step of an answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// More text: the next token or tokens.
    Text(String),
    /// The answer is complete; always the last piece.
    Finish(Finish),
}

/// How an answer ended, and what it cost.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Finish {
    /// Why it ended.
    pub reason: FinishReason,
    /// Token counts.
    pub usage: Usage,
}

/// Why an answer ended, in OpenAI's terms (each has an Anthropic equivalent).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// The model was done (`stop`; Anthropic's `end_turn`).
    Stop,
    /// The token limit was reached (`length`; `max_tokens`).
    Length,
    /// A content filter stopped it (`content_filter`; `refusal`).
    ContentFilter,
    /// The model called a tool (`tool_calls`; `tool_use`).
    ToolCalls,
}

impl FinishReason {
    /// Reads an OpenAI `finish_reason`. Values this example does not know
    /// (an upstream's own extensions) count as a normal stop.
    pub fn from_openai(value: &str) -> Self {
        match value {
            "length" => Self::Length,
            "content_filter" => Self::ContentFilter,
            "tool_calls" | "function_call" => Self::ToolCalls,
            _ => Self::Stop,
        }
    }

    /// OpenAI's `finish_reason`.
    pub fn openai(self) -> &'static str {
        match self {
            Self::Stop => "stop",
            Self::Length => "length",
            Self::ContentFilter => "content_filter",
            Self::ToolCalls => "tool_calls",
        }
    }

    /// Anthropic's `stop_reason`.
    pub fn anthropic(self) -> &'static str {
        match self {
            Self::Stop => "end_turn",
            Self::Length => "max_tokens",
            Self::ContentFilter => "refusal",
            Self::ToolCalls => "tool_use",
        }
    }
}

/// Token counts of one request.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Tokens of the prompt.
    pub input_tokens: u32,
    /// Tokens of the answer.
    pub output_tokens: u32,
}

type Pieces = Pin<Box<dyn Stream<Item = Result<Piece, ApiError>> + Send>>;

/// An answer being produced: a stream of [`Piece`]s that ends after a
/// [`Piece::Finish`] or an error (an upstream that failed mid-answer).
///
/// Dropping it stops the work: the demo's timer, or the upstream request,
/// whose connection is closed. The response body owns it, so a client that
/// disconnects stops it too. While it lives it counts in
/// [`Generations::open`].
#[must_use = "streams do nothing unless polled"]
pub struct Generation {
    pieces: Pieces,
    input_tokens: Option<u32>,
    _open: OpenGeneration,
}

impl Generation {
    /// An answer made of `pieces`, counted in `counter` until dropped.
    /// `input_tokens` is the prompt's size when known before the answer ends.
    pub(crate) fn new(
        pieces: impl Stream<Item = Result<Piece, ApiError>> + Send + 'static,
        input_tokens: Option<u32>,
        counter: &Generations,
    ) -> Self {
        Self {
            pieces: Box::pin(pieces),
            input_tokens,
            _open: counter.start(),
        }
    }

    /// The prompt's size in tokens, if known before the answer ends (the
    /// demo knows; an upstream says so only at the end).
    pub fn input_tokens(&self) -> Option<u32> {
        self.input_tokens
    }
}

impl Stream for Generation {
    type Item = Result<Piece, ApiError>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.pieces.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for Generation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Generation")
            .field("input_tokens", &self.input_tokens)
            .finish_non_exhaustive()
    }
}

/// How many [`Generation`]s of a server are alive: answers being produced
/// (or produced and not yet dropped). Clones share the count.
///
/// This is how the tests see, from the upstream's side, that a proxy dropped
/// its upstream request when its own client went away.
#[derive(Debug, Clone, Default)]
pub struct Generations(Arc<AtomicUsize>);

impl Generations {
    /// The number of generations alive now.
    pub fn open(&self) -> usize {
        self.0.load(Ordering::SeqCst)
    }

    fn start(&self) -> OpenGeneration {
        self.0.fetch_add(1, Ordering::SeqCst);
        OpenGeneration(Arc::clone(&self.0))
    }
}

/// One count in [`Generations`], given back on drop.
struct OpenGeneration(Arc<AtomicUsize>);

impl Drop for OpenGeneration {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}

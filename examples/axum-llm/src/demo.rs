//! The built-in demo model: no language model at all, but a fixed rule that
//! turns a prompt into a short answer, streamed a token at a time with a
//! delay, so that the typing effect shows without an API key.

use std::time::Duration;

use futures_util::{StreamExt, stream};

use crate::error::ApiError;
use crate::generation::{Finish, FinishReason, Generation, Generations, Piece, Usage};
use crate::prompt::Prompt;

/// The name the demo model answers to.
pub const DEMO_MODEL: &str = "demo";

/// How many words of the prompt the answer quotes.
const QUOTED_WORDS: usize = 8;

/// The answer's last sentence, chosen by the prompt: a few true things
/// about what the example shows.
const NOTES: [&str; 6] = [
    "Each piece of this answer reached you as one Server-Sent Event, written by sse-engine.",
    "Server-Sent Events are plain HTTP: one long text/event-stream response, each event ended by a blank line.",
    "Any text fits in an event: sse-engine writes one data line per line of it, so no value can add a field.",
    "When the client goes away the response body is dropped, and the generation with it, so no work is done for nobody.",
    "OpenAI's stream ends with data: [DONE]; Anthropic's names every event and ends with message_stop.",
    "Streamed or not, a prompt gets the same text; only the pace differs.",
];

/// The demo model; see the [module docs](self).
#[derive(Debug, Clone, Copy)]
pub struct Demo {
    delay: Duration,
}

impl Demo {
    /// A demo model that waits `delay` between tokens.
    pub fn new(delay: Duration) -> Self {
        Self { delay }
    }

    /// The delay between tokens.
    pub fn delay(&self) -> Duration {
        self.delay
    }

    /// Starts answering `prompt`, counted in `counter`.
    ///
    /// # Errors
    ///
    /// `404` when the prompt asks for a model other than [`DEMO_MODEL`].
    pub fn generate(&self, prompt: &Prompt, counter: &Generations) -> Result<Generation, ApiError> {
        if prompt.model != DEMO_MODEL {
            return Err(ApiError::unknown_model(&prompt.model));
        }
        let text = answer(prompt.last_user_text());
        let mut tokens: Vec<String> = tokens(&text).map(str::to_owned).collect();
        let limit = prompt.max_tokens.map_or(usize::MAX, |max| max as usize);
        let reason = if tokens.len() > limit {
            tokens.truncate(limit);
            FinishReason::Length
        } else {
            FinishReason::Stop
        };
        let input_tokens = count(
            prompt
                .messages
                .iter()
                .map(|message| tokens_of(&message.content)),
        );
        let finish = Finish {
            reason,
            usage: Usage {
                input_tokens,
                output_tokens: count(tokens.iter().map(|_| 1)),
            },
        };
        let delay = self.delay;
        let pieces = stream::iter(tokens.into_iter().enumerate())
            .then(move |(index, token)| async move {
                // The first token leaves at once; the delay is between tokens.
                if index > 0 && !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                Ok(Piece::Text(token))
            })
            .chain(stream::once(async move { Ok(Piece::Finish(finish)) }));
        Ok(Generation::new(pieces, Some(input_tokens), counter))
    }
}

/// The demo's whole answer to a user message. It depends on that text only,
/// so every request with it (streamed or not, through either API, directly
/// or through a proxy) gets the same answer.
///
/// ```
/// let text = example_axum_llm::demo::answer("Hello there");
/// assert!(text.starts_with("This is the demo model"));
/// assert!(text.contains("“Hello there”"));
/// assert_eq!(text, example_axum_llm::demo::answer("Hello there"));
/// ```
pub fn answer(prompt: &str) -> String {
    let words: Vec<&str> = prompt.split_whitespace().collect();
    let mut text = String::from(
        "This is the demo model of example-axum-llm, not a language model: \
         it answers by a fixed rule, so the same prompt always gets the same text. ",
    );
    match words.len() {
        0 => text.push_str("Your message was empty. "),
        count => {
            let quoted = words[..count.min(QUOTED_WORDS)].join(" ");
            let more = if count > QUOTED_WORDS { "…" } else { "" };
            let plural = if count == 1 { "" } else { "s" };
            text.push_str(&format!(
                "You wrote {count} word{plural}, starting with “{quoted}{more}”. "
            ));
        }
    }
    text.push_str(NOTES[note_index(prompt)]);
    text
}

/// The demo's tokens of `text`: each run of whitespace goes with the word
/// after it, as `["Hello", ",", " world"]` would in a real tokenizer, only
/// coarser. Joined, they give back `text` exactly.
///
/// ```
/// let tokens: Vec<&str> = example_axum_llm::demo::tokens(" a  bc\nd ").collect();
/// assert_eq!(tokens, [" a", "  bc", "\nd", " "]);
/// ```
pub fn tokens(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let word_start = rest
            .find(|c: char| !c.is_whitespace())
            .unwrap_or(rest.len());
        let end = rest[word_start..]
            .find(char::is_whitespace)
            .map_or(rest.len(), |offset| word_start + offset);
        let (token, after) = rest.split_at(end);
        rest = after;
        Some(token)
    })
}

fn tokens_of(text: &str) -> u32 {
    count(tokens(text).map(|_| 1))
}

/// A sum of counts, saturating rather than overflowing on absurd inputs.
fn count(counts: impl Iterator<Item = u32>) -> u32 {
    counts.fold(0, u32::saturating_add)
}

/// Which note ends the answer: FNV-1a of the prompt, fixed across runs and
/// platforms (unlike std's hasher, which may change between releases).
fn note_index(prompt: &str) -> usize {
    let hash = prompt
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
            (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
        });
    // The remainder is below NOTES.len(), so it fits any usize.
    (hash % NOTES.len() as u64) as usize
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_join_back_to_the_text() {
        for text in [
            "",
            " ",
            "a",
            "two words",
            "  lead",
            "trail  ",
            "é😀 ü\r\nx\ty",
        ] {
            assert_eq!(tokens(text).collect::<String>(), text);
            assert!(tokens(text).all(|token| !token.is_empty()));
        }
    }

    #[test]
    fn the_answer_quotes_the_prompt_and_says_it_is_a_demo() {
        let text = answer("one two three four five six seven eight nine");
        assert!(text.contains(
            "You wrote 9 words, starting with “one two three four five six seven eight…”."
        ));
        assert!(answer("").contains("Your message was empty."));
        assert!(answer("hi").contains("You wrote 1 word, starting with “hi”."));
        assert!(NOTES.iter().any(|note| text.ends_with(note)));
    }

    #[test]
    fn different_prompts_end_differently() {
        let endings: std::collections::HashSet<usize> = (0..50)
            .map(|n| note_index(&format!("prompt {n}")))
            .collect();
        assert_eq!(endings.len(), NOTES.len());
    }
}

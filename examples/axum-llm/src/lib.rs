//! An LLM streaming server that speaks the two formats real clients already
//! parse: OpenAI's chat completions and Anthropic's messages, streamed as
//! Server-Sent Events with sse-engine, or sent whole.
//!
//! - `POST /v1/chat/completions`: OpenAI's API (`chat.completion.chunk`
//!   events ending with `data: [DONE]`).
//! - `POST /v1/messages`: Anthropic's API (named events from `message_start`
//!   to `message_stop`).
//! - `GET /`: a page that streams an answer with `fetch`, and can stop it.
//!
//! The tokens come from the built-in [`demo`] model, or from a real
//! OpenAI-compatible [`upstream`] API whose stream is read with sse-engine's
//! decoder and written again in the client's format (the proxy pattern).
//!
//! Run it with `cargo run -p example-axum-llm`; [`Config`] lists the
//! settings.
//!
//! ```
//! use std::time::Duration;
//!
//! let llm = example_axum_llm::Llm::demo(Duration::from_millis(40));
//! let app: axum::Router = example_axum_llm::app(llm);
//! ```

mod anthropic;
pub mod config;
mod content;
pub mod demo;
pub mod error;
mod fallback;
pub mod generation;
mod ids;
mod openai;
mod page;
pub mod prompt;
mod respond;
pub mod upstream;

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::StatusCode;
use axum::routing::{get, post};
use sse_axum::SseResponseLayer;
use sse_axum::compression::Codecs;

pub use self::config::Config;

use self::demo::{DEMO_MODEL, Demo};
use self::error::ApiError;
use self::generation::{Generation, Generations};
use self::prompt::Prompt;
pub use self::respond::MAX_COLLECTED_BYTES;
use self::respond::StreamSettings;
use self::upstream::Upstream;

/// The largest request body read, in bytes: room for a long conversation.
/// A larger one is refused with `413`, in the API's error shape.
pub const MAX_REQUEST_BYTES: usize = 4 * 1024 * 1024;

/// How long a request's body may take to arrive (the answer then takes as
/// long as the model does): a client that sends its body a byte at a time
/// gets `408` then. Headers are bounded by the server (`sse_axum::serve`).
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// `GET /`, `POST /v1/chat/completions` and `POST /v1/messages`, answered
/// by `llm`. Any other path is `404` and any other method `405`, with an
/// error body in OpenAI's shape (Anthropic's under `/v1/messages`).
pub fn app(llm: Llm) -> Router {
    Router::new()
        .route("/", get(page::page))
        .route("/v1/chat/completions", post(openai::chat_completions))
        .route("/v1/messages", post(anthropic::messages))
        .fallback(fallback::not_found)
        .method_not_allowed_fallback(fallback::method_not_allowed)
        // Streams compressed for clients that accept it (`Accept-Encoding`):
        // zstd, br or gzip, flushed after every event; identity otherwise.
        // The streams keep their own keep-alive.
        .layer(
            SseResponseLayer::new()
                .no_keep_alive()
                .compression(Codecs::new()),
        )
        .layer(DefaultBodyLimit::max(MAX_REQUEST_BYTES))
        // A request body must arrive in time: a client that sends it a byte
        // at a time is answered 408. The answer itself may take as long as
        // the model does (a whole answer, `stream: false`, included).
        .layer(axum::middleware::map_request(read_body_in_time))
        .with_state(llm)
}

/// Reads the request's body within [`REQUEST_TIMEOUT`] (up to one byte
/// past [`MAX_REQUEST_BYTES`], so that the handler's limit still refuses a
/// larger one in the API's shape), or answers `408`.
async fn read_body_in_time(
    request: axum::extract::Request,
) -> Result<axum::extract::Request, StatusCode> {
    use http_body_util::BodyExt;

    let (parts, mut body) = request.into_parts();
    let read = async {
        let mut bytes = Vec::new();
        while bytes.len() <= MAX_REQUEST_BYTES {
            let Some(frame) = body.frame().await else {
                break;
            };
            if let Ok(data) = frame.map_err(|_| StatusCode::BAD_REQUEST)?.into_data() {
                bytes.extend_from_slice(&data);
            }
        }
        Ok(bytes)
    };
    match tokio::time::timeout(REQUEST_TIMEOUT, read).await {
        Ok(Ok(bytes)) => Ok(axum::extract::Request::from_parts(
            parts,
            axum::body::Body::from(bytes),
        )),
        Ok(Err(status)) => Err(status),
        Err(_) => Err(StatusCode::REQUEST_TIMEOUT),
    }
}

/// Where answers come from, how many are being produced, and how their
/// event streams are framed. Clones share the source and the count.
#[derive(Debug, Clone)]
pub struct Llm {
    source: Arc<Source>,
    generations: Generations,
    streams: StreamSettings,
}

#[derive(Debug)]
enum Source {
    Demo(Demo),
    // Boxed: the client is large, the demo small.
    Upstream {
        upstream: Box<Upstream>,
        model: String,
    },
}

impl Llm {
    /// Answers from the [`demo`] model, `delay` between tokens.
    pub fn demo(delay: Duration) -> Self {
        Self::with_source(Source::Demo(Demo::new(delay)))
    }

    /// Answers from `upstream`; the page asks it for `model`.
    pub fn proxy(upstream: Upstream, model: impl Into<String>) -> Self {
        Self::with_source(Source::Upstream {
            upstream: Box::new(upstream),
            model: model.into(),
        })
    }

    /// The source `config` chooses: a proxy when it names an upstream, the
    /// demo otherwise.
    ///
    /// # Errors
    ///
    /// When the upstream's URL or key cannot be used.
    pub fn from_config(config: &Config) -> Result<Self, String> {
        let llm = match &config.upstream {
            None => Self::demo(config.token_delay),
            Some(upstream) => Self::proxy(Upstream::new(upstream)?, &upstream.model),
        };
        let llm = llm.keep_alive(config.keep_alive);
        Ok(match config.retry {
            Some(delay) => llm.retry(delay),
            None => llm,
        })
    }

    fn with_source(source: Source) -> Self {
        Self {
            source: Arc::new(source),
            generations: Generations::default(),
            streams: StreamSettings::default(),
        }
    }

    /// Sends a keep-alive comment on a stream that has been quiet for
    /// `interval` ([`DEFAULT_KEEP_ALIVE`](config::DEFAULT_KEEP_ALIVE) unless
    /// set), so that proxies keep it while an upstream thinks. It is kept
    /// between 1 ms and a year.
    #[must_use]
    pub fn keep_alive(mut self, interval: Duration) -> Self {
        self.streams.keep_alive = interval;
        self
    }

    /// Opens every stream with `retry:` `delay` (none unless set): how long a
    /// client that reconnects by itself waits first. sse-engine writes it so
    /// that no client reports it as an event: the official SDKs read such a
    /// stream as they read the API's own.
    #[must_use]
    pub fn retry(mut self, delay: Duration) -> Self {
        self.streams.retry = Some(delay);
        self
    }

    /// How the event streams are framed.
    pub(crate) fn stream_settings(&self) -> StreamSettings {
        self.streams
    }

    /// Starts answering `prompt`.
    ///
    /// # Errors
    ///
    /// `404` for a model the demo is not; the upstream's refusal, or `502` or
    /// `504` when it fails, in proxy mode.
    pub async fn generate(&self, prompt: &Prompt) -> Result<Generation, ApiError> {
        match &*self.source {
            Source::Demo(demo) => demo.generate(prompt, &self.generations),
            Source::Upstream { upstream, .. } => upstream.generate(prompt, &self.generations).await,
        }
    }

    /// The answers being produced now.
    pub fn generations(&self) -> &Generations {
        &self.generations
    }

    /// The model the page asks for: `demo`, or the upstream's.
    pub fn default_model(&self) -> &str {
        match &*self.source {
            Source::Demo(_) => DEMO_MODEL,
            Source::Upstream { model, .. } => model,
        }
    }

    /// Where the answers come from, for people: the demo and its delay, or
    /// the upstream's URL.
    pub fn describe(&self) -> String {
        match &*self.source {
            Source::Demo(demo) => format!(
                "the built-in demo model `{DEMO_MODEL}` ({} ms between tokens)",
                demo.delay().as_millis()
            ),
            Source::Upstream { upstream, .. } => format!("the upstream {}", upstream.endpoint()),
        }
    }
}

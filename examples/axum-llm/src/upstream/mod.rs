//! [`Upstream`]: a real OpenAI-compatible API behind the server (the proxy
//! pattern). Every answer, whichever API the client speaks, is one streamed
//! `POST <base>/chat/completions` upstream, read with sse-engine's decoder.

mod chunks;
mod idle;
mod refusal;
mod request;

use std::error::Error;
use std::fmt;
use std::time::Duration;

use axum::http::header::{ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use axum::http::{HeaderValue, Request, StatusCode, Uri};
use bytes::Bytes;
use http_body_util::{BodyDataStream, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use sse_engine::decode::{EventStream, Limits};

use crate::config::UpstreamConfig;
use crate::error::ApiError;
use crate::generation::{Generation, Generations};
use crate::prompt::Prompt;

/// How long to wait for a connection to the upstream.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// How long to wait for the upstream's response headers. A streaming API
/// answers with its headers at once and then takes its time over the body.
const HEADERS_TIMEOUT: Duration = Duration::from_secs(60);

/// One line (one chunk of a chat completion stream) is a few hundred bytes;
/// one this long is a broken or hostile upstream, and reading on would only
/// fill memory.
const MAX_LINE_BYTES: usize = 256 * 1024;

type HttpClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// An OpenAI-compatible API reached over HTTPS (or plain HTTP).
#[derive(Clone)]
pub struct Upstream {
    client: HttpClient,
    endpoint: Uri,
    authorization: Option<HeaderValue>,
    idle_timeout: Duration,
}

impl Upstream {
    /// A client for the API at `config.base_url`, with TLS certificates
    /// checked against the Mozilla roots (webpki-roots).
    ///
    /// # Errors
    ///
    /// When the URL is not an `http` or `https` URL, or the key cannot be
    /// sent in a header.
    pub fn new(config: &UpstreamConfig) -> Result<Self, String> {
        let endpoint = format!("{}/chat/completions", config.base_url.trim_end_matches('/'));
        let endpoint: Uri = endpoint
            .parse()
            .map_err(|error| format!("UPSTREAM_URL {:?} is not a URL: {error}", config.base_url))?;
        if !matches!(endpoint.scheme_str(), Some("http" | "https")) || endpoint.host().is_none() {
            return Err(format!(
                "UPSTREAM_URL {:?} must start with http:// or https://",
                config.base_url
            ));
        }
        let authorization = match &config.api_key {
            None => None,
            Some(key) => {
                let mut value = HeaderValue::try_from(format!("Bearer {key}"))
                    .map_err(|_| "UPSTREAM_API_KEY cannot be sent in a header".to_owned())?;
                value.set_sensitive(true);
                Some(value)
            }
        };
        let mut http = HttpConnector::new();
        http.enforce_http(false);
        http.set_connect_timeout(Some(CONNECT_TIMEOUT));
        http.set_nodelay(true);
        let connector = hyper_rustls::HttpsConnectorBuilder::new()
            .with_provider_and_webpki_roots(rustls::crypto::ring::default_provider())
            .map_err(|error| format!("TLS setup failed: {error}"))?
            .https_or_http()
            .enable_http1()
            .wrap_connector(http);
        Ok(Self {
            client: Client::builder(TokioExecutor::new()).build(connector),
            endpoint,
            authorization,
            idle_timeout: config.idle_timeout,
        })
    }

    /// The URL every request goes to.
    pub fn endpoint(&self) -> &Uri {
        &self.endpoint
    }

    /// Starts a streamed chat completion for `prompt`, counted in `counter`.
    /// Dropping the generation closes the upstream connection, which is how
    /// an upstream learns that nobody wants the rest of the answer.
    ///
    /// # Errors
    ///
    /// The upstream's own refusal (its status and message, a `5xx` as `502`),
    /// `502` when it cannot be reached, `504` when it does not answer. Once
    /// the answer has started, a silence longer than the configured idle
    /// timeout (not a byte, not even a comment) ends it with a `504` error.
    pub async fn generate(
        &self,
        prompt: &Prompt,
        counter: &Generations,
    ) -> Result<Generation, ApiError> {
        let mut request = Request::post(self.endpoint.clone())
            .header(CONTENT_TYPE, "application/json")
            .header(ACCEPT, "text/event-stream");
        if let Some(authorization) = &self.authorization {
            request = request.header(AUTHORIZATION, authorization.clone());
        }
        let request = request
            .body(Full::new(request::body(prompt)))
            .map_err(|error| ApiError::upstream(Chain(&error)))?;
        let response = tokio::time::timeout(HEADERS_TIMEOUT, self.client.request(request))
            .await
            .map_err(|_| {
                ApiError::new(
                    StatusCode::GATEWAY_TIMEOUT,
                    format!("upstream: no answer within {} s", HEADERS_TIMEOUT.as_secs()),
                )
            })?
            .map_err(|error| ApiError::upstream(Chain(&error)))?;
        if !response.status().is_success() {
            return Err(refusal::read(response).await);
        }
        let limits = Limits::new()
            .max_line_bytes(MAX_LINE_BYTES)
            .max_event_bytes(MAX_LINE_BYTES);
        let body = idle::idle_limited(BodyDataStream::new(response.into_body()), self.idle_timeout);
        let events = EventStream::with_limits(Box::pin(body), limits);
        Ok(Generation::new(chunks::pieces(events), None, counter))
    }
}

impl fmt::Debug for Upstream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Upstream")
            .field("endpoint", &self.endpoint)
            .field("authorization", &self.authorization.is_some())
            .field("idle_timeout", &self.idle_timeout)
            .finish_non_exhaustive()
    }
}

/// An error with its causes: hyper's own messages ("client error
/// (Connect)") say little without them.
struct Chain<'a>(&'a (dyn Error + 'static));

impl fmt::Display for Chain<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut source = self.0.source();
        while let Some(error) = source {
            write!(f, ": {error}")?;
            source = error.source();
        }
        Ok(())
    }
}

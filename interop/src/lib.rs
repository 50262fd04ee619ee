//! The client matrix: the SSE clients that front-ends and services use, run
//! against the example servers, each reporting what it hands its
//! application. A server is right for a client when that list is exactly the
//! events the application published: in order, with their types, data and
//! ids, nothing missing, no empty extras.
//!
//! - Node.js: the npm `eventsource` package, `@microsoft/fetch-event-source`
//!   and `eventsource-parser` (over `fetch`), by `clients/node/client.mjs`;
//! - Python: `httpx-sse`, by `clients/python/httpx_sse_client.py`;
//! - Rust: sse-engine's own decoder and `reqwest-eventsource`, in process;
//! - `curl --compressed -N`, read by sse-engine's decoder (one connection:
//!   curl does not reconnect, so it is not in [`Client::ALL`]).
//!
//! Clients that see the response's headers report its `Content-Encoding`
//! ([`Report::Encoding`]); [`Client::decodes`] says whether a client decodes
//! a codec here, so that a test can force it with `Accept-Encoding`.
//!
//! Headless Chromium's `EventSource` is driven by the chat examples' browser
//! suite; the OpenAI and Anthropic SDKs by the LLM example's tests.
//!
//! Every client follows one [`Spec`] (where to connect, whether to reconnect
//! with `Last-Event-ID` as its users do, which event type ends the run) and
//! reports [`Report`]s to a [`Run`].
//!
//! # Where the clients come from
//!
//! The Node packages are installed by `npm ci --prefix interop/clients/node`,
//! the Python ones into the interpreter named by `SSE_PYTHON` (the LLM
//! example's venv; `interop/clients/python/requirements.txt`). A client that
//! is not installed is skipped with a message, unless `SSE_REQUIRE_CLIENTS=1`
//! (CI sets it), which makes it a failure.
#![allow(clippy::missing_panics_doc, clippy::print_stderr)]

mod curl;
mod external;
mod native;
mod proxy;
mod report;
mod skip;
mod stall;

pub use proxy::CutProxy;
pub use report::{Received, Report, Run, events};
pub use skip::{SKIPPED_LOG, skip_or_fail};
pub use stall::stall;

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

/// How a client connects and when its run ends; the same for every client.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Spec {
    /// The stream's URL.
    pub url: String,
    /// `GET` or `POST`.
    pub method: String,
    /// Request headers.
    pub headers: BTreeMap<String, String>,
    /// The request body, for `POST`.
    pub body: Option<String>,
    /// Event types to listen for (clients modelled on `EventSource` deliver
    /// only the types they listen for); `message` always.
    pub types: Vec<String>,
    /// The event type that ends the run; `None`: the end of the stream does.
    pub until: Option<String>,
    /// Reconnect, with the last id, when the stream ends or fails.
    pub reconnect: bool,
    /// The longest the run may take.
    pub timeout_ms: u64,
}

impl Spec {
    /// A `GET` of `url` that reconnects until an event of type `until`.
    pub fn get(url: impl Into<String>, until: &str) -> Self {
        Self {
            url: url.into(),
            method: "GET".to_owned(),
            headers: BTreeMap::new(),
            body: None,
            types: vec![until.to_owned()],
            until: Some(until.to_owned()),
            reconnect: true,
            timeout_ms: 60_000,
        }
    }

    /// A `POST` of a JSON `body` to `url`, read once to its end.
    pub fn post_json(url: impl Into<String>, body: String) -> Self {
        Self {
            url: url.into(),
            method: "POST".to_owned(),
            headers: BTreeMap::from([("content-type".to_owned(), "application/json".to_owned())]),
            body: Some(body),
            types: Vec::new(),
            until: None,
            reconnect: false,
            timeout_ms: 60_000,
        }
    }

    /// Listens for these event types too.
    #[must_use]
    pub fn types<'a>(mut self, types: impl IntoIterator<Item = &'a str>) -> Self {
        self.types.extend(types.into_iter().map(str::to_owned));
        self
    }

    fn timeout(&self) -> Duration {
        Duration::from_millis(self.timeout_ms)
    }
}

/// A client of the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Client {
    /// npm `eventsource`, the `EventSource` of Node.js.
    EventSource,
    /// npm `@microsoft/fetch-event-source`.
    FetchEventSource,
    /// npm `eventsource-parser`, over Node's `fetch`.
    EventsourceParser,
    /// PyPI `httpx-sse`.
    HttpxSse,
    /// sse-engine's [`Decoder`](sse_engine::decode::Decoder) over hyper.
    SseCoreDecoder,
    /// crates.io `reqwest-eventsource`.
    ReqwestEventsource,
    /// `curl --compressed -N` (one connection, no reconnect).
    Curl,
}

/// Why a client cannot decode a codec here: the reason, and the variable
/// that makes that a failure instead of a skip ([`skip_or_fail`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Why, with what would make it work.
    pub reason: String,
    /// `SSE_REQUIRE_CLIENTS` for a package that is not installed; a
    /// variable of its own where the machine's runtime lacks it.
    pub require: &'static str,
}

impl Client {
    /// Every client of this crate.
    pub const ALL: [Self; 6] = [
        Self::EventSource,
        Self::FetchEventSource,
        Self::EventsourceParser,
        Self::HttpxSse,
        Self::SseCoreDecoder,
        Self::ReqwestEventsource,
    ];

    /// The package's name, with the version tested.
    pub fn name(self) -> &'static str {
        match self {
            Self::EventSource => "eventsource 4.1.1 (npm)",
            Self::FetchEventSource => "@microsoft/fetch-event-source 2.0.1 (npm)",
            Self::EventsourceParser => "eventsource-parser 3.1.1 (npm)",
            Self::HttpxSse => "httpx-sse 0.4.3 (PyPI)",
            Self::SseCoreDecoder => "sse-engine decode (this workspace)",
            Self::ReqwestEventsource => "reqwest-eventsource 0.6.0 (crates.io)",
            Self::Curl => "curl --compressed -N (Debian's curl)",
        }
    }

    /// Whether this client decodes `Content-Encoding: codec` (`gzip`, `br`,
    /// `zstd`) here, so that a run with `Accept-Encoding: codec` reads it.
    ///
    /// # Errors
    ///
    /// Why not: the runtime or package lacks the decoder, or the client
    /// never asks for compression (the Rust clients as built here).
    pub fn decodes(self, codec: &str) -> Result<(), Unsupported> {
        let clients = |reason: String| Unsupported {
            reason,
            require: "SSE_REQUIRE_CLIENTS",
        };
        match self {
            Self::EventSource | Self::FetchEventSource | Self::EventsourceParser => {
                external::node_decodes(codec).map_err(|reason| Unsupported {
                    reason,
                    require: "SSE_REQUIRE_NODE_ZSTD",
                })
            }
            Self::HttpxSse => external::python_decodes(codec).map_err(clients),
            Self::Curl => match curl::codecs() {
                Ok(codecs) if codecs.contains(&codec) => Ok(()),
                Ok(codecs) => Err(clients(format!(
                    "this curl decodes {codecs:?}, not {codec} (`curl -V`)"
                ))),
                Err(reason) => Err(clients(reason)),
            },
            Self::SseCoreDecoder | Self::ReqwestEventsource => Err(clients(format!(
                "{} is built here without decompression",
                self.name()
            ))),
        }
    }

    /// Starts a run of this client, or says why it cannot run here.
    pub fn start(self, spec: &Spec) -> Result<Run, String> {
        match self {
            Self::EventSource => external::node("eventsource", spec, self.name()),
            Self::FetchEventSource => external::node("fetch-event-source", spec, self.name()),
            Self::EventsourceParser => external::node("eventsource-parser", spec, self.name()),
            Self::HttpxSse => external::python(spec, self.name()),
            Self::SseCoreDecoder => Ok(native::decoder(spec, self.name())),
            Self::ReqwestEventsource => Ok(native::reqwest(spec, self.name())),
            Self::Curl => curl::curl(spec, self.name()),
        }
    }
}

/// Starts `client` on `spec` with `Accept-Encoding: codec`, so that the
/// response is compressed with that codec alone; `None`, with a message
/// (or a failure where the [`Unsupported`] variable or
/// `SSE_REQUIRE_CLIENTS` is set), when the client does not decode it here
/// or is not installed. `test` names the check in the message.
pub fn start_with_codec(client: Client, codec: &str, spec: &Spec, test: &str) -> Option<Run> {
    let what = format!("{test}: {} over {codec}", client.name());
    let remedy = "see the README's interop section";
    if let Err(unsupported) = client.decodes(codec) {
        skip_or_fail(&what, &unsupported.reason, unsupported.require, remedy);
        return None;
    }
    let mut spec = spec.clone();
    spec.headers
        .insert("accept-encoding".to_owned(), codec.to_owned());
    client
        .start(&spec)
        .map_err(|reason| skip_or_fail(&what, &reason, "SSE_REQUIRE_CLIENTS", remedy))
        .ok()
}

/// Starts every client in `clients` on `spec`; a client that is not
/// installed is reported on stderr as skipped and left out.
pub fn start_all(clients: &[Client], spec: &Spec) -> Vec<Run> {
    clients
        .iter()
        .filter_map(|client| match client.start(spec) {
            Ok(run) => Some(run),
            Err(reason) => {
                skip_or_fail(
                    client.name(),
                    &reason,
                    "SSE_REQUIRE_CLIENTS",
                    "see the README's interop section",
                );
                None
            }
        })
        .collect()
}

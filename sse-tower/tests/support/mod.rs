//! A real server on 127.0.0.1 and a real client, for the integration tests.
#![allow(dead_code, unreachable_pub)]

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response};
use http_body::{Body, Frame};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;
use tower::Service;

pub type BoxError = Box<dyn std::error::Error + Send + Sync>;

/// A running server; `stop` shuts it down gracefully and says whether every
/// connection closed within the grace period.
pub struct Server {
    pub addr: SocketAddr,
    stop: CancellationToken,
    done: tokio::task::JoinHandle<bool>,
}

impl Server {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn stop(self) -> bool {
        self.stop.cancel();
        self.done.await.unwrap_or(false)
    }
}

/// Serves `service` on 127.0.0.1 with HTTP/1.1 and HTTP/2 (prior knowledge).
pub async fn serve<S, B>(service: S, grace: Duration) -> Server
where
    S: Service<Request<Incoming>, Response = Response<B>> + Clone + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<BoxError>,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<BoxError>,
{
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let stop = CancellationToken::new();
    let stopping = stop.clone();
    let done = tokio::spawn(async move {
        let graceful = GracefulShutdown::new();
        let builder = auto::Builder::new(TokioExecutor::new());
        loop {
            tokio::select! {
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else { continue };
                    let connection = builder
                        .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service.clone()))
                        .into_owned();
                    let connection = graceful.watch(connection);
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                }
                () = stopping.cancelled() => break,
            }
        }
        tokio::time::timeout(grace, graceful.shutdown())
            .await
            .is_ok()
    });
    Server { addr, stop, done }
}

pub fn http1() -> Client<HttpConnector, http_body_util::Empty<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

pub fn http2() -> Client<HttpConnector, http_body_util::Empty<Bytes>> {
    Client::builder(TokioExecutor::new())
        .http2_only(true)
        .build_http()
}

pub fn get(url: &str) -> http::request::Builder {
    Request::get(url)
}

/// The next data frame, or `None` when nothing arrives within `wait`.
pub async fn next_data(body: &mut Incoming, wait: Duration) -> Option<Bytes> {
    loop {
        let frame = tokio::time::timeout(wait, body.frame()).await.ok()??.ok()?;
        if let Ok(data) = frame.into_data() {
            return Some(data);
        }
    }
}

/// A response body the test writes raw bytes into, as a handler with a body
/// type of its own would.
pub struct ChannelBody(pub mpsc::UnboundedReceiver<Bytes>);

impl Default for ChannelBody {
    fn default() -> Self {
        Self(mpsc::unbounded_channel().1)
    }
}

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0
            .poll_recv(cx)
            .map(|chunk| chunk.map(|chunk| Ok(Frame::data(chunk))))
    }
}

//! [`serve`]: axum's `serve`, with the bounds a server that faces the
//! internet needs and `axum::serve` leaves out.

use std::any::Any;
use std::future::{Future, IntoFuture, Pending, pending};
use std::io;
use std::pin::{Pin, pin};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::Request;
use axum::serve::Listener;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpStream;
use tower::ServiceExt;

/// How long a client may take to send a request's headers, unless
/// [`Serve::header_read_timeout`] says otherwise.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` (any of axum's listeners), as `axum::serve`
/// does, with a **bound on reading request headers**
/// ([`HEADER_READ_TIMEOUT`], 10 s, unless set). `axum::serve` has no timer,
/// so a client that sends its headers a byte at a time (a "slowloris")
/// holds its connection, and its file descriptor, for as long as it likes;
/// enough of them and the server accepts nothing more. Here an HTTP/1
/// request whose headers have not all arrived in time has its connection
/// closed (HTTP/2 frames its headers itself; this bound is HTTP/1's). Request
/// *bodies* are the routes' to bound: a
/// `tower_http::timeout::RequestBodyTimeoutLayer` on those that read one.
///
/// A client that **stops reading** has its connection released after the
/// stall timeout ([`STALL_TIMEOUT`](sse_engine::STALL_TIMEOUT), 30 s, unless
/// [`Serve::stall_timeout`] says otherwise): see [`sse_engine::stall`]. It
/// is set on every connection that is a `tokio::net::TcpStream` (any
/// listener built on `tokio::net::TcpListener`, `tap_io` included); for
/// another kind (a TLS stream), call [`sse_engine::set_stall_timeout`] on
/// its TCP stream yourself.
///
/// Events are small writes: set `TCP_NODELAY` on the listener's
/// connections (`tap_io`, below), or Nagle's algorithm holds an event back
/// until the client's delayed ACK.
///
/// A graceful shutdown stops accepting at once (the listener is dropped),
/// lets each connection finish the response it is writing (an event stream
/// ends when its hub closes, or by a `SseResponseLayer`'s shutdown), then
/// returns.
///
/// ```no_run
/// use std::time::Duration;
/// use axum::Router;
/// use axum::routing::post;
/// use axum::serve::ListenerExt;
/// use sse_axum::hub::{Endpoint, Hub};
/// use tower_http::timeout::RequestBodyTimeoutLayer;
///
/// # async fn run() -> std::io::Result<()> {
/// let hub = Hub::new();
/// let app = Router::new()
///     .route("/events", sse_axum::endpoint_route(Endpoint::new(hub, ["news"])))
///     // Bodies too: a publish route reads one.
///     .route("/publish", post(|body: String| async move { body }))
///     .layer(RequestBodyTimeoutLayer::new(Duration::from_secs(10)));
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000")
///     .await?
///     .tap_io(|tcp| {
///         let _ = tcp.set_nodelay(true);
///     });
/// sse_axum::serve(listener, app)
///     .header_read_timeout(Duration::from_secs(5))
///     .with_graceful_shutdown(async { let _ = tokio::signal::ctrl_c().await; })
///     .await
/// # }
/// ```
pub fn serve<L: Listener>(listener: L, app: Router) -> Serve<L, Pending<()>> {
    Serve {
        listener,
        app,
        header_read_timeout: HEADER_READ_TIMEOUT,
        stall_timeout: Some(sse_engine::STALL_TIMEOUT),
        signal: pending(),
    }
}

/// A server being set up; see [`serve`]. Await it to run it.
#[must_use = "a server does nothing until it is awaited"]
#[derive(Debug)]
pub struct Serve<L, F> {
    listener: L,
    app: Router,
    header_read_timeout: Duration,
    stall_timeout: Option<Duration>,
    signal: F,
}

impl<L, F> Serve<L, F> {
    /// How long a client may take to send a request's headers (on HTTP/1,
    /// each request's; HTTP/2 frames its headers itself).
    pub fn header_read_timeout(mut self, timeout: Duration) -> Self {
        self.header_read_timeout = timeout;
        self
    }

    /// How long a client may leave written data unread before its
    /// connection is released (see [`sse_engine::stall`]); `None` keeps
    /// every connection for as long as TCP does.
    pub fn stall_timeout(mut self, timeout: impl Into<Option<Duration>>) -> Self {
        self.stall_timeout = timeout.into();
        self
    }

    /// Stops when `signal` completes: accepts nothing more, lets each
    /// connection finish its response, then returns.
    pub fn with_graceful_shutdown<G>(self, signal: G) -> Serve<L, G>
    where
        G: Future<Output = ()> + Send + 'static,
    {
        Serve {
            listener: self.listener,
            app: self.app,
            header_read_timeout: self.header_read_timeout,
            stall_timeout: self.stall_timeout,
            signal,
        }
    }
}

impl<L, F> IntoFuture for Serve<L, F>
where
    L: Listener,
    F: Future<Output = ()> + Send + 'static,
{
    type Output = io::Result<()>;
    type IntoFuture = Pin<Box<dyn Future<Output = io::Result<()>> + Send>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(run(self))
    }
}

async fn run<L, F>(serve: Serve<L, F>) -> io::Result<()>
where
    L: Listener,
    F: Future<Output = ()> + Send + 'static,
{
    let Serve {
        mut listener,
        app,
        header_read_timeout,
        stall_timeout,
        signal,
    } = serve;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let graceful = GracefulShutdown::new();
    let mut signal = pin!(signal);
    loop {
        // The listener retries failed accepts itself (axum's do).
        let stream = tokio::select! {
            (stream, _) = listener.accept() => stream,
            () = &mut signal => break,
        };
        if let Some(timeout) = stall_timeout
            && let Some(tcp) = (&stream as &dyn Any).downcast_ref::<TcpStream>()
        {
            // Fails only where the system has no such option (documented
            // on `set_stall_timeout`): the connection is served as before.
            let _ = sse_engine::set_stall_timeout(tcp, timeout);
        }
        let service = app
            .clone()
            .map_request(|request: Request<Incoming>| request.map(Body::new));
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), TowerToHyperService::new(service))
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away, or sends what is not HTTP, ends its
            // own connection: nothing for the server to report. One that
            // stopped reading is worth a note.
            if let Err(error) = connection.await
                && sse_engine::is_stalled(&*error)
            {
                tracing::debug!(%error, "released a connection whose client stopped reading");
                // Counted once per connection, whatever it was carrying: an
                // HTTP/1 connection carries one response at a time, but it
                // may not have been an event stream (a page, an HTTP/2
                // connection with several: see the README's metrics).
                sse_engine::metrics::count_stalled_stream();
            }
        });
    }
    // Accept nothing more: a client that reconnects now goes to another
    // instance, not to one that is stopping.
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

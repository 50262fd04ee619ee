//! Plain HTTP/1.1 client connections (hyper's `client::conn::http1`): one
//! TCP connection per stream, no pool, from a chosen source address.

use std::net::{IpAddr, SocketAddr};

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;

use crate::load::Error;

/// A TCP connection to `server`, from `source` (any port) when given: each
/// source address has its own range of ephemeral ports.
///
/// # Errors
///
/// When the socket cannot be made, bound or connected.
pub async fn connect(server: SocketAddr, source: Option<IpAddr>) -> Result<TcpStream, Error> {
    let socket = if server.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    if let Some(source) = source {
        socket.bind(SocketAddr::new(source, 0))?;
    }
    let stream = socket.connect(server).await?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// One HTTP/1.1 connection: requests are sent one after another.
#[derive(Debug)]
pub struct Connection {
    sender: SendRequest<Full<Bytes>>,
    server: SocketAddr,
    /// The task that drives the connection; aborted (closing the socket)
    /// when the connection is dropped.
    driver: JoinHandle<()>,
}

impl Drop for Connection {
    fn drop(&mut self) {
        self.driver.abort();
    }
}

impl Connection {
    /// Opens a connection to `server` from `source`.
    ///
    /// # Errors
    ///
    /// When the TCP connection or the HTTP handshake fails.
    pub async fn open(server: SocketAddr, source: Option<IpAddr>) -> Result<Self, Error> {
        let stream = connect(server, source).await?;
        let (sender, connection) = http1::handshake(TokioIo::new(stream)).await?;
        // An error here is the connection closing; the request that was
        // using it reports it.
        let driver = tokio::spawn(async move {
            let _ = connection.await;
        });
        Ok(Self {
            sender,
            server,
            driver,
        })
    }

    /// Sends a request and waits for the response head, whatever its status;
    /// the body is left to the caller.
    ///
    /// # Errors
    ///
    /// When the request fails.
    pub async fn send(
        &mut self,
        method: http::Method,
        path: &str,
        body: Bytes,
    ) -> Result<http::Response<Incoming>, Error> {
        let request = http::Request::builder()
            .method(method)
            .uri(path)
            .header(http::header::HOST, self.server.to_string())
            .body(Full::new(body))?;
        self.sender.ready().await?;
        Ok(self.sender.send_request(request).await?)
    }

    /// As [`Connection::send`], but anything but `200 OK` is an error.
    ///
    /// # Errors
    ///
    /// When the request fails or the status is not 200.
    pub async fn request(
        &mut self,
        method: http::Method,
        path: &str,
        body: Bytes,
    ) -> Result<Incoming, Error> {
        let response = self.send(method, path, body).await?;
        if response.status() != http::StatusCode::OK {
            return Err(format!("{path}: status {}", response.status()).into());
        }
        Ok(response.into_body())
    }

    /// `POST path` with `body`; the response body is read and dropped.
    ///
    /// # Errors
    ///
    /// As [`Connection::request`], or when the body fails.
    pub async fn post(&mut self, path: &str, body: Bytes) -> Result<(), Error> {
        let response = self.request(http::Method::POST, path, body).await?;
        response.collect().await?;
        Ok(())
    }
}

/// The server's subscriber count from `GET /stats`, or `None` when the
/// implementation does not report one (`404`, see [`wire`](crate::load::wire)).
///
/// # Errors
///
/// When the server cannot be reached, or answers anything but `404` or
/// `200` with a number: a count that cannot be read must not pass for an
/// implementation that keeps none.
pub async fn subscribers(server: SocketAddr) -> Result<Option<u64>, Error> {
    let mut connection = Connection::open(server, None).await?;
    let response = connection
        .send(http::Method::GET, "/stats", Bytes::new())
        .await?;
    match response.status() {
        http::StatusCode::OK => {}
        http::StatusCode::NOT_FOUND => return Ok(None),
        status => return Err(format!("/stats: status {status}").into()),
    }
    let body = response.into_body().collect().await?.to_bytes();
    std::str::from_utf8(&body)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .map(Some)
        .ok_or_else(|| {
            format!(
                "/stats: {:?} is not a count",
                String::from_utf8_lossy(&body)
            )
            .into()
        })
}

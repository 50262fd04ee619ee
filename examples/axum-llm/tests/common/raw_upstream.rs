//! A scripted upstream on loopback, written at the byte level: it records
//! each request and answers with exactly the bytes a test gives it, broken
//! ones included (an error mid-stream, an endless line, a cut connection).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;

/// One step of the answer.
#[derive(Debug, Clone)]
pub(crate) enum Step {
    /// Write these bytes.
    Send(Vec<u8>),
    /// Wait.
    Pause(Duration),
    /// Keep the connection open until the client closes it.
    Hold,
}

/// A request as the upstream received it.
#[derive(Debug)]
pub(crate) struct RawRequest {
    /// The request line and headers.
    pub(crate) head: String,
    /// The body.
    pub(crate) body: String,
}

/// A running scripted upstream.
#[derive(Debug)]
pub(crate) struct RawUpstream {
    /// Its base URL.
    pub(crate) base: String,
    requests: mpsc::UnboundedReceiver<RawRequest>,
    closed_by_client: Arc<AtomicUsize>,
}

impl RawUpstream {
    /// Answers every connection with `steps`, then closes it (after
    /// [`Step::Hold`], when the client does).
    pub(crate) async fn start(steps: Vec<Step>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (sender, requests) = mpsc::unbounded_channel();
        let closed_by_client = Arc::new(AtomicUsize::new(0));
        let closed = Arc::clone(&closed_by_client);
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let (steps, sender, closed) = (steps.clone(), sender.clone(), Arc::clone(&closed));
                tokio::spawn(answer(socket, steps, sender, closed));
            }
        });
        Self {
            base,
            requests,
            closed_by_client,
        }
    }

    /// The next request received.
    pub(crate) async fn request(&mut self) -> RawRequest {
        tokio::time::timeout(super::WAIT, self.requests.recv())
            .await
            .expect("a request in time")
            .expect("the upstream runs")
    }

    /// How many held connections the client has closed.
    pub(crate) fn closed_by_client(&self) -> usize {
        self.closed_by_client.load(Ordering::SeqCst)
    }
}

async fn answer(
    mut socket: TcpStream,
    steps: Vec<Step>,
    requests: mpsc::UnboundedSender<RawRequest>,
    closed: Arc<AtomicUsize>,
) {
    let Some(request) = read_request(&mut socket).await else {
        return;
    };
    let _ = requests.send(request);
    for step in steps {
        match step {
            Step::Send(bytes) => {
                if socket.write_all(&bytes).await.is_err() {
                    return;
                }
            }
            Step::Pause(duration) => tokio::time::sleep(duration).await,
            Step::Hold => {
                let mut buffer = [0; 1024];
                while matches!(socket.read(&mut buffer).await, Ok(n) if n > 0) {}
                closed.fetch_add(1, Ordering::SeqCst);
            }
        }
    }
}

/// Reads one request: the head, then a body of `content-length` bytes.
async fn read_request(socket: &mut TcpStream) -> Option<RawRequest> {
    let mut bytes = Vec::new();
    let mut buffer = [0; 4096];
    let head_end = loop {
        if let Some(end) = bytes.windows(4).position(|window| window == b"\r\n\r\n") {
            break end + 4;
        }
        let n = socket.read(&mut buffer).await.ok().filter(|&n| n > 0)?;
        bytes.extend_from_slice(&buffer[..n]);
    };
    let head = String::from_utf8_lossy(&bytes[..head_end]).into_owned();
    let length: usize = head
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            name.eq_ignore_ascii_case("content-length")
                .then(|| value.trim().parse().ok())?
        })
        .unwrap_or(0);
    while bytes.len() < head_end + length {
        let n = socket.read(&mut buffer).await.ok().filter(|&n| n > 0)?;
        bytes.extend_from_slice(&buffer[..n]);
    }
    let body = String::from_utf8_lossy(&bytes[head_end..head_end + length]).into_owned();
    Some(RawRequest { head, body })
}

/// The head of an event stream whose body lasts until the connection ends.
pub(crate) fn stream_head() -> Step {
    Step::Send(
        b"HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n".to_vec(),
    )
}

/// An OpenAI chunk carrying `content`, as one event.
pub(crate) fn chunk(content: &str) -> Step {
    let chunk = serde_json::json!({
        "id": "chatcmpl-raw",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": "raw",
        "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}],
    });
    Step::Send(format!("data: {chunk}\n\n").into_bytes())
}

/// The event OpenAI sends when an answer fails midway.
pub(crate) const ERROR_EVENT: &str = "data: {\"error\":{\"message\":\"The server had an error\",\"type\":\"server_error\",\"param\":null,\"code\":null}}\n\n";

/// A stream that starts an answer, "Hello" in two chunks, then `failure`.
pub(crate) fn hello_then(failure: Step) -> Vec<Step> {
    vec![stream_head(), chunk("Hel"), chunk("lo"), failure]
}

/// A whole response with `status` and a JSON `body`.
pub(crate) fn json_response(status: &str, body: &str) -> Step {
    Step::Send(
        format!(
            "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
        .into_bytes(),
    )
}

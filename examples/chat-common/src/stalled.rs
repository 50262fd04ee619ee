//! Clients that stop reading: the chat servers release their connections
//! after the stall timeout (`STALL_TIMEOUT_MS`, 30 s unless set; see
//! `sse_engine::stall`), and this checks it against a server's binary.

use std::time::Duration;

/// The stall timeout from `STALL_TIMEOUT_MS` (`0` switches it off), or
/// [`sse_engine::STALL_TIMEOUT`].
///
/// # Errors
///
/// When the variable is not a number of milliseconds.
pub fn stall_timeout_from_env() -> Result<Option<Duration>, String> {
    stall_timeout_from(std::env::var("STALL_TIMEOUT_MS").ok())
}

/// [`stall_timeout_from_env`], from the variable's value.
///
/// ```
/// use std::time::Duration;
/// use example_chat_common::stalled::stall_timeout_from;
///
/// assert_eq!(stall_timeout_from(None), Ok(Some(sse_engine::STALL_TIMEOUT)));
/// assert_eq!(stall_timeout_from(Some("500".into())), Ok(Some(Duration::from_millis(500))));
/// assert_eq!(stall_timeout_from(Some("0".into())), Ok(None));
/// assert!(stall_timeout_from(Some("soon".into())).is_err());
/// ```
///
/// # Errors
///
/// As [`stall_timeout_from_env`].
pub fn stall_timeout_from(value: Option<String>) -> Result<Option<Duration>, String> {
    let Some(value) = value else {
        return Ok(Some(sse_engine::STALL_TIMEOUT));
    };
    let millis: u64 = value
        .parse()
        .map_err(|_| format!("STALL_TIMEOUT_MS must be a number of milliseconds, not {value:?}"))?;
    Ok((millis > 0).then(|| Duration::from_millis(millis)))
}

#[cfg(feature = "suite")]
/// Starts `binary` with a stall timeout of 500 ms, opens an event stream
/// from a client with a small receive buffer that never reads, publishes
/// 64 KiB of messages (more than its buffer holds) and waits past the
/// timeout. Then the client reads: a released connection ends (reset, or
/// the end of what was buffered) instead of going on for ever with
/// messages and keep-alive comments. A second client that kept reading
/// all along is still served and receives a message published last.
pub async fn a_client_that_stops_reading_is_released(binary: &str) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    let instance = crate::two_instances::Instance::start_env(
        binary,
        &[("STALL_TIMEOUT_MS", "500"), ("KEEP_ALIVE_MS", "100")],
    );
    let base = instance.base.as_str();
    let address = base.trim_start_matches("http://");
    let socket = tokio::net::TcpSocket::new_v4().expect("a socket");
    socket.set_recv_buffer_size(4096).expect("a small buffer");
    let mut stalled = socket
        .connect(address.parse().expect("an address"))
        .await
        .expect("the server accepts");
    stalled
        .write_all(format!("GET /events HTTP/1.1\r\nHost: {address}\r\n\r\n").as_bytes())
        .await
        .expect("the request is sent");
    let mut reading = crate::suite::Stream::open(base, "", None).await;
    reading.ready().await;
    let message = "x".repeat(8 * 1024);
    for _ in 0..8 {
        crate::suite::post_ok(base, &message, None).await;
    }
    assert_eq!(reading.next(8).await.len(), 8);
    tokio::time::sleep(Duration::from_secs(3)).await;

    // What the server wrote before it gave up is still buffered here; once
    // it is read, the connection must end. A server that kept the client
    // would go on sending keep-alive comments every 100 ms for ever.
    let mut buffer = vec![0; 64 * 1024];
    let ended = tokio::time::timeout(Duration::from_secs(20), async {
        loop {
            match stalled.read(&mut buffer).await {
                Ok(0) | Err(_) => return,
                Ok(_) => {}
            }
        }
    })
    .await;
    assert!(
        ended.is_ok(),
        "the stalled client's connection was still served 20 s after it resumed reading"
    );

    let id = crate::suite::post_ok(base, "after", None).await;
    let last = reading.next(1).await;
    assert_eq!(last[0].last_event_id(), id);
    drop(instance);
}

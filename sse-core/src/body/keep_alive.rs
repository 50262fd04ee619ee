//! Keep-alive: a comment after an idle interval, restarted by every frame.

use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

use bytes::Bytes;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use crate::Text;
use crate::encode::{FrameBuf, put_comment_lines};

const MAX_INTERVAL: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How often an idle stream sends a comment, so that proxies and load
/// balancers do not close it and clients notice a dead connection.
///
/// The comment is only ever written between events. The default interval is
/// 15 seconds and the default comment is empty (`:\n\n` on the wire).
///
/// ```
/// use std::time::Duration;
/// use sse_core::KeepAlive;
///
/// let keep_alive = KeepAlive::new()
///     .interval(Duration::from_secs(20))
///     .text("keep-alive");
/// # let _ = keep_alive;
/// ```
#[derive(Debug, Clone)]
pub struct KeepAlive {
    interval: Duration,
    comment: Bytes,
}

impl KeepAlive {
    /// A keep-alive every 15 seconds, with an empty comment.
    pub fn new() -> Self {
        Self {
            interval: Duration::from_secs(15),
            comment: Bytes::from_static(b":\n\n"),
        }
    }

    /// Sets the idle time after which a comment is sent. It is kept between
    /// one millisecond (so an idle stream cannot spin) and one year (so that
    /// `Duration::MAX`, meaning "never", cannot overflow the timer).
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval.clamp(Duration::from_millis(1), MAX_INTERVAL);
        self
    }

    /// Sets the comment's text; each of its lines becomes a `:` line.
    pub fn text(mut self, text: impl Into<Text>) -> Self {
        let mut out = FrameBuf::default();
        put_comment_lines(&mut out, &text.into());
        out.put(b"\n");
        self.comment = out.take_all();
        self
    }

    /// The idle interval.
    pub fn get_interval(&self) -> Duration {
        self.interval
    }
}

impl Default for KeepAlive {
    fn default() -> Self {
        Self::new()
    }
}

pin_project! {
    /// The idle timer of one stream: ready with the keep-alive comment once
    /// no frame has been sent for the interval. [`SseBody`](crate::SseBody)
    /// uses it; so can any body that writes event streams of its own (a
    /// middleware, another framework's adapter).
    ///
    /// Sending a frame only records the time; the sleep is moved when it
    /// fires early, so a busy stream costs no timer operations per frame.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::future::poll_fn;
    /// use std::pin::pin;
    /// use std::time::Duration;
    /// use sse_core::{KeepAlive, KeepAliveTimer};
    ///
    /// let mut timer = pin!(KeepAliveTimer::new(Some(KeepAlive::new().interval(Duration::from_secs(5)))));
    /// let comment = poll_fn(|cx| timer.as_mut().poll_idle(cx)).await;
    /// assert_eq!(comment, ":\n\n");
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// Polling it with keep-alive set panics outside a tokio runtime with the
    /// time driver enabled.
    #[derive(Debug)]
    pub struct KeepAliveTimer {
        config: Option<KeepAlive>,
        last_activity: Option<Instant>,
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl KeepAliveTimer {
    /// A timer for `config`; `None` never fires.
    pub fn new(config: Option<KeepAlive>) -> Self {
        Self {
            config,
            last_activity: None,
            sleep: None,
        }
    }

    pub(crate) fn set_config(&mut self, config: Option<KeepAlive>) {
        self.config = config;
    }

    /// Notes that a frame was sent now: the idle interval starts again.
    pub fn record_activity(self: Pin<&mut Self>) {
        let this = self.project();
        if this.config.is_some() {
            *this.last_activity = Some(Instant::now());
        }
    }

    /// Ready with the comment (its whole wire form, blank line included)
    /// once the stream has been idle for the interval; the interval then
    /// starts again.
    pub fn poll_idle(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Bytes> {
        let mut this = self.project();
        let Some(config) = this.config.as_ref() else {
            return Poll::Pending;
        };
        loop {
            let since = this.last_activity.unwrap_or_else(Instant::now);
            let due = since
                .checked_add(config.interval)
                .unwrap_or(since + MAX_INTERVAL);
            match this.sleep.as_mut().as_pin_mut() {
                None => {
                    *this.last_activity = Some(since);
                    this.sleep.set(Some(tokio::time::sleep_until(due)));
                }
                Some(mut sleep) => {
                    if sleep.deadline() != due {
                        sleep.as_mut().reset(due);
                    }
                    ready!(sleep.poll(cx));
                    *this.last_activity = Some(Instant::now());
                    return Poll::Ready(config.comment.clone());
                }
            }
        }
    }
}

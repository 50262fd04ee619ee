//! Keep-alive: a comment after an idle interval, restarted by every frame.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use pin_project_lite::pin_project;
use tokio::time::{Instant, Sleep};

use crate::encode::{FrameBuf, put_comment_lines};
use crate::waker_identity::WakerIdentity;
use crate::{IntoText, Text};

const MAX_INTERVAL: Duration = Duration::from_secs(365 * 24 * 60 * 60);

/// How often an idle stream sends a comment, so that proxies and load
/// balancers do not close it and clients notice a dead connection.
///
/// The comment is only ever written between events, as comment lines with no
/// blank line after them: a blank line would be an empty event to clients
/// that dispatch at every one (see [the framing rules](crate#framing)). The
/// default interval is 15 seconds and the default comment is empty (`:\n`
/// on the wire).
///
/// ```
/// use std::time::Duration;
/// use sse_engine::KeepAlive;
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
            comment: Bytes::from_static(b":\n"),
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
    pub fn text(mut self, text: impl IntoText) -> Self {
        let mut out = FrameBuf::default();
        put_comment_lines(&mut out, &Text::new(text));
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
    /// A comment comes after at least one interval of silence, and at most a
    /// quarter of an interval later than that. The slack is what keeps busy
    /// streams cheap: a frame sent shortly after another costs one flag
    /// write, not a clock read or a timer operation, and the timer looks at
    /// the flag every quarter interval while frames flow. A frame after a
    /// quiet spell reads the clock once, so a lone event restarts the
    /// interval exactly. An idle stream wakes once per interval.
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// use std::future::poll_fn;
    /// use std::pin::pin;
    /// use std::time::Duration;
    /// use sse_engine::{KeepAlive, KeepAliveTimer};
    ///
    /// let mut timer = pin!(KeepAliveTimer::new(Some(KeepAlive::new().interval(Duration::from_secs(5)))));
    /// let comment = poll_fn(|cx| timer.as_mut().poll_idle(cx)).await;
    /// assert_eq!(comment, ":\n");
    /// # }
    /// ```
    ///
    /// # Panics
    ///
    /// Polling it, or recording activity, with keep-alive set panics outside
    /// a tokio runtime with the time driver enabled.
    #[derive(Debug)]
    pub struct KeepAliveTimer {
        config: Option<KeepAlive>,
        // No frame was sent after this instant, except those `dirty` counts.
        quiet_since: Option<Instant>,
        // A frame was sent after `quiet_since` (only noted while watching).
        dirty: bool,
        // Frames are flowing: the sleep is at most a quarter interval away,
        // and frames only set `dirty`.
        watching: bool,
        // The sleep was polled, pending, with this waker since it was last
        // set or reset: it holds that waker and wakes it when due, so
        // polling it again with the same one would only register it again.
        // Spares a timer poll per frame (the body finds nothing more to send
        // after every wake-up).
        waiting_with: Option<WakerIdentity>,
        #[pin]
        sleep: Option<Sleep>,
    }
}

impl KeepAliveTimer {
    /// A timer for `config`; `None` never fires.
    pub fn new(config: Option<KeepAlive>) -> Self {
        Self {
            config,
            quiet_since: None,
            dirty: false,
            watching: false,
            waiting_with: None,
            sleep: None,
        }
    }

    pub(crate) fn set_config(&mut self, config: Option<KeepAlive>) {
        self.config = config;
    }

    /// Notes that a frame was sent now: the idle interval starts again.
    pub fn record_activity(self: Pin<&mut Self>) {
        let mut this = self.project();
        let Some(config) = this.config.as_ref() else {
            return;
        };
        if *this.watching {
            *this.dirty = true;
            return;
        }
        // The first frame after a quiet spell: its time is known exactly,
        // and the timer looks again soon in case more frames follow.
        let now = Instant::now();
        let check = now + check_every(config.interval);
        *this.quiet_since = Some(now);
        *this.dirty = false;
        *this.watching = true;
        *this.waiting_with = None;
        match this.sleep.as_mut().as_pin_mut() {
            Some(sleep) => sleep.reset(check),
            None => this.sleep.set(Some(tokio::time::sleep_until(check))),
        }
    }

    /// Ready with the comment (its whole wire form: comment lines, no blank
    /// line)
    /// once the stream has been idle for the interval; the interval then
    /// starts again.
    pub fn poll_idle(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Bytes> {
        let mut this = self.project();
        let Some(config) = this.config.as_ref() else {
            return Poll::Pending;
        };
        let waker = WakerIdentity::of(cx.waker());
        // Not elapsed: the timer has not woken the waker it holds. If it
        // fires right after this look, it wakes that waker, and the next
        // poll finds it elapsed.
        if *this.waiting_with == Some(waker)
            && this
                .sleep
                .as_ref()
                .as_pin_ref()
                .is_some_and(|sleep| !sleep.is_elapsed())
        {
            return Poll::Pending;
        }
        loop {
            let Some(mut sleep) = this.sleep.as_mut().as_pin_mut() else {
                let since = *this.quiet_since.get_or_insert_with(Instant::now);
                this.sleep
                    .set(Some(tokio::time::sleep_until(due(since, config.interval))));
                continue;
            };
            if sleep.as_mut().poll(cx).is_pending() {
                *this.waiting_with = Some(waker);
                return Poll::Pending;
            }
            // The deadline stands for "now": the timer fired at or after it,
            // so the silence it measures is never longer than the real one.
            let fired = sleep.deadline();
            let since = this.quiet_since.get_or_insert(fired);
            if std::mem::take(this.dirty) {
                *since = fired;
                sleep.reset(fired + check_every(config.interval));
                continue;
            }
            *this.watching = false;
            let comment_due = due(*since, config.interval);
            if fired < comment_due {
                sleep.reset(comment_due);
                continue;
            }
            *since = fired;
            sleep.reset(due(fired, config.interval));
            return Poll::Ready(config.comment.clone());
        }
    }
}

/// When a comment is due after silence since `since`.
fn due(since: Instant, interval: Duration) -> Instant {
    since.checked_add(interval).unwrap_or(since + MAX_INTERVAL)
}

/// How often the timer looks for frames while they flow: the slack of the
/// comment's timing.
fn check_every(interval: Duration) -> Duration {
    interval / 4
}

//! What the fan-out benchmarks (`benches/hub.rs`, `benches/hub_compressed.rs`)
//! share: polling response bodies as a server does after a wake-up, and the
//! usual axum pattern they are measured against.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::stream;
use futures_util::task::noop_waker_ref;
use http_body::Body;
use tokio::sync::broadcast;

/// An axum response body, boxed.
pub type AxumBody = Pin<Box<dyn Body<Data = Bytes, Error = axum::Error> + Send>>;

/// Polls a body until it has nothing ready, as hyper's write loop does after
/// a wake-up; the bytes of the frames it yielded.
pub fn poll_until_pending<B: Body<Data = Bytes> + ?Sized>(mut body: Pin<&mut B>) -> usize {
    let mut cx = Context::from_waker(noop_waker_ref());
    let mut bytes = 0;
    while let Poll::Ready(Some(Ok(frame))) = body.as_mut().poll_frame(&mut cx) {
        bytes += frame.into_data().map_or(0, |data| data.len());
    }
    bytes
}

/// The usual axum pattern: a `tokio::sync::broadcast` channel, and one
/// `Sse` response per subscriber whose stream builds an
/// `axum::response::sse::Event` for every message it receives.
pub struct AxumBroadcast {
    sender: broadcast::Sender<String>,
    bodies: Vec<AxumBody>,
}

impl std::fmt::Debug for AxumBroadcast {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AxumBroadcast")
            .field("subscribers", &self.bodies.len())
            .finish_non_exhaustive()
    }
}

impl AxumBroadcast {
    /// `subscribers` response bodies, each polled once (so that it waits
    /// for a message, its waker registered).
    pub fn new(subscribers: usize) -> Self {
        use axum::response::IntoResponse;
        use axum::response::sse::{Event, KeepAlive, Sse};

        let (sender, _) = broadcast::channel(1024);
        let mut bodies: Vec<AxumBody> = (0..subscribers)
            .map(|_| {
                let receiver = sender.subscribe();
                let events = stream::unfold(receiver, |mut receiver| async move {
                    let message = receiver.recv().await.ok()?;
                    Some((
                        Ok::<_, Infallible>(Event::default().data(message)),
                        receiver,
                    ))
                });
                Box::pin(
                    Sse::new(events)
                        .keep_alive(KeepAlive::new())
                        .into_response()
                        .into_body(),
                ) as AxumBody
            })
            .collect();
        for body in &mut bodies {
            poll_until_pending(body.as_mut());
        }
        Self { sender, bodies }
    }

    /// Sends `message` to every subscriber and returns their bodies, to be
    /// polled.
    ///
    /// # Panics
    ///
    /// Never: the bodies hold their receivers.
    pub fn send(&mut self, message: String) -> &mut [AxumBody] {
        self.sender.send(message).expect("receivers");
        &mut self.bodies
    }
}

//! Replay for any stream: a stream's events recorded in a hub topic, and the
//! client served from that topic's log.

use std::error::Error;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use futures_core::{Stream, TryStream};
use pin_project_lite::pin_project;

use super::{Hub, Position, PublishError, SubscribeError, Subscription};
use crate::{EncodedEvent, Event, LastEventId, SseBody, Text};

type Publishing = Pin<Box<dyn Future<Output = Result<Position, PublishError>> + Send>>;

pin_project! {
    /// A stream of events recorded in a hub topic as it is read, and read
    /// back through a subscription to that topic. Made by
    /// [`SseBody::with_replay`].
    #[must_use = "streams do nothing unless polled"]
    pub struct Recorded<S> {
        #[pin]
        source: S,
        source_done: bool,
        hub: Hub,
        topic: Text,
        subscription: Subscription,
        publishing: Option<Publishing>,
        last_published: u64,
    }
}

/// Why a recorded stream ended early.
#[derive(Debug)]
pub enum RecordError<E> {
    /// The stream being recorded failed.
    Source(E),
    /// An event could not be published (too large, topic closed, store failure).
    Publish(PublishError),
}

impl<E: fmt::Display> fmt::Display for RecordError<E> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Source(error) => write!(f, "the recorded stream failed: {error}"),
            Self::Publish(error) => fmt::Display::fmt(error, f),
        }
    }
}

impl<E: Error + 'static> Error for RecordError<E> {
    fn source(&self) -> Option<&(dyn Error + 'static)> {
        match self {
            Self::Source(error) => Some(error),
            Self::Publish(error) => Some(error),
        }
    }
}

impl<S> SseBody<Recorded<S>>
where
    S: TryStream<Ok = Event>,
{
    /// A body that gives any stream replay: each event `stream` yields is
    /// published to `topic` of `hub` (so it gets an id and a place in the
    /// log), and the client is served from that topic with `last_event_id`,
    /// so a client that reconnects first gets what it missed.
    ///
    /// The stream is read only while the body is, and each connection runs its
    /// own stream: what it yields is published to the topic, where every
    /// subscriber of the topic sees it. For content that several clients
    /// share, or that must not be produced again when a client reconnects,
    /// record it once with [`Hub::record`] (spawned) and serve the topic with
    /// [`Hub::subscribe`].
    ///
    /// ```
    /// # #[tokio::main(flavor = "current_thread")]
    /// # async fn main() {
    /// use std::convert::Infallible;
    /// use futures_util::stream;
    /// use http_body_util::BodyExt;
    /// use sse_engine::hub::Hub;
    /// use sse_engine::{Event, SseBody};
    ///
    /// let hub = Hub::new();
    /// let steps = stream::iter(["compiling", "testing"].map(|s| Ok::<_, Infallible>(Event::new().data(s))));
    /// let body = SseBody::with_replay(steps, &hub, "build-7", None).unwrap();
    /// let bytes = body.collect().await.unwrap().to_bytes();
    /// assert!(bytes.ends_with(b"-2\ndata: testing\n\n"));
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`Hub::subscribe`].
    pub fn with_replay(
        stream: S,
        hub: &Hub,
        topic: &str,
        last_event_id: Option<LastEventId>,
    ) -> Result<Self, SubscribeError> {
        let subscription = hub.subscribe(&[topic], last_event_id)?;
        Ok(SseBody::new(Recorded {
            source: stream,
            source_done: false,
            hub: hub.clone(),
            topic: Text::copy_from(topic),
            subscription,
            publishing: None,
            last_published: 0,
        }))
    }
}

impl<S> Stream for Recorded<S>
where
    S: TryStream<Ok = Event>,
{
    type Item = Result<EncodedEvent, RecordError<S::Error>>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let mut this = self.project();
        loop {
            match Pin::new(&mut *this.subscription).poll_next(cx) {
                Poll::Ready(Some(event)) => return Poll::Ready(Some(Ok(event))),
                Poll::Ready(None) => return Poll::Ready(None),
                Poll::Pending => {}
            }
            if let Some(publishing) = this.publishing.as_mut() {
                match publishing.as_mut().poll(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(result) => {
                        *this.publishing = None;
                        match result {
                            Ok(position) => *this.last_published = position.seq(),
                            Err(error) => {
                                *this.source_done = true;
                                return Poll::Ready(Some(Err(RecordError::Publish(error))));
                            }
                        }
                        continue;
                    }
                }
            }
            if !*this.source_done {
                match this.source.as_mut().try_poll_next(cx) {
                    Poll::Ready(Some(Ok(event))) => {
                        let hub = this.hub.clone();
                        let topic = this.topic.clone();
                        *this.publishing =
                            Some(Box::pin(async move { hub.publish(&topic, event).await }));
                        continue;
                    }
                    Poll::Ready(Some(Err(error))) => {
                        *this.source_done = true;
                        return Poll::Ready(Some(Err(RecordError::Source(error))));
                    }
                    Poll::Ready(None) => *this.source_done = true,
                    Poll::Pending => return Poll::Pending,
                }
            }
            // The stream has ended: end once its last event has been read back.
            if this.subscription.cursor().seq() >= *this.last_published {
                return Poll::Ready(None);
            }
            return Poll::Pending;
        }
    }
}

impl<S> fmt::Debug for Recorded<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Recorded")
            .field("source", &std::any::type_name::<S>())
            .field("topic", &self.topic)
            .field("subscription", &self.subscription)
            .field("source_done", &self.source_done)
            .finish_non_exhaustive()
    }
}

impl Hub {
    /// Publishes every event of `stream` to `topic`, in order, until the
    /// stream ends; returns how many were published. Spawn it to keep a
    /// producer going whether or not any client is connected, and serve the
    /// topic with [`Hub::subscribe`].
    ///
    /// # Errors
    ///
    /// The first error of the stream, or of publishing; the events before it
    /// stay published.
    pub async fn record<S>(&self, topic: &str, stream: S) -> Result<u64, RecordError<S::Error>>
    where
        S: TryStream<Ok = Event>,
    {
        let mut stream = std::pin::pin!(stream);
        let mut count = 0;
        while let Some(next) = std::future::poll_fn(|cx| stream.as_mut().try_poll_next(cx)).await {
            let event = next.map_err(RecordError::Source)?;
            self.publish(topic, event)
                .await
                .map_err(RecordError::Publish)?;
            count += 1;
        }
        Ok(count)
    }
}

//! [`HubEndpoint`]: a hub's topics as an actix-web endpoint.

use std::sync::Arc;
use std::time::Duration;

use actix_web::http::StatusCode;
use actix_web::http::header::{CONTENT_TYPE, RETRY_AFTER};
use actix_web::{Either, HttpResponse, Route, web};
use sse_core::hub::{Hub, Subscription};
use sse_core::{InfallibleStream, KeepAlive, RequestCursor, Text};

use crate::{Cursor, Sse};

/// The topics of a hub as an event-stream endpoint with resume. Made with
/// [`hub_route`](crate::hub_route) in one line, or configured here.
///
/// # Clients that go away
///
/// actix-web notices that a client has gone when it next writes to the
/// connection, not before. An idle stream (and its hub subscription) stays
/// until its next keep-alive comment, so the keep-alive interval (15 s
/// unless set) bounds how long a departed client's subscription lives.
///
/// ```
/// use std::time::Duration;
/// use actix_web::{App, web};
/// use sse_actix::HubEndpoint;
/// use sse_core::hub::Hub;
///
/// let hub = Hub::new();
/// let events = HubEndpoint::new(hub.clone(), ["chat"]).retry(Duration::from_secs(2));
/// let app = App::new().service(web::resource("/events").route(events.route()));
/// # drop(app);
/// ```
#[derive(Clone, Debug)]
pub struct HubEndpoint {
    hub: Hub,
    topics: Arc<[Text]>,
    retry: Option<Duration>,
    max_lifetime: Option<Duration>,
    keep_alive: Option<KeepAlive>,
}

/// The answer of a [`HubEndpoint`]: the event stream, or an error.
pub type HubResponse = Either<Sse<InfallibleStream<Subscription>>, HttpResponse>;

impl HubEndpoint {
    /// Serves `topics` of `hub`.
    pub fn new<T: Into<Text>>(hub: Hub, topics: impl IntoIterator<Item = T>) -> Self {
        Self {
            hub,
            topics: topics.into_iter().map(Into::into).collect(),
            retry: None,
            max_lifetime: None,
            keep_alive: None,
        }
    }

    /// Sets the keep-alive interval and comment (15 s and an empty comment
    /// unless set).
    #[must_use]
    pub fn keep_alive(mut self, keep_alive: KeepAlive) -> Self {
        self.keep_alive = Some(keep_alive);
        self
    }

    /// Sends `retry:` first, lengthened at random by up to a half.
    #[must_use]
    pub fn retry(mut self, base: Duration) -> Self {
        self.retry = Some(base);
        self
    }

    /// Ends each stream after about `lifetime` (shortened at random by up to a
    /// tenth); clients reconnect with their last id and lose nothing.
    #[must_use]
    pub fn max_lifetime(mut self, lifetime: Duration) -> Self {
        self.max_lifetime = Some(lifetime);
        self
    }

    /// The stream for a request's cursor: the hub's gap signal when the
    /// cursor cannot be honoured; `503` (with `Retry-After`) when the hub is
    /// closed, `404` for a topic it does not have.
    pub fn respond(&self, cursor: RequestCursor) -> HubResponse {
        let topics: Vec<&str> = self.topics.iter().map(Text::as_str).collect();
        let mut subscription = match self.hub.subscribe_with(&topics, cursor) {
            Ok(subscription) => subscription,
            Err(error) => {
                let status = StatusCode::from_u16(error.status().as_u16())
                    .unwrap_or(StatusCode::SERVICE_UNAVAILABLE);
                let mut response = HttpResponse::build(status);
                response.insert_header((CONTENT_TYPE, "text/plain; charset=utf-8"));
                if status == StatusCode::SERVICE_UNAVAILABLE {
                    response.insert_header((RETRY_AFTER, "5"));
                }
                return Either::Right(response.body(error.to_string()));
            }
        };
        if let Some(retry) = self.retry {
            subscription = subscription.retry(retry);
        }
        if let Some(lifetime) = self.max_lifetime {
            subscription = subscription.max_lifetime(lifetime);
        }
        let body = subscription.into_body();
        let body = match &self.keep_alive {
            Some(keep_alive) => body.keep_alive(keep_alive.clone()),
            None => body,
        };
        Either::Left(Sse::from(body))
    }

    /// A `GET` route serving the endpoint.
    pub fn route(self) -> Route {
        web::get().to(move |Cursor(cursor): Cursor| {
            let response = self.respond(cursor);
            async move { response }
        })
    }
}

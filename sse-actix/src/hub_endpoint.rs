//! [`HubEndpoint`]: a hub's topics as an actix-web endpoint.

use actix_web::http::header::ALLOW;
use actix_web::{Either, HttpResponse, Resource, ResponseError, Route, web};
use sse_engine::hub::{Endpoint, Hub, Subscription};
use sse_engine::{InfallibleStream, RequestCursor, Text};

use crate::response::insert_sse_headers;
use crate::{Cursor, HubError, Sse};

/// The topics of a hub as an actix-web endpoint with resume. Made with
/// [`hub_route`](crate::hub_route) in one line; how each stream runs (retry,
/// lifetime, keep-alive) is an [`Endpoint`]'s.
///
/// ```
/// use std::time::Duration;
/// use actix_web::{App, web};
/// use sse_actix::HubEndpoint;
/// use sse_engine::hub::{Endpoint, Hub};
///
/// let hub = Hub::new();
/// let events = HubEndpoint::from(Endpoint::new(hub.clone(), ["chat"]).retry(Duration::from_secs(2)));
/// let app = App::new().service(web::resource("/events").route(events.route()));
/// # drop(app);
/// ```
///
/// # Clients that go away
///
/// actix-web notices that a client has gone when it next writes to the
/// connection, not before. An idle stream (and its hub subscription) stays
/// until a keep-alive write fails, so the keep-alive interval (15 s unless
/// set on the [`Endpoint`]) bounds how long a departed client's subscription
/// lives: measured at two intervals.
#[derive(Clone, Debug)]
pub struct HubEndpoint {
    endpoint: Endpoint,
}

/// The answer of a [`HubEndpoint`]: the event stream, or an error.
pub type HubResponse = Either<Sse<InfallibleStream<Subscription>>, HttpResponse>;

impl HubEndpoint {
    /// Serves `topics` of `hub`, with the [`Endpoint`] defaults.
    pub fn new<T: Into<Text>>(hub: Hub, topics: impl IntoIterator<Item = T>) -> Self {
        Self::from(Endpoint::new(hub, topics))
    }

    /// The stream for a request's cursor: the hub's gap signal when the
    /// cursor cannot be honoured; `503` (with `Retry-After`) when the hub is
    /// closed, `404` for a topic it does not have.
    pub fn respond(&self, cursor: RequestCursor) -> HubResponse {
        match self.endpoint.open(cursor) {
            Ok(body) => Either::Left(Sse::from(body)),
            Err(error) => Either::Right(HubError::from(error).error_response()),
        }
    }

    /// A resource at `path` that answers as sse-tower's `HubService` does:
    /// `GET` with the stream, `HEAD` with the same status and head and no body
    /// (the subscription is dropped unread), any other method with `405
    /// Method Not Allowed` and `Allow: GET, HEAD`. It answers every method
    /// on `path`: another route for the same path goes on its own resource
    /// elsewhere, or use [`route`](Self::route).
    ///
    /// ```
    /// use actix_web::App;
    /// use sse_actix::HubEndpoint;
    /// use sse_engine::hub::Hub;
    ///
    /// let app = App::new().service(HubEndpoint::new(Hub::new(), ["chat"]).resource("/events"));
    /// # drop(app);
    /// ```
    pub fn resource(self, path: &str) -> Resource {
        let head = self.clone();
        web::resource(path)
            .route(self.route())
            .route(web::head().to(move |Cursor(cursor): Cursor| {
                // The status a `GET` would get (a closed hub is a 503),
                // without the stream: the subscription ends here, unread.
                let response = match head.respond(cursor) {
                    Either::Left(_stream) => {
                        let mut response = HttpResponse::Ok().finish();
                        insert_sse_headers(response.headers_mut());
                        response
                    }
                    Either::Right(refusal) => refusal,
                };
                async move { response }
            }))
            .default_service(web::to(|| async {
                HttpResponse::MethodNotAllowed()
                    .insert_header((ALLOW, "GET, HEAD"))
                    .finish()
            }))
    }

    /// A `GET` route serving the endpoint.
    pub fn route(self) -> Route {
        web::get().to(move |Cursor(cursor): Cursor| {
            let response = self.respond(cursor);
            async move { response }
        })
    }
}

impl From<Endpoint> for HubEndpoint {
    fn from(endpoint: Endpoint) -> Self {
        Self { endpoint }
    }
}

//! A hub [`Endpoint`] as an actix-web route or resource.

use actix_web::http::header::{ACCEPT_ENCODING, ALLOW};
use actix_web::{Either, HttpRequest, HttpResponse, Resource, ResponseError, Route, web};
use sse_engine::hub::{Endpoint, Subscription};
use sse_engine::{InfallibleStream, RequestCursor};

use crate::extract::Resume;
use sse_engine::compression::Compression;

use crate::response::insert_sse_headers;
use crate::{HubError, Sse};

/// The answer to one request: the event stream, or the refusal.
pub(crate) type Answer = Either<Sse<InfallibleStream<Subscription>>, HttpResponse>;

/// The stream for a request's cursor: the hub's gap signal when the cursor
/// cannot be honoured; `503` (with `Retry-After`) when the hub is closed,
/// `404` for a topic it does not have.
pub(crate) fn respond(endpoint: &Endpoint, cursor: RequestCursor) -> Answer {
    match endpoint.open(cursor) {
        Ok(body) => {
            let stream = Sse::from(body);
            // Negotiated from the request when the stream responds.
            Either::Left(match endpoint.codecs() {
                Some(codecs) => stream.negotiate_compression(codecs),
                None => stream,
            })
        }
        Err(error) => Either::Right(HubError::from(error).error_response()),
    }
}

/// A `GET` route serving a hub [`Endpoint`]: its topics as an event stream,
/// each request resumed from its cursor (see [`Resume`]), with the hub's gap
/// signal when the cursor cannot be honoured, `503` with `Retry-After` when
/// the hub is closed. The endpoint says how each stream runs: its `retry`,
/// maximum lifetime and keep-alive (15 s unless set).
///
/// ```
/// use std::time::Duration;
/// use actix_web::{App, web};
/// use sse_actix::hub::{Endpoint, Hub};
///
/// let hub = Hub::new();
/// let events = Endpoint::new(hub, ["chat"]).retry(Duration::from_secs(2));
/// let app = App::new().route("/events", sse_actix::endpoint_route(events));
/// # drop(app);
/// ```
///
/// A handler of your own (to authorize first, say) opens the endpoint's
/// stream itself: `endpoint.open(cursor).map(Sse::from).map_err(HubError::from)`
/// is a `Result` that actix-web answers.
///
/// # Clients that go away
///
/// actix-web notices that a client has gone when it next writes to the
/// connection, not before. An idle stream (and its hub subscription) stays
/// until a keep-alive write fails, so the keep-alive interval (15 s unless
/// set on the [`Endpoint`]) bounds how long a departed client's subscription
/// lives: measured at two intervals.
pub fn endpoint_route(endpoint: Endpoint) -> Route {
    web::get().to(move |Resume(cursor): Resume<RequestCursor>| {
        let answer = respond(&endpoint, cursor);
        async move { answer }
    })
}

/// A resource at `path` serving a hub [`Endpoint`] as sse-tower's
/// `EndpointService` does: `GET` with the stream (as [`endpoint_route`]),
/// `HEAD` with the same status and head and no body (the subscription is
/// dropped unread), any other method with `405 Method Not Allowed` and
/// `Allow: GET,HEAD`. It answers every method on `path`: another route for
/// the same path goes on a resource of its own, or use [`endpoint_route`].
///
/// ```
/// use actix_web::App;
/// use sse_actix::hub::{Endpoint, Hub};
///
/// let events = Endpoint::new(Hub::new(), ["chat"]);
/// let app = App::new().service(sse_actix::endpoint_resource("/events", events));
/// # drop(app);
/// ```
pub fn endpoint_resource(path: &str, endpoint: Endpoint) -> Resource {
    let head = endpoint.clone();
    web::resource(path)
        .route(endpoint_route(endpoint))
        .route(web::head().to(
            move |request: HttpRequest, Resume(cursor): Resume<RequestCursor>| {
                // The status a `GET` would get (a closed hub is a 503),
                // without the stream: the subscription ends here, unread.
                let response = match respond(&head, cursor) {
                    Either::Left(_stream) => {
                        let mut response = HttpResponse::Ok().finish();
                        // The coding a `GET` would be sent with.
                        let compression = head.codecs().map_or(Compression::identity(), |codecs| {
                            let lines = request.headers().get_all(ACCEPT_ENCODING);
                            codecs.negotiate_accept_encoding(lines.map(|line| line.as_bytes()))
                        });
                        insert_sse_headers(response.headers_mut(), compression);
                        response
                    }
                    Either::Right(refusal) => refusal,
                };
                async move { response }
            },
        ))
        .default_service(web::to(|| async {
            HttpResponse::MethodNotAllowed()
                .insert_header((ALLOW, "GET,HEAD"))
                .finish()
        }))
}

//! The ceiling: plain hyper streaming bytes encoded before the request came,
//! in blocks of up to 32 KiB (the frame size sse-engine's body builds), with
//! no event built, no encoding and no keep-alive timer. Serves `/flood` and
//! `/hold` only.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use futures_util::{StreamExt, stream};
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode, header};
use hyper_util::rt::TokioIo;

use super::{Config, LISTEN, tokio_runtime};
use crate::load::Error;
use crate::load::wire::Flood;

/// The largest block of pre-encoded events sent as one frame.
const BLOCK_BYTES: usize = 32 * 1024;

type Body = BoxBody<Bytes, Infallible>;

/// Serves `/flood` and `/hold` on [`LISTEN`] until the process ends.
pub(super) fn serve(config: Config, on_listen: impl FnOnce(SocketAddr)) -> Result<(), Error> {
    tokio_runtime(config.workers)?.block_on(async move {
        let listener = tokio::net::TcpListener::bind(LISTEN).await?;
        on_listen(listener.local_addr()?);
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                // Out of file descriptors, most likely: wait for some to close.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            // Every server sends each event at once (see `super::serve`).
            let _ = stream.set_nodelay(true);
            tokio::spawn(async move {
                // A connection error ends that connection only.
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service_fn(handle))
                    .await;
            });
        }
    })
}

async fn handle(request: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let response = match request.uri().path() {
        "/flood" => match Flood::from_query(request.uri().query()) {
            Ok(flood) => sse_engine::sse_response(flood_body(flood)),
            Err(message) => plain(StatusCode::BAD_REQUEST, message),
        },
        // The head the axum and actix-web servers give `/hold`.
        "/hold" => {
            let mut response = Response::new(BodyExt::boxed(StreamBody::new(stream::pending())));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                header::HeaderValue::from_static("text/plain"),
            );
            response
        }
        _ => plain(
            StatusCode::NOT_FOUND,
            "raw-hyper serves /flood and /hold only".to_owned(),
        ),
    };
    Ok(response)
}

/// `flood.events` events, encoded once into a block that is sent again and
/// again (the last block cut short).
fn flood_body(flood: Flood) -> Body {
    let event = format!("data: {}\n\n", flood.data());
    let per_block = (BLOCK_BYTES / event.len()).max(1);
    let mut block = BytesMut::with_capacity(per_block * event.len());
    for _ in 0..per_block {
        block.extend_from_slice(event.as_bytes());
    }
    let block = block.freeze();
    let per_block = per_block as u64;
    let (full, rest) = (flood.events / per_block, flood.events % per_block);
    let last = block.slice(..(rest as usize) * event.len());
    let blocks = stream::iter(0..full)
        .map(move |_| block.clone())
        .chain(stream::iter((rest > 0).then_some(last)))
        .map(|data| Ok(Frame::data(data)));
    BodyExt::boxed(StreamBody::new(blocks))
}

fn plain(status: StatusCode, message: String) -> Response<Body> {
    let mut response = Response::new(Full::new(Bytes::from(message)).boxed());
    *response.status_mut() = status;
    response
}

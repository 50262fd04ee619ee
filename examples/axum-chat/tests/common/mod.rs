//! Starts the axum chat on 127.0.0.1, on the test's runtime.

use std::future::IntoFuture;

use example_chat_common::suite;
use sse_axum::hub::Hub;

/// Serves the chat over `hub` on a free port; its base URL.
pub(crate) async fn start_with(hub: Hub) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let chat = example_chat_common::Chat::new(hub).with_body_read_timeout(suite::BODY_READ_TIMEOUT);
    let app = example_axum_chat::app(chat);
    tokio::spawn(sse_axum::serve(listener, app).into_future());
    format!("http://{address}")
}

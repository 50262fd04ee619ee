//! Starts the actix-web chat on 127.0.0.1, in a thread of its own.

use std::net::SocketAddr;

use actix_web::{App, HttpServer};
use sse_actix::hub::Hub;

/// Serves the chat over `hub` on a free port; its address.
pub(crate) fn start_with(hub: Hub) -> SocketAddr {
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let chat = example_chat_common::Chat::new(hub)
                .with_body_read_timeout(example_chat_common::suite::BODY_READ_TIMEOUT);
            let server = HttpServer::new(move || {
                App::new().configure(example_actix_chat::routes(chat.clone()))
            })
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind");
            address_tx.send(server.addrs()[0]).expect("address");
            server.run().await
        })
    });
    address_rx.recv().expect("the server starts")
}

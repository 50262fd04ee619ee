//! The chat page in headless Chromium against the actix-web server (skipped,
//! with a message, where Chromium is not installed; required in CI).

use actix_web::{App, HttpServer};
use example_chat_common::browser;

#[tokio::test]
async fn the_browser_receives_and_resumes_exactly() {
    let hub = example_chat_common::hub();
    let served = hub.clone();
    let (address_tx, address_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = HttpServer::new(move || {
                App::new().configure(example_actix_chat::routes(served.clone()))
            })
            .workers(1)
            .disable_signals()
            .bind(("127.0.0.1", 0))
            .expect("bind");
            address_tx.send(server.addrs()[0]).expect("address");
            server.run().await
        })
    });
    let address = address_rx.recv().expect("the server starts");
    browser::the_browser_receives_and_resumes_exactly(
        &format!("http://{address}"),
        &hub,
        "actix-web",
    )
    .await;
}

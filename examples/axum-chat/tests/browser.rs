//! The chat page in headless Chromium against the axum server (skipped, with a
//! message, where Chromium is not installed; required in CI).

use example_chat_common::browser;

#[tokio::test]
async fn the_browser_receives_and_resumes_exactly() {
    let hub = example_chat_common::hub();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = example_axum_chat::app(example_chat_common::Chat::new(hub.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });
    browser::the_browser_receives_and_resumes_exactly(&format!("http://{address}"), &hub, "axum")
        .await;
}

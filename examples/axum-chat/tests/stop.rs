//! Headless Chromium stops reconnecting after the axum server answers 204
//! for an ended topic (skipped, with a message, where Chromium is not
//! installed; required in CI).

#[tokio::test]
async fn the_browser_stops_reconnecting_after_204() {
    let hub = example_chat_common::hub();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    let app = example_axum_chat::app(example_chat_common::Chat::new(hub.clone()));
    tokio::spawn(async move { axum::serve(listener, app).await });
    example_chat_common::stop::the_browser_stops_reconnecting_after_204(
        &format!("http://{address}"),
        &hub,
    )
    .await;
}

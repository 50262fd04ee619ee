//! Headless Chromium stops reconnecting after the actix-web server answers
//! 204 for an ended topic (skipped, with a message, where Chromium is not
//! installed; required in CI).

mod common;

#[tokio::test]
async fn the_browser_stops_reconnecting_after_204() {
    let hub = example_chat_common::hub();
    let address = common::start_with(hub.clone());
    example_chat_common::stop::the_browser_stops_reconnecting_after_204(
        &format!("http://{address}"),
        &hub,
    )
    .await;
}

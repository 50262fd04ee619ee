//! The chat page in headless Chromium against the actix-web server (skipped,
//! with a message, where Chromium is not installed; required in CI).

mod common;

use example_chat_common::browser;

#[tokio::test]
async fn the_browser_receives_and_resumes_exactly() {
    let hub = example_chat_common::hub();
    let address = common::start_with(hub.clone());
    browser::the_browser_receives_and_resumes_exactly(
        &format!("http://{address}"),
        &hub,
        "actix-web",
    )
    .await;
}

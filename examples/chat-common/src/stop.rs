//! Telling a browser to stop reconnecting for good: a topic ended with
//! `Hub::end_topic` is answered `204 No Content`, and headless Chromium's
//! `EventSource` then stays closed (a topic only closed is reconnected to,
//! which shows that the check can tell the two apart). The chat page, which
//! reconnects by itself after other failures, stops too and says so.

use std::time::Duration;

use sse_engine::hub::Hub;

use crate::browser::browser_or_skip;

/// `base` serves the chat of `hub` (its topic is [`crate::TOPIC`]).
pub async fn the_browser_stops_reconnecting_after_204(base: &str, hub: &Hub) {
    let Some(browser) = browser_or_skip("the browser stops reconnecting after 204").await else {
        return;
    };
    browser.open(base).await;
    browser
        .wait_for(
            "return document.getElementById('status').textContent === 'connected'",
            "the page to connect",
        )
        .await;
    // A bare EventSource too, beside the page's own.
    browser
        .eval(
            "window.bare = new EventSource('/events'); \
             window.bareOpened = 0; \
             window.bare.onopen = () => { window.bareOpened += 1; }; \
             return true",
        )
        .await;
    browser
        .wait_for(
            "return window.bareOpened === 1",
            "the bare EventSource to open",
        )
        .await;

    // Closed, not ended: both reconnect (the topic is created again).
    hub.close_topic(crate::TOPIC);
    browser
        .wait_for(
            "return window.bareOpened === 2 && window.bare.readyState === 1",
            "the bare EventSource to reconnect after a close",
        )
        .await;

    // Ended for good: the streams end, each EventSource reconnects once,
    // gets 204 and closes for good; the page says so and stops.
    hub.end_topic(crate::TOPIC);
    browser
        .wait_for(
            "return window.bare.readyState === 2",
            "the bare EventSource to close after the 204",
        )
        .await;
    browser
        .wait_for(
            "return document.getElementById('status').textContent === 'ended'",
            "the page to say the chat ended",
        )
        .await;
    let connects = browser.eval("return window.connects").await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert_eq!(
        browser.eval("return window.connects").await,
        connects,
        "the page connected again after the 204"
    );
    assert_eq!(
        browser.eval("return window.bare.readyState").await,
        2,
        "EventSource left CLOSED"
    );
    assert_eq!(hub.stats().subscribers, 0, "no stream came back");
}

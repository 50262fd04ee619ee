//! The chat's HTTP interface, served on 127.0.0.1 and checked by the suite
//! both chat servers share.

use example_chat_common::suite;

mod common;

use common::start_with;

/// Serves the app on a free port; its base URL.
async fn start() -> String {
    start_with(example_chat_common::hub()).await
}

#[tokio::test]
async fn disconnecting_clients_release_their_subscriptions() {
    let hub = example_chat_common::hub();
    let base = start_with(hub.clone()).await;
    suite::disconnecting_clients_release_their_subscriptions(&base, &hub).await;
}

#[tokio::test]
async fn the_page_is_served() {
    suite::the_page_is_served(&start().await).await;
}

#[tokio::test]
async fn each_route_answers_only_its_methods() {
    suite::each_route_answers_only_its_methods(&start().await).await;
}

#[tokio::test]
async fn posted_messages_arrive_as_posted() {
    suite::posted_messages_arrive_as_posted(&start().await).await;
}

#[tokio::test]
async fn a_retried_post_with_an_idempotency_key_is_published_once() {
    suite::a_retried_post_with_an_idempotency_key_is_published_once(&start().await).await;
}

#[tokio::test]
async fn bad_requests_are_refused_and_publish_nothing() {
    suite::bad_requests_are_refused_and_publish_nothing(&start().await).await;
}

#[tokio::test]
async fn a_reconnecting_client_gets_exactly_what_it_missed() {
    suite::a_reconnecting_client_gets_exactly_what_it_missed(&start().await).await;
}

#[tokio::test]
async fn an_unknown_cursor_gets_a_gap_signal() {
    suite::an_unknown_cursor_gets_a_gap_signal(&start().await).await;
}

#[tokio::test]
async fn many_concurrent_subscribers_all_receive() {
    suite::many_concurrent_subscribers_all_receive(&start().await, 200).await;
}

#[tokio::test]
async fn new_event_names_are_announced_before_their_first_message() {
    suite::new_event_names_are_announced_before_their_first_message(&start().await).await;
}

#[tokio::test]
async fn event_names_are_bounded() {
    suite::event_names_are_bounded(&start().await).await;
}

#[tokio::test]
async fn a_post_the_hub_cannot_take_now_is_503_with_retry_after() {
    let hub = example_chat_common::hub();
    let base = start_with(hub.clone()).await;
    suite::a_post_the_hub_cannot_take_now_is_503_with_retry_after(&base, &hub).await;
}

#[tokio::test]
async fn a_body_sent_a_byte_at_a_time_is_refused() {
    let hub = example_chat_common::hub();
    let base = start_with(hub.clone()).await;
    suite::a_body_sent_a_byte_at_a_time_is_refused(&base, &hub).await;
}

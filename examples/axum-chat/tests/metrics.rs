//! `GET /metrics` of the server's binary after real traffic (the steps are
//! in `example_chat_common::scrape`, which both chat servers pass).

#[tokio::test]
async fn metrics_follow_the_traffic() {
    example_chat_common::scrape::metrics_follow_the_traffic(env!(
        "CARGO_BIN_EXE_example-axum-chat"
    ))
    .await;
}

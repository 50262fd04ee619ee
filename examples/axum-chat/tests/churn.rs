//! 10,000 event streams opened and cut against the server's binary leave
//! every gauge of `GET /metrics` where it started (the steps are in
//! `example_chat_common::churn`, which both chat servers pass).

#[tokio::test]
async fn churn_leaves_every_gauge_where_it_started() {
    example_chat_common::churn::churn_leaves_every_gauge_where_it_started(env!(
        "CARGO_BIN_EXE_example-axum-chat"
    ))
    .await;
}

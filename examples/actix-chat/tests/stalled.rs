//! The server's binary releases a client that stops reading (the steps are
//! in `example_chat_common::stalled`, which both chat servers pass).

#[tokio::test]
async fn a_client_that_stops_reading_is_released() {
    example_chat_common::stalled::a_client_that_stops_reading_is_released(env!(
        "CARGO_BIN_EXE_example-actix-chat"
    ))
    .await;
}

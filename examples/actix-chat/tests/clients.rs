//! The client matrix against the actix-web chat's own binary: every client that
//! people use receives exactly what was published, through keep-alive, a
//! dropped connection, Ctrl-C and a restart. See
//! `example_chat_common::matrix`; a client that is not installed is skipped
//! with a message (a failure in CI).

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_receives_exactly_what_was_published() {
    example_chat_common::matrix::every_client_receives_exactly_what_was_published(
        env!("CARGO_BIN_EXE_example-actix-chat"),
        "example-actix-chat",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_sends_the_final_event_to_100_clients() {
    example_chat_common::matrix::stopping_sends_the_final_event_to_every_client(
        env!("CARGO_BIN_EXE_example-actix-chat"),
        "INT",
        100,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_sends_the_final_event_to_100_clients() {
    example_chat_common::matrix::stopping_sends_the_final_event_to_every_client(
        env!("CARGO_BIN_EXE_example-actix-chat"),
        "TERM",
        100,
    )
    .await;
}

/// The matrix through gzip, br and zstd: each client forced to each codec
/// reads every event before the next is published, exactly as published.
/// See `example_chat_common::compressed`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_client_reads_each_event_on_time_through_every_codec() {
    example_chat_common::compressed::every_client_reads_each_event_on_time_through_every_codec(
        env!("CARGO_BIN_EXE_example-actix-chat"),
        "example-actix-chat",
    )
    .await;
}

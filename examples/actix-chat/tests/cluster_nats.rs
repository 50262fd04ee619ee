//! Two processes of the chat example on a three-node NATS JetStream
//! cluster, through the loss of any one node (the steps are in
//! `example_chat_common::cluster`, which both chat servers pass).
#![cfg(feature = "nats")]

use example_chat_common::cluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_stream_stays_exact_through_the_loss_of_any_one_node() {
    cluster::survives_losing_any_node(env!("CARGO_BIN_EXE_example-actix-chat")).await;
}

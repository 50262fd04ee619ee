//! Two processes of the chat example on one real NATS server (JetStream),
//! as behind a load balancer (the steps are in
//! `example_chat_common::two_instances`, which both chat servers pass).

#[path = "../../../sse-nats/tests/common/mod.rs"]
mod nats_server;

#[tokio::test]
async fn a_client_moves_to_the_other_instance_and_misses_nothing() {
    let Some(nats) = nats_server::NatsServer::start("two chat instances on NATS") else {
        return;
    };
    example_chat_common::two_instances::on_nats_a_client_moves_to_the_other_instance_and_misses_nothing(
        env!("CARGO_BIN_EXE_example-actix-chat"),
        &nats.url(),
    )
    .await;
}

//! Two processes of the chat example on one real Redis, as behind a load
//! balancer (the steps are in `example_chat_common::two_instances`, which
//! both chat servers pass).

#[path = "../../../sse-redis/tests/common/mod.rs"]
mod redis_server;

#[tokio::test]
async fn a_client_moves_to_the_other_instance_and_misses_nothing() {
    let Some(redis) = redis_server::RedisServer::start("two chat instances") else {
        return;
    };
    example_chat_common::two_instances::a_client_moves_to_the_other_instance_and_misses_nothing(
        env!("CARGO_BIN_EXE_example-actix-chat"),
        &redis.url(),
    )
    .await;
}

#[tokio::test]
async fn an_instance_started_late_knows_the_names_in_use() {
    let Some(redis) = redis_server::RedisServer::start("a chat instance started late") else {
        return;
    };
    example_chat_common::two_instances::an_instance_started_late_knows_the_names_in_use(
        env!("CARGO_BIN_EXE_example-actix-chat"),
        &redis.url(),
    )
    .await;
}

#[tokio::test]
async fn names_survive_redis_losing_its_data() {
    let Some(redis) = redis_server::RedisServer::start("chat names after Redis lost its data")
    else {
        return;
    };
    example_chat_common::two_instances::names_survive_redis_losing_its_data(
        env!("CARGO_BIN_EXE_example-actix-chat"),
        &redis.url(),
    )
    .await;
}

#[tokio::test]
async fn a_post_redis_did_not_answer_is_published_once_when_retried() {
    let Some(redis) = redis_server::RedisServer::start("a chat post Redis did not answer") else {
        return;
    };
    example_chat_common::two_instances::a_post_redis_did_not_answer_is_published_once_when_retried(
        env!("CARGO_BIN_EXE_example-actix-chat"),
        &redis.url(),
        || redis.pause(),
        || redis.resume(),
    )
    .await;
}

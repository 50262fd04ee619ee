//! Where the chat keeps its messages: in this process, or in Redis, shared
//! with every other instance that uses the same Redis.

use crate::Chat;
#[cfg(feature = "redis")]
use crate::registry::{NameRegistry, redis_names::RedisNames};
#[cfg(feature = "redis")]
use sse_redis::RedisStore;

/// How many messages each topic keeps in Redis for reconnecting clients,
/// unless `REDIS_MAX_LEN` says otherwise.
#[cfg(feature = "redis")]
const REDIS_MAX_LEN: usize = 10_000;

/// The chat: on the Redis at `REDIS_URL` when it is set (under the key
/// prefix `REDIS_PREFIX`, `chat:` unless set; the last `REDIS_MAX_LEN`
/// messages kept, 10,000 unless set), in memory otherwise. With the
/// description to print.
///
/// # Errors
///
/// When `REDIS_URL` is set and Redis cannot be reached, `REDIS_MAX_LEN` is
/// not a number, or this build has no Redis support (the `redis` feature of
/// `package`, the example's package, which the message names).
///
/// # Panics
///
/// Outside a tokio runtime.
pub async fn chat_from_env(package: &str) -> Result<(Chat, String), String> {
    let Ok(url) = std::env::var("REDIS_URL") else {
        return Ok((Chat::new(crate::hub()), "in memory".to_owned()));
    };
    on_redis(url, package).await
}

#[cfg(not(feature = "redis"))]
async fn on_redis(_url: String, package: &str) -> Result<(Chat, String), String> {
    Err(format!(
        "REDIS_URL is set, but this build has no Redis support: \
         run it with `cargo run -p {package} --features redis`"
    ))
}

#[cfg(feature = "redis")]
async fn on_redis(url: String, _package: &str) -> Result<(Chat, String), String> {
    let prefix = std::env::var("REDIS_PREFIX").unwrap_or_else(|_| "chat:".to_owned());
    let max_len = match std::env::var("REDIS_MAX_LEN") {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("REDIS_MAX_LEN must be a number, not {value:?}"))?,
        Err(_) => REDIS_MAX_LEN,
    };
    let builder = RedisStore::builder(url.as_str())
        .prefix(prefix.as_str())
        .max_len(max_len);
    // Printed and logged: without the password the URL may hold.
    let address = builder.address();
    let unreachable =
        |error: redis::RedisError| format!("cannot use the Redis at {address}: {error}");
    let store = builder.connect().await.map_err(unreachable)?;
    let names = RedisNames::connect(&url, &prefix)
        .await
        .map_err(unreachable)?;
    let hub = crate::hub_builder().store(store).build();
    let chat = Chat::with_registry(hub, NameRegistry::Redis(names));
    Ok((
        chat,
        format!("on Redis at {address}, key prefix {prefix:?}"),
    ))
}

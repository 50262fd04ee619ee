//! Where the chat keeps its messages: in this process, or in Redis, shared
//! with every other instance that uses the same Redis.

use sse_engine::hub::Hub;
#[cfg(feature = "redis")]
use sse_redis::RedisStore;

/// How many messages each topic keeps in Redis for reconnecting clients.
#[cfg(feature = "redis")]
const REDIS_MAX_LEN: usize = 10_000;

/// The chat's hub: on the Redis at `REDIS_URL` when it is set (under the key
/// prefix `REDIS_PREFIX`, `chat:` unless set), in memory otherwise. With the
/// description to print.
///
/// # Errors
///
/// When `REDIS_URL` is set and Redis cannot be reached, or this build has no
/// Redis support (the `redis` feature of `package`, the example's package,
/// which the message names).
pub async fn hub_from_env(package: &str) -> Result<(Hub, String), String> {
    let Ok(url) = std::env::var("REDIS_URL") else {
        return Ok((crate::hub(), "in memory".to_owned()));
    };
    on_redis(url, package).await
}

#[cfg(not(feature = "redis"))]
async fn on_redis(_url: String, package: &str) -> Result<(Hub, String), String> {
    Err(format!(
        "REDIS_URL is set, but this build has no Redis support: \
         run it with `cargo run -p {package} --features redis`"
    ))
}

#[cfg(feature = "redis")]
async fn on_redis(url: String, _package: &str) -> Result<(Hub, String), String> {
    let prefix = std::env::var("REDIS_PREFIX").unwrap_or_else(|_| "chat:".to_owned());
    let builder = RedisStore::builder(url)
        .prefix(prefix.as_str())
        .max_len(REDIS_MAX_LEN);
    // Printed and logged: without the password the URL may hold.
    let address = builder.address();
    let store = builder
        .connect()
        .await
        .map_err(|error| format!("cannot use the Redis at {address}: {error}"))?;
    let hub = crate::hub_builder().store(store).build();
    Ok((hub, format!("on Redis at {address}, key prefix {prefix:?}")))
}

//! Where the chat keeps its messages: in this process, or in Redis or a
//! NATS JetStream stream, shared with every other instance that uses the
//! same one.

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
/// messages kept, 10,000 unless set); on the NATS servers at `NATS_URL`
/// when that is set (comma-separated, for a cluster; the JetStream stream
/// `NATS_STREAM`, `CHAT` unless set, with `NATS_REPLICAS` replicas, 1
/// unless set, and the last 10,000 messages); in memory otherwise. With the
/// description to print.
///
/// # Errors
///
/// When the store cannot be reached, a setting is not a number, or this
/// build lacks the store's support (the `redis` or `nats` feature of
/// `package`, the example's package, which the message names).
///
/// # Panics
///
/// Outside a tokio runtime.
pub async fn chat_from_env(package: &str) -> Result<(Chat, String), String> {
    if let Ok(url) = std::env::var("REDIS_URL") {
        return on_redis(url, package).await;
    }
    if let Ok(urls) = std::env::var("NATS_URL") {
        return on_nats(urls, package).await;
    }
    Ok((Chat::new(crate::hub()), "in memory".to_owned()))
}

/// A number from the variable `name`, or `default` when it is not set.
#[cfg_attr(not(any(feature = "redis", feature = "nats")), allow(dead_code))]
fn number<T: std::str::FromStr>(name: &str, default: T) -> Result<T, String> {
    match std::env::var(name) {
        Ok(value) => value
            .parse()
            .map_err(|_| format!("{name} must be a number, not {value:?}")),
        Err(_) => Ok(default),
    }
}

#[cfg(not(feature = "nats"))]
async fn on_nats(_urls: String, package: &str) -> Result<(Chat, String), String> {
    Err(format!(
        "NATS_URL is set, but this build has no NATS support: \
         run it with `cargo run -p {package} --features nats`"
    ))
}

#[cfg(feature = "nats")]
async fn on_nats(urls: String, _package: &str) -> Result<(Chat, String), String> {
    use crate::nats_names::NatsNames;
    use crate::registry::NameRegistry;
    use sse_nats::NatsStore;

    let servers: Vec<String> = urls.split(',').map(|url| url.trim().to_owned()).collect();
    let stream = std::env::var("NATS_STREAM").unwrap_or_else(|_| "CHAT".to_owned());
    let replicas = number("NATS_REPLICAS", 1)?;
    // Printed without the user and password a URL may hold.
    let shown = servers
        .iter()
        .map(|url| without_credentials(url))
        .collect::<Vec<_>>()
        .join(",");
    let unreachable = |error: String| format!("cannot use NATS at {shown}: {error}");
    let store = NatsStore::builder(servers.iter().cloned())
        .stream(stream.as_str())
        .replicas(replicas)
        .max_messages(10_000)
        .connect()
        .await
        .map_err(|error| unreachable(error.to_string()))?;
    let names = NatsNames::connect(&servers, &stream, replicas)
        .await
        .map_err(unreachable)?;
    let hub = crate::hub_builder().store(store).build();
    let chat = Chat::with_registry(hub, NameRegistry::Nats(Box::new(names)));
    Ok((
        chat,
        format!("on NATS at {shown}, stream {stream:?}, {replicas} replicas"),
    ))
}

/// `url` without its user information (`nats://user:pass@host` becomes
/// `nats://host`).
///
/// ```
/// # use example_chat_common::without_credentials;
/// assert_eq!(without_credentials("nats://me:secret@127.0.0.1:4222"), "nats://127.0.0.1:4222");
/// assert_eq!(without_credentials("127.0.0.1:4222"), "127.0.0.1:4222");
/// ```
pub fn without_credentials(url: &str) -> String {
    let (scheme, rest) = url.split_once("://").unwrap_or(("", url));
    let rest = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    if scheme.is_empty() {
        rest.to_owned()
    } else {
        format!("{scheme}://{rest}")
    }
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
    let max_len = number("REDIS_MAX_LEN", REDIS_MAX_LEN)?;
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

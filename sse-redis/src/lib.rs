//! A Redis Streams [`Store`](sse_engine::hub::Store) for the `sse-engine` hub, so
//! that several server processes share one replay log: a client that
//! reconnects to another instance behind the load balancer resumes from its
//! `Last-Event-ID` there.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use sse_engine::Event;
//! use sse_engine::hub::Hub;
//! use sse_redis::RedisStore;
//!
//! let store = RedisStore::builder("redis://127.0.0.1:6379/").connect().await?;
//! let hub = Hub::builder().store(store).build();
//! let id = hub.publish("news", Event::new().data("stored in Redis")).await?;
//! println!("published {id}");
//! # Ok(())
//! # }
//! ```
//!
//! See [`RedisStore`] for how events are stored, read and replayed, and what
//! happens when Redis goes away.
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]

mod address;
mod builder;
mod feed;
mod keys;
mod reply;
mod scripts;
mod shared;
mod store;

pub use self::builder::{DEFAULT_PUBLISH_KEY_WINDOW, RedisStoreBuilder};
pub use self::store::RedisStore;

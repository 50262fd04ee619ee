//! The client side of the load tool: connections, event streams, the
//! publisher, and the runtime they run on.

pub mod http;
pub mod publisher;
pub mod reader;
pub mod subscriber;

use std::future::Future;
use std::thread::JoinHandle;

/// Runs `make()` to completion on a new thread with its own single-threaded
/// tokio runtime: one thread holds thousands of connections, and the
/// publisher is never delayed by the readers.
///
/// # Errors
///
/// When the thread or the runtime cannot be made.
pub fn spawn_runtime<F, Fut, T>(
    name: &str,
    make: F,
) -> std::io::Result<JoinHandle<std::io::Result<T>>>
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: Future<Output = T>,
    T: Send + 'static,
{
    std::thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || Ok(runtime()?.block_on(make())))
}

/// A single-threaded tokio runtime with I/O and time.
///
/// # Errors
///
/// When the runtime cannot be made.
pub fn runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

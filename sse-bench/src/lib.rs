//! Benchmarks of the sse workspace, side by side with axum's and
//! actix-web-lab's SSE. Nothing here is published: see `benches/` and the
//! workspace's `BENCHMARKS.md` for what is measured and the results.
//!
//! The library holds what several benchmarks share: [`rounds`], which runs
//! the implementations of a workload interleaved and compares them within
//! each round, [`drain`], and what the fan-out benchmarks share
//! ([`fan_out`]); and the `sse-load` tool ([`load`]) that
//! measures real servers over loopback.
#![forbid(unsafe_code)]

pub mod fan_out;
pub mod load;
pub mod rounds;

use std::pin::pin;

use bytes::Buf;
use http_body::Body;
use http_body_util::BodyExt;

/// The runtime every in-process bench runs its contenders on: one thread,
/// timers on (axum's keep-alive needs the runtime's timer when its body is
/// built), so that thread CPU time is the contenders' own.
///
/// # Panics
///
/// When tokio cannot build it.
pub fn bench_runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// Polls an HTTP body to the end; the number of data bytes it produced.
///
/// # Panics
///
/// When the body fails: a benchmark's body never should.
pub async fn drain<B: Body>(body: B) -> usize
where
    B::Error: std::fmt::Debug,
{
    let mut body = pin!(body);
    let mut total = 0;
    while let Some(frame) = body.frame().await {
        if let Ok(data) = frame.expect("body error").into_data() {
            total += data.remaining();
        }
    }
    total
}

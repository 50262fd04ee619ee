//! Benchmarks of the sse workspace, side by side with axum's and
//! actix-web-lab's SSE. Nothing here is published: see `benches/` and the
//! workspace's `BENCHMARKS.md` for what is measured and the results.
#![forbid(unsafe_code)]

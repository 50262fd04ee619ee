//! Scenario 5: one client stops reading while the others go on. The same
//! fan-out is measured twice, on fresh servers, without and with the slow
//! client: the publisher's rate, the others' latency and losses, and the
//! server's memory should not change.

use std::time::Duration;

use serde::Serialize;

use super::fanout::{FanoutResult, Step, measure};
use crate::load::client::publisher::PublishPlan;
use crate::load::impls::Impl;
use crate::load::plan::Plan;

/// One implementation, without and with the slow client.
#[derive(Debug, Clone, Serialize)]
pub struct SlowResult {
    /// The implementation.
    pub implementation: Impl,
    /// Every client reads.
    pub without: FanoutResult,
    /// One more client that stops reading.
    pub with: FanoutResult,
}

/// The slow-client scenario of the plan against `kind`.
pub fn run(kind: Impl, plan: &Plan) -> SlowResult {
    let step = |slow_client| Step {
        clients: plan.slow.others,
        publish: PublishPlan {
            events: plan.slow.events,
            rate: plan.slow.rate,
            size: plan.slow.size,
        },
        grace: Duration::from_secs(10),
        slow_client,
    };
    SlowResult {
        implementation: kind,
        without: measure(kind, plan, step(false)),
        with: measure(kind, plan, step(true)),
    }
}

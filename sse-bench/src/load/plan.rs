//! The sizes of every scenario: the full run and the smoke run.

use std::net::{IpAddr, Ipv4Addr};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::Serialize;

/// Sizes, rates and time limits of one run.
#[derive(Debug, Clone, Serialize)]
pub struct Plan {
    /// `full` or `smoke`.
    pub name: &'static str,
    /// Keep-alive interval of every stream, on every server.
    pub keep_alive: Duration,
    /// Worker threads of every server.
    pub workers: usize,
    /// Connections opened at once while connecting many.
    pub connect_concurrency: usize,
    /// How long opening all connections of a step (a warm-up, a churn round)
    /// may take.
    pub connect_timeout: Duration,
    /// Scenario 1.
    pub throughput: ThroughputPlan,
    /// Scenario 2.
    pub fanout: FanoutPlan,
    /// Scenario 3.
    pub idle: IdlePlan,
    /// Scenario 4.
    pub churn: ChurnPlan,
    /// Scenario 5.
    pub slow: SlowPlan,
    /// Scenario 6.
    pub stalled: StalledPlan,
}

/// Scenario 1: one client, events as fast as the server sends them.
#[derive(Debug, Clone, Serialize)]
pub struct ThroughputPlan {
    /// `(data bytes per event, events)`.
    pub workloads: Vec<(usize, u64)>,
    /// Runs of each; the median is reported.
    pub repeats: usize,
    /// The longest one run may take.
    pub time_limit: Duration,
}

/// Scenario 2: many clients, one publisher at a fixed rate.
#[derive(Debug, Clone, Serialize)]
pub struct FanoutPlan {
    /// One step each: connected clients, events published, events per
    /// second. The rate goes down as clients go up, so that deliveries per
    /// second stay the same and the machine is not saturated: what is
    /// measured is the fan-out of each event, not a queue.
    pub steps: Vec<(usize, u64, f64)>,
    /// Rounds of every step against every implementation, taken in turn
    /// (all implementations once, then again), so that a disturbance from
    /// outside falls on one round of one implementation, not on all of its
    /// rounds; the tables give each step's median round.
    pub rounds: usize,
    /// Data bytes per event.
    pub size: usize,
    /// How long after the last publish clients may take to receive it.
    pub grace: Duration,
}

/// Scenario 3: idle connections.
#[derive(Debug, Clone, Serialize)]
pub struct IdlePlan {
    /// Connections, one step each (a step the open-file limit does not allow
    /// is reported as skipped, with the reason).
    pub connections: Vec<usize>,
    /// Wait before each memory reading.
    pub settle: Duration,
    /// How long CPU use is measured while idle.
    pub window: Duration,
}

/// Scenario 4: connect and disconnect.
#[derive(Debug, Clone, Serialize)]
pub struct ChurnPlan {
    /// Connections opened and closed per round.
    pub connections: usize,
    /// Rounds; memory is read after each.
    pub rounds: usize,
    /// Connections open at once.
    pub concurrency: usize,
}

/// Scenario 5: one client stops reading.
#[derive(Debug, Clone, Serialize)]
pub struct SlowPlan {
    /// Clients that keep reading.
    pub others: usize,
    /// Events published.
    pub events: u64,
    /// Events per second.
    pub rate: f64,
    /// Data bytes per event.
    pub size: usize,
}

/// Scenario 6: clients that stop reading, against a stall timeout.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct StalledPlan {
    /// Clients that send their request and never read.
    pub clients: usize,
    /// Events per second.
    pub rate: f64,
    /// Data bytes per event.
    pub size: usize,
    /// How long events are published.
    pub duration: Duration,
    /// Our servers' stall timeout (the peers have none).
    pub stall_timeout: Duration,
    /// Bytes per second the one slow but live client reads.
    pub slow_reader_rate: u64,
}

impl Plan {
    /// The full run: about ten minutes on two cores.
    pub fn full() -> Self {
        Self {
            name: "full",
            keep_alive: Duration::from_secs(5),
            workers: 2,
            connect_concurrency: 128,
            connect_timeout: Duration::from_secs(120),
            throughput: ThroughputPlan {
                workloads: vec![(64, 2_000_000), (64 * 1024, 40_000)],
                repeats: 3,
                time_limit: Duration::from_secs(60),
            },
            fanout: FanoutPlan {
                steps: vec![(1_000, 200, 20.0), (10_000, 60, 3.0)],
                rounds: 3,
                size: 64,
                grace: Duration::from_secs(10),
            },
            idle: IdlePlan {
                connections: vec![10_000, 50_000],
                settle: Duration::from_secs(2),
                window: Duration::from_secs(10),
            },
            churn: ChurnPlan {
                connections: 10_000,
                rounds: 2,
                concurrency: 64,
            },
            slow: SlowPlan {
                others: 50,
                events: 3_000,
                rate: 400.0,
                size: 8 * 1024,
            },
            stalled: StalledPlan {
                clients: 200,
                rate: 50.0,
                size: 8 * 1024,
                duration: Duration::from_secs(40),
                stall_timeout: Duration::from_secs(10),
                slow_reader_rate: 256 * 1024,
            },
        }
    }

    /// Every scenario at a tiny size: seconds, to check that the tool and
    /// every server work; its timings mean nothing.
    pub fn smoke() -> Self {
        Self {
            name: "smoke",
            keep_alive: Duration::from_millis(300),
            workers: 2,
            connect_concurrency: 16,
            connect_timeout: Duration::from_secs(30),
            throughput: ThroughputPlan {
                workloads: vec![(64, 2_000), (64 * 1024, 20)],
                repeats: 1,
                time_limit: Duration::from_secs(30),
            },
            fanout: FanoutPlan {
                steps: vec![(20, 20, 200.0)],
                rounds: 1,
                size: 64,
                grace: Duration::from_secs(10),
            },
            idle: IdlePlan {
                connections: vec![20],
                settle: Duration::from_millis(100),
                window: Duration::from_millis(400),
            },
            churn: ChurnPlan {
                connections: 40,
                rounds: 1,
                concurrency: 8,
            },
            slow: SlowPlan {
                others: 4,
                events: 40,
                rate: 200.0,
                size: 8 * 1024,
            },
            stalled: StalledPlan {
                clients: 5,
                rate: 50.0,
                size: 8 * 1024,
                duration: Duration::from_secs(4),
                stall_timeout: Duration::from_secs(1),
                slow_reader_rate: 256 * 1024,
            },
        }
    }

    /// Fresh source addresses for `connections` clients: one per 25,000
    /// connections, since each source address has its own ~28,000 ephemeral
    /// ports toward one server port. Each call gets addresses no earlier
    /// call got (127.1.x.y): connections closed by an earlier step leave
    /// their ports in TIME_WAIT for a minute, and connecting from those
    /// addresses again would make the system search for free ports, which
    /// slows connecting down by orders of magnitude.
    pub fn sources(connections: usize) -> Vec<IpAddr> {
        static NEXT: OnceLock<AtomicUsize> = OnceLock::new();
        // Start somewhere else in every process, so that a run started
        // right after another does not meet that one's TIME_WAIT ports.
        let next = NEXT.get_or_init(|| {
            let seed =
                (crate::load::wire::now_ns() / 1_000) ^ (u64::from(std::process::id()) * 7_919);
            AtomicUsize::new((seed % (250 * 250)) as usize)
        });
        let count = connections.div_ceil(25_000).max(1);
        let first = next.fetch_add(count, Ordering::Relaxed);
        (first..first + count)
            .map(|n| {
                let n = n % (250 * 250);
                IpAddr::V4(Ipv4Addr::new(127, 1, (n / 250) as u8, (n % 250 + 1) as u8))
            })
            .collect()
    }
}

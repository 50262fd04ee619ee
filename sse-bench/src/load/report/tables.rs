//! The Markdown tables of a run. Ratios compare implementations measured in
//! the same run; every ratio is written so that above 1 means better than
//! the peer named in its column.

use std::fmt::Write as _;

use crate::load::impls::Impl;
use crate::load::scenario::churn::ChurnResult;
use crate::load::scenario::fanout::{FanoutResult, median_round};
use crate::load::scenario::idle::IdleResult;
use crate::load::scenario::slow::SlowResult;
use crate::load::scenario::stalled::StalledResult;
use crate::load::scenario::throughput::ThroughputResult;

/// Scenario 1.
pub(super) fn throughput(out: &mut String, runs: &[ThroughputResult]) {
    if runs.is_empty() {
        return;
    }
    out.push_str("### Throughput to one client\n\n");
    out.push_str("| event data | implementation | events/s | MB/s | vs axum | vs actix-web-lab | vs raw-hyper |\n");
    out.push_str("| ---: | --- | ---: | ---: | ---: | ---: | ---: |\n");
    let rate = |size: usize, kind: Impl| {
        runs.iter()
            .find(|run| run.size == size && run.implementation == kind && run.error.is_none())
            .map(|run| run.events_per_s)
    };
    for run in runs {
        let this = (run.error.is_none()).then_some(run.events_per_s);
        let ratio = |peer| fmt_ratio(this, rate(run.size, peer));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} |",
            fmt_bytes(run.size as f64),
            name(run.implementation),
            this.map_or_else(|| "failed".to_owned(), fmt_rate),
            if run.error.is_none() {
                format!("{:.0}", run.mb_per_s)
            } else {
                "–".to_owned()
            },
            ratio(Impl::Axum),
            ratio(Impl::ActixWebLab),
            ratio(Impl::RawHyper),
        );
    }
    out.push('\n');
}

/// Scenario 2: each step's median round, and every round's p99.
pub(super) fn fanout(out: &mut String, runs: &[FanoutResult]) {
    if runs.is_empty() {
        return;
    }
    out.push_str("### Fan-out latency, publish to receive\n\n");
    out.push_str("Each row: the round with the median p99 of its step; events lost are summed over every round, and the last column is the p99 of every round.\n\n");
    out.push_str(
        "| clients | implementation | p50 | p99 | p99.9 | max | lost (all rounds) | p99 vs axum | p99 vs actix-web-lab | server CPU per delivery | p99 of each round |\n",
    );
    out.push_str("| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |\n");
    let mut steps: Vec<(usize, Impl)> = Vec::new();
    for run in runs {
        if let Some(kind) = run.implementation
            && !steps.contains(&(run.clients, kind))
        {
            steps.push((run.clients, kind));
        }
    }
    steps.sort_by_key(|&(clients, _)| clients);
    let rounds = |clients: usize, kind: Impl| {
        runs.iter()
            .filter(move |run| run.clients == clients && run.implementation == Some(kind))
    };
    let p99 = |clients: usize, kind: Impl| {
        median_round(rounds(clients, kind)).map(|run| run.latency.p99_us)
    };
    for (clients, kind) in steps {
        let every: Vec<String> = rounds(clients, kind)
            .map(|run| match &run.error {
                Some(error) => format!("failed: {error}"),
                None => fmt_us(run.latency.p99_us),
            })
            .collect();
        let Some(run) = median_round(rounds(clients, kind)) else {
            let _ = writeln!(
                out,
                "| {} | {} | failed | | | | | | | | {} |",
                fmt_count(clients as f64),
                name(kind),
                every.join(", ")
            );
            continue;
        };
        // Lower is better: the peer's p99 over this one's.
        let ratio = |peer| fmt_ratio(p99(clients, peer), Some(run.latency.p99_us));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.1} µs | {} |",
            fmt_count(clients as f64),
            name(kind),
            fmt_us(run.latency.p50_us),
            fmt_us(run.latency.p99_us),
            fmt_us(run.latency.p999_us),
            fmt_us(run.latency.max_us),
            rounds(clients, kind).map(|run| run.lost).sum::<u64>(),
            ratio(Impl::Axum),
            ratio(Impl::ActixWebLab),
            run.server_cpu_us_per_delivery,
            every.join(", "),
        );
    }
    out.push('\n');
}

/// Scenario 3.
pub(super) fn idle(out: &mut String, runs: &[IdleResult]) {
    if runs.is_empty() {
        return;
    }
    out.push_str("### Idle connections\n\n");
    out.push_str(
        "| connections | implementation | memory per `/events` connection | memory per `/hold` connection (HTTP server alone) | SSE state per connection | CPU while idle |\n",
    );
    out.push_str("| ---: | --- | ---: | ---: | ---: | ---: |\n");
    let find = |run: &IdleResult, path: &str| {
        runs.iter().find(|other| {
            other.implementation == run.implementation
                && other.connections == run.connections
                && other.path == path
        })
    };
    let mut skipped = Vec::new();
    for run in runs
        .iter()
        .filter(|run| run.path == "/events" || !run.implementation.publishes())
    {
        if let Some(reason) = &run.skipped {
            skipped.push(format!(
                "{} × {}: {reason}",
                run.implementation,
                fmt_count(run.connections as f64)
            ));
            continue;
        }
        let events = (run.path == "/events").then_some(run);
        let hold = find(run, "/hold");
        let cell = |run: Option<&IdleResult>| match run {
            Some(run) if run.error.is_some() => "failed".to_owned(),
            Some(run) => fmt_bytes(run.bytes_per_connection),
            None => "–".to_owned(),
        };
        let state = match (events, hold) {
            (Some(events), Some(hold)) if events.error.is_none() && hold.error.is_none() => {
                fmt_bytes(events.bytes_per_connection - hold.bytes_per_connection)
            }
            _ => "–".to_owned(),
        };
        let cpu = events
            .or(hold)
            .filter(|run| run.error.is_none())
            .map_or_else(|| "–".to_owned(), |run| format!("{:.1}%", run.cpu_percent));
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} |",
            fmt_count(run.connections as f64),
            name(run.implementation),
            cell(events),
            cell(hold),
            state,
            cpu,
        );
    }
    out.push('\n');
    for line in skipped {
        let _ = writeln!(out, "Skipped: {line}\n");
    }
}

/// Scenario 4.
pub(super) fn churn(out: &mut String, runs: &[ChurnResult]) {
    if runs.is_empty() {
        return;
    }
    out.push_str("### Churn\n\n");
    out.push_str("| implementation | connections per round | subscribers before → after each round | seconds to settle | memory before → after each round |\n");
    out.push_str("| --- | ---: | --- | --- | --- |\n");
    for run in runs {
        if let Some(error) = &run.error {
            let _ = writeln!(
                out,
                "| {} | {} | failed: {error} | | |",
                name(run.implementation),
                run.connections
            );
            continue;
        }
        let count =
            |count: Option<u64>| count.map_or_else(|| "?".to_owned(), |count| count.to_string());
        let subscribers: Vec<String> = run
            .rounds
            .iter()
            .map(|round| count(round.subscribers_after))
            .collect();
        let settle: Vec<String> = run
            .rounds
            .iter()
            .map(|round| format!("{:.1}", round.settle_s))
            .collect();
        let memory: Vec<String> = run
            .rounds
            .iter()
            .map(|round| fmt_bytes(round.rss_after as f64))
            .collect();
        let _ = writeln!(
            out,
            "| {} | {} | {} → {} | {} | {} → {} |",
            name(run.implementation),
            fmt_count(run.connections as f64),
            count(run.subscribers_before),
            subscribers.join(" → "),
            settle.join(", "),
            fmt_bytes(run.rss_before as f64),
            memory.join(" → "),
        );
    }
    out.push('\n');
}

/// Scenario 5.
pub(super) fn slow(out: &mut String, runs: &[SlowResult]) {
    if runs.is_empty() {
        return;
    }
    out.push_str("### One slow client\n\n");
    out.push_str("Each cell: without the slow client → with it.\n\n");
    out.push_str("| implementation | publish rate (events/s) | publish p99 | others' p50 | others' p99 | others' events lost | server memory growth, peak |\n");
    out.push_str("| --- | --- | --- | --- | --- | --- | --- |\n");
    for run in runs {
        let (a, b) = (&run.without, &run.with);
        if let Some(error) = a.error.as_ref().or(b.error.as_ref()) {
            let _ = writeln!(
                out,
                "| {} | failed: {error} | | | | | |",
                name(run.implementation)
            );
            continue;
        }
        let growth =
            |run: &FanoutResult| fmt_bytes(run.rss_peak.saturating_sub(run.rss_before) as f64);
        let _ = writeln!(
            out,
            "| {} | {:.0} → {:.0} | {} → {} | {} → {} | {} → {} | {} → {} | {} → {} |",
            name(run.implementation),
            a.publish_rate,
            b.publish_rate,
            fmt_us(a.publish_latency.p99_us),
            fmt_us(b.publish_latency.p99_us),
            fmt_us(a.latency.p50_us),
            fmt_us(b.latency.p50_us),
            fmt_us(a.latency.p99_us),
            fmt_us(b.latency.p99_us),
            a.lost,
            b.lost,
            growth(a),
            growth(b),
        );
    }
    out.push('\n');
}

pub(super) fn stalled(out: &mut String, runs: &[StalledResult]) {
    if runs.is_empty() {
        return;
    }
    out.push_str("### Clients that stop reading\n\n");
    out.push_str(
        "Released: stalled connections gone from the system's TCP table while publishing \
         went on (seconds from the first publish: first, median, last). Subscribers after: \
         the hub's count when publishing ended (1, the slow reader, once every stalled \
         subscription has ended). Ours run with a stall timeout; the peers have none.\n\n",
    );
    out.push_str(
        "| implementation | stall timeout | released | release time | subscribers after | \
         server memory: before → peak → end | server CPU per event | slow reader: read, cut |\n",
    );
    out.push_str("| --- | --- | --- | --- | --- | --- | --- | --- |\n");
    for run in runs {
        let kind = run.implementation.map_or_else(|| "?".to_owned(), name);
        if let Some(error) = &run.error {
            let _ = writeln!(out, "| {kind} | failed: {error} | | | | | | |");
            continue;
        }
        let at = |fraction: f64| {
            let index = ((run.release_s.len() as f64 - 1.0) * fraction).round() as usize;
            run.release_s
                .get(index)
                .map_or_else(|| "–".to_owned(), |s| format!("{s:.1}"))
        };
        let times = if run.release_s.is_empty() {
            format!("none in {:.0} s", run.publish_s)
        } else {
            format!("{}, {}, {} s", at(0.0), at(0.5), at(1.0))
        };
        let _ = writeln!(
            out,
            "| {kind} | {} | {} of {} | {times} | {} | {} → {} → {} | {} | {}, {} |",
            run.stall_timeout_s
                .map_or_else(|| "none".to_owned(), |s| format!("{s:.0} s")),
            run.released,
            run.stalled,
            run.subscribers_after
                .map_or_else(|| "–".to_owned(), |count| count.to_string()),
            fmt_bytes(run.rss_before as f64),
            fmt_bytes(run.rss_peak as f64),
            fmt_bytes(run.rss_after as f64),
            fmt_us(run.server_cpu_us_per_event),
            fmt_bytes(run.slow_reader_bytes as f64),
            if run.slow_reader_cut {
                "cut"
            } else {
                "not cut"
            },
        );
    }
    out.push('\n');
}

/// Ours in bold.
fn name(kind: Impl) -> String {
    if kind.is_ours() {
        format!("**{kind}**")
    } else {
        kind.to_string()
    }
}

/// `this / peer` as `1.23×`; `–` when either is missing.
fn fmt_ratio(this: Option<f64>, peer: Option<f64>) -> String {
    match (this, peer) {
        (Some(this), Some(peer)) if peer > 0.0 => format!("{:.2}×", this / peer),
        _ => "–".to_owned(),
    }
}

/// `1,234,567`.
fn fmt_count(value: f64) -> String {
    let digits = format!("{:.0}", value.abs());
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    if value < -0.5 {
        format!("-{grouped}")
    } else {
        grouped
    }
}

/// Events per second, in thousands or millions.
fn fmt_rate(value: f64) -> String {
    if value >= 1e6 {
        format!("{:.2} M", value / 1e6)
    } else {
        format!("{:.1} k", value / 1e3)
    }
}

/// Bytes, in B, KiB or MiB.
fn fmt_bytes(value: f64) -> String {
    let magnitude = value.abs();
    if magnitude >= 1024.0 * 1024.0 {
        format!("{:.1} MiB", value / (1024.0 * 1024.0))
    } else if magnitude >= 1024.0 {
        format!("{:.1} KiB", value / 1024.0)
    } else {
        format!("{value:.0} B")
    }
}

/// Microseconds, as µs or ms.
fn fmt_us(value: f64) -> String {
    if value >= 1000.0 {
        format!("{:.2} ms", value / 1000.0)
    } else {
        format!("{value:.0} µs")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(fmt_count(1_234_567.0), "1,234,567");
        assert_eq!(fmt_count(999.0), "999");
        assert_eq!(fmt_bytes(65_536.0), "64.0 KiB");
        assert_eq!(fmt_bytes(-100.0), "-100 B");
        assert_eq!(fmt_us(1500.0), "1.50 ms");
        assert_eq!(fmt_ratio(Some(2.0), Some(1.0)), "2.00×");
        assert_eq!(fmt_ratio(None, Some(1.0)), "–");
    }
}

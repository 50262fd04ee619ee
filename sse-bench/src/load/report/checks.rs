//! What makes a run fail: lost events, failed connections, subscribers
//! that never left. Never a timing.

use super::Results;

/// Every problem in `results`, one line each.
pub(super) fn problems(results: &Results) -> Vec<String> {
    let mut problems = Vec::new();
    for run in &results.throughput {
        if let Some(error) = &run.error {
            problems.push(format!(
                "throughput {} {} B: {error}",
                run.implementation, run.size
            ));
        }
    }
    for run in &results.fanout {
        fanout(&mut problems, "fan-out", run);
    }
    for run in &results.idle {
        if let Some(error) = &run.error {
            problems.push(format!(
                "idle {} {} × {}: {error}",
                run.implementation, run.path, run.connections
            ));
        }
    }
    for run in &results.churn {
        let name = run.implementation;
        if let Some(error) = &run.error {
            problems.push(format!("churn {name}: {error}"));
        }
        for (index, round) in run.rounds.iter().enumerate() {
            if round.failed > 0 {
                problems.push(format!(
                    "churn {name} round {}: {} connections failed",
                    index + 1,
                    round.failed
                ));
            }
            if round.subscribers_after != run.subscribers_before {
                problems.push(format!(
                    "churn {name} round {}: {:?} subscribers after, {:?} before",
                    index + 1,
                    round.subscribers_after,
                    run.subscribers_before
                ));
            }
        }
    }
    for run in &results.slow {
        fanout(&mut problems, "slow client (without)", &run.without);
        fanout(&mut problems, "slow client (with)", &run.with);
    }
    for run in &results.stalled {
        let name = run.implementation.map_or("?", |kind| kind.name());
        if let Some(error) = &run.error {
            problems.push(format!("stalled {name}: {error}"));
            continue;
        }
        // A stall timeout is ours to keep; the peers have none.
        if run.stall_timeout_s.is_some() {
            if run.released < run.stalled {
                problems.push(format!(
                    "stalled {name}: {} of {} stalled clients never released",
                    run.stalled - run.released,
                    run.stalled
                ));
            }
            // The kernel dropping the socket is not enough: the server's
            // subscription must be gone too (only the slow reader's stays).
            if let Some(count) = run.subscribers_after
                && count != 1
            {
                problems.push(format!(
                    "stalled {name}: {count} subscribers after publishing, not just the slow reader"
                ));
            }
            if run.slow_reader_cut {
                problems.push(format!("stalled {name}: the slow but live reader was cut"));
            }
        }
    }
    problems
}

fn fanout(problems: &mut Vec<String>, scenario: &str, run: &super::FanoutResult) {
    let name = run.implementation.map_or("?", |kind| kind.name());
    let step = format!("{scenario} {name} × {}", run.clients);
    if let Some(error) = &run.error {
        problems.push(format!("{step}: {error}"));
        return;
    }
    if run.lost > 0 {
        problems.push(format!("{step}: {} events lost", run.lost));
    }
    if run.repeated > 0 {
        problems.push(format!(
            "{step}: {} events repeated or out of order",
            run.repeated
        ));
    }
    if run.client_errors > 0 {
        problems.push(format!(
            "{step}: {} client streams failed",
            run.client_errors
        ));
    }
}

//! The figures of a run, as SVG: fan-out latency by percentile, and server
//! memory per idle connection.

use std::path::{Path, PathBuf};

use plotters::coord::CoordTranslate;
use plotters::prelude::*;

use super::Error;
use super::impls::Impl;
use super::report::Results;
use super::scenario::fanout::median_round;

const SIZE: (u32, u32) = (860, 480);

/// One colour per implementation, the same in every figure.
fn colour(kind: Impl) -> RGBColor {
    match kind {
        Impl::OursAxum => RGBColor(0xd6, 0x27, 0x28),
        Impl::OursActix => RGBColor(0xff, 0x7f, 0x0e),
        Impl::Axum => RGBColor(0x1f, 0x77, 0xb4),
        Impl::ActixWebLab => RGBColor(0x2c, 0xa0, 0x2c),
        Impl::RawHyper => RGBColor(0x7f, 0x7f, 0x7f),
    }
}

/// Writes every figure the results allow into `dir`; the files written.
///
/// # Errors
///
/// When a file cannot be written.
pub fn write_all(results: &Results, dir: &Path) -> Result<Vec<PathBuf>, Error> {
    std::fs::create_dir_all(dir)?;
    let mut written = Vec::new();
    let mut steps: Vec<usize> = results.fanout.iter().map(|run| run.clients).collect();
    steps.sort_unstable();
    steps.dedup();
    for clients in steps {
        let path = dir.join(format!("fanout-latency-{clients}.svg"));
        fanout_latency(results, clients, &path)?;
        written.push(path);
    }
    let mut steps: Vec<usize> = results
        .idle
        .iter()
        .filter(|run| run.skipped.is_none())
        .map(|run| run.connections)
        .collect();
    // In run order, implementation by implementation: sort before dedup.
    steps.sort_unstable();
    steps.dedup();
    for connections in steps {
        let path = dir.join(format!("idle-memory-{connections}.svg"));
        idle_memory(results, connections, &path)?;
        written.push(path);
    }
    Ok(written)
}

/// "Nines": 0.5 → 0.3, 0.9 → 1, 0.99 → 2, 0.999 → 3.
fn nines(fraction: f64) -> f64 {
    -(1.0 - fraction).max(1e-9).log10()
}

fn fanout_latency(results: &Results, clients: usize, path: &Path) -> Result<(), Error> {
    // Each implementation's median round.
    let runs: Vec<_> = results
        .implementations
        .iter()
        .filter_map(|&kind| {
            let rounds = results
                .fanout
                .iter()
                .filter(|run| run.clients == clients && run.implementation == Some(kind));
            Some((kind, median_round(rounds)?))
        })
        .collect();
    let top_ms = runs
        .iter()
        .map(|(_, run)| run.latency.max_us / 1000.0)
        .fold(0.1f64, f64::max);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let (events, rate) = runs
        .first()
        .map_or((0, 0.0), |(_, run)| (run.events, run.rate));
    let title = format!(
        "Fan-out to {clients} clients: publish-to-receive latency ({events} events at {rate}/s)"
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..3.05f64, 0.0..top_ms * 1.05)?;
    chart
        .configure_mesh()
        .x_desc("percentile")
        .y_desc("latency (ms)")
        .x_labels(7)
        .x_label_formatter(&|x| {
            let percent = 100.0 * (1.0 - 10f64.powf(-x));
            format!("{percent:.1}%")
        })
        .draw()?;
    for (kind, run) in runs {
        let points: Vec<(f64, f64)> = run
            .latency
            .cdf
            .iter()
            .map(|&(fraction, us)| (nines(fraction), us / 1000.0))
            .collect();
        let style = colour(kind).stroke_width(2);
        chart
            .draw_series(LineSeries::new(points, style))?
            .label(format!(
                "{kind}: p50 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
                run.latency.p50_us / 1000.0,
                run.latency.p99_us / 1000.0,
                run.latency.max_us / 1000.0
            ))
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 18, y)], style));
    }
    legend(&mut chart)?;
    root.present()?;
    Ok(())
}

fn idle_memory(results: &Results, connections: usize, path: &Path) -> Result<(), Error> {
    let kinds: Vec<Impl> = results
        .implementations
        .iter()
        .copied()
        .filter(|&kind| {
            results
                .idle
                .iter()
                .any(|run| run.implementation == kind && run.connections == connections)
        })
        .collect();
    let per_connection = |kind: Impl, path: &str| {
        results
            .idle
            .iter()
            .find(|run| {
                run.implementation == kind && run.connections == connections && run.path == path
            })
            .filter(|run| run.error.is_none() && run.skipped.is_none())
            .map(|run| run.bytes_per_connection.max(0.0) / 1024.0)
    };
    let top = kinds
        .iter()
        .flat_map(|&kind| {
            [
                per_connection(kind, "/events"),
                per_connection(kind, "/hold"),
            ]
        })
        .flatten()
        .fold(1.0f64, f64::max);
    let root = SVGBackend::new(path, SIZE).into_drawing_area();
    root.fill(&WHITE)?;
    let title = format!(
        "Server memory per idle connection, {connections} connections (RSS growth / connections)"
    );
    let mut chart = ChartBuilder::on(&root)
        .caption(title, ("sans-serif", 18))
        .margin(12)
        .x_label_area_size(40)
        .y_label_area_size(60)
        .build_cartesian_2d(0.0..kinds.len() as f64, 0.0..top * 1.25)?;
    let names: Vec<&'static str> = kinds.iter().map(|kind| kind.name()).collect();
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(kinds.len() * 2 + 1)
        .x_label_formatter(&|x| {
            let index = x.floor() as usize;
            let centred = (x - x.floor() - 0.5).abs() < 0.01;
            if centred {
                names.get(index).copied().unwrap_or("").to_owned()
            } else {
                String::new()
            }
        })
        .y_desc("KiB per connection")
        .draw()?;
    for (offset, path, label, shade) in [
        (0.12, "/hold", "HTTP server alone (/hold)", 0.45),
        (0.5, "/events", "SSE stream (/events)", 1.0),
    ] {
        let bars: Vec<_> = kinds
            .iter()
            .enumerate()
            .filter_map(|(index, &kind)| {
                let value = per_connection(kind, path)?;
                let x = index as f64 + offset;
                let colour = colour(kind).mix(shade);
                Some(Rectangle::new(
                    [(x, 0.0), (x + 0.36, value)],
                    colour.filled(),
                ))
            })
            .collect();
        let grey = BLACK.mix(shade * 0.6);
        chart
            .draw_series(bars)?
            .label(label)
            .legend(move |(x, y)| Rectangle::new([(x, y - 5), (x + 14, y + 5)], grey.filled()));
    }
    legend(&mut chart)?;
    root.present()?;
    Ok(())
}

fn legend<'a, DB: DrawingBackend + 'a, CT: CoordTranslate>(
    chart: &mut ChartContext<'a, DB, CT>,
) -> Result<(), Error>
where
    DB::ErrorType: 'static,
{
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|error| error.to_string())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::load::plan::Plan;
    use crate::load::scenario::idle::IdleResult;

    fn idle(implementation: Impl, connections: usize, path: &'static str) -> IdleResult {
        IdleResult {
            implementation,
            path,
            connections,
            rss_before: 0,
            rss_idle: 1 << 20,
            bytes_per_connection: 1024.0,
            cpu_percent: 0.0,
            window_s: 1.0,
            skipped: None,
            error: None,
        }
    }

    #[test]
    fn one_idle_figure_per_step() {
        let kinds = [Impl::OursAxum, Impl::Axum];
        let results = Results {
            plan: Plan::smoke(),
            machine: String::new(),
            date: String::new(),
            commit: String::new(),
            command: String::new(),
            implementations: kinds.to_vec(),
            load_average: (String::new(), String::new()),
            throughput: Vec::new(),
            fanout: Vec::new(),
            // As a run records them: each implementation's steps in turn.
            idle: kinds
                .into_iter()
                .flat_map(|kind| {
                    [10, 50]
                        .into_iter()
                        .flat_map(move |n| [idle(kind, n, "/events"), idle(kind, n, "/hold")])
                })
                .collect(),
            churn: Vec::new(),
            slow: Vec::new(),
            stalled: Vec::new(),
            problems: Vec::new(),
        };
        let dir = std::env::temp_dir().join(format!("sse-load-plot-{}", std::process::id()));
        let written = write_all(&results, &dir).expect("figures");
        let _ = std::fs::remove_dir_all(&dir);
        let names: Vec<_> = written
            .iter()
            .filter_map(|path| path.file_name()?.to_str())
            .collect();
        assert_eq!(names, ["idle-memory-10.svg", "idle-memory-50.svg"]);
    }
}

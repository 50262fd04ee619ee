//! `sse-load`: measures SSE servers over loopback, ours against the peers,
//! in one run. See `BENCHMARKS.md`, "End-to-end load (sse-load)".
//!
//! ```text
//! cargo run --release -p sse-bench --bin sse-load -- all                 # the full run
//! cargo run --release -p sse-bench --bin sse-load -- all --plots docs/bench
//! cargo run -p sse-bench --bin sse-load -- all --smoke                   # seconds
//! cargo run --release -p sse-bench --bin sse-load -- fanout --impl ours-axum,axum
//! ```
//!
//! Scenarios: `throughput`, `fanout`, `idle`, `churn`, `slow`, `stalled`, or
//! `all`.
//! Options: `--smoke` (tiny sizes), `--impl a,b` (default: all of
//! ours-axum, ours-actix, axum, actix-web-lab, raw-hyper), `--out DIR`
//! (default `target/sse-load`: results.json and results.md), `--plots DIR`
//! (SVG figures), `--stall-timeout-ms N` (the stalled scenario's timeout
//! for ours; 0 for none). Exits with 1 when an event was lost, a connection
//! failed or a subscriber stayed; never because of a timing.
//!
//! `sse-load serve --impl <name> [--keep-alive-ms N] [--workers N]` runs one
//! server (the driver starts these itself).

// A command-line tool: printing is its job.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use sse_bench::load::child::LISTENING;
use sse_bench::load::impls::Impl;
use sse_bench::load::plan::Plan;
use sse_bench::load::report::{Results, Scenario};
use sse_bench::load::{limits, plot, server};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("serve") => serve(&args[1..]),
        Some("-h" | "--help") | None => {
            println!("{}", usage());
            Ok(ExitCode::SUCCESS)
        }
        Some(_) => drive(&args),
    };
    result.unwrap_or_else(|error| {
        eprintln!("sse-load: {error}");
        ExitCode::from(2)
    })
}

fn usage() -> &'static str {
    "usage: sse-load <all|throughput|fanout|idle|churn|slow|stalled>[,...] [--smoke] [--impl a,b] [--stall-timeout-ms N] [--out DIR] [--plots DIR]\n       sse-load serve --impl <name> [--keep-alive-ms N] [--workers N] [--stall-timeout-ms N]"
}

/// The value after `flag`, if given.
fn option<'a>(args: &'a [String], flag: &str) -> Result<Option<&'a str>, String> {
    match args.iter().position(|arg| arg == flag) {
        None => Ok(None),
        Some(index) => args
            .get(index + 1)
            .map(|value| Some(value.as_str()))
            .ok_or_else(|| format!("{flag} needs a value")),
    }
}

fn serve(args: &[String]) -> Result<ExitCode, String> {
    let kind: Impl = option(args, "--impl")?
        .ok_or("serve needs --impl")?
        .parse()?;
    let number = |flag, default: u64| -> Result<u64, String> {
        option(args, flag)?.map_or(Ok(default), |value| {
            value.parse().map_err(|_| format!("{flag}: not a number"))
        })
    };
    let config = server::Config {
        keep_alive: Duration::from_millis(number("--keep-alive-ms", 15_000)?),
        workers: usize::try_from(number("--workers", 2)?).map_err(|error| error.to_string())?,
        stall_timeout: option(args, "--stall-timeout-ms")?
            .map(|value| value.parse().map(Duration::from_millis))
            .transpose()
            .map_err(|_| "--stall-timeout-ms: not a number")?,
    };
    // Every connection is a file descriptor: take all the system allows.
    if let Err(reason) = limits::raise_open_files_to_hard() {
        eprintln!("sse-load serve: {reason}");
    }
    // Exit when the driver goes away (its end of our stdin closes).
    std::thread::spawn(|| {
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        std::process::exit(0);
    });
    server::serve(kind, config, |address| {
        println!("{LISTENING}{address}");
        let _ = std::io::stdout().flush();
    })
    .map_err(|error| format!("{kind}: {error}"))?;
    Ok(ExitCode::SUCCESS)
}

fn drive(args: &[String]) -> Result<ExitCode, String> {
    let scenarios: Vec<Scenario> = match args[0].as_str() {
        "all" => Scenario::ALL.to_vec(),
        list => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
    };
    let mut plan = if args.iter().any(|arg| arg == "--smoke") {
        Plan::smoke()
    } else {
        Plan::full()
    };
    // The stalled scenario's timeout for ours; 0 keeps the stalled clients,
    // to measure what they cost while they stay.
    if let Some(millis) = option(args, "--stall-timeout-ms")? {
        let millis: u64 = millis
            .parse()
            .map_err(|_| "--stall-timeout-ms: not a number")?;
        plan.stalled.stall_timeout = Duration::from_millis(millis);
    }
    let implementations: Vec<Impl> = match option(args, "--impl")? {
        Some(list) => list.split(',').map(str::parse).collect::<Result<_, _>>()?,
        None => Impl::ALL.to_vec(),
    };
    let out = PathBuf::from(option(args, "--out")?.unwrap_or("target/sse-load"));
    let plots = option(args, "--plots")?.map(PathBuf::from);

    let files = limits::raise_open_files_to_hard()?;
    eprintln!("sse-load: {} plan, open-file limit {files}", plan.name);
    let start = Instant::now();
    let results = Results::run(plan, &implementations, &scenarios, |step| {
        eprintln!("[{:>6.1}s] {step}", start.elapsed().as_secs_f64());
    });

    std::fs::create_dir_all(&out).map_err(|error| format!("{}: {error}", out.display()))?;
    let json = serde_json::to_string_pretty(&results).map_err(|error| error.to_string())?;
    let markdown = results.markdown();
    for (name, text) in [("results.json", &json), ("results.md", &markdown)] {
        let path = out.join(name);
        std::fs::write(&path, text).map_err(|error| format!("{}: {error}", path.display()))?;
    }
    println!("{markdown}");
    eprintln!(
        "sse-load: results in {}, {:.0} s in all",
        out.display(),
        start.elapsed().as_secs_f64()
    );
    if let Some(dir) = plots {
        let written = plot::write_all(&results, &dir).map_err(|error| format!("plots: {error}"))?;
        for path in written {
            eprintln!("sse-load: wrote {}", path.display());
        }
    }
    Ok(if results.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

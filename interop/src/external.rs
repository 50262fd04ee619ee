//! The Node.js and Python clients: one process per run, one JSON report per
//! line on its standard output.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::OnceLock;

use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::Spec;
use crate::report::{Report, Reporter, Run, report};

fn clients_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("clients")
}

/// A run of `client.mjs` for the npm package `client`.
pub(crate) fn node(client: &str, spec: &Spec, name: &'static str) -> Result<Run, String> {
    static READY: OnceLock<Result<(), String>> = OnceLock::new();
    let dir = clients_dir().join("node");
    READY
        .get_or_init(|| {
            let installed = ["eventsource", "@microsoft/fetch-event-source", "eventsource-parser"]
                .iter()
                .all(|package| dir.join("node_modules").join(package).is_dir());
            if !installed {
                return Err("the npm packages are not installed (run `npm ci --prefix interop/clients/node`)".to_owned());
            }
            probe(std::process::Command::new("node").arg("--version"), "node")
        })
        .clone()?;
    let mut spec = serde_json::to_value(spec).expect("a spec is JSON");
    spec["client"] = client.into();
    let mut command = Command::new("node");
    command.arg(dir.join("client.mjs")).arg(spec.to_string());
    Ok(spawn(command, name))
}

/// A run of `httpx_sse_client.py` with the Python of `SSE_PYTHON`.
pub(crate) fn python(spec: &Spec, name: &'static str) -> Result<Run, String> {
    static READY: OnceLock<Result<String, String>> = OnceLock::new();
    let python = READY
        .get_or_init(|| {
            let python = std::env::var("SSE_PYTHON").map_err(|_| {
                "SSE_PYTHON is not set (a Python with interop/clients/python/requirements.txt installed)".to_owned()
            })?;
            probe(
                std::process::Command::new(&python).args(["-c", "import httpx_sse"]),
                "httpx_sse",
            )?;
            Ok(python)
        })
        .clone()?;
    let mut command = Command::new(python);
    command
        .arg(clients_dir().join("python").join("httpx_sse_client.py"))
        .arg(serde_json::to_string(spec).expect("a spec is JSON"));
    Ok(spawn(command, name))
}

/// Whether Node's `fetch` decodes `codec`: gzip and br always (Node 20 on);
/// zstd only where `node:zlib` has it (Node 22.15 / 23.8 and later).
pub(crate) fn node_decodes(codec: &str) -> Result<(), String> {
    if codec != "zstd" {
        return Ok(());
    }
    let has_zstd =
        "process.exit(typeof require('node:zlib').createZstdDecompress === 'function' ? 0 : 1)";
    probe(
        std::process::Command::new("node").args(["-e", has_zstd]),
        "node:zlib's zstd",
    )
    .map_err(|_| {
        let version = std::process::Command::new("node")
            .arg("--version")
            .output()
            .map(|output| String::from_utf8_lossy(&output.stdout).trim().to_owned())
            .unwrap_or_default();
        format!("Node {version}'s fetch does not decode zstd (Node 22.15 / 23.8 and later do)")
    })
}

/// Whether httpx in `SSE_PYTHON` decodes `codec`: gzip always, br with the
/// `brotli` package, zstd with `zstandard` (both in requirements.txt).
pub(crate) fn python_decodes(codec: &str) -> Result<(), String> {
    let module = match codec {
        "br" => "brotli",
        "zstd" => "zstandard",
        _ => return Ok(()),
    };
    let python = std::env::var("SSE_PYTHON").map_err(|_| "SSE_PYTHON is not set".to_owned())?;
    probe(
        std::process::Command::new(python).args(["-c", &format!("import httpx, {module}")]),
        module,
    )
    .map_err(|reason| {
        format!("{reason}: httpx decodes {codec} with {module} (interop/clients/python/requirements.txt)")
    })
}

/// Runs `command` once and says whether it succeeded.
fn probe(command: &mut std::process::Command, what: &str) -> Result<(), String> {
    match command.stdout(Stdio::null()).stderr(Stdio::null()).status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what} is not usable ({status})")),
        Err(error) => Err(format!("{what} cannot be run: {error}")),
    }
}

/// Starts `command`, whose standard output is a client's reports.
fn spawn(mut command: Command, name: &'static str) -> Run {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    Run::spawn(name, move |reporter| read_reports(command, reporter))
}

async fn read_reports(mut command: Command, reporter: Reporter) {
    let mut child = match command.spawn() {
        Ok(child) => child,
        Err(error) => {
            report(
                &reporter,
                Report::Error {
                    message: format!("cannot start: {error}"),
                },
            );
            report(&reporter, Report::Exited(None));
            return;
        }
    };
    let stdout = child.stdout.take().expect("piped");
    let mut lines = BufReader::new(stdout).lines();
    while let Ok(Some(line)) = lines.next_line().await {
        let parsed = serde_json::from_str::<Report>(&line).unwrap_or_else(|error| Report::Error {
            message: format!("unreadable report {line:?}: {error}"),
        });
        report(&reporter, parsed);
    }
    let code = child.wait().await.ok().and_then(|status| status.code());
    report(&reporter, Report::Exited(code));
}

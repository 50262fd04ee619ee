//! `curl --compressed -N`: the command-line client, whose output (headers
//! and the decompressed body, as `-i` prints them) sse-engine's decoder
//! reads. One connection: curl does not reconnect.

use std::process::Stdio;

use sse_engine::decode::Decoder;
use tokio::io::AsyncReadExt as _;
use tokio::process::Command;

use crate::Spec;
use crate::native::{report_events, run_with_limit};
use crate::report::{Report, Reporter, Run, report};

/// The codecs the installed curl decodes (`curl -V`'s features: `libz`,
/// `brotli`, `zstd`), as `Content-Encoding` names them.
pub(crate) fn codecs() -> Result<Vec<&'static str>, String> {
    let output = std::process::Command::new("curl")
        .arg("-V")
        .output()
        .map_err(|error| format!("curl cannot be run: {error}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let features: Vec<&str> = text
        .lines()
        .find_map(|line| line.strip_prefix("Features:"))
        .unwrap_or_default()
        .split_whitespace()
        .collect();
    Ok([("libz", "gzip"), ("brotli", "br"), ("zstd", "zstd")]
        .into_iter()
        .filter(|(feature, _)| features.contains(feature))
        .map(|(_, codec)| codec)
        .collect())
}

/// A run of `curl --compressed -N -i` on the spec (its headers replace
/// curl's own `Accept-Encoding`; curl decodes whatever it supports).
pub(crate) fn curl(spec: &Spec, name: &'static str) -> Result<Run, String> {
    codecs()?;
    Ok(run_with_limit(spec, name, |spec, reporter| async move {
        curl_client(&spec, &reporter).await
    }))
}

async fn curl_client(spec: &Spec, reporter: &Reporter) -> Result<(), String> {
    let mut command = Command::new("curl");
    command.args([
        "--silent",
        "--show-error",
        "--no-buffer",
        "--include",
        "--compressed",
        "--request",
        &spec.method,
    ]);
    for (name, value) in &spec.headers {
        command.arg("--header").arg(format!("{name}: {value}"));
    }
    if let Some(body) = &spec.body {
        command.arg("--data-binary").arg(body);
    }
    let mut child = command
        .arg(&spec.url)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .map_err(|error| format!("cannot start curl: {error}"))?;
    let mut stdout = child.stdout.take().expect("piped");
    let mut head = Vec::new();
    let mut decoder: Option<Decoder> = None;
    let mut chunk = vec![0; 16 * 1024];
    loop {
        let read = stdout
            .read(&mut chunk)
            .await
            .map_err(|error| format!("reading curl's output: {error}"))?;
        if read == 0 {
            let status = child.wait().await.map_err(|error| error.to_string())?;
            return match (&spec.until, decoder) {
                (None, Some(_)) if status.success() => Ok(()),
                _ => Err(format!("curl ended ({status}) before the last event")),
            };
        }
        let mut body = &chunk[..read];
        if decoder.is_none() {
            head.extend_from_slice(body);
            let Some(end) = head.windows(4).position(|w| w == b"\r\n\r\n") else {
                continue;
            };
            open(&head[..end], reporter)?;
            // What follows the head came in this read.
            let rest = head.len() - (end + 4);
            body = &chunk[read - rest..read];
            decoder = Some(Decoder::new());
        }
        let decoder = decoder.as_mut().expect("made above");
        decoder.push(body).map_err(|error| error.to_string())?;
        if report_events(decoder, spec, reporter) {
            return Ok(());
        }
    }
}

/// The response's head: its status must be 200; reports its encoding.
fn open(head: &[u8], reporter: &Reporter) -> Result<(), String> {
    let head = String::from_utf8_lossy(head);
    let mut lines = head.split("\r\n");
    let status = lines.next().unwrap_or_default();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("curl: {status}"));
    }
    let name = lines.find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("content-encoding")
            .then(|| value.trim().to_owned())
    });
    report(reporter, Report::Encoding { name });
    report(reporter, Report::Open);
    Ok(())
}

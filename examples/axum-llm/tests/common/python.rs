//! The official Python SDKs, run by the interpreter named in `SSE_PYTHON`
//! (a virtual environment made by `tests/python/setup-venv.sh`).
//!
//! Without it, or without the packages, a test says it was skipped and
//! passes, unless `SSE_REQUIRE_PYTHON_SDKS=1` (CI sets it): then it fails.

use std::path::PathBuf;

use serde_json::Value;

use super::WAIT;

/// Which SDK a script drives.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Sdk {
    OpenAi,
    Anthropic,
}

/// An interpreter that has both SDKs.
#[derive(Debug, Clone)]
pub(crate) struct Python(PathBuf);

impl Python {
    /// The interpreter, or `None` after saying why `test` is skipped.
    ///
    /// # Panics
    ///
    /// When it cannot be used and `SSE_REQUIRE_PYTHON_SDKS=1`.
    pub(crate) fn or_skip(test: &str) -> Option<Self> {
        match Self::find() {
            Ok(python) => Some(python),
            Err(reason) => {
                sse_interop::skip_or_fail(
                    test,
                    &reason,
                    "SSE_REQUIRE_PYTHON_SDKS",
                    "create a virtual environment with \
                     examples/axum-llm/tests/python/setup-venv.sh <dir> and set \
                     SSE_PYTHON=<dir>/bin/python",
                );
                None
            }
        }
    }

    fn find() -> Result<Self, String> {
        let Some(python) = std::env::var_os("SSE_PYTHON") else {
            return Err("SSE_PYTHON is not set".to_owned());
        };
        let python = PathBuf::from(python);
        let check = std::process::Command::new(&python)
            .args(["-c", "import anthropic, openai"])
            .output()
            .map_err(|error| format!("SSE_PYTHON={} cannot run: {error}", python.display()))?;
        if !check.status.success() {
            return Err(format!(
                "SSE_PYTHON={} lacks the openai or anthropic package: {}",
                python.display(),
                String::from_utf8_lossy(&check.stderr)
                    .lines()
                    .last()
                    .unwrap_or_default()
            ));
        }
        Ok(Self(python))
    }

    /// Runs the SDK's script against the server at `base`: each scenario
    /// (a function of the script) with its request fields, in one process
    /// (importing an SDK takes a second or two). What each printed. Fails
    /// the test when the script fails (an SDK that raised where an answer
    /// was expected).
    pub(crate) async fn run(&self, sdk: Sdk, base: &str, runs: &[(&str, &Value)]) -> Vec<Value> {
        let (script, base_url) = match sdk {
            // OpenAI's base URL includes the version; Anthropic's SDK adds it.
            Sdk::OpenAi => ("openai_client.py", format!("{base}/v1")),
            Sdk::Anthropic => ("anthropic_client.py", base.to_owned()),
        };
        let script = format!("{}/tests/python/{script}", env!("CARGO_MANIFEST_DIR"));
        let runs = Value::from(
            runs.iter()
                .map(|(scenario, request)| {
                    Value::from(vec![Value::from(*scenario), (*request).clone()])
                })
                .collect::<Vec<_>>(),
        );
        let output = tokio::process::Command::new(&self.0)
            // -B: no __pycache__ in the source tree.
            .args(["-B", &script])
            .args([base_url.as_str(), &runs.to_string()])
            .kill_on_drop(true)
            .output();
        let output = tokio::time::timeout(WAIT * 3, output)
            .await
            .unwrap_or_else(|_| panic!("{script} {runs} did not finish"))
            .expect("python runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(
            output.status.success(),
            "{script} {runs} failed:\n{stdout}\n{stderr}"
        );
        serde_json::from_str(&stdout)
            .unwrap_or_else(|error| panic!("{script} printed no JSON list ({error}):\n{stdout}"))
    }
}

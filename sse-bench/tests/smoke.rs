//! The load tool end to end at smoke size: every scenario against every
//! implementation, over loopback. It fails when an implementation cannot be
//! connected to, loses or repeats an event, or keeps a subscriber after its
//! client left. It never looks at a timing.

use std::process::Command;

use serde_json::Value;

#[test]
fn every_scenario_against_every_implementation() {
    let out = std::env::temp_dir().join(format!("sse-load-smoke-{}", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_sse-load"))
        .args(["all", "--smoke", "--out"])
        .arg(&out)
        .arg("--plots")
        .arg(out.join("plots"))
        .output()
        .expect("run sse-load");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "sse-load failed ({}):\n{stdout}\n{stderr}",
        output.status
    );

    let json = std::fs::read_to_string(out.join("results.json")).expect("results.json");
    let results: Value = serde_json::from_str(&json).expect("JSON");
    assert_eq!(results["problems"], Value::Array(Vec::new()));
    let count = |scenario: &str, name: &str| {
        results[scenario]
            .as_array()
            .expect("a list of results")
            .iter()
            .filter(|run| run["implementation"] == name)
            .count()
    };
    for name in ["ours-axum", "ours-actix", "axum", "actix-web-lab"] {
        assert_eq!(count("throughput", name), 2, "{name}");
        assert_eq!(count("fanout", name), 1, "{name}");
        assert_eq!(count("idle", name), 2, "{name}: /events and /hold");
        assert_eq!(count("churn", name), 1, "{name}");
        assert_eq!(count("slow", name), 1, "{name}");
    }
    assert_eq!(count("throughput", "raw-hyper"), 2);
    // Every publishing implementation counts its subscribers: a churn that
    // read no count could not have seen one stay.
    for run in results["churn"].as_array().expect("churn") {
        assert_eq!(run["subscribers_before"], 0, "{run}");
        for round in run["rounds"].as_array().expect("rounds") {
            assert_eq!(round["subscribers_after"], 0, "{run}");
        }
    }
    for run in results["fanout"].as_array().expect("fan-out") {
        assert_eq!(run["lost"], 0, "{run}");
        assert!(run["latency"]["count"].as_u64() > Some(0), "{run}");
    }
    for figure in ["fanout-latency-20.svg", "idle-memory-20.svg"] {
        let svg = std::fs::read_to_string(out.join("plots").join(figure)).expect(figure);
        assert!(svg.contains("ours-axum"), "{figure}");
    }
    let _ = std::fs::remove_dir_all(&out);
}

//! The harness run for real, briefly: complete flows against an in-process server, and a
//! pending-mode smoke through the binary (whose server is a child process). No timing is
//! asserted: only that every flow and every wait completed and the results were written.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_bench::Args;
use clap::Parser as _;
use serde_json::Value;

fn read_json(path: &std::path::Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_complete_without_errors_and_results_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let args = Args::parse_from([
        "assent-bench",
        "--in-process",
        "--quiet",
        "--users",
        "8",
        "--conc",
        "1,4",
        "--duration",
        "1",
        "--warmup",
        "0.3",
    ]);
    let report = assent_bench::run(args).await.unwrap();
    let (json, svg) = report.write(dir.path(), "flows").unwrap();

    let v = read_json(&json);
    assert!(v["machine"]["cores"].as_u64().unwrap() >= 1);
    assert!(v["machine"]["memory_mib"].as_u64().unwrap() > 0);
    for key in ["p256_sign_us", "p256_verify_us", "server_p256_ms_per_flow"] {
        assert!(v["calibration"][key].as_f64().unwrap() > 0.0, "{key}");
    }
    assert_eq!(v["server"]["mode"], "in-process");
    assert_eq!(v["setup"]["users"], 8);
    let levels = v["levels"].as_array().unwrap();
    assert_eq!(levels.len(), 2);
    for (level, concurrency) in levels.iter().zip([1, 4]) {
        assert_eq!(level["concurrency"], concurrency);
        assert!(level["flows"].as_u64().unwrap() > 0, "{level}");
        assert_eq!(level["errors"], serde_json::json!({}), "{level}");
        for part in ["create", "notify", "answer_to_result", "flow"] {
            let latency = &level["latency"][part];
            assert_eq!(latency["count"], level["flows"], "{part}");
            for key in ["p50_ms", "p95_ms", "p99_ms", "max_ms"] {
                assert!(latency[key].is_number(), "{part}.{key}");
            }
        }
        assert!(level["flows_per_s"].as_f64().unwrap() > 0.0);
        assert!(level["cpu"]["server_cores"].is_number());
        // The server's CPU is the bench's own here: the load generator's share is unknown.
        assert!(level["bench_cpu_ms_per_flow"].is_null(), "{level}");
        assert!(level["cpu_bound_flows_per_s"].is_null(), "{level}");
        assert!(level["server_bound_flows_per_s"].is_null(), "{level}");
        assert!(level["server_peak_rss_mib"].is_number());
    }
    let chart = std::fs::read_to_string(svg).unwrap();
    assert!(chart.starts_with("<svg") && chart.contains("c=4"));
}

#[test]
fn every_pending_request_completes() {
    let dir = tempfile::tempdir().unwrap();
    let status = std::process::Command::new(env!("CARGO_BIN_EXE_assent-bench"))
        .args(["--pending", "200", "--quiet", "--name", "pending"])
        .arg("--results")
        .arg(dir.path())
        .status()
        .unwrap();
    assert!(status.success());
    let v = read_json(&dir.path().join("pending.json"));
    let pending = &v["pending"];
    assert_eq!(v["server"]["mode"], "child");
    assert_eq!(pending["created"], 200);
    assert_eq!(pending["completed"], 200);
    assert_eq!(pending["errors"], serde_json::json!({}));
    assert!(pending["server_rss_holding_mib"].is_number());
    assert!(pending["server_bytes_per_pending"].is_number());
    assert!(dir.path().join("pending.svg").exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn flows_complete_on_postgres() {
    assent_testkit::postgres::with_postgres(|url| async move {
        let dir = tempfile::tempdir().unwrap();
        let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_assent-bench"))
            .args(["--database", &url, "--quiet", "--users", "8", "--conc", "4"])
            .args(["--duration", "1", "--warmup", "0.3", "--name", "pg"])
            .arg("--results")
            .arg(dir.path())
            .output()
            .await
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{stderr}");
        let v = read_json(&dir.path().join("pg.json"));
        assert_eq!(v["server"]["mode"], "child");
        assert!(
            v["server"]["database"]
                .as_str()
                .unwrap()
                .starts_with("PostgreSQL"),
            "{}",
            v["server"]
        );
        let level = &v["levels"][0];
        assert!(level["flows"].as_u64().unwrap() > 0, "{level}");
        assert_eq!(level["errors"], serde_json::json!({}), "{level}");
        // The server is measured apart from the load generator, but PostgreSQL's own
        // processes are not the server's: no bound is claimed.
        assert!(level["server_cpu_ms_per_flow"].as_f64().unwrap() > 0.0);
        assert!(level["bench_cpu_ms_per_flow"].as_f64().unwrap() > 0.0);
        assert!(level["cpu_bound_flows_per_s"].is_null(), "{level}");
        assert!(level["server_bound_flows_per_s"].is_null(), "{level}");
    })
    .await;
}

#[test]
fn a_child_server_on_sqlite_is_measured_apart_from_the_load_generator() {
    let dir = tempfile::tempdir().unwrap();
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_assent-bench"))
        .args(["--quiet", "--users", "8", "--conc", "4", "--duration", "1"])
        .args(["--warmup", "0.3", "--name", "child", "--results"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let v = read_json(&dir.path().join("child.json"));
    assert_eq!(v["server"]["mode"], "child");
    let level = &v["levels"][0];
    assert!(level["flows"].as_u64().unwrap() > 0, "{level}");
    let server = level["server_cpu_ms_per_flow"].as_f64().unwrap();
    let bench = level["bench_cpu_ms_per_flow"].as_f64().unwrap();
    let bound = level["cpu_bound_flows_per_s"].as_f64().unwrap();
    let cores = v["machine"]["cores"].as_f64().unwrap();
    assert!(
        (bound - cores * 1000.0 / (server + bench)).abs() < 1.0,
        "{level}"
    );
    let server_bound = level["server_bound_flows_per_s"].as_f64().unwrap();
    assert!(
        (server_bound - cores * 1000.0 / server).abs() < 1.0,
        "{level}"
    );
    assert!(
        server_bound > bound,
        "the load generator's share is left out"
    );
}

#[test]
fn a_database_that_is_not_sqlite_or_postgres_is_refused() {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_assent-bench"))
        .args(["--database", "mysql://localhost/assent", "--quiet"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("not a SQLite path"), "{stderr}");
}

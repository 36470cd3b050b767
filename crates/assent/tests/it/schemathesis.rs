//! The OpenAPI description against the server it describes: schemathesis (an independent
//! property-based tester, installed in .venv from tests/interop/requirements.txt) generates
//! requests from /openapi.json, valid and invalid, and checks every answer against it (status
//! codes, media types, schemas, headers; valid data accepted, invalid data refused; no 5xx).
//! Once with an application's API key and once with the admin key, with a fixed seed and a
//! bounded number of examples per operation. The settings and the reason for each of them are
//! in tests/interop/schemathesis.toml.

use crate::support::{python, repo_root};
use assent_testkit::TestServer;

/// The schemathesis command installed beside the test peers' Python.
fn schemathesis() -> std::path::PathBuf {
    let python = python();
    let bin = python
        .parent()
        .expect("the interpreter is in a folder")
        .join("schemathesis");
    assert!(
        bin.exists(),
        "{} is missing: install tests/interop/requirements.txt into the test peers' .venv",
        bin.display()
    );
    bin
}

/// schemathesis's summary: the count of test cases (the line after `Test cases:`) and the last
/// line of its report, between rules of `=`.
fn summary_line(report: &str) -> String {
    let lines: Vec<&str> = report.lines().map(str::trim).collect();
    let cases = lines
        .iter()
        .position(|l| *l == "Test cases:")
        .and_then(|i| lines.get(i + 1))
        .copied()
        .unwrap_or_default();
    let last = lines
        .iter()
        .rev()
        .map(|l| l.trim_matches('=').trim())
        .find(|l| !l.is_empty())
        .unwrap_or_default();
    format!("{cases}; {last}")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schemathesis_finds_no_disagreement_between_openapi_and_the_server() {
    let server = TestServer::spawn().await;
    let app = server.app("schemathesis").await;
    // Something to find: a user with an enrolled device, whose requests and devices exist.
    server.user_with_device("alice").await;
    let config = repo_root().join("tests/interop/schemathesis.toml");
    // schemathesis keeps a cache of examples in its working directory: the test's scratch one,
    // not the repository.
    let work_dir = server.scratch("schemathesis");
    std::fs::create_dir_all(&work_dir).unwrap();
    let report_dir = work_dir.join("report");
    for (who, key) in [("application", &app.api_key), ("admin", &server.admin_key)] {
        // With the admin key, the resources created (applications, users, groups) have parts
        // that rightly do not exist yet: a new application has no webhook, a new user no TOTP.
        // The stateful phase links each creation to those parts and its resource check takes
        // no operation's setting (tests/interop/schemathesis.toml), so that run leaves the
        // check out; the application key's run, whose creations are requests, keeps it.
        let excluded: &[&str] = if who == "admin" {
            &["--exclude-checks", "ensure_resource_availability"]
        } else {
            &[]
        };
        let output = tokio::process::Command::new(schemathesis())
            .current_dir(&work_dir)
            .arg("--config-file")
            .arg(&config)
            .args(["run", &format!("{}/openapi.json", server.base)])
            .args([
                "--checks",
                "all",
                "--seed",
                "20261204",
                "--max-examples",
                "8",
            ])
            // One worker: with two, hypothesis parses its strategies' sources in two threads
            // at once, and Python 3.11's `ast` module can then fail with "AST constructor
            // recursion depth mismatch" (its recursion counter is not thread-safe), an error of
            // the tool, not of Assent.
            .args(["--workers", "1", "--no-color", "--output-truncate", "true"])
            .args(excluded)
            .arg("--header")
            .arg(format!("Authorization: Bearer {key}"))
            .arg("--report-dir")
            .arg(&report_dir)
            .output()
            .await
            .expect("schemathesis runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let stderr = String::from_utf8_lossy(&output.stderr);
        eprintln!("schemathesis with the {who} key: {}", summary_line(&stdout));
        assert!(
            output.status.success(),
            "schemathesis with the {who} key found disagreements:\n{stdout}\n{stderr}"
        );
    }
    server.stop().await;
}

//! Helpers shared by the integration tests.

use std::path::PathBuf;
use std::process::Command;

/// The `assent` binary built for these tests.
pub fn assent_bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_assent"))
}

/// Root of the repository.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python interpreter with the test peers (PyJWT, cryptography), set up by scripts/test.sh.
/// A missing interpreter fails the test: an interop check that silently does not run is no check.
pub fn python() -> PathBuf {
    if let Ok(path) = std::env::var("ASSENT_TEST_PYTHON") {
        return PathBuf::from(path);
    }
    let venv = repo_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python test peers: run ./scripts/test.sh (it creates .venv with PyJWT), or set ASSENT_TEST_PYTHON"
    );
    venv
}

/// Runs a command and returns (exit code, stdout, stderr).
pub fn run(mut command: Command) -> (i32, String, String) {
    let output = command.output().expect("the command runs");
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// Every audit row of a test server as (kind, data), in order.
pub fn audit_rows(server: &assent_testkit::TestServer) -> Vec<(String, String)> {
    let db = rusqlite::Connection::open(server.db_path()).expect("the database opens");
    let mut statement = db
        .prepare("SELECT kind, data FROM audit ORDER BY seq")
        .expect("the query prepares");
    statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("the query runs")
        .map(Result::unwrap)
        .collect()
}

/// The data of every audit row of one kind, in order.
pub fn audit_data(server: &assent_testkit::TestServer, kind: &str) -> Vec<String> {
    audit_rows(server)
        .into_iter()
        .filter(|(k, _)| k == kind)
        .map(|(_, d)| d)
        .collect()
}

/// The problem code of a call that must be refused.
pub fn code_of<T: std::fmt::Debug>(
    result: Result<T, assent_client::ClientError>,
) -> assent_proto::ProblemCode {
    result
        .expect_err("the call must be refused")
        .problem_code()
        .expect("a problem document with a known code")
}

/// A port free at the moment of asking, for a server started as its own process.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `assent serve` on `port` with `data` and the extra environment `env`, and returns
/// once it is ready (killed, and the test failed, if it never is).
pub async fn start_serve(
    data: &std::path::Path,
    port: u16,
    env: &[(&str, &str)],
) -> std::process::Child {
    start_serve_logging(data, port, env, std::process::Stdio::null()).await
}

/// [`start_serve`], with the server's log (its standard error) going to `log`.
pub async fn start_serve_logging(
    data: &std::path::Path,
    port: u16,
    env: &[(&str, &str)],
    log: std::process::Stdio,
) -> std::process::Child {
    let mut child = assent_bin()
        .args(["serve", "--listen", &format!("127.0.0.1:{port}"), "--data"])
        .arg(data)
        .env("ASSENT_LOG__LEVEL", "warn")
        .envs(env.iter().copied())
        .stdout(std::process::Stdio::null())
        .stderr(log)
        .spawn()
        .unwrap();
    let url = format!("http://127.0.0.1:{port}/health/ready");
    // reqwest is built without a default TLS provider; this test may run before any other
    // code of the process installed one.
    let _ = rustls::crypto::ring::default_provider().install_default();
    for _ in 0..200 {
        if reqwest::get(&url)
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return child;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let _ = child.kill();
    let _ = child.wait();
    panic!("the server did not become ready");
}

/// Every byte of the SQLite database at `db`, its WAL and shared-memory files: what a secret at
/// rest must not be found in.
pub fn database_bytes(db: &std::path::Path) -> Vec<u8> {
    let mut bytes = Vec::new();
    for suffix in ["", "-wal", "-shm"] {
        if let Ok(b) = std::fs::read(format!("{}{suffix}", db.display())) {
            bytes.extend(b);
        }
    }
    bytes
}

//! The memory of recovery-code hashing: 50 sets generated at once, then 50 codes checked at once,
//! against the real `assent serve` process, whose resident memory is read from /proc. Argon2id
//! needs 19 MiB per hash; the figures show whether that memory is bounded and stays bounded.

use crate::support::{free_port, start_serve};
use assent_client::{AdminClient, RpClient};
use futures_util::future::join_all;

const USERS: usize = 50;

/// A `kB` field of /proc/PID/status (`VmRSS`: resident now; `VmHWM`: the peak so far), in MiB.
fn status_mib(pid: u32, field: &str) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{field}:")))
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"));
    let kib: f64 = line
        .split_whitespace()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap();
    kib / 1024.0
}

#[tokio::test]
async fn fifty_parallel_recovery_code_requests_leave_the_memory_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // Sets of 3 codes keep a debug build's 300 hashes within the client's timeout; each hash
    // still takes its full 19 MiB. The queue needs longer than the default response deadline.
    let env = [
        ("ASSENT_HTTP__REQUEST_TIMEOUT_SECS", "600"),
        ("ASSENT_FACTORS__RECOVERY_CODES", "3"),
    ];
    let mut server = start_serve(&data, port, &env).await;
    let pid = server.id();

    let admin_key = assent_server::data_dir::read_admin_key(&data).unwrap();
    let admin = AdminClient::new(&base, &admin_key).unwrap();
    let app = admin.create_app("Acme").await.unwrap();
    let rp = RpClient::new(&base, &app.api_key).unwrap();
    let users: Vec<String> = (0..USERS).map(|i| format!("user{i}")).collect();
    for user in &users {
        admin.create_user(user).await.unwrap();
    }
    let before = status_mib(pid, "VmRSS");

    // 50 sets of 3 codes at once: 150 Argon2id hashes.
    let sets = join_all(users.iter().map(|u| admin.recovery_codes(u))).await;
    let sets: Vec<Vec<String>> = sets.into_iter().map(|s| s.unwrap().codes).collect();
    let after_generation = status_mib(pid, "VmRSS");

    // 50 checks at once, each of the last code of its set: every stored hash is tried.
    let checks = join_all(
        users
            .iter()
            .zip(&sets)
            .map(|(u, codes)| rp.verify_recovery_code(u, codes.last().unwrap())),
    )
    .await;
    for check in checks {
        assert_eq!(check.unwrap().remaining, Some(2));
    }
    let after_checks = status_mib(pid, "VmRSS");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    let settled = status_mib(pid, "VmRSS");
    let peak = status_mib(pid, "VmHWM");
    eprintln!(
        "recovery-code hashing memory (MiB): before {before:.1}, after 50 generations \
         {after_generation:.1}, after 50 checks {after_checks:.1}, settled {settled:.1}, \
         peak {peak:.1}"
    );
    // Far above the expected growth (a few 19 MiB blocks) and far below what unbounded
    // hashing kept (hundreds of MiB): a regression shows, noise does not.
    assert!(
        settled - before < 160.0,
        "settled {settled:.1} MiB against {before:.1} MiB before"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

//! PostgreSQL stops in the middle of the load under two Assent nodes, then comes back: while it
//! is down every request fails with `503 unavailable` (a problem document) and readiness says
//! so; once it is back, requests succeed again, a wait opened before the outage is answered by
//! the other node, and wake-ups cross between the nodes both ways, without restarting Assent.
//!
//! The test runs its own throwaway cluster (`initdb` in a temporary directory, on a free port),
//! since it stops the server.

use crate::node_death::{Node, enrolled, label, verify_offline};
use crate::support::free_port;
use assent_client::{DeviceClient, RpClient};
use assent_proto::api::{ApprovalState, ApprovalStatus};
use assent_proto::statement::Decision;
use assent_testkit::login;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A PostgreSQL cluster of its own, stopped and deleted on drop.
struct PrivatePostgres {
    dir: tempfile::TempDir,
    bin: PathBuf,
    port: u16,
    /// initdb refuses to run as root: then the server runs as the `postgres` user.
    as_postgres: bool,
}

impl PrivatePostgres {
    fn start() -> Self {
        let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
            .expect("PostgreSQL's binaries in /usr/lib/postgresql (Debian's postgresql package)")
            .map(|e| e.unwrap().path().join("bin"))
            .filter(|bin| bin.join("initdb").exists())
            .collect();
        bins.sort();
        let bin = bins.pop().expect("an initdb in /usr/lib/postgresql/*/bin");
        let uid = Command::new("id").arg("-u").output().unwrap().stdout;
        let as_postgres = String::from_utf8_lossy(&uid).trim() == "0";
        let dir = tempfile::tempdir().unwrap();
        if as_postgres {
            let status = Command::new("chown")
                .arg("postgres:")
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(status.success());
        }
        let cluster = PrivatePostgres {
            dir,
            bin,
            port: free_port(),
            as_postgres,
        };
        let data = cluster.dir.path().join("data");
        cluster.run("initdb", |c| {
            c.arg("-D")
                .arg(&data)
                .args(["-U", "postgres", "-A", "trust"]);
        });
        cluster.start_server();
        cluster
    }

    fn run(&self, program: &str, args: impl FnOnce(&mut Command)) {
        let path = self.bin.join(program);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        args(&mut command);
        let out = command.output().unwrap();
        assert!(
            out.status.success(),
            "{program}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn start_server(&self) {
        let dir = self.dir.path();
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            dir.display()
        );
        self.run("pg_ctl", |c| {
            c.arg("-D").arg(dir.join("data")).arg("-l");
            c.arg(dir.join("server.log"))
                .args(["-w", "-o", &options, "start"]);
        });
    }

    /// A fast shutdown: PostgreSQL ends every session at once, as on a restart.
    fn stop_server(&self) {
        let data = self.dir.path().join("data");
        self.run("pg_ctl", |c| {
            c.arg("-D").arg(&data).args(["-m", "fast", "-w", "stop"]);
        });
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let path = self.bin.join("pg_ctl");
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        let _ = command
            .arg("-D")
            .arg(&data)
            .args(["-m", "immediate", "stop"])
            .output();
    }
}

const BEFORE: u8 = 0;
const OUTAGE: u8 = 1;
const AFTER: u8 = 2;
const PHASES: [&str; 3] = ["before", "outage", "after"];

#[derive(Default)]
struct Tally {
    phase: AtomicU8,
    created: AtomicUsize,
    decided: AtomicUsize,
    /// Failed steps per phase and label.
    errors: Mutex<BTreeMap<(u8, String), usize>>,
}

impl Tally {
    fn phase(&self) -> u8 {
        self.phase.load(Ordering::SeqCst)
    }

    fn errors_in(&self, phase: u8) -> usize {
        let errors = self.errors.lock().unwrap();
        errors
            .iter()
            .filter(|((p, _), _)| *p == phase)
            .map(|(_, n)| n)
            .sum()
    }
}

/// One round: create on `rp`'s node, answer through the device's, read back on the first.
async fn round(
    user: &str,
    device: &DeviceClient,
    rp: &RpClient,
    tally: &Tally,
) -> Result<(), String> {
    let phase = tally.phase();
    let fail = |step: &str, e: assent_client::ClientError| {
        let key = (phase, format!("{step}: {}", label(&e)));
        *tally.errors.lock().unwrap().entry(key).or_default() += 1;
        label(&e)
    };
    let created = rp
        .create_approval(&login(user))
        .await
        .map_err(|e| fail("create", e))?;
    tally.created.fetch_add(1, Ordering::Relaxed);
    let code = created.display_code.as_deref();
    device
        .decide(&created.id, Decision::Approve, code)
        .await
        .map_err(|e| fail("answer", e))?;
    let status = rp
        .approval(&created.id, None)
        .await
        .map_err(|e| fail("read", e))?;
    assert_eq!(status.state, ApprovalState::Approved);
    tally.decided.fetch_add(1, Ordering::Relaxed);
    Ok(())
}

/// Rounds until PostgreSQL is back and three rounds started after that succeeded.
async fn worker(user: String, device: DeviceClient, rp: RpClient, tally: Arc<Tally>) {
    let mut after = 0;
    // Bounded, so a node that never recovers fails the test instead of hanging it.
    for _ in 0..500 {
        let phase = tally.phase();
        match round(&user, &device, &rp, &tally).await {
            Ok(()) if phase == AFTER => after += 1,
            Ok(()) => {}
            // Seen it: pace the rounds until PostgreSQL comes back.
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
        if after >= 3 {
            return;
        }
    }
    panic!("{user}: no recovery ({after} rounds succeeded after the restart)");
}

/// Waits on `waiter` for `id`, retrying once on the same node if the wait itself failed (the
/// database may be down when the wait reads).
async fn wait_for(waiter: RpClient, id: String, retried: Arc<AtomicUsize>) -> ApprovalStatus {
    for _ in 0..10 {
        match waiter.approval(&id, Some(240)).await {
            Ok(status) => return status,
            Err(e) => {
                assert_eq!(label(&e), "503 unavailable", "{e}");
                retried.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(500)).await;
            }
        }
    }
    panic!("the wait for {id} never answered");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_restart_gives_503_then_recovers_without_restarting_assent() {
    let pg = PrivatePostgres::start();
    let url = pg.url();
    let a = Node::start(&url, None).await;
    let b = Node::start(&url, Some(&a)).await;
    let (admin_a, admin_b) = (a.admin(), b.admin());
    let app = admin_a.create_app("Acme").await.unwrap();
    let rp_a = RpClient::new(&a.base, &app.api_key).unwrap();
    let rp_b = RpClient::new(&b.base, &app.api_key).unwrap();
    // carol's device talks to node A, dave's to node B.
    let carol = enrolled(&admin_a, "carol").await;
    let dave = enrolled(&admin_b, "dave").await;

    // Load: each user's requests are created on one node and answered through the other.
    let tally = Arc::new(Tally {
        phase: AtomicU8::new(BEFORE),
        ..Tally::default()
    });
    let mut workers = Vec::new();
    for i in 0..4 {
        let user = format!("user{i}");
        let (admin, rp) = if i % 2 == 0 {
            (&admin_a, &rp_b)
        } else {
            (&admin_b, &rp_a)
        };
        let device = enrolled(admin, &user).await;
        workers.push(tokio::spawn(worker(
            user,
            device,
            rp.clone(),
            tally.clone(),
        )));
    }
    while tally.decided.load(Ordering::Relaxed) < 12 {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    // A wait opened on node B before the outage, for a request carol answers through A after it.
    let retried_waits = Arc::new(AtomicUsize::new(0));
    let before = rp_a.create_approval(&login("carol")).await.unwrap();
    let long_wait = tokio::spawn(wait_for(
        rp_b.clone(),
        before.id.clone(),
        retried_waits.clone(),
    ));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(!long_wait.is_finished(), "the wait ended before any answer");

    pg.stop_server();
    tally.phase.store(OUTAGE, Ordering::SeqCst);
    // Readiness says the database is out of reach; liveness does not.
    let http = reqwest::Client::new();
    for node in [&a, &b] {
        let ready = http
            .get(format!("{}/health/ready", node.base))
            .send()
            .await
            .unwrap();
        assert_eq!(ready.status(), 503);
        assert_eq!(
            ready.headers()["content-type"],
            "application/problem+json",
            "a problem document"
        );
        let problem: serde_json::Value = ready.json().await.unwrap();
        assert_eq!(problem["code"], "unavailable", "{problem}");
        let live = http
            .get(format!("{}/health/live", node.base))
            .send()
            .await
            .unwrap();
        assert_eq!(live.status(), 200);
    }
    while tally.errors_in(OUTAGE) < 4 {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    pg.start_server();
    tally.phase.store(AFTER, Ordering::SeqCst);
    for worker in workers {
        worker.await.unwrap();
    }

    // The wait opened before the outage is answered through the other node.
    carol
        .decide(
            &before.id,
            Decision::Approve,
            before.display_code.as_deref(),
        )
        .await
        .unwrap();
    let status = long_wait.await.unwrap();
    assert_eq!(status.state, ApprovalState::Approved, "{status:?}");

    // Fresh wake-ups cross between the nodes both ways.
    for (waiter, rp, device, user) in [
        (&rp_a, &rp_b, &dave, "dave"),
        (&rp_b, &rp_a, &carol, "carol"),
    ] {
        let created = rp.create_approval(&login(user)).await.unwrap();
        let wait = tokio::spawn(wait_for(
            waiter.clone(),
            created.id.clone(),
            retried_waits.clone(),
        ));
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!wait.is_finished(), "the wait ended before any answer");
        device
            .decide(
                &created.id,
                Decision::Approve,
                created.display_code.as_deref(),
            )
            .await
            .unwrap();
        let status = wait.await.unwrap();
        assert_eq!(status.state, ApprovalState::Approved, "{user}: {status:?}");
    }

    // What failed while PostgreSQL was down was a 503 problem document with a stable code.
    let errors = tally.errors.lock().unwrap().clone();
    for (phase, what) in errors.keys() {
        assert!(
            what.ends_with(": 503 unavailable"),
            "{}: {what}",
            PHASES[usize::from(*phase)]
        );
    }
    assert!(admin_a.verify_audit().await.unwrap().intact);
    let rows = verify_offline(&url);
    let errors: Vec<String> = errors
        .iter()
        .map(|((phase, what), n)| format!("{} {what} x{n}", PHASES[usize::from(*phase)]))
        .collect();
    eprintln!(
        "postgres restart: {} requests created, {} decided, {} waits retried, errors seen: {errors:?}, audit chain of {rows} rows verified",
        tally.created.load(Ordering::Relaxed),
        tally.decided.load(Ordering::Relaxed),
        retried_waits.load(Ordering::Relaxed),
    );
    drop((a, b));
}

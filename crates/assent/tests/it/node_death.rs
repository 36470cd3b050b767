//! Two `assent serve` processes on one PostgreSQL database, one of them killed with SIGKILL
//! while relying parties create requests and wait on it and devices answer through the other:
//! no decision is lost or made twice, waits on the dead node complete on the other once the
//! client retries there, the audit chain verifies, and the killed node comes back with the
//! same receipts.

use crate::support::{assent_bin, free_port, start_serve};
use assent_client::{AdminClient, ClientError, DeviceClient, RpClient};
use assent_proto::api::ApprovalState;
use assent_proto::receipt::verify_receipt;
use assent_proto::statement::Decision;
use assent_server::data_dir::{ADMIN_KEY_FILE, DATA_KEY_FILE, SIGNING_KEY_FILE, VAPID_KEY_FILE};
use assent_testkit::login;
use assent_testkit::postgres::with_postgres;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// An `assent serve` process on a PostgreSQL database, with its own data directory (its keys).
pub(crate) struct Node {
    pub child: std::process::Child,
    pub base: String,
    port: u16,
    data: tempfile::TempDir,
    url: String,
}

impl Node {
    /// Starts a node on the database at `url`; with `keys_from`, holding that node's keys (as
    /// every node of one database must).
    pub async fn start(url: &str, keys_from: Option<&Node>) -> Node {
        let data = tempfile::tempdir().unwrap();
        if let Some(first) = keys_from {
            for file in [
                SIGNING_KEY_FILE,
                VAPID_KEY_FILE,
                DATA_KEY_FILE,
                ADMIN_KEY_FILE,
            ] {
                std::fs::copy(first.data.path().join(file), data.path().join(file)).unwrap();
            }
        }
        let port = free_port();
        Node {
            child: serve(data.path(), port, url).await,
            base: format!("http://127.0.0.1:{port}"),
            port,
            data,
            url: url.to_owned(),
        }
    }

    /// Starts the node's process again, on the same port, data directory and database.
    pub async fn restart(&mut self) {
        self.child = serve(self.data.path(), self.port, &self.url).await;
    }

    /// SIGKILL, and reap the process.
    pub fn kill(&mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }

    pub fn admin(&self) -> AdminClient {
        let key = assent_server::data_dir::read_admin_key(self.data.path()).unwrap();
        AdminClient::new(&self.base, &key).unwrap()
    }
}

async fn serve(data: &std::path::Path, port: u16, url: &str) -> std::process::Child {
    let env = [
        ("ASSENT_DATABASE", url),
        // These tests are about failures, not about the prompt budget.
        ("ASSENT_FATIGUE__PROMPT_BUDGET", "100000"),
        // Long enough for a wait to outlast a database restart.
        ("ASSENT_HTTP__MAX_WAIT_SECS", "300"),
    ];
    start_serve(data, port, &env).await
}

impl Drop for Node {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Creates `user` and enrolls a device through `admin`'s node: the device talks to that node.
pub(crate) async fn enrolled(admin: &AdminClient, user: &str) -> DeviceClient {
    admin.create_user(user).await.unwrap();
    let link = admin.create_enrollment(user).await.unwrap().link;
    DeviceClient::enroll(&link, "phone", "test").await.unwrap()
}

/// A client error as a short label: the problem code with its status, or what failed below HTTP.
pub(crate) fn label(error: &ClientError) -> String {
    match error {
        ClientError::Problem(p) => format!("{} {}", p.status, p.code),
        ClientError::Http(e) if e.is_connect() => "connection refused".into(),
        ClientError::Http(e) if e.is_timeout() => "client timeout".into(),
        ClientError::Http(_) => "connection lost".into(),
        ClientError::Unexpected { status, .. } => format!("{status} without a problem document"),
        other => format!("client: {other}"),
    }
}

/// Counts, shared by the workers.
#[derive(Default)]
struct Tally {
    created: AtomicUsize,
    retried_waits: AtomicUsize,
    /// Requests the device's node acknowledged, with the receipt the relying party read.
    decided: Mutex<Vec<(String, String)>>,
    errors: Mutex<BTreeMap<String, usize>>,
}

impl Tally {
    fn error(&self, step: &str, error: &ClientError) {
        let key = format!("{step}: {}", label(error));
        *self.errors.lock().unwrap().entry(key).or_default() += 1;
    }

    fn decided(&self) -> usize {
        self.decided.lock().unwrap().len()
    }
}

const USERS: usize = 6;
const ROUNDS: usize = 10;
/// The victim is killed once this many requests were decided, with the rest still to come.
const KILL_AFTER: usize = 20;

/// One relying party's user: requests created alternately on A (the victim) and B, each waited
/// for on A, answered by the device through B.
async fn worker(
    user: String,
    device: DeviceClient,
    rp_a: RpClient,
    rp_b: RpClient,
    tally: Arc<Tally>,
) {
    for round in 0..ROUNDS {
        let request = login(&user);
        let first = if round % 2 == 0 { &rp_a } else { &rp_b };
        let created = match first.create_approval(&request).await {
            Ok(created) => created,
            Err(e) => {
                tally.error("create", &e);
                rp_b.create_approval(&request)
                    .await
                    .expect("node B creates")
            }
        };
        tally.created.fetch_add(1, Ordering::Relaxed);
        let wait = tokio::spawn({
            let (rp_a, id) = (rp_a.clone(), created.id.clone());
            async move { rp_a.approval(&id, Some(30)).await }
        });
        // Let the wait reach node A before the answer (pacing, not a check).
        tokio::time::sleep(Duration::from_millis(20)).await;
        device
            .decide(
                &created.id,
                Decision::Approve,
                created.display_code.as_deref(),
            )
            .await
            .unwrap_or_else(|e| panic!("{user} round {round}: node B refused the answer: {e}"));
        let status = match wait.await.unwrap() {
            Ok(status) => status,
            Err(e) => {
                // Node A died under the wait: the client waits on the other node.
                tally.error("wait", &e);
                tally.retried_waits.fetch_add(1, Ordering::Relaxed);
                rp_b.approval(&created.id, Some(30))
                    .await
                    .expect("the retried wait on node B answers")
            }
        };
        assert_eq!(
            status.state,
            ApprovalState::Approved,
            "{user} round {round}: the wait ended without the decision"
        );
        let receipt = status.receipt.expect("an approved request has a receipt");
        tally.decided.lock().unwrap().push((created.id, receipt));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_one_of_two_postgres_nodes_under_load_loses_no_decision() {
    with_postgres(|url| async move {
        let mut a = Node::start(&url, None).await;
        let b = Node::start(&url, Some(&a)).await;
        let app = a.admin().create_app("Acme").await.unwrap();
        let rp_a = RpClient::new(&a.base, &app.api_key).unwrap();
        let rp_b = RpClient::new(&b.base, &app.api_key).unwrap();
        let admin_b = b.admin();

        let tally = Arc::new(Tally::default());
        let mut workers = Vec::new();
        for i in 0..USERS {
            let user = format!("user{i}");
            let device = enrolled(&admin_b, &user).await;
            workers.push(tokio::spawn(worker(
                user,
                device,
                rp_a.clone(),
                rp_b.clone(),
                tally.clone(),
            )));
        }
        // Kill -9 node A in the middle of the load.
        while tally.decided() < KILL_AFTER && !workers.iter().all(|w| w.is_finished()) {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let decided_before_kill = tally.decided();
        a.kill();
        for worker in workers {
            worker.await.unwrap();
        }

        let decided = tally.decided.lock().unwrap().clone();
        assert_eq!(decided.len(), USERS * ROUNDS, "every request was decided");
        // Each decision reads back on the survivor with the receipt the wait returned.
        let jwks = assent_client::fetch_jwks(&b.base).await.unwrap();
        for (id, receipt) in &decided {
            let status = rp_b.approval(id, None).await.unwrap();
            assert_eq!(status.state, ApprovalState::Approved, "{id}");
            assert_eq!(status.receipt.as_ref(), Some(receipt), "{id}");
            verify_receipt(receipt, &jwks).unwrap();
        }
        // Decided once: one `approval_decided` row per request, and no other.
        let db = sqlx::PgPool::connect(&url).await.unwrap();
        let rows: Vec<(String, i64, String)> = sqlx::query_as(
            "SELECT subject, count(*), min(data) FROM audit WHERE kind = 'approval_decided' GROUP BY subject",
        )
        .fetch_all(&db)
        .await
        .unwrap();
        let mut per_request: BTreeMap<String, (i64, String)> = rows
            .into_iter()
            .map(|(subject, count, data)| (subject, (count, data)))
            .collect();
        for (id, _) in &decided {
            let entry = per_request.remove(&format!("approval:{id}"));
            assert_eq!(entry.map(|(count, _)| count), Some(1), "{id}");
        }
        // What remains are requests that node A stored but whose answer the kill cut off: the
        // client created them again on B, which superseded them. Each ended once, cancelled.
        let lost_creates: usize = tally
            .errors
            .lock()
            .unwrap()
            .iter()
            .filter(|(step, _)| step.starts_with("create"))
            .map(|(_, n)| n)
            .sum();
        assert!(
            per_request.len() <= lost_creates,
            "decisions of requests nobody asked for: {per_request:?}"
        );
        for (subject, (count, data)) in &per_request {
            let event: serde_json::Value = serde_json::from_str(data).unwrap();
            assert_eq!(*count, 1, "{subject}");
            assert_eq!(event["state"], "cancelled", "{subject}: {event}");
            assert_eq!(event["reason"], "superseded", "{subject}: {event}");
        }
        let (created_rows,): (i64,) =
            sqlx::query_as("SELECT count(*) FROM audit WHERE kind = 'approval_created'")
                .fetch_one(&db)
                .await
                .unwrap();
        db.close().await;

        // The chain verifies, on the survivor and offline.
        let report = admin_b.verify_audit().await.unwrap();
        assert!(report.intact, "{report:?}");
        let rows = verify_offline(&url);

        // The killed node comes back on the same database and reads the same receipts.
        a.restart().await;
        for (id, receipt) in &decided {
            let status = rp_a.approval(id, None).await.unwrap();
            assert_eq!(status.receipt.as_ref(), Some(receipt), "{id}");
        }

        let errors = tally.errors.lock().unwrap().clone();
        eprintln!(
            "node death: {} requests created ({created_rows} in the audit log), {} decided ({decided_before_kill} before the kill), {} waits retried on the survivor, errors seen: {errors:?}, audit chain of {rows} rows verified",
            tally.created.load(Ordering::Relaxed),
            decided.len(),
            tally.retried_waits.load(Ordering::Relaxed),
        );
    })
    .await;
}

/// `assent audit verify --database` on `url`: the chain must be intact. Returns its length.
pub(crate) fn verify_offline(url: &str) -> u64 {
    let out = assent_bin()
        .args(["audit", "verify", "--json", "--database", url])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["intact"], true, "{report}");
    report["rows"].as_u64().unwrap()
}

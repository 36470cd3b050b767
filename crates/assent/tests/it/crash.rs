//! SIGKILL the server while relying parties create requests and devices answer them, before
//! any relying party has read an answer: every answer the server acknowledged survives with the
//! same receipt, none can be given again, and the audit chain still verifies. The same checks
//! run on SQLite and on PostgreSQL.

use crate::support::{assent_bin, code_of, free_port, run, start_serve};
use assent_client::{AdminClient, DeviceClient, RpClient};
use assent_proto::ProblemCode;
use assent_proto::api::ApprovalState;
use assent_proto::statement::Decision;
use assent_testkit::login;
use assent_testkit::postgres::with_postgres;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_survives_sigkill_with_the_same_receipt() {
    decisions_survive_sigkill(None).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_survives_sigkill_on_postgres_with_the_same_receipt() {
    with_postgres(|url| async move { decisions_survive_sigkill(Some(&url)).await }).await;
}

const USERS: usize = 4;
/// Answers the server acknowledged: the user's number and the request.
type Decided = Arc<Mutex<Vec<(usize, String)>>>;
/// The server is killed once this many answers were acknowledged, with more under way.
const KILL_AFTER: usize = 12;

/// Creates and approves requests for user number `i` until the server goes away, and records
/// the acknowledged ones. Gives the device back.
async fn load(rp: RpClient, device: DeviceClient, i: usize, decided: Decided) -> DeviceClient {
    let user = format!("user{i}");
    // Bounded, so a server that is never killed fails the test instead of hanging it.
    for _ in 0..1000 {
        let Ok(created) = rp.create_approval(&login(&user)).await else {
            return device;
        };
        let code = created.display_code.as_deref();
        if device
            .decide(&created.id, Decision::Approve, code)
            .await
            .is_err()
        {
            // The answer may or may not have landed; it was never acknowledged.
            return device;
        }
        decided.lock().unwrap().push((i, created.id));
    }
    panic!("{user}: the server was never killed");
}

/// `database`: a PostgreSQL URL, or `None` for SQLite in the data directory.
async fn decisions_survive_sigkill(database: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut env = vec![("ASSENT_FATIGUE__PROMPT_BUDGET", "100000")];
    env.extend(database.map(|url| ("ASSENT_DATABASE", url)));
    let mut server = start_serve(&data, port, &env).await;

    let admin_key = assent_server::data_dir::read_admin_key(&data).unwrap();
    let admin = AdminClient::new(&base, &admin_key).unwrap();
    let app = admin.create_app("Acme").await.unwrap();
    let rp = RpClient::new(&base, &app.api_key).unwrap();
    let decided = Decided::default();
    let mut workers = Vec::new();
    for i in 0..USERS {
        let user = format!("user{i}");
        admin.create_user(&user).await.unwrap();
        let link = admin.create_enrollment(&user).await.unwrap().link;
        let device = DeviceClient::enroll(&link, "phone", "test").await.unwrap();
        workers.push(tokio::spawn(load(rp.clone(), device, i, decided.clone())));
    }
    // Devices have their acknowledgements; the relying parties have read nothing yet. Kill -9
    // while the load goes on.
    while decided.lock().unwrap().len() < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    server.kill().unwrap();
    server.wait().unwrap();
    let mut devices = Vec::new();
    for worker in workers {
        devices.push(worker.await.unwrap());
    }

    let mut server = start_serve(&data, port, &env).await;
    let decided = decided.lock().unwrap().clone();
    let mut receipts = Vec::new();
    for (_, id) in &decided {
        let status = rp.approval(id, None).await.unwrap();
        assert_eq!(status.state, ApprovalState::Approved, "{id}");
        receipts.push(status.receipt.unwrap());
    }
    // Read again: the same receipt, byte for byte (it is stored, not re-signed).
    for ((_, id), receipt) in decided.iter().zip(&receipts) {
        assert_eq!(
            &rp.approval(id, None).await.unwrap().receipt.unwrap(),
            receipt
        );
    }
    let jwks = assent_client::fetch_jwks(&base).await.unwrap();
    for receipt in &receipts {
        assent_proto::receipt::verify_receipt(receipt, &jwks).unwrap();
    }
    // Decided once: answering again is refused.
    for (i, id) in &decided {
        let again = devices[*i].decide(id, Decision::Deny, None).await;
        assert_eq!(code_of(again), ProblemCode::AlreadyDecided, "{id}");
    }
    let mut cmd = assent_bin();
    cmd.args(["audit", "verify", "--json"]);
    match database {
        Some(url) => cmd.args(["--database", url]),
        None => cmd.arg("--data").arg(&data),
    };
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["intact"], true, "{report}");
    eprintln!(
        "sigkill on {}: {} answers acknowledged before the kill, all approved after the restart with the same receipt; audit chain of {} rows verified",
        database.map_or("SQLite", |_| "PostgreSQL"),
        decided.len(),
        report["rows"]
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

//! Several nodes on one PostgreSQL database: a device answers through one node while the
//! relying party waits on another, wake-ups cross between them, and the audit log stays one
//! chain whichever node wrote.

use crate::support::assent_bin;
use assent_client::DeviceEvent;
use assent_proto::api::ApprovalState;
use assent_proto::receipt::verify_receipt;
use assent_proto::statement::Decision;
use assent_server::config::DatabaseUrl;
use assent_server::data_dir::{ADMIN_KEY_FILE, DATA_KEY_FILE, SIGNING_KEY_FILE, VAPID_KEY_FILE};
use assent_testkit::postgres::with_postgres;
use assent_testkit::{TestServer, login};
use std::time::Duration;

/// Starts a second node on `first`'s database, holding the same keys (as every node must), in
/// `dir`.
async fn join(first: &TestServer, url: &str, dir: &tempfile::TempDir) -> TestServer {
    join_with(first, url, dir, |_| {}).await
}

/// [`join`], with more configuration.
pub(crate) async fn join_with(
    first: &TestServer,
    url: &str,
    dir: &tempfile::TempDir,
    adjust: impl FnOnce(&mut assent_server::Config),
) -> TestServer {
    let data = dir.path().to_owned();
    for file in [
        SIGNING_KEY_FILE,
        VAPID_KEY_FILE,
        DATA_KEY_FILE,
        ADMIN_KEY_FILE,
    ] {
        std::fs::copy(first.data_dir().join(file), data.join(file)).unwrap();
    }
    let url = url.to_owned();
    TestServer::spawn_with(move |c| {
        c.database = DatabaseUrl(url);
        c.data_dir = data;
        adjust(c);
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_device_answers_through_one_node_while_the_relying_party_waits_on_another() {
    with_postgres(|url| async move {
        let a = TestServer::spawn_with({
            let url = url.clone();
            |c| c.database = DatabaseUrl(url)
        })
        .await;
        let b_dir = tempfile::tempdir().unwrap();
        let b = join(&a, &url, &b_dir).await;

        // Set up through node A: an application, a user, an enrolled device with its stream.
        let app = a.app("bank").await;
        let device = a.user_with_device("alice").await;
        let mut events = device.stream().await.unwrap();
        let rp_b = assent_client::RpClient::new(&b.base, &app.api_key).unwrap();

        // The relying party creates the request through B; A's device stream announces it.
        let created = rp_b.create_approval(&login("alice")).await.unwrap();
        let announced = tokio::time::timeout(Duration::from_secs(10), events.recv())
            .await
            .expect("node A's device stream heard of a request created on node B")
            .unwrap();
        assert_eq!(announced, DeviceEvent::Approval(created.id.clone()));

        // B's relying party waits; the device answers through A; B's wait returns the answer.
        let wait = tokio::spawn({
            let (rp_b, id) = (rp_b.clone(), created.id.clone());
            async move { rp_b.approval(&id, Some(30)).await }
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(!wait.is_finished(), "B's wait ended before any answer");
        device
            .decide(
                &created.id,
                Decision::Approve,
                created.display_code.as_deref(),
            )
            .await
            .unwrap();
        let status = tokio::time::timeout(Duration::from_secs(10), wait)
            .await
            .expect("node B's wait was woken by the answer given on node A")
            .unwrap()
            .unwrap();
        assert_eq!(status.state, ApprovalState::Approved);

        // The receipt verifies against either node's keys (they are the same).
        let jwks = assent_client::fetch_jwks(&b.base).await.unwrap();
        verify_receipt(status.receipt.as_deref().unwrap(), &jwks).unwrap();

        // Both nodes wrote audit rows; the chain is one, seen from either node and offline.
        for node in [&a, &b] {
            let report = node.admin.verify_audit().await.unwrap();
            assert!(report.intact, "{report:?}");
        }
        let out = assent_bin()
            .args(["audit", "verify", "--json", "--database", &url])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(report["intact"], true);
        assert!(report["rows"].as_u64().unwrap() >= 5, "{report}");

        b.stop().await;
        a.stop().await;
    })
    .await;
}

#[tokio::test]
async fn a_database_that_is_neither_sqlite_nor_postgres_is_refused() {
    let mut config = assent_server::Config {
        database: DatabaseUrl("mysql://root@127.0.0.1/assent".into()),
        ..assent_server::Config::default()
    };
    config.listen = "127.0.0.1:0".parse().unwrap();
    let error = config.validate().unwrap_err().to_string();
    assert!(error.contains("postgres://"), "{error}");
}

#[tokio::test]
async fn an_unreachable_database_stops_the_start_without_showing_its_password() {
    let dir = tempfile::tempdir().unwrap();
    let config = assent_server::Config {
        data_dir: dir.path().join("data"),
        listen: "127.0.0.1:0".parse().unwrap(),
        database: DatabaseUrl("postgres://assent:hunter2-secret@127.0.0.1:1/assent".into()),
        ..assent_server::Config::default()
    };
    let clock = std::sync::Arc::new(assent_core::ManualClock::starting_now());
    let error = match assent_server::Server::start(config.clone(), clock).await {
        Ok(_) => panic!("started without its database"),
        Err(e) => e.to_string(),
    };
    assert!(error.contains("PostgreSQL"), "{error}");
    assert!(!error.contains("hunter2-secret"), "{error}");
    assert!(!format!("{config:?}").contains("hunter2-secret"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotated_on_one_node_is_refused_on_the_other_at_once() {
    with_postgres(|url| async move {
        let a = TestServer::spawn_with({
            let url = url.clone();
            |c| c.database = DatabaseUrl(url)
        })
        .await;
        let b_dir = tempfile::tempdir().unwrap();
        let b = join(&a, &url, &b_dir).await;
        let app = a.app("bank").await;
        a.user_with_device("alice").await;
        // Node B has used the key, so it would have it in memory if it kept keys.
        let old_on_b = assent_client::RpClient::new(&b.base, &app.api_key).unwrap();
        old_on_b.create_approval(&login("alice")).await.unwrap();

        let rotated = a.admin.rotate_app_key(&app.id).await.unwrap();
        assert_eq!(rotated.revoked_key_ids.len(), 1);
        let refused = old_on_b.create_approval(&login("alice")).await;
        assert_eq!(
            crate::support::code_of(refused),
            assent_proto::ProblemCode::Unauthorized,
            "the old key is refused on the other node at once"
        );
        let new_on_b = assent_client::RpClient::new(&b.base, &rotated.api_key).unwrap();
        new_on_b.create_approval(&login("alice")).await.unwrap();

        // A revocation through B holds on A.
        b.admin.revoke_api_key(&rotated.key_id).await.unwrap();
        let new_on_a = assent_client::RpClient::new(&a.base, &rotated.api_key).unwrap();
        assert_eq!(
            crate::support::code_of(new_on_a.create_approval(&login("alice")).await),
            assent_proto::ProblemCode::Unauthorized
        );
        let listed = a.admin.list_apps().await.unwrap();
        let bank = listed.apps.iter().find(|x| x.name == "bank").unwrap();
        assert_eq!(bank.keys.len(), 2);
        assert!(bank.keys.iter().all(|k| k.revoked_at.is_some()));
        b.stop().await;
        a.stop().await;
    })
    .await;
}

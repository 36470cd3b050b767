//! Webhooks through a real receiver: Standard Webhooks signatures that an independent
//! implementation accepts, retries with the same message id until the receiver takes it, giving
//! up after the configured attempts, secrets sealed at rest; and relying-party reported events.

use crate::support::{python, repo_root, run};
use assent_proto::ProblemCode;
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, approved, login};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Clone, Default)]
struct Receiver {
    /// Every request: headers and body, whatever the answer was.
    seen: Arc<Mutex<Vec<(HeaderMap, String)>>>,
    /// How many more requests to refuse with 500.
    refuse: Arc<AtomicU32>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    r.seen.lock().unwrap().push((headers, body));
    let refused = r
        .refuse
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if refused {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn start_receiver(refuse: u32) -> (String, Receiver) {
    let receiver = Receiver {
        refuse: Arc::new(AtomicU32::new(refuse)),
        ..Receiver::default()
    };
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(receiver.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, receiver)
}

/// Waits until `count` deliveries were answered 2xx (refused ones are also recorded).
async fn wait_for(receiver: &Receiver, what: impl Fn(&[(HeaderMap, String)]) -> bool) {
    for _ in 0..200 {
        if what(&receiver.seen.lock().unwrap()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "webhooks never arrived: {:#?}",
        receiver
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|(_, b)| b)
            .collect::<Vec<_>>()
    );
}

fn header(h: &HeaderMap, name: &str) -> String {
    h.get(name).unwrap().to_str().unwrap().to_owned()
}

fn fast(c: &mut assent_server::Config) {
    c.webhooks.initial_backoff_ms = 50;
    c.webhooks.poll_ms = 50;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_and_alerts_arrive_signed_and_are_retried_until_taken() {
    let server = TestServer::spawn_with(fast).await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let (url, receiver) = start_receiver(2).await;
    let created = server
        .admin
        .set_webhook(&app.id, &url, &["approval.final", "alert"])
        .await
        .unwrap();
    assert!(created.secret.starts_with("whsec_"));

    let id = approved(&app.client, &device, &login("alice")).await;
    app.client
        .report_event("alice", "password_changed", None)
        .await
        .unwrap();
    wait_for(&receiver, |seen| {
        seen.iter().any(|(_, b)| b.contains("user_event_reported"))
    })
    .await;

    let seen = receiver.seen.lock().unwrap().clone();
    // The first two attempts were refused; the third carried the same message id.
    let outcome: Vec<_> = seen
        .iter()
        .filter(|(_, b)| b.contains("approval.final"))
        .collect();
    assert_eq!(outcome.len(), 3, "two refused attempts, then the delivery");
    let ids: Vec<String> = outcome
        .iter()
        .map(|(h, _)| header(h, "webhook-id"))
        .collect();
    assert!(ids.iter().all(|i| *i == ids[0]), "{ids:?}");
    let body: serde_json::Value = serde_json::from_str(&outcome[2].1).unwrap();
    assert_eq!(body["data"]["id"], id.as_str());
    assert_eq!(body["data"]["state"], "approved");
    assert!(body["data"]["receipt"].is_string());
    let alert = seen
        .iter()
        .find(|(_, b)| b.contains("user_event_reported"))
        .unwrap();
    assert!(alert.1.contains("\"type\":\"alert\""), "{}", alert.1);
    assert!(
        alert.1.contains("user_event_reported") && alert.1.contains("alice"),
        "{}",
        alert.1
    );

    // An independent Standard Webhooks implementation accepts every delivery...
    let deliveries: Vec<serde_json::Value> = seen
        .iter()
        .map(|(h, b)| {
            let headers: serde_json::Map<String, serde_json::Value> =
                ["webhook-id", "webhook-timestamp", "webhook-signature"]
                    .iter()
                    .map(|n| ((*n).to_owned(), header(h, n).into()))
                    .collect();
            serde_json::json!({"headers": headers, "body": b})
        })
        .collect();
    let file = server.scratch("deliveries.json");
    std::fs::write(&file, serde_json::to_vec(&deliveries).unwrap()).unwrap();
    let verifier = repo_root().join("tests/interop/verify_webhooks.py");
    let mut cmd = std::process::Command::new(python());
    cmd.arg(&verifier).arg(&created.secret).arg(&file);
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{out}{err}");
    assert!(
        out.contains("approval.final") && out.contains("alert"),
        "{out}"
    );
    // ...and refuses a body altered by one character, or another secret.
    let mut forged = deliveries.clone();
    forged[0]["body"] = forged[0]["body"]
        .as_str()
        .unwrap()
        .replace("approved", "denied")
        .into();
    std::fs::write(&file, serde_json::to_vec(&forged).unwrap()).unwrap();
    let mut cmd = std::process::Command::new(python());
    cmd.arg(&verifier).arg(&created.secret).arg(&file);
    assert_ne!(run(cmd).0, 0, "a forged body verified");
    let mut cmd = std::process::Command::new(python());
    cmd.arg(&verifier)
        .arg("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
        .arg(server.scratch("deliveries.json"));
    assert_ne!(run(cmd).0, 0, "another secret verified");

    let status = server.admin.webhook_status(&app.id).await.unwrap();
    assert_eq!(status.failed, 0);
    assert!(status.last_error.is_none());
    // The secret is sealed at rest: not in the database file.
    let bytes = std::fs::read(server.db_path()).unwrap();
    let secret_part = created.secret.trim_start_matches("whsec_");
    assert!(
        !bytes
            .windows(secret_part.len())
            .any(|w| w == secret_part.as_bytes())
    );
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn outcomes_go_only_to_their_application_and_failures_are_given_up_on() {
    let server = TestServer::spawn_with(|c| {
        fast(c);
        c.webhooks.max_attempts = 2;
    })
    .await;
    let acme = server.app("Acme").await;
    let other = server.app("Other").await;
    let device = server.user_with_device("alice").await;
    let (acme_url, acme_receiver) = start_receiver(u32::MAX).await;
    let (other_url, other_receiver) = start_receiver(0).await;
    server
        .admin
        .set_webhook(&acme.id, &acme_url, &["approval.final"])
        .await
        .unwrap();
    server
        .admin
        .set_webhook(&other.id, &other_url, &["approval.final"])
        .await
        .unwrap();
    let created = acme.client.create_approval(&login("alice")).await.unwrap();
    device
        .decide(&created.id, Decision::Deny, None)
        .await
        .unwrap();
    wait_for(&acme_receiver, |seen| seen.len() >= 2).await;
    for _ in 0..100 {
        if server.admin.webhook_status(&acme.id).await.unwrap().failed == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let status = server.admin.webhook_status(&acme.id).await.unwrap();
    assert_eq!(status.failed, 1, "{status:?}");
    assert_eq!(
        status.last_error.as_deref(),
        Some("the receiver answered 500")
    );
    assert_eq!(
        acme_receiver.seen.lock().unwrap().len(),
        2,
        "max_attempts = 2"
    );
    assert!(
        other_receiver.seen.lock().unwrap().is_empty(),
        "another application's outcome leaked"
    );
    let bad = server
        .admin
        .set_webhook(&acme.id, "ftp://x", &["approval.final"])
        .await
        .unwrap_err();
    assert_eq!(bad.problem_code(), Some(ProblemCode::InvalidRequest));
    let bad = server
        .admin
        .set_webhook(&acme.id, &acme_url, &["everything"])
        .await
        .unwrap_err();
    assert_eq!(bad.problem_code(), Some(ProblemCode::InvalidRequest));
    server.stop().await;
}

#[tokio::test]
async fn reported_events_become_alerts_and_bad_reports_are_refused() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    app.client
        .report_event("alice", "password_changed", None)
        .await
        .unwrap();
    app.client
        .report_event("alice", "custom", Some("New sign-in from Firefox on Linux"))
        .await
        .unwrap();
    let alerts: Vec<String> = device
        .alerts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.message)
        .collect();
    assert_eq!(alerts[0], "Acme: New sign-in from Firefox on Linux");
    assert_eq!(alerts[1], "Acme: your password was changed.");
    let refused = app
        .client
        .report_event("alice", "custom", None)
        .await
        .unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::InvalidRequest));
    let refused = app
        .client
        .report_event("alice", "teleported", None)
        .await
        .unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::InvalidRequest));
    let refused = app
        .client
        .report_event("mallory", "password_changed", None)
        .await
        .unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::UnknownUser));
    let long = "x".repeat(301);
    let refused = app
        .client
        .report_event("alice", "custom", Some(&long))
        .await
        .unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::InvalidRequest));
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_does_not_hold_up_a_shutdown() {
    let server = TestServer::spawn_with(|c| {
        fast(c);
        c.webhooks.timeout_secs = 600;
    })
    .await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    // A receiver that takes the request and never answers.
    let (arrived_tx, mut arrived) = tokio::sync::mpsc::channel::<()>(8);
    let hang = axum::Router::new().route(
        "/hook",
        axum::routing::post(move || {
            let arrived_tx = arrived_tx.clone();
            async move {
                let _ = arrived_tx.send(()).await;
                std::future::pending::<StatusCode>().await
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, hang).await.unwrap() });
    server
        .admin
        .set_webhook(&app.id, &url, &["approval.final"])
        .await
        .unwrap();
    approved(&app.client, &device, &login("alice")).await;
    tokio::time::timeout(Duration::from_secs(30), arrived.recv())
        .await
        .expect("the delivery never reached the receiver");

    // The delivery in flight is abandoned at shutdown, so the service and its store are let go
    // and a server starts on the same database again (the lock would refuse it while a
    // delivery task still held the store, for as long as the receiver's timeout).
    let (_dir, restarted) = server.restart().await;
    let restarted = restarted.expect("the database was let go");
    // The abandoned event goes again (same receiver, still holding), and this shutdown is not
    // held up either.
    tokio::time::timeout(Duration::from_secs(30), arrived.recv())
        .await
        .expect("the abandoned delivery was not sent again");
    restarted.shutdown().await.unwrap();
}

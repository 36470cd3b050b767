//! The fatigue defenses and webhook delivery hold across nodes: two nodes on one PostgreSQL
//! database, with a burst of sign-ins split between them, admit exactly the prompt budget in all,
//! keep one pending prompt per user and application, raise one alert per pattern, and deliver
//! each webhook once.

use crate::nodes::join_with;
use assent_client::RpClient;
use assent_proto::ProblemCode;
use assent_server::config::DatabaseUrl;
use assent_testkit::postgres::with_postgres;
use assent_testkit::{TestServer, login};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The audit rows of one kind, read through a node's store (the database is shared).
async fn audit_of(node: &TestServer, kind: &str) -> Vec<String> {
    node.assent
        .store()
        .audit_page(0, 100_000)
        .await
        .unwrap()
        .into_iter()
        .filter(|r| r.kind == kind)
        .map(|r| r.data)
        .collect()
}

/// `n` sign-ins for `user` at once, alternating between the two nodes' relying-party clients.
async fn burst(
    clients: &[RpClient; 2],
    user: &str,
    n: usize,
) -> Vec<Result<String, assent_client::ClientError>> {
    let calls = (0..n).map(|i| {
        let client = clients[i % 2].clone();
        let request = login(user);
        async move { client.create_approval(&request).await.map(|c| c.id) }
    });
    futures_util::future::join_all(calls).await
}

/// Node A on a fresh database and node B joined to it, both with `adjust` applied.
async fn two_nodes(
    url: &str,
    b_dir: &tempfile::TempDir,
    adjust: fn(&mut assent_server::Config),
) -> (TestServer, TestServer) {
    let a = TestServer::spawn_with({
        let url = url.to_owned();
        move |c| {
            c.database = DatabaseUrl(url);
            adjust(c);
        }
    })
    .await;
    let b = join_with(&a, url, b_dir, adjust).await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_split_between_two_nodes_gets_the_prompt_budget_once_and_one_pending_prompt() {
    with_postgres(|url| async move {
        let b_dir = tempfile::tempdir().unwrap();
        let (a, b) = two_nodes(&url, &b_dir, |_| {}).await;
        let app = a.app("bank").await;
        let device = a.user_with_device("alice").await;
        let clients = [
            RpClient::new(&a.base, &app.api_key).unwrap(),
            RpClient::new(&b.base, &app.api_key).unwrap(),
        ];

        // Forty sign-ins at once, twenty through each node, against a budget of three.
        let results = burst(&clients, "alice", 40).await;
        let created: Vec<&String> = results.iter().filter_map(|r| r.as_ref().ok()).collect();
        for refused in results.iter().filter_map(|r| r.as_ref().err()) {
            assert_eq!(
                refused.problem_code(),
                Some(ProblemCode::PushSuspended),
                "{refused}"
            );
        }
        println!(
            "two-node burst: {} sign-ins, {} prompts admitted, {} refused",
            results.len(),
            created.len(),
            results.len() - created.len()
        );
        assert_eq!(
            created.len(),
            3,
            "the budget is 3 prompts across both nodes"
        );
        assert_eq!(audit_of(&a, "approval_created").await.len(), 3);
        assert_eq!(
            audit_of(&a, "push_suspended").await.len(),
            1,
            "one suspension, whichever node spent the budget"
        );

        // One pending prompt: each admitted request replaced the one before it.
        let pending = device.pending().await.unwrap();
        assert_eq!(pending.len(), 1, "{pending:?}");
        let mut superseded = 0;
        for id in &created {
            let status = clients[0].approval(id, None).await.unwrap();
            if status.reason.as_deref() == Some("superseded") {
                superseded += 1;
            } else {
                assert_eq!(&&pending[0].id, id);
            }
        }
        assert_eq!(superseded, 2);
        let alerts = device.alerts().await.unwrap();
        assert_eq!(
            alerts.iter().filter(|a| a.kind == "push_suspended").count(),
            1,
            "{alerts:?}"
        );

        b.stop().await;
        a.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_split_between_two_nodes_raises_one_pattern_alert() {
    with_postgres(|url| async move {
        let b_dir = tempfile::tempdir().unwrap();
        // A budget high enough that the whole burst is sent, so the detector sees it.
        let (a, b) = two_nodes(&url, &b_dir, |c| c.fatigue.prompt_budget = 100).await;
        let app = a.app("bank").await;
        let device = a.user_with_device("alice").await;
        let clients = [
            RpClient::new(&a.base, &app.api_key).unwrap(),
            RpClient::new(&b.base, &app.api_key).unwrap(),
        ];
        // Three requests make the history a burst; every request after them carries the signal.
        for client in [&clients[0], &clients[1], &clients[0]] {
            client.create_approval(&login("alice")).await.unwrap();
        }
        assert!(audit_of(&a, "admin_alert").await.is_empty());
        let results = burst(&clients, "alice", 20).await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let bursts: Vec<String> = audit_of(&a, "admin_alert")
            .await
            .into_iter()
            .filter(|d| d.contains("burst_of_prompts"))
            .collect();
        println!(
            "two-node burst of 20: {} burst_of_prompts alert(s)",
            bursts.len()
        );
        assert_eq!(bursts.len(), 1, "{bursts:?}");
        let pending = device.pending().await.unwrap();
        assert_eq!(pending.len(), 1, "{pending:?}");

        b.stop().await;
        a.stop().await;
    })
    .await;
}

/// Every webhook request received, by `webhook-id`.
#[derive(Clone, Default)]
struct Receiver(Arc<Mutex<Vec<(String, String)>>>);

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> StatusCode {
    let id = headers
        .get("webhook-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    r.0.lock().unwrap().push((id, body));
    StatusCode::NO_CONTENT
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_delivering_nodes_send_each_webhook_once() {
    with_postgres(|url| async move {
        let receiver = Receiver::default();
        let router = axum::Router::new()
            .route("/hook", axum::routing::post(receive))
            .with_state(receiver.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let hook = format!("http://{}/hook", listener.local_addr().unwrap());
        tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });

        let b_dir = tempfile::tempdir().unwrap();
        // Both nodes deliver, polling often, so both are after the same messages.
        let (a, b) = two_nodes(&url, &b_dir, |c| {
            c.fatigue.prompt_budget = 100;
            c.webhooks.deliver = true;
            c.webhooks.poll_ms = 20;
            c.webhooks.initial_backoff_ms = 50;
        })
        .await;
        let app = a.app("bank").await;
        a.user_with_device("alice").await;
        a.admin
            .set_webhook(&app.id, &hook, &["approval.final", "alert"])
            .await
            .unwrap();
        let clients = [
            RpClient::new(&a.base, &app.api_key).unwrap(),
            RpClient::new(&b.base, &app.api_key).unwrap(),
        ];
        // Sign-ins through both nodes, one after another: each replaces the one before it, an
        // `approval.final` webhook each, and the burst makes an `alert` webhook.
        for i in 0..16 {
            clients[i % 2].create_approval(&login("alice")).await.unwrap();
        }
        let expected = audit_of(&a, "approval_decided").await.len()
            + audit_of(&a, "admin_alert").await.len();
        assert!(expected >= 16, "{expected}");
        let received = || receiver.0.lock().unwrap().len();
        for _ in 0..400 {
            if received() >= expected {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        // Many more polls of both dispatchers: a message sent twice would arrive now.
        tokio::time::sleep(Duration::from_secs(2)).await;
        let seen = receiver.0.lock().unwrap().clone();
        let mut copies: HashMap<&str, usize> = HashMap::new();
        for (id, _) in &seen {
            *copies.entry(id.as_str()).or_default() += 1;
        }
        let twice: Vec<_> = copies.iter().filter(|(_, n)| **n > 1).collect();
        println!(
            "two delivering nodes: {} webhook messages expected, {} requests received, {} sent twice",
            expected,
            seen.len(),
            twice.len()
        );
        assert!(twice.is_empty(), "sent more than once: {twice:?}");
        assert_eq!(seen.len(), expected, "every message, once");

        b.stop().await;
        a.stop().await;
    })
    .await;
}

//! Web Push through an endpoint built on independent implementations (Python `http_ece` and
//! PyJWT, `tests/interop/webpush_endpoint.py`): the push for a request decrypts with the
//! subscription's keys, its VAPID token verifies, its headers are right and it says nothing
//! sensitive; `Retry-After` is honoured; a subscription the service calls gone is disabled and
//! its user told; pushes owed when the server is killed are sent after it starts again; two
//! PostgreSQL nodes send each push once.

use crate::support::{audit_data, free_port, python, repo_root, start_serve};
use assent_client::DeviceClient;
use assent_proto::api::{ApprovalState, PushKeys, PushSubscriptionBody};
use assent_server::config::DatabaseUrl;
use assent_testkit::{TestServer, login, transfer};
use serde_json::{Value, json};
use std::io::BufRead;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// The Python push endpoint, killed when dropped.
pub(crate) struct Endpoint {
    child: Child,
    pub port: u16,
    dir: tempfile::TempDir,
    http: reqwest::Client,
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Endpoint {
    pub(crate) fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut child = Command::new(python())
            .arg(repo_root().join("tests/interop/webpush_endpoint.py"))
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the Python push endpoint starts");
        let mut line = String::new();
        std::io::BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().parse().expect("the endpoint prints its port");
        let _ = rustls::crypto::ring::default_provider().install_default();
        Endpoint {
            child,
            port,
            dir,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// A new subscription at the endpoint, as a browser would hand it to the device.
    pub(crate) async fn subscription(&self, name: &str) -> PushSubscriptionBody {
        let s: Value = self
            .http
            .get(self.url(&format!("/new/{name}")))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        PushSubscriptionBody {
            endpoint: s["endpoint"].as_str().unwrap().into(),
            keys: PushKeys {
                p256dh: s["p256dh"].as_str().unwrap().into(),
                auth: s["auth"].as_str().unwrap().into(),
            },
            expiration_time: None,
        }
    }

    async fn mode(&self, name: &str, mode: Value) {
        let r = self
            .http
            .post(self.url(&format!("/mode/{name}")))
            .json(&mode)
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// Every request received so far, in order.
    pub(crate) fn received(&self) -> Vec<Value> {
        let Ok(text) = std::fs::read_to_string(self.dir.path().join("received.jsonl")) else {
            return Vec::new();
        };
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }

    /// Waits until `what` holds of the requests received.
    pub(crate) async fn wait_for(&self, what: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        for _ in 0..300 {
            let received = self.received();
            if what(&received) {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the pushes never arrived: {:#?}", self.received());
    }
}

fn to(name: &str) -> impl Fn(&Value) -> bool + '_ {
    move |r: &Value| r["name"] == name
}

fn accepted_for(received: &[Value], name: &str) -> usize {
    received
        .iter()
        .filter(|r| to(name)(r) && r["status"] == 201)
        .count()
}

/// A server that may push to the loopback endpoint, retrying quickly.
async fn server() -> TestServer {
    TestServer::spawn_with(|c| {
        c.push.allow_private_endpoints = true;
        c.push.poll_ms = 50;
        c.push.initial_backoff_ms = 100;
        c.push.vapid_subject = "mailto:security@acme.example".into();
    })
    .await
}

async fn subscribed(server: &TestServer, endpoint: &Endpoint, user: &str) -> DeviceClient {
    let device = server.user_with_device(user).await;
    device
        .subscribe_push(&endpoint.subscription(user).await)
        .await
        .unwrap();
    device
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_is_pushed_encrypted_signed_and_saying_nothing_sensitive() {
    let endpoint = Endpoint::start();
    let server = server().await;
    let app = server.app("Acme Bank").await;
    let _device = subscribed(&server, &endpoint, "alice").await;
    let mut request = transfer("alice", "1234.56");
    request.binding_message = Some("Pay Bob 1234.56 EUR".into());
    let created = app.client.create_approval(&request).await.unwrap();

    let received = endpoint.wait_for(|r| accepted_for(r, "alice") == 1).await;
    let push = received.iter().find(|r| to("alice")(r)).unwrap();
    assert_eq!(push["problems"], json!([]), "{push:#}");
    // The VAPID token verified with PyJWT for the endpoint's origin; its subject is ours.
    assert_eq!(push["vapid"]["sub"], "mailto:security@acme.example");
    assert_eq!(
        push["vapid"]["aud"],
        format!("http://127.0.0.1:{}", endpoint.port)
    );
    // The plaintext names the request and the application, and nothing else.
    let plaintext = push["plaintext"].as_str().unwrap();
    let payload: Value = serde_json::from_str(plaintext).unwrap();
    assert_eq!(
        payload,
        json!({"type": "approval", "id": created.id, "app": "Acme Bank"})
    );
    let code = created.display_code.clone().unwrap();
    for secret in ["Pay Bob", "1234.56", "EUR", &code, "127.0.0.1", "amount"] {
        assert!(
            !plaintext.contains(secret),
            "{secret:?} must not be in a push"
        );
    }
    let headers = &push["headers"];
    assert_eq!(headers["Urgency"], "high");
    assert_eq!(headers["Content-Encoding"], "aes128gcm");
    let ttl: u64 = headers["TTL"].as_str().unwrap().parse().unwrap();
    assert!((1..=120).contains(&ttl), "TTL is the time left: {ttl}");
    assert!(headers["Topic"].as_str().is_some_and(|t| t.len() <= 32));

    // The relying party sees the delivery, and the audit log has it once.
    let status = app.client.approval(&created.id, None).await.unwrap();
    assert_eq!(status.deliveries.len(), 1, "{:?}", status.deliveries);
    assert_eq!(status.deliveries[0].channel, "web_push");
    assert_eq!(status.deliveries[0].state, "accepted");
    assert_eq!(status.deliveries[0].attempts, 1);
    assert_eq!(audit_data(&server, "push_accepted").len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retry_after_is_honoured_and_a_gone_subscription_is_disabled_and_reported() {
    let endpoint = Endpoint::start();
    let server = server().await;
    let app = server.app("Acme").await;
    let device = subscribed(&server, &endpoint, "alice").await;

    endpoint
        .mode(
            "alice",
            json!({"answer": 429, "times": 1, "retry_after": 1}),
        )
        .await;
    let first = app.client.create_approval(&login("alice")).await.unwrap();
    endpoint.wait_for(|r| r.iter().any(to("alice"))).await;
    // The server's clock is the test's: the retry waits for the time the service gave.
    server.clock.advance(time::Duration::milliseconds(500));
    tokio::time::sleep(Duration::from_millis(400)).await;
    assert_eq!(
        endpoint.received().len(),
        1,
        "not sent again before Retry-After: 1 has passed"
    );
    server.clock.advance(time::Duration::milliseconds(600));
    let received = endpoint.wait_for(|r| accepted_for(r, "alice") == 1).await;
    let sent: Vec<_> = received.iter().filter(|r| to("alice")(r)).collect();
    assert_eq!(
        sent.iter().map(|r| r["status"].clone()).collect::<Vec<_>>(),
        vec![json!(429), json!(201)],
        "sent twice, delivered once"
    );
    // The endpoint answers before the server records the answer: wait for the record.
    let mut status = app.client.approval(&first.id, None).await.unwrap();
    for _ in 0..100 {
        if status.deliveries[0].state != "sent" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
        status = app.client.approval(&first.id, None).await.unwrap();
    }
    assert_eq!(
        (
            status.deliveries[0].state.as_str(),
            status.deliveries[0].attempts
        ),
        ("accepted", 2)
    );
    assert_eq!(
        audit_data(&server, "push_accepted").len(),
        1,
        "audited once"
    );

    // The subscription is gone: the target is disabled, and the user is told.
    endpoint.mode("alice", json!({"answer": 410})).await;
    let second = app.client.create_approval(&login("alice")).await.unwrap();
    endpoint
        .wait_for(|r| r.iter().any(|x| to("alice")(x) && x["status"] == 410))
        .await;
    let mut disabled = false;
    for _ in 0..100 {
        let devices = device.devices().await.unwrap();
        if devices.iter().any(|d| !d.push_working) {
            disabled = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(disabled, "the device list shows the target no longer works");
    let me = &device.devices().await.unwrap()[0];
    assert_eq!(me.push_channel, "web_push");
    let alerts = device.alerts().await.unwrap();
    assert!(
        alerts.iter().any(|a| a.kind == "push_target_disabled"),
        "the user is told: {alerts:?}"
    );
    assert_eq!(audit_data(&server, "push_target_disabled").len(), 1);
    let status = app.client.approval(&second.id, None).await.unwrap();
    assert_eq!(status.deliveries[0].state, "failed");

    // The next request is not sent there.
    let before = endpoint.received().len();
    let third = app.client.create_approval(&login("alice")).await.unwrap();
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(
        endpoint.received().len(),
        before,
        "nothing sent to a gone target"
    );
    let status = app.client.approval(&third.id, None).await.unwrap();
    assert!(status.deliveries.is_empty());
    assert_eq!(status.state, ApprovalState::Pending);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn private_endpoints_are_refused_unless_the_operator_allows_them() {
    let endpoint = Endpoint::start();
    let strict = TestServer::spawn().await;
    let device = strict.user_with_device("alice").await;
    let loopback = endpoint.subscription("alice").await;
    let refused = device.subscribe_push(&loopback).await;
    assert_eq!(
        crate::support::code_of(refused),
        assent_proto::ProblemCode::InvalidRequest
    );
    for url in [
        "https://10.0.0.1/push",
        "https://169.254.169.254/latest",
        "https://[::1]/p",
        "http://push.example/x",
    ] {
        let body = PushSubscriptionBody {
            endpoint: url.into(),
            ..loopback.clone()
        };
        assert!(device.subscribe_push(&body).await.is_err(), "{url}");
    }
    let https = PushSubscriptionBody {
        endpoint: "https://push.example/x".into(),
        ..loopback.clone()
    };
    device.subscribe_push(&https).await.unwrap();
    let open = server().await;
    let device = open.user_with_device("alice").await;
    device.subscribe_push(&loopback).await.unwrap();
}

/// Fast retries and a short lease, so a restart resends what it owes within the test.
const PUSH_ENV: &[(&str, &str)] = &[
    ("ASSENT_PUSH__ALLOW_PRIVATE_ENDPOINTS", "true"),
    ("ASSENT_PUSH__POLL_MS", "100"),
    ("ASSENT_PUSH__TIMEOUT_SECS", "2"),
    ("ASSENT_PUSH__LEASE_SECS", "3"),
    ("ASSENT_PUSH__INITIAL_BACKOFF_MS", "200"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_owed_when_the_server_is_killed_are_sent_after_it_starts_again() {
    let endpoint = Endpoint::start();
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    let mut server = start_serve(&data, port, PUSH_ENV).await;
    let admin_key = assent_server::data_dir::read_admin_key(&data).unwrap();
    let admin = assent_client::AdminClient::new(&base, &admin_key).unwrap();
    let app = admin.create_app("Acme").await.unwrap();
    let rp = assent_client::RpClient::new(&base, &app.api_key).unwrap();
    let mut devices = Vec::new();
    for user in ["alice", "bob", "carol"] {
        admin.create_user(user).await.unwrap();
        let link = admin.create_enrollment(user).await.unwrap().link;
        let device = DeviceClient::enroll(&link, "phone", "test").await.unwrap();
        device
            .subscribe_push(&endpoint.subscription(user).await)
            .await
            .unwrap();
        devices.push(device);
    }
    // Alice's push is accepted before the kill.
    rp.create_approval(&login("alice")).await.unwrap();
    endpoint.wait_for(|r| accepted_for(r, "alice") == 1).await;
    // Bob's and Carol's are refused for now (to be retried later), then the server dies.
    for user in ["bob", "carol"] {
        endpoint
            .mode(user, json!({"answer": 429, "times": 1, "retry_after": 2}))
            .await;
        rp.create_approval(&login(user)).await.unwrap();
    }
    endpoint
        .wait_for(|r| {
            ["bob", "carol"]
                .iter()
                .all(|u| r.iter().any(|x| to(u)(x) && x["status"] == 429))
        })
        .await;
    server.kill().unwrap();
    server.wait().unwrap();

    let mut server = start_serve(&data, port, PUSH_ENV).await;
    let received = endpoint
        .wait_for(|r| accepted_for(r, "bob") == 1 && accepted_for(r, "carol") == 1)
        .await;
    // A moment more for anything that would be sent twice.
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert!(endpoint.received().len() >= received.len());
    let received = endpoint.received();
    for user in ["alice", "bob", "carol"] {
        assert_eq!(accepted_for(&received, user), 1, "{user}: {received:#?}");
    }
    assert_eq!(
        received.iter().filter(|r| to("alice")(r)).count(),
        1,
        "nothing sent again to an endpoint that had accepted it"
    );
    server.kill().unwrap();
    server.wait().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_postgres_nodes_send_each_push_once() {
    two_nodes_send_each_push_once(true).await;
}

/// A node without a sender (`push.deliver = false`) leaves its pushes queued in the outbox;
/// the other node is woken across the database, claims them and sends each once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_without_a_sender_has_its_pushes_sent_by_another() {
    two_nodes_send_each_push_once(false).await;
}

/// Half the requests through each of two PostgreSQL nodes; `b_sends` says whether the second
/// node runs a sender too.
async fn two_nodes_send_each_push_once(b_sends: bool) {
    assent_testkit::postgres::with_postgres(|url| async move {
        let endpoint = Endpoint::start();
        let fast = move |c: &mut assent_server::Config, url: &str| {
            c.database = DatabaseUrl(url.to_owned());
            c.push.allow_private_endpoints = true;
            // Without a second sender, only the wake-up across the database (not a look at
            // the outbox on a timer) gets the second node's pushes sent in time.
            c.push.poll_ms = if b_sends { 20 } else { 30_000 };
        };
        let a = TestServer::spawn_with({
            let url = url.clone();
            move |c| fast(c, &url)
        })
        .await;
        let b_dir = tempfile::tempdir().unwrap();
        let b = crate::nodes::join_with(&a, &url, &b_dir, move |c| {
            c.push.allow_private_endpoints = true;
            c.push.poll_ms = 20;
            c.push.deliver = b_sends;
        })
        .await;
        let app = a.app("Acme").await;
        let rp_b = assent_client::RpClient::new(&b.base, &app.api_key).unwrap();
        let users: Vec<String> = (0..12).map(|i| format!("user{i}")).collect();
        for user in &users {
            subscribed(&a, &endpoint, user).await;
        }
        // Each in-process node keeps its own test clock, started as it started: put the first
        // node's ahead, so that it sees the second node's pushes as due.
        a.clock.advance(time::Duration::seconds(10));
        for (i, user) in users.iter().enumerate() {
            // Half the requests through each node.
            let rp = if i % 2 == 0 { &app.client } else { &rp_b };
            rp.create_approval(&login(user)).await.unwrap();
        }
        endpoint
            .wait_for(|r| users.iter().all(|u| accepted_for(r, u) >= 1))
            .await;
        tokio::time::sleep(Duration::from_millis(500)).await;
        let received = endpoint.received();
        for user in &users {
            assert_eq!(
                received.iter().filter(|r| to(user)(r)).count(),
                1,
                "{user}'s push was sent once: {received:#?}"
            );
        }
    })
    .await;
}

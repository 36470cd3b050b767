//! APNs, FCM and e-mail end to end: a real server sends to endpoints written in Python
//! (`tests/interop/apns_endpoint.py`, `fcm_endpoint.py`, `smtp_server.py`) that make the
//! services' own checks with PyJWT and Python's e-mail parser. A request reaches a native app
//! with the headers its service requires and nothing sensitive; a token the service calls gone
//! is disabled and not pushed to again; native tokens are checked at registration; security
//! alerts are e-mailed to the user and admin alerts to the admins, with no secret in them.

use crate::support::{audit_data, code_of, python, repo_root};
use assent_client::{DeviceClient, RpClient};
use assent_proto::ProblemCode;
use assent_proto::api::{Delivery, DeviceView};
use assent_proto::enrollment_link::EnrollmentLink;
use assent_proto::jose::{SigningKey, b64};
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, login, transfer};
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// A Python endpoint run as a child process, killed when dropped.
struct Peer {
    child: Child,
    port: u16,
}

impl Peer {
    fn start(script: &str, args: &[String]) -> Peer {
        let mut child = Command::new(python())
            .arg(repo_root().join("tests/interop").join(script))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("the Python endpoint starts");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let Ok(port) = line.trim().parse() else {
            let _ = child.kill();
            panic!("{script} did not print its port (see its stderr above): {line:?}");
        };
        Peer { child, port }
    }
}

impl Drop for Peer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// What an endpoint recorded, one JSON value per line.
fn recorded(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

/// Waits (at most 15 seconds) until `what` holds of the lines recorded in `log`.
async fn recorded_when(log: &Path, what: impl Fn(&[Value]) -> bool) -> Vec<Value> {
    for _ in 0..300 {
        let lines = recorded(log);
        if what(&lines) {
            return lines;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!(
        "the endpoint never received what was expected: {:#?}",
        recorded(log)
    );
}

/// Waits (at most 15 seconds) until the request's deliveries, as its relying party sees them,
/// satisfy `what`.
async fn deliveries_when(
    rp: &RpClient,
    id: &str,
    what: impl Fn(&[Delivery]) -> bool,
) -> Vec<Delivery> {
    let mut last = Vec::new();
    for _ in 0..300 {
        last = rp.approval(id, None).await.unwrap().deliveries;
        if what(&last) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the deliveries of {id} never got there: {last:#?}");
}

/// The devices of `user`, as the admin sees them.
async fn devices_of(server: &TestServer, user: &str) -> Vec<DeviceView> {
    server.admin.list_devices(Some(user)).await.unwrap().devices
}

/// Seconds since the Unix epoch of an RFC 3339 time.
fn unix(rfc3339: &str) -> i64 {
    OffsetDateTime::parse(rfc3339, &Rfc3339)
        .unwrap()
        .unix_timestamp()
}

/// Standard base64 with padding (PEM), from the base64url the protocol crate speaks.
fn standard_b64(bytes: &[u8]) -> String {
    let mut text = b64(bytes).replace('-', "+").replace('_', "/");
    while !text.len().is_multiple_of(4) {
        text.push('=');
    }
    text
}

fn pem(label: &str, der: &[u8]) -> String {
    let text = standard_b64(der);
    let lines: Vec<&str> = text
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

fn path_arg(path: &Path) -> String {
    path.display().to_string()
}

/// Quick retries, so a test waits for the dispatcher in tenths of a second.
fn quick(c: &mut assent_server::Config) {
    c.push.poll_ms = 50;
    c.push.initial_backoff_ms = 100;
}

// ---------------------------------------------------------------------------------------------
// APNs

const TEAM: &str = "TEAM123456";
const KEY_ID: &str = "KEY1234567";
const TOPIC: &str = "org.assent.app";
const IPHONE: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const UNINSTALLED: &str = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0";

/// An APNs-shaped endpoint that knows the provider's public key and answers `Unregistered`
/// for [`UNINSTALLED`].
struct Apns {
    log: PathBuf,
    key_file: PathBuf,
    ca_file: PathBuf,
    peer: Peer,
    _dir: tempfile::TempDir,
}

impl Apns {
    fn start() -> Apns {
        let dir = tempfile::tempdir().unwrap();
        let key_file = dir.path().join("AuthKey.p8");
        let key = SigningKey::generate().unwrap();
        std::fs::write(&key_file, pem("PRIVATE KEY", key.pkcs8())).unwrap();
        let ca_file = dir.path().join("ca.pem");
        let log = dir.path().join("apns.jsonl");
        let args = [
            "--ca-out",
            &path_arg(&ca_file),
            "--key",
            &path_arg(&key_file),
            "--team",
            TEAM,
            "--key-id",
            KEY_ID,
            "--topic",
            TOPIC,
            "--log",
            &path_arg(&log),
            "--gone",
            UNINSTALLED,
        ]
        .map(str::to_owned);
        let peer = Peer::start("apns_endpoint.py", &args);
        Apns {
            log,
            key_file,
            ca_file,
            peer,
            _dir: dir,
        }
    }

    /// A server that sends APNs pushes to this endpoint.
    async fn server(&self) -> TestServer {
        TestServer::spawn_with(|c| {
            quick(c);
            c.push.apns.key_file = path_arg(&self.key_file);
            c.push.apns.key_id = KEY_ID.into();
            c.push.apns.team_id = TEAM.into();
            c.push.apns.topic = TOPIC.into();
            c.push.apns.base_url = format!("https://127.0.0.1:{}", self.peer.port);
            c.push.apns.ca_file = path_arg(&self.ca_file);
        })
        .await
    }

    fn to(&self, token: &str) -> Vec<Value> {
        recorded(&self.log)
            .into_iter()
            .filter(|r| r["device"] == token)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_reaches_apns_with_apples_headers_a_valid_provider_token_and_no_secret() {
    let apns = Apns::start();
    let server = apns.server().await;
    let app = server.app("Acme Bank").await;
    let alice = server.user_with_device("alice").await;
    alice.register_push_token("apns", IPHONE).await.unwrap();
    let devices = devices_of(&server, "alice").await;
    assert_eq!(devices[0].push_channel, "apns");
    assert!(devices[0].push_working);

    let created = app
        .client
        .create_approval(&transfer("alice", "1234.56"))
        .await
        .unwrap();
    let deliveries = deliveries_when(&app.client, &created.id, |d| {
        d.iter().any(|d| d.state == "accepted")
    })
    .await;
    assert_eq!(deliveries.len(), 1, "{deliveries:#?}");
    assert_eq!(deliveries[0].channel, "apns");
    assert_eq!(deliveries[0].device_id, alice.profile().device_id);
    assert_eq!(deliveries[0].attempts, 1);
    assert_eq!(deliveries[0].error, None);

    let pushes = recorded(&apns.log);
    assert_eq!(pushes.len(), 1, "exactly one push: {pushes:#?}");
    let push = &pushes[0];
    // The endpoint verified the provider token (ES256 with the team's key, kid, iss, iat),
    // HTTP/2 and the headers, as Apple does.
    assert_eq!(push["problems"], json!([]), "{push:#}");
    assert_eq!(push["status"], 200);
    assert_eq!(push["http_version"], "2");
    assert_eq!(push["device"], IPHONE);
    assert!(
        push["jwt"]
            .as_str()
            .is_some_and(|t| t.split('.').count() == 3)
    );
    let headers = &push["headers"];
    assert_eq!(headers["apns-topic"], TOPIC);
    assert_eq!(headers["apns-push-type"], "alert");
    assert_eq!(headers["apns-priority"], "10");
    assert_eq!(
        headers["apns-expiration"],
        unix(&created.expires_at).to_string(),
        "the push expires with its request"
    );
    let collapse = headers["apns-collapse-id"].as_str().unwrap().to_owned();
    assert!((1..=64).contains(&collapse.len()), "{collapse}");
    assert_eq!(
        push["body"]["assent"],
        json!({"type": "approval", "id": created.id, "app": "Acme Bank"})
    );
    let body = push["body"].to_string();
    let code = created.display_code.clone().unwrap();
    for secret in [
        "Send 1234.56",
        "1234.56",
        "Bob",
        "EUR",
        "payment_initiation",
        &code,
        &app.api_key,
    ] {
        assert!(!body.contains(secret), "{secret:?} is in the push: {body}");
    }

    // A second request (it supersedes the first) reuses the provider token, and replaces the
    // first notification on the phone (the same collapse id).
    let second = app.client.create_approval(&login("alice")).await.unwrap();
    deliveries_when(&app.client, &second.id, |d| {
        d.iter().any(|d| d.state == "accepted")
    })
    .await;
    let pushes = recorded(&apns.log);
    assert_eq!(pushes.len(), 2, "{pushes:#?}");
    assert_eq!(pushes[1]["problems"], json!([]));
    assert_eq!(pushes[1]["body"]["assent"]["id"], second.id);
    assert_eq!(pushes[1]["jwt"], pushes[0]["jwt"], "one provider token");
    assert_eq!(pushes[1]["headers"]["apns-collapse-id"], collapse.as_str());
    assert!(!pushes[1]["body"].to_string().contains("Sign in to Acme"));
    assert_eq!(audit_data(&server, "push_accepted").len(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_apns_token_apple_calls_unregistered_is_disabled_and_not_pushed_to_again() {
    let apns = Apns::start();
    let server = apns.server().await;
    let app = server.app("Acme").await;
    let bob = server.user_with_device("bob").await;
    bob.register_push_token("apns", UNINSTALLED).await.unwrap();
    let alice = server.user_with_device("alice").await;
    alice.register_push_token("apns", IPHONE).await.unwrap();

    let created = app.client.create_approval(&login("bob")).await.unwrap();
    let deliveries = deliveries_when(&app.client, &created.id, |d| {
        d.iter().any(|d| d.state == "failed")
    })
    .await;
    assert_eq!(deliveries.len(), 1);
    assert_eq!(deliveries[0].channel, "apns");
    assert!(
        deliveries[0]
            .error
            .as_deref()
            .is_some_and(|e| e.contains("no longer installed")),
        "{deliveries:#?}"
    );
    assert_eq!(apns.to(UNINSTALLED)[0]["status"], 410);

    // The target is disabled, audited, and its user told.
    let devices = devices_of(&server, "bob").await;
    assert_eq!(devices[0].push_channel, "apns");
    assert!(!devices[0].push_working, "{devices:#?}");
    let disabled = audit_data(&server, "push_target_disabled");
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert!(
        disabled[0].contains(&bob.profile().device_id),
        "{disabled:?}"
    );
    assert!(disabled[0].contains("apns"), "{disabled:?}");
    let alerts = bob.alerts().await.unwrap();
    assert!(
        alerts.iter().any(|a| a.kind == "push_target_disabled"),
        "{alerts:?}"
    );

    // The next request owes bob no push. Alice's request, made after it, is the sentinel:
    // once hers has arrived, one to bob would have too.
    let next = app.client.create_approval(&login("bob")).await.unwrap();
    let sentinel = app.client.create_approval(&login("alice")).await.unwrap();
    deliveries_when(&app.client, &sentinel.id, |d| {
        d.iter().any(|d| d.state == "accepted")
    })
    .await;
    assert_eq!(
        app.client
            .approval(&next.id, None)
            .await
            .unwrap()
            .deliveries,
        []
    );
    assert_eq!(apns.to(UNINSTALLED).len(), 1, "{:#?}", recorded(&apns.log));
    assert_eq!(apns.to(IPHONE).len(), 1);

    // Registering a token again turns pushes back on.
    bob.register_push_token("apns", IPHONE).await.unwrap();
    assert!(devices_of(&server, "bob").await[0].push_working);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// FCM

const PROJECT: &str = "assent-test";
const CLIENT_EMAIL: &str = "assent@assent-test.iam.gserviceaccount.com";
const PRIVATE_KEY_ID: &str = "4f1c0ffee0ddba11";
const ANDROID: &str = "dGVzdA:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_aD2bd0";
const ANDROID_GONE: &str = "gone:APA91bGone";

/// An RSA key as a service account holds it, made by Python's `cryptography`.
fn rsa_key_pem(dir: &Path) -> PathBuf {
    let path = dir.join("service-account-key.pem");
    let status = Command::new(python())
        .arg(repo_root().join("tests/interop/make_rsa_key.py"))
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "make_rsa_key.py failed");
    path
}

/// A service-account file whose key is `key_file` and whose token URI is `token_uri`.
fn service_account(dir: &Path, key_file: &Path, token_uri: &str) -> PathBuf {
    let account = json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": PRIVATE_KEY_ID,
        "private_key": std::fs::read_to_string(key_file).unwrap(),
        "client_email": CLIENT_EMAIL,
        "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    });
    let path = dir.join("service-account.json");
    std::fs::write(&path, account.to_string()).unwrap();
    path
}

/// An FCM-shaped endpoint (OAuth token endpoint and `messages:send`) that answers
/// `UNREGISTERED` for [`ANDROID_GONE`].
struct Fcm {
    log: PathBuf,
    account_file: PathBuf,
    base_url: String,
    _peer: Peer,
    _dir: tempfile::TempDir,
}

impl Fcm {
    fn start() -> Fcm {
        let dir = tempfile::tempdir().unwrap();
        let key_file = rsa_key_pem(dir.path());
        let log = dir.path().join("fcm.jsonl");
        let args = [
            "--key",
            &path_arg(&key_file),
            "--client-email",
            CLIENT_EMAIL,
            "--key-id",
            PRIVATE_KEY_ID,
            "--project",
            PROJECT,
            "--log",
            &path_arg(&log),
            "--unregistered",
            ANDROID_GONE,
        ]
        .map(str::to_owned);
        let peer = Peer::start("fcm_endpoint.py", &args);
        let base_url = format!("http://127.0.0.1:{}", peer.port);
        let account_file = service_account(dir.path(), &key_file, &format!("{base_url}/token"));
        Fcm {
            log,
            account_file,
            base_url,
            _peer: peer,
            _dir: dir,
        }
    }

    async fn server(&self) -> TestServer {
        TestServer::spawn_with(|c| {
            quick(c);
            c.push.fcm.service_account_file = path_arg(&self.account_file);
            c.push.fcm.base_url = self.base_url.clone();
        })
        .await
    }

    fn of_kind(&self, kind: &str) -> Vec<Value> {
        recorded(&self.log)
            .into_iter()
            .filter(|r| r["kind"] == kind)
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_reaches_fcm_as_a_high_priority_data_message_with_one_access_token() {
    let fcm = Fcm::start();
    let server = fcm.server().await;
    let app = server.app("Acme Bank").await;
    let alice = server.user_with_device("alice").await;
    alice.register_push_token("fcm", ANDROID).await.unwrap();
    assert_eq!(devices_of(&server, "alice").await[0].push_channel, "fcm");

    let created = app
        .client
        .create_approval(&transfer("alice", "1234.56"))
        .await
        .unwrap();
    let deliveries = deliveries_when(&app.client, &created.id, |d| {
        d.iter().any(|d| d.state == "accepted")
    })
    .await;
    assert_eq!(deliveries.len(), 1, "{deliveries:#?}");
    assert_eq!(deliveries[0].channel, "fcm");
    assert_eq!(deliveries[0].device_id, alice.profile().device_id);

    // The endpoint verified the RS256 assertion (key, kid, iss, aud, scope, lifetime) once.
    let tokens = fcm.of_kind("token");
    assert_eq!(tokens.len(), 1, "{tokens:#?}");
    assert_eq!(tokens[0]["problems"], json!([]));
    let sends = fcm.of_kind("send");
    assert_eq!(sends.len(), 1, "{sends:#?}");
    let send = &sends[0];
    assert_eq!(send["problems"], json!([]));
    assert_eq!(send["status"], 200);
    assert_eq!(send["bearer"], tokens[0]["access_token"]);
    let message = &send["body"]["message"];
    assert_eq!(message["token"], ANDROID);
    assert_eq!(
        message["data"],
        json!({"type": "approval", "id": created.id, "app": "Acme Bank"}),
        "a data message: the app shows it, no notification block"
    );
    assert!(message.get("notification").is_none());
    assert_eq!(message["android"]["priority"], "high");
    let left = unix(&created.expires_at) - server.assent.now().unix_timestamp();
    assert_eq!(
        message["android"]["ttl"],
        format!("{left}s"),
        "the time the request has left"
    );
    assert!(message["android"]["collapse_key"].is_string());
    let body = send["body"].to_string();
    let code = created.display_code.clone().unwrap();
    for secret in ["1234.56", "Bob", "EUR", "payment_initiation", &code] {
        assert!(!body.contains(secret), "{secret:?} is in the push: {body}");
    }

    // A second request reuses the access token.
    let second = app.client.create_approval(&login("alice")).await.unwrap();
    deliveries_when(&app.client, &second.id, |d| {
        d.iter().any(|d| d.state == "accepted")
    })
    .await;
    assert_eq!(fcm.of_kind("token").len(), 1);
    assert_eq!(fcm.of_kind("send").len(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_fcm_token_google_calls_unregistered_is_disabled() {
    let fcm = Fcm::start();
    let server = fcm.server().await;
    let app = server.app("Acme").await;
    let bob = server.user_with_device("bob").await;
    bob.register_push_token("fcm", ANDROID_GONE).await.unwrap();

    let created = app.client.create_approval(&login("bob")).await.unwrap();
    let deliveries = deliveries_when(&app.client, &created.id, |d| {
        d.iter().any(|d| d.state == "failed")
    })
    .await;
    assert_eq!(deliveries[0].channel, "fcm");
    assert_eq!(fcm.of_kind("send")[0]["status"], 404);
    let devices = devices_of(&server, "bob").await;
    assert!(!devices[0].push_working, "{devices:#?}");
    let disabled = audit_data(&server, "push_target_disabled");
    assert_eq!(disabled.len(), 1, "{disabled:?}");
    assert!(disabled[0].contains("fcm") && disabled[0].contains(&bob.profile().device_id));

    let next = app.client.create_approval(&login("bob")).await.unwrap();
    assert_eq!(
        app.client
            .approval(&next.id, None)
            .await
            .unwrap()
            .deliveries,
        []
    );
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// Registration

#[tokio::test]
async fn native_tokens_are_refused_when_their_service_is_not_configured() {
    let server = TestServer::spawn().await;
    let device = server.user_with_device("alice").await;
    for (channel, token) in [("apns", IPHONE), ("fcm", ANDROID), ("sms", "123")] {
        assert_eq!(
            code_of(device.register_push_token(channel, token).await),
            ProblemCode::InvalidRequest,
            "{channel}"
        );
    }
    let devices = devices_of(&server, "alice").await;
    assert_eq!(devices[0].push_channel, "stream");
    assert!(!devices[0].push_working);
    assert!(audit_data(&server, "push_subscribed").is_empty());
    server.stop().await;
}

#[tokio::test]
async fn malformed_native_tokens_are_refused() {
    // Both services configured, pointed at nothing: the tokens are refused before any send.
    let dir = tempfile::tempdir().unwrap();
    let apns_key = dir.path().join("AuthKey.p8");
    std::fs::write(
        &apns_key,
        pem("PRIVATE KEY", SigningKey::generate().unwrap().pkcs8()),
    )
    .unwrap();
    let rsa_key = rsa_key_pem(dir.path());
    let account = service_account(dir.path(), &rsa_key, "http://127.0.0.1:1/token");
    let server = TestServer::spawn_with(|c| {
        c.push.apns.key_file = path_arg(&apns_key);
        c.push.apns.key_id = KEY_ID.into();
        c.push.apns.team_id = TEAM.into();
        c.push.apns.topic = TOPIC.into();
        c.push.apns.base_url = "https://127.0.0.1:1".into();
        c.push.fcm.service_account_file = path_arg(&account);
        c.push.fcm.base_url = "http://127.0.0.1:1".into();
    })
    .await;
    let device = server.user_with_device("alice").await;
    let long_hex = "a".repeat(201);
    let long_fcm = "a".repeat(4097);
    for token in ["", "not-hex", "../../x", "a1 b2", "a1\nb2", &long_hex] {
        assert_eq!(
            code_of(device.register_push_token("apns", token).await),
            ProblemCode::InvalidRequest,
            "apns {token:?}"
        );
    }
    for token in ["", "a/b", "with space", "x\ny", "../x?y=1", &long_fcm] {
        assert_eq!(
            code_of(device.register_push_token("fcm", token).await),
            ProblemCode::InvalidRequest,
            "fcm {token:?}"
        );
    }
    assert_eq!(devices_of(&server, "alice").await[0].push_channel, "stream");
    assert!(audit_data(&server, "push_subscribed").is_empty());

    // Well-formed tokens are taken, each replacing the last.
    device.register_push_token("apns", IPHONE).await.unwrap();
    assert_eq!(devices_of(&server, "alice").await[0].push_channel, "apns");
    device.register_push_token("fcm", ANDROID).await.unwrap();
    let devices = devices_of(&server, "alice").await;
    assert_eq!(devices[0].push_channel, "fcm");
    assert!(devices[0].push_working);
    assert_eq!(audit_data(&server, "push_subscribed").len(), 2);
    server.stop().await;
}

// ---------------------------------------------------------------------------------------------
// E-mail

/// An SMTP relay (plain, on loopback) that records every message.
pub(crate) struct Relay {
    dir: tempfile::TempDir,
    peer: Peer,
}

impl Relay {
    pub(crate) fn start() -> Relay {
        let dir = tempfile::tempdir().unwrap();
        let log = path_arg(&dir.path().join("received.jsonl"));
        let peer = Peer::start("smtp_server.py", &[log]);
        Relay { dir, peer }
    }

    fn received(&self) -> Vec<Value> {
        recorded(&self.dir.path().join("received.jsonl"))
    }

    /// Waits for the messages to `to`, until `what` holds of them.
    pub(crate) async fn to_when(&self, to: &str, what: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let log = self.dir.path().join("received.jsonl");
        let mine = |all: &[Value]| -> Vec<Value> {
            all.iter()
                .filter(|m| m["rcpt_tos"] == json!([to]))
                .cloned()
                .collect()
        };
        let all = recorded_when(&log, |all| what(&mine(all))).await;
        mine(&all)
    }

    async fn server(&self) -> TestServer {
        TestServer::spawn_with(|c| {
            quick(c);
            self.configure(c);
        })
        .await
    }

    /// Sends e-mail through this relay, with [`ADMINS`] as the admin recipients.
    pub(crate) fn configure(&self, c: &mut assent_server::Config) {
        c.email.host = "127.0.0.1".into();
        c.email.port = self.peer.port;
        c.email.tls = "none".into();
        c.email.from = "Assent <assent@acme.example>".into();
        c.email.admin_recipients = vec![ADMINS.into()];
    }
}

pub(crate) const ADMINS: &str = "security@acme.example";

pub(crate) fn subject(message: &Value) -> &str {
    message["headers"]["Subject"].as_str().unwrap_or_default()
}

fn with_subject(messages: &[Value], wanted: &str) -> usize {
    messages.iter().filter(|m| subject(m) == wanted).count()
}

/// Enrolls a device with a fresh link from the admin; returns it with the link.
async fn enroll(server: &TestServer, user: &str, name: &str) -> (DeviceClient, String) {
    let link = server.admin.create_enrollment(user).await.unwrap().link;
    let device = DeviceClient::enroll(&link, name, "test").await.unwrap();
    (device, link)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn security_alerts_are_emailed_to_the_user_and_admin_alerts_to_the_admins_without_secrets() {
    let relay = Relay::start();
    let server = relay.server().await;
    let app = server.app("Acme Bank").await;
    server.user("alice").await;
    let (phone, first_link) = enroll(&server, "alice", "phone").await;
    server
        .admin
        .set_user_email("alice", Some("alice@acme.example"))
        .await
        .unwrap();
    let set = audit_data(&server, "user_email_set");
    assert_eq!(set.len(), 1);
    assert!(!set[0].contains("alice@acme.example"), "{set:?}");

    // A second device: alice hears of it by e-mail.
    let (_laptop, second_link) = enroll(&server, "alice", "laptop").await;
    let new_device = "Assent security notice: a new device was added";
    let mail = relay
        .to_when("alice@acme.example", |m| with_subject(m, new_device) == 1)
        .await;
    let message = mail.iter().find(|m| subject(m) == new_device).unwrap();
    assert_eq!(message["mail_from"], "assent@acme.example");
    assert_eq!(message["headers"]["From"], "Assent <assent@acme.example>");
    assert_eq!(message["headers"]["To"], "alice@acme.example");
    let body = message["body"].as_str().unwrap();
    assert!(
        body.contains("New device enrolled: laptop (test)"),
        "{body}"
    );
    assert!(
        body.contains("Open Assent on one of your devices"),
        "{body}"
    );

    // Alice reports a request as not hers: push is suspended; she and the admins are told.
    let mut request = transfer("alice", "1234.56");
    request.binding_message = Some("Pay Mallory 1234.56 EUR".into());
    let created = app.client.create_approval(&request).await.unwrap();
    phone
        .decide(&created.id, Decision::Fraud, None)
        .await
        .unwrap();
    let admin_subject = "Assent admin alert: push suspended for alice";
    let to_admins = relay
        .to_when(ADMINS, |m| with_subject(m, admin_subject) == 1)
        .await;
    let admin_alert = to_admins
        .iter()
        .find(|m| subject(m) == admin_subject)
        .unwrap();
    let body = admin_alert["body"].as_str().unwrap();
    assert!(body.contains("fraud_reported"), "{body}");
    assert!(body.contains("push_suspended events"), "{body}");
    let paused = "Assent security notice: approval requests are paused";
    relay
        .to_when("alice@acme.example", |m| with_subject(m, paused) == 1)
        .await;

    // No secret in any message, in its raw form or decoded.
    let data_key = std::fs::read(
        server
            .data_dir()
            .join(assent_server::data_dir::DATA_KEY_FILE),
    )
    .unwrap();
    let mut secrets = vec![
        first_link.clone(),
        second_link.clone(),
        EnrollmentLink::parse(&first_link).unwrap().code,
        EnrollmentLink::parse(&second_link).unwrap().code,
        created.display_code.clone().unwrap(),
        app.api_key.clone(),
        server.admin_key.clone(),
        "Pay Mallory".into(),
        "1234.56".into(),
        "Bob Martin".into(),
    ];
    for encoded in [hex(&data_key), b64(&data_key), standard_b64(&data_key)] {
        secrets.push(encoded[..16].to_owned());
    }
    let received = relay.received();
    assert!(received.len() >= 3, "{received:#?}");
    for message in &received {
        let seen = format!(
            "{}\n{}\n{}",
            message["data"], message["body"], message["headers"]
        );
        for secret in &secrets {
            assert!(
                !seen.contains(secret.as_str()),
                "{secret:?} is in an e-mail: {seen}"
            );
        }
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn email_addresses_are_checked_and_a_relying_party_may_set_them() {
    let relay = Relay::start();
    let server = relay.server().await;
    let app = server.app("Acme").await;
    server.user("bob").await;
    server.user("carol").await;
    for bad in [
        "bob",
        "bob@localhost",
        "bob @acme.example",
        "<bob@acme.example>",
    ] {
        assert_eq!(
            code_of(server.admin.set_user_email("bob", Some(bad)).await),
            ProblemCode::InvalidRequest,
            "admin {bad:?}"
        );
        assert_eq!(
            code_of(app.client.set_user_email("bob", Some(bad)).await),
            ProblemCode::InvalidRequest,
            "relying party {bad:?}"
        );
    }
    let header_injection = "bob@acme.example\r\nBcc: eve@evil.example";
    assert_eq!(
        code_of(
            app.client
                .set_user_email("bob", Some(header_injection))
                .await
        ),
        ProblemCode::InvalidRequest
    );
    assert_eq!(
        code_of(
            app.client
                .set_user_email("nobody", Some("n@acme.example"))
                .await
        ),
        ProblemCode::NotFound
    );
    assert!(audit_data(&server, "user_email_set").is_empty());

    // The relying party sets bob's address: his new device is e-mailed to him.
    app.client
        .set_user_email("bob", Some("bob@acme.example"))
        .await
        .unwrap();
    server.device("bob", "phone").await;
    relay.to_when("bob@acme.example", |m| m.len() == 1).await;

    // Removed, it is not written to any more: carol's e-mail, sent after, is the sentinel.
    app.client.set_user_email("bob", None).await.unwrap();
    let set = audit_data(&server, "user_email_set");
    assert_eq!(set.len(), 2, "{set:?}");
    assert!(set[1].contains("false"), "{set:?}");
    server.device("bob", "laptop").await;
    server
        .admin
        .set_user_email("carol", Some("carol@acme.example"))
        .await
        .unwrap();
    server.device("carol", "phone").await;
    relay.to_when("carol@acme.example", |m| m.len() == 1).await;
    let to_bob: Vec<_> = relay
        .received()
        .into_iter()
        .filter(|m| m["rcpt_tos"] == json!(["bob@acme.example"]))
        .collect();
    assert_eq!(to_bob.len(), 1, "{to_bob:#?}");
    server.stop().await;
}

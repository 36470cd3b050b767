//! The APNs and FCM senders against independent endpoints written in Python
//! (`tests/interop/apns_endpoint.py`, `tests/interop/fcm_endpoint.py`): real HTTP (HTTP/2 over
//! TLS for APNs), real keys, and the services' checks made with PyJWT, not with our own code.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_delivery::push::apns::{ApnsSender, ApnsSettings};
use assent_delivery::push::fcm::{FcmSender, FcmSettings};
use assent_delivery::push::{Notice, Sent, Urgency};
use assent_proto::jose::SigningKey;
use base64::Engine as _;
use serde_json::{Value, json};
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python with the test peers: `ASSENT_TEST_PYTHON`, else the repository's `.venv`.
fn python() -> PathBuf {
    if let Ok(path) = std::env::var("ASSENT_TEST_PYTHON") {
        return PathBuf::from(path);
    }
    let venv = repo_root().join(".venv/bin/python");
    assert!(
        venv.exists(),
        "no Python test peers: run ./scripts/test.sh (it creates .venv with PyJWT, hypercorn, trustme), or set ASSENT_TEST_PYTHON"
    );
    venv
}

fn interop(script: &str) -> PathBuf {
    repo_root().join("tests/interop").join(script)
}

/// A Python endpoint running as a child process, killed when the test ends.
struct Endpoint {
    child: Child,
    port: u16,
}

impl Endpoint {
    fn start(script: &str, args: &[String]) -> Endpoint {
        let mut child = Command::new(python())
            .arg(interop(script))
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
            panic!("{script} did not report its port (see its stderr above)");
        };
        Endpoint { child, port }
    }
}

impl Drop for Endpoint {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The requests an endpoint recorded, one JSON value per line.
fn recorded(log: &Path) -> Vec<Value> {
    std::fs::read_to_string(log)
        .unwrap_or_default()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

fn pem(label: &str, der: &[u8]) -> String {
    let base64 = base64::engine::general_purpose::STANDARD.encode(der);
    let lines: Vec<&str> = base64
        .as_bytes()
        .chunks(64)
        .map(|c| std::str::from_utf8(c).unwrap())
        .collect();
    format!(
        "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
        lines.join("\n")
    )
}

const EXPIRES_AT: i64 = 2_000_000_000;

fn approval() -> Notice {
    Notice {
        payload: br#"{"type":"approval","id":"apr_1","app":"Acme Bank"}"#.to_vec(),
        urgency: Urgency::High,
        collapse_key: Some("apr_1".into()),
        expires_at: EXPIRES_AT,
        ttl: Duration::from_secs(300),
    }
}

fn alert() -> Notice {
    Notice {
        payload: br#"{"type":"alert","id":"alt_1"}"#.to_vec(),
        urgency: Urgency::Normal,
        collapse_key: None,
        expires_at: EXPIRES_AT,
        ttl: Duration::from_secs(60),
    }
}

// ---------------------------------------------------------------------------------------------
// APNs

const TEAM: &str = "TEAM123456";
const KEY_ID: &str = "KEY1234567";
const TOPIC: &str = "org.assent.app";
const OK: &str = "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1";
const BAD: &str = "b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0";
const GONE: &str = "c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0c0";
const THROTTLED: &str = "dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00dd00";
const EXPIRE: &str = "e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0e0";

struct Apns {
    sender: ApnsSender,
    log: PathBuf,
    _endpoint: Endpoint,
    _dir: tempfile::TempDir,
}

/// An APNs endpoint and a sender pointed at it, the sender signing as `team`.
fn apns_as(team: &str) -> Apns {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("AuthKey.p8");
    let key = SigningKey::generate().unwrap();
    std::fs::write(&key_file, pem("PRIVATE KEY", key.pkcs8())).unwrap();
    let ca_file = dir.path().join("ca.pem");
    let log = dir.path().join("apns.jsonl");
    let path = |p: &Path| p.display().to_string();
    let args = [
        "--ca-out",
        &path(&ca_file),
        "--key",
        &path(&key_file),
        "--team",
        TEAM,
        "--key-id",
        KEY_ID,
        "--topic",
        TOPIC,
        "--log",
        &path(&log),
        "--bad",
        BAD,
        "--gone",
        GONE,
        "--throttle-prefix",
        "dd",
        "--expire-once",
        EXPIRE,
    ]
    .map(str::to_owned);
    let endpoint = Endpoint::start("apns_endpoint.py", &args);
    let sender = ApnsSender::new(ApnsSettings {
        base_url: format!("https://127.0.0.1:{}", endpoint.port),
        team_id: team.into(),
        key_id: KEY_ID.into(),
        key_file,
        topic: TOPIC.into(),
        ca_file: Some(ca_file),
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    Apns {
        sender,
        log,
        _endpoint: endpoint,
        _dir: dir,
    }
}

fn apns() -> Apns {
    apns_as(TEAM)
}

#[tokio::test]
async fn apns_accepts_a_push_with_the_headers_and_body_apple_requires() {
    let apns = apns();
    assert_eq!(apns.sender.send(OK, &approval()).await, Sent::Accepted);
    assert_eq!(apns.sender.send(OK, &alert()).await, Sent::Accepted);

    let requests = recorded(&apns.log);
    assert_eq!(requests.len(), 2);
    let (first, second) = (&requests[0], &requests[1]);
    assert_eq!(first["problems"], json!([]));
    assert_eq!(first["http_version"], "2");
    assert_eq!(first["device"], OK);
    assert_eq!(
        first["headers"],
        json!({
            "apns-topic": TOPIC,
            "apns-push-type": "alert",
            "apns-priority": "10",
            "apns-expiration": EXPIRES_AT.to_string(),
            "apns-collapse-id": "apr_1",
        })
    );
    assert_eq!(
        first["body"],
        json!({
            "aps": {
                "alert": {
                    "title": "Assent: approval requested",
                    "body": "Open Assent to review the request and answer it."
                },
                "sound": "default",
                "mutable-content": 1
            },
            "assent": {"type": "approval", "id": "apr_1", "app": "Acme Bank"}
        })
    );
    assert_eq!(second["problems"], json!([]));
    assert_eq!(second["headers"]["apns-priority"], "5");
    assert!(second["headers"].get("apns-collapse-id").is_none());
    assert_eq!(
        second["body"]["aps"]["alert"]["title"],
        "Assent: security notice"
    );
    assert_eq!(
        second["body"]["assent"],
        json!({"type": "alert", "id": "alt_1"})
    );
}

#[tokio::test]
async fn apns_reuses_one_provider_token() {
    let apns = apns();
    for _ in 0..3 {
        assert_eq!(apns.sender.send(OK, &approval()).await, Sent::Accepted);
    }
    let requests = recorded(&apns.log);
    assert_eq!(requests.len(), 3);
    assert!(requests[0]["jwt"].is_string());
    assert!(requests.iter().all(|r| r["jwt"] == requests[0]["jwt"]));
}

#[tokio::test]
async fn apns_unregistered_and_bad_device_tokens_are_gone() {
    let apns = apns();
    assert!(matches!(
        apns.sender.send(GONE, &approval()).await,
        Sent::Gone { .. }
    ));
    assert!(matches!(
        apns.sender.send(BAD, &approval()).await,
        Sent::Gone { .. }
    ));
    let statuses: Vec<_> = recorded(&apns.log)
        .iter()
        .map(|r| r["status"].clone())
        .collect();
    assert_eq!(statuses, [json!(410), json!(400)]);
}

#[tokio::test]
async fn apns_throttling_is_retried_after_the_time_apple_gives() {
    let apns = apns();
    match apns.sender.send(THROTTLED, &approval()).await {
        Sent::Retry { after, .. } => assert_eq!(after, Some(Duration::from_secs(7))),
        other => panic!("expected a retry, got {other:?}"),
    }
    assert_eq!(
        apns.sender.send(THROTTLED, &approval()).await,
        Sent::Accepted
    );
}

#[tokio::test]
async fn apns_renews_a_provider_token_apple_calls_expired() {
    let apns = apns();
    assert_eq!(apns.sender.send(OK, &approval()).await, Sent::Accepted);
    assert!(matches!(
        apns.sender.send(EXPIRE, &approval()).await,
        Sent::Retry { after: None, .. }
    ));
    assert_eq!(apns.sender.send(EXPIRE, &approval()).await, Sent::Accepted);
    let jwts: Vec<_> = recorded(&apns.log)
        .iter()
        .map(|r| r["jwt"].clone())
        .collect();
    assert_eq!(jwts[0], jwts[1]);
    assert_ne!(
        jwts[1], jwts[2],
        "a new provider token after ExpiredProviderToken"
    );
}

#[tokio::test]
async fn apns_endpoint_refuses_a_provider_token_of_another_team() {
    // The endpoint's check is real: a token that names the wrong team is refused.
    let apns = apns_as("OTHERTEAM1");
    assert!(matches!(
        apns.sender.send(OK, &approval()).await,
        Sent::Retry { after: None, .. }
    ));
    let requests = recorded(&apns.log);
    assert_eq!(requests[0]["status"], 403);
    assert!(requests[0]["problems"][0].as_str().unwrap().contains("iss"));
}

#[tokio::test]
async fn apns_malformed_device_tokens_are_gone_without_a_request() {
    let apns = apns();
    for token in ["", "not-hex", "../../x", &"a".repeat(201)] {
        assert!(matches!(
            apns.sender.send(token, &approval()).await,
            Sent::Gone { .. }
        ));
    }
    assert!(recorded(&apns.log).is_empty());
}

#[test]
fn apns_setup_errors_name_the_file_never_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let key_file = dir.path().join("AuthKey.p8");
    // An RSA-sized blob where a P-256 key belongs.
    let der = vec![7u8; 300];
    let armored = pem("PRIVATE KEY", &der);
    std::fs::write(&key_file, &armored).unwrap();
    let settings = ApnsSettings {
        base_url: "https://127.0.0.1:1".into(),
        team_id: TEAM.into(),
        key_id: KEY_ID.into(),
        key_file: key_file.clone(),
        topic: TOPIC.into(),
        ca_file: None,
        timeout: Duration::from_secs(1),
    };
    let error = ApnsSender::new(settings.clone()).unwrap_err().to_string();
    assert!(error.contains("AuthKey.p8"), "{error}");
    assert!(!error.contains("BwcH"), "{error}");
    let missing = ApnsSettings {
        key_file: dir.path().join("missing.p8"),
        ..settings
    };
    let error = ApnsSender::new(missing).unwrap_err().to_string();
    assert!(error.contains("missing.p8"), "{error}");
}

// ---------------------------------------------------------------------------------------------
// FCM

const PROJECT: &str = "assent-test";
const CLIENT_EMAIL: &str = "assent@assent-test.iam.gserviceaccount.com";
const PRIVATE_KEY_ID: &str = "4f1c0ffee0ddba11";
const ANDROID: &str = "dGVzdA:APA91bHun4MxP5egoKMwt2KZFBaFUH-1RYqx_aD2bd0";
const ANDROID_GONE: &str = "gone:APA91bGone";
const ANDROID_REVOKE: &str = "revoke:APA91bRevoke";

struct Fcm {
    sender: FcmSender,
    log: PathBuf,
    dir: tempfile::TempDir,
    _endpoint: Endpoint,
}

/// An RSA key as a service account holds it, made by Python's `cryptography` (ring cannot
/// generate RSA keys).
fn rsa_key_pem(dir: &Path) -> PathBuf {
    let path = dir.join("service-account-key.pem");
    let status = Command::new(python())
        .arg(interop("make_rsa_key.py"))
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success(), "make_rsa_key.py failed");
    path
}

fn service_account(key_pem: &str, token_uri: &str, client_email: &str) -> Value {
    json!({
        "type": "service_account",
        "project_id": PROJECT,
        "private_key_id": PRIVATE_KEY_ID,
        "private_key": key_pem,
        "client_email": client_email,
        "client_id": "1234567890",
        "auth_uri": "https://accounts.google.com/o/oauth2/auth",
        "token_uri": token_uri,
    })
}

/// An FCM endpoint and a sender pointed at it, the sender's assertions naming `client_email`.
fn fcm_as(client_email: &str) -> Fcm {
    let dir = tempfile::tempdir().unwrap();
    let key_file = rsa_key_pem(dir.path());
    let log = dir.path().join("fcm.jsonl");
    let path = |p: &Path| p.display().to_string();
    let args = [
        "--key",
        &path(&key_file),
        "--client-email",
        CLIENT_EMAIL,
        "--key-id",
        PRIVATE_KEY_ID,
        "--project",
        PROJECT,
        "--log",
        &path(&log),
        "--unregistered",
        ANDROID_GONE,
        "--revoke",
        ANDROID_REVOKE,
    ]
    .map(str::to_owned);
    let endpoint = Endpoint::start("fcm_endpoint.py", &args);
    let base_url = format!("http://127.0.0.1:{}", endpoint.port);
    let key_pem = std::fs::read_to_string(&key_file).unwrap();
    let account = service_account(&key_pem, &format!("{base_url}/token"), client_email);
    let account_file = dir.path().join("service-account.json");
    std::fs::write(&account_file, account.to_string()).unwrap();
    let sender = FcmSender::new(FcmSettings {
        service_account_file: account_file,
        base_url,
        ca_file: None,
        timeout: Duration::from_secs(10),
    })
    .unwrap();
    Fcm {
        sender,
        log,
        dir,
        _endpoint: endpoint,
    }
}

fn fcm() -> Fcm {
    fcm_as(CLIENT_EMAIL)
}

fn of_kind<'a>(requests: &'a [Value], kind: &str) -> Vec<&'a Value> {
    requests.iter().filter(|r| r["kind"] == kind).collect()
}

#[tokio::test]
async fn fcm_fetches_one_access_token_and_reuses_it() {
    let fcm = fcm();
    assert_eq!(fcm.sender.send(ANDROID, &approval()).await, Sent::Accepted);
    assert_eq!(fcm.sender.send(ANDROID, &alert()).await, Sent::Accepted);
    assert_eq!(fcm.sender.send(ANDROID, &approval()).await, Sent::Accepted);

    let requests = recorded(&fcm.log);
    let tokens = of_kind(&requests, "token");
    let sends = of_kind(&requests, "send");
    assert_eq!(tokens.len(), 1, "one token request for three sends");
    assert_eq!(tokens[0]["problems"], json!([]));
    assert_eq!(sends.len(), 3);
    for send in &sends {
        assert_eq!(send["problems"], json!([]));
        assert_eq!(send["bearer"], tokens[0]["access_token"]);
    }
    assert_eq!(
        sends[0]["body"],
        json!({"message": {
            "token": ANDROID,
            "data": {"type": "approval", "id": "apr_1", "app": "Acme Bank"},
            "android": {"priority": "high", "ttl": "300s", "collapse_key": "apr_1"}
        }})
    );
    assert_eq!(
        sends[1]["body"]["message"]["android"],
        json!({"priority": "normal", "ttl": "60s"})
    );
}

#[tokio::test]
async fn fcm_unregistered_tokens_are_gone() {
    let fcm = fcm();
    assert!(matches!(
        fcm.sender.send(ANDROID_GONE, &approval()).await,
        Sent::Gone { .. }
    ));
    let requests = recorded(&fcm.log);
    assert_eq!(of_kind(&requests, "send")[0]["status"], 404);
}

#[tokio::test]
async fn fcm_a_refused_access_token_is_replaced() {
    let fcm = fcm();
    assert!(matches!(
        fcm.sender.send(ANDROID_REVOKE, &approval()).await,
        Sent::Retry { after: None, .. }
    ));
    assert_eq!(fcm.sender.send(ANDROID, &approval()).await, Sent::Accepted);
    let requests = recorded(&fcm.log);
    let tokens = of_kind(&requests, "token");
    assert_eq!(tokens.len(), 2, "a second token after the 401");
    assert_eq!(
        of_kind(&requests, "send")[1]["bearer"],
        tokens[1]["access_token"]
    );
}

#[tokio::test]
async fn fcm_a_refused_assertion_is_retried() {
    // The endpoint's check is real: an assertion naming another account gets no token.
    let fcm = fcm_as("intruder@elsewhere.iam.gserviceaccount.com");
    assert_eq!(
        fcm.sender.send(ANDROID, &approval()).await,
        Sent::Retry {
            after: None,
            error: "the FCM token endpoint answered 400".into()
        }
    );
    let requests = recorded(&fcm.log);
    assert!(of_kind(&requests, "send").is_empty());
    assert!(
        of_kind(&requests, "token")[0]["problems"][0]
            .as_str()
            .unwrap()
            .contains("issuer")
    );
}

#[tokio::test]
async fn fcm_malformed_device_tokens_are_gone_without_a_request() {
    let fcm = fcm();
    for token in ["", "a/b", "with space", &"a".repeat(4097)] {
        assert!(matches!(
            fcm.sender.send(token, &approval()).await,
            Sent::Gone { .. }
        ));
    }
    assert!(recorded(&fcm.log).is_empty());
}

#[tokio::test]
async fn fcm_setup_errors_name_the_file_and_field_never_the_key() {
    let fcm = fcm();
    let key_file = fcm.dir.path().join("service-account-key.pem");
    let key_pem = std::fs::read_to_string(key_file).unwrap();
    let some_key_text = key_pem.lines().nth(5).unwrap().to_owned();
    let settings = |account: &Value| {
        let file = fcm.dir.path().join("broken.json");
        std::fs::write(&file, account.to_string()).unwrap();
        FcmSettings {
            service_account_file: file,
            base_url: "http://127.0.0.1:1".into(),
            ca_file: None,
            timeout: Duration::from_secs(1),
        }
    };
    let complete = service_account(&key_pem, "http://127.0.0.1:1/token", CLIENT_EMAIL);
    for field in [
        "private_key_id",
        "client_email",
        "token_uri",
        "project_id",
        "private_key",
    ] {
        let mut account = complete.clone();
        account.as_object_mut().unwrap().remove(field);
        let error = FcmSender::new(settings(&account)).unwrap_err().to_string();
        assert!(error.contains("broken.json"), "{error}");
        assert!(error.contains(&format!("`{field}`")), "{error}");
        assert!(!error.contains(&some_key_text), "{error}");
    }
    let mut mangled = complete.clone();
    mangled["private_key"] = Value::String(key_pem.replace(&some_key_text, &"A".repeat(64)));
    let error = FcmSender::new(settings(&mangled)).unwrap_err().to_string();
    assert!(error.contains("`private_key`"), "{error}");
    assert!(!error.contains(&some_key_text), "{error}");
}

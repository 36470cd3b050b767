//! Duo's Python client, unmodified, over TLS with each signature it can make (version 5, version
//! 2 with HMAC-SHA512 and with HMAC-SHA1): the calls an integration makes in a login, answered
//! from the command-line authenticator.

use super::{Keys, SIGS, Setup, Sig, Target, device, duo_ok, finish_duo, integration, pending};
use super::{port_of, start_duo};
use crate::support::{python, repo_root, run};
use assent_core::Clock as _;
use assent_server::config::TlsConfig;
use assent_testkit::TestServer;
use serde_json::{Value, json};
use std::path::Path;
use std::time::Duration;

/// A second and a bit: two identical calls within one second would carry the same date and so
/// the same signature, and the second would be refused as a replay.
const NEXT_SECOND: Duration = Duration::from_millis(1100);

/// The code pyotp, an independent TOTP implementation, derives from `uri` at `unix`.
fn pyotp_code(uri: &str, unix: i64) -> String {
    let mut command = std::process::Command::new(python());
    command
        .arg("-c")
        .arg("import sys, pyotp; print(pyotp.parse_uri(sys.argv[1]).at(int(sys.argv[2])))")
        .arg(uri)
        .arg(unix.to_string());
    let (status, out, err) = run(command);
    assert_eq!(status, 0, "pyotp failed: {err}");
    out.trim().to_owned()
}

/// Makes `NAME-ca.pem`, `NAME-chain.pem` and `NAME-key.pem` in `dir` (trustme).
fn certificate(dir: &Path, name: &str) {
    let status = std::process::Command::new(python())
        .arg(repo_root().join("tests/interop/make_tls_cert.py"))
        .arg(dir)
        .arg(name)
        .status()
        .unwrap();
    assert!(status.success(), "trustme made no certificate");
}

/// Enrolls TOTP for `user` through the relying-party API; the otpauth URI.
async fn enroll_totp(target: &Target, api_key: &str, user: &str) -> String {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = std::fs::read(target.ca.as_ref().unwrap()).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only([reqwest::Certificate::from_pem(&ca).unwrap()])
        .build()
        .unwrap();
    let response = http
        .post(format!("{}/v1/users/{user}/totp", target.base()))
        .bearer_auth(api_key)
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 201);
    let body: Value = response.json().await.unwrap();
    body["otpauth_uri"].as_str().unwrap().to_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duo_client_logs_in_over_tls_with_each_signature_version() {
    let dir = tempfile::tempdir().unwrap();
    certificate(dir.path(), "duo");
    let files = TlsConfig {
        cert_file: dir.path().join("duo-chain.pem").display().to_string(),
        key_file: dir.path().join("duo-key.pem").display().to_string(),
    };
    let server = TestServer::spawn_with(|c| c.tls = files).await;
    let target = Target {
        host: "localhost".into(),
        port: port_of(&server),
        ca: Some(dir.path().join("duo-ca.pem")),
    };
    let setup = Setup::new(&server, &target, "alice").await;
    let keys = integration(&server, &target, &setup.app_id, &[]).await;
    let otpauth = enroll_totp(&target, &setup.api_key, "alice").await;
    for (round, sig) in SIGS.into_iter().enumerate() {
        login_round(&server, &target, &setup, &keys, sig, &otpauth).await;
        enroll_round(&server, &target, &keys, sig, round).await;
    }
    server.stop().await;
}

/// ping, check, preauth, a Verified Push approved with its code, a push denied, passcodes.
async fn login_round(
    server: &TestServer,
    target: &Target,
    setup: &Setup,
    keys: &Keys,
    sig: Sig,
    otpauth: &str,
) {
    let now = server.clock.now().unix_timestamp();
    let ping = duo_ok(target, keys, sig, "ping", json!({})).await;
    assert_eq!(ping["time"], now, "{sig:?}: ping tells the server's time");
    let check = duo_ok(target, keys, sig, "check", json!({})).await;
    assert_eq!(check["time"], now);
    let logo = finish_duo(start_duo(target, keys, sig, "logo", &json!({}))).await;
    assert_eq!(logo["status"], 404, "{logo}");
    assert_eq!(logo["body"]["code"], 40401, "{logo}");

    // preauth lists the device and, for a client that shows it, a Verified Push code.
    let verified = json!({"username": "alice", "client_supports_verified_push": "1"});
    let pre = duo_ok(target, keys, sig, "preauth", verified.clone()).await;
    assert_eq!(pre["result"], "auth", "{pre}");
    let devices = pre["devices"].as_array().unwrap();
    assert_eq!(devices.len(), 1, "{pre}");
    assert_eq!(devices[0]["device"], setup.device_id.as_str());
    assert_eq!(devices[0]["type"], "phone");
    assert_eq!(devices[0]["name"], "phone");
    let capabilities = devices[0]["capabilities"].as_array().unwrap();
    assert!(capabilities.contains(&json!("push")) && capabilities.contains(&json!("mobile_otp")));
    assert!(
        pre["prompt"]["text"]
            .as_str()
            .unwrap()
            .contains("Push to phone")
    );
    let code = pre["verification_code"].as_str().unwrap().to_owned();
    assert!(pre["expiration"].as_i64().unwrap() > now);

    // An asynchronous push carrying the preauth's code; the device types it.
    let args =
        json!({"factor": "push", "username": "alice", "async_txn": true, "txid": pre["txid"]});
    let started = duo_ok(target, keys, sig, "auth", args).await;
    assert_eq!(started["verified_push_code"], code.as_str(), "{started}");
    let shown = pending(target, &setup.profile).await;
    assert_eq!(shown.len(), 1);
    assert_eq!(shown[0]["code_required"], true, "{shown:?}");
    let id = shown[0]["id"].as_str().unwrap();
    let (status, out, err) =
        device(target, &setup.profile, &["approve", id, "--code", &code]).await;
    assert_eq!(status, 0, "{out}{err}");
    let args = json!({"txid": started["txid"]});
    let mut ended = duo_ok(target, keys, sig, "auth_status", args.clone()).await;
    for _ in 0..10 {
        if ended["waiting"] != true {
            break;
        }
        tokio::time::sleep(NEXT_SECOND).await;
        ended = duo_ok(target, keys, sig, "auth_status", args.clone()).await;
    }
    // duo_client reads `result` into `success` and `waiting`.
    assert_eq!(
        (&ended["success"], &ended["status"]),
        (&json!(true), &json!("allow")),
        "{sig:?}: {ended}"
    );

    // A synchronous push, waiting while the device denies it.
    tokio::time::sleep(NEXT_SECOND).await;
    let pre = duo_ok(target, keys, sig, "preauth", verified).await;
    let args = json!({"factor": "push", "username": "alice", "txid": pre["txid"]});
    let waiting = start_duo(target, keys, sig, "auth", &args);
    let shown = pending(target, &setup.profile).await;
    let id = shown[0]["id"].as_str().unwrap();
    let (status, out, err) = device(target, &setup.profile, &["deny", id]).await;
    assert_eq!(status, 0, "{out}{err}");
    let denied = finish_duo(waiting).await;
    assert_eq!(denied["ok"]["result"], "deny", "{sig:?}: {denied}");
    assert_eq!(denied["ok"]["status"], "deny", "{denied}");
    assert_eq!(denied["ok"]["approval_id"], id, "{denied}");
    assert!(denied["ok"]["receipt"].is_string(), "{denied}");

    // Passcodes: the user's TOTP now (a new period each round: a code verifies once), and a
    // wrong one.
    server.clock.advance(time::Duration::seconds(30));
    let right = pyotp_code(otpauth, server.clock.now().unix_timestamp());
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    for (passcode, result) in [(right.as_str(), "allow"), (wrong, "deny")] {
        let args = json!({"factor": "passcode", "username": "alice", "passcode": passcode});
        let answer = duo_ok(target, keys, sig, "auth", args).await;
        assert_eq!(answer["result"], result, "{sig:?} {passcode}: {answer}");
        assert_eq!(answer["status"], result, "{answer}");
    }
}

/// enroll makes a new user and an enrollment link that the command-line authenticator takes;
/// enroll_status follows it.
async fn enroll_round(server: &TestServer, target: &Target, keys: &Keys, sig: Sig, round: usize) {
    let username = format!("newcomer{round}");
    let args = json!({"username": username, "valid_secs": 600});
    let enrolled = duo_ok(target, keys, sig, "enroll", args).await;
    assert_eq!(enrolled["username"], username.as_str());
    assert_eq!(enrolled["valid_secs"], 600);
    assert!(
        enrolled["activation_barcode"]
            .as_str()
            .unwrap()
            .starts_with("data:image/svg+xml")
    );
    let link = enrolled["activation_code"].as_str().unwrap();
    let status = json!({"user_id": enrolled["user_id"], "activation_code": link});
    let waiting = duo_ok(target, keys, sig, "enroll_status", status.clone()).await;
    assert_eq!(waiting, "waiting");
    let profile = server.scratch(&format!("{username}-phone"));
    let (code, out, err) = device(target, &profile, &["enroll", link]).await;
    assert_eq!(code, 0, "{out}{err}");
    tokio::time::sleep(NEXT_SECOND).await;
    let done = duo_ok(target, keys, sig, "enroll_status", status).await;
    assert_eq!(done, "success", "{sig:?}");
}

//! Passkeys at a relying party's origin, through Assent's API, with an independent software
//! authenticator (`tests/interop/soft_passkey.py`, built on python-fido2): registration and
//! authentication verify; a wrong origin, a wrong relying-party id, a replayed assertion and a
//! lowered signature counter are refused, the last audited as a possible clone.

use crate::support::{assent_bin, audit_data, code_of, python, repo_root, run};
use assent_proto::ProblemCode;
use assent_proto::api::SetRpWebauthn;
use assent_testkit::{TestApp, TestServer};
use serde_json::Value;
use std::path::Path;

pub(crate) const ORIGIN: &str = "https://console.acme.example";

/// The software authenticator: `register` or `authenticate` the options at `origin`.
pub(crate) fn authenticator(
    dir: &Path,
    command: &str,
    options: &Value,
    origin: &str,
    extra: &[&str],
) -> Result<Value, String> {
    let options_file = dir.join("options.json");
    let out = dir.join("credential.json");
    let _ = std::fs::remove_file(&out);
    std::fs::write(&options_file, options.to_string()).unwrap();
    let mut cmd = std::process::Command::new(python());
    cmd.arg(repo_root().join("tests/interop/soft_passkey.py"))
        .arg(command)
        .arg(&options_file)
        .arg(origin)
        .arg(dir.join("key.json"))
        .arg(&out)
        .args(extra);
    let (status, stdout, stderr) = run(cmd);
    if status != 0 {
        return Err(format!("{stdout}{stderr}"));
    }
    Ok(serde_json::from_str(&std::fs::read_to_string(&out).unwrap()).unwrap())
}

async fn console(server: &TestServer) -> TestApp {
    let app = server.app("Acme Console").await;
    let set = SetRpWebauthn {
        rp_id: "acme.example".into(),
        rp_name: "Acme Console".into(),
        origin: ORIGIN.into(),
    };
    let info = server.admin.set_app_webauthn(&app.id, &set).await.unwrap();
    assert_eq!(info.origin, ORIGIN);
    app
}

/// A new authentication's assertion from the software authenticator.
async fn assertion(
    app: &TestApp,
    dir: &Path,
    origin: &str,
    extra: &[&str],
) -> (String, Result<Value, String>) {
    let started = app
        .client
        .start_passkey_authentication("alice")
        .await
        .unwrap();
    let answer = authenticator(dir, "authenticate", &started.options, origin, extra);
    (started.ceremony_id, answer)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_passkey_registers_and_verifies_at_the_relying_partys_origin_and_nowhere_else() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let app = console(&server).await;
    let dir = tempfile::tempdir().unwrap();

    // No passkey yet.
    let none = app.client.start_passkey_authentication("alice").await;
    assert_eq!(code_of(none), ProblemCode::FactorNotEnrolled);

    // Registration at another origin is refused; at the relying party's, it verifies.
    let started = app
        .client
        .start_passkey_registration("alice")
        .await
        .unwrap();
    assert_eq!(started.options["publicKey"]["rp"]["id"], "acme.example");
    let phished = authenticator(
        dir.path(),
        "register",
        &started.options,
        "https://acme-login.example",
        &[],
    )
    .unwrap();
    let refused = app
        .client
        .finish_passkey_registration(&started.ceremony_id, phished)
        .await;
    assert_eq!(code_of(refused), ProblemCode::PasskeyRefused);
    let started = app
        .client
        .start_passkey_registration("alice")
        .await
        .unwrap();
    let created = authenticator(dir.path(), "register", &started.options, ORIGIN, &[]).unwrap();
    let registered = app
        .client
        .finish_passkey_registration(&started.ceremony_id, created.clone())
        .await
        .unwrap();
    assert_eq!(registered.user, "alice");
    assert_eq!(registered.credential_id, created["id"]);
    assert_eq!(audit_data(&server, "rp_passkey_registered").len(), 1);

    // Authentication: counter 1, then 2.
    let (ceremony, answer) = assertion(&app, dir.path(), ORIGIN, &[]).await;
    let answer = answer.unwrap();
    let verified = app
        .client
        .finish_passkey_authentication(&ceremony, answer.clone())
        .await
        .unwrap();
    assert_eq!(verified.user, "alice");
    assert!(verified.user_verified);
    assert_eq!(verified.counter, 1);

    // The same assertion again: its ceremony is spent, and a new ceremony has a new challenge.
    let replayed = app
        .client
        .finish_passkey_authentication(&ceremony, answer.clone())
        .await;
    assert_eq!(code_of(replayed), ProblemCode::NotFound);
    let fresh = app
        .client
        .start_passkey_authentication("alice")
        .await
        .unwrap();
    let replayed = app
        .client
        .finish_passkey_authentication(&fresh.ceremony_id, answer)
        .await;
    assert_eq!(code_of(replayed), ProblemCode::PasskeyRefused);

    // A phishing origin, and an authenticator that hashed another relying-party id.
    let (ceremony, answer) = assertion(&app, dir.path(), "https://acme-login.example", &[]).await;
    let refused = app
        .client
        .finish_passkey_authentication(&ceremony, answer.unwrap())
        .await;
    assert_eq!(code_of(refused), ProblemCode::PasskeyRefused);
    let (ceremony, answer) =
        assertion(&app, dir.path(), ORIGIN, &["--rp-id", "evil.example"]).await;
    let refused = app
        .client
        .finish_passkey_authentication(&ceremony, answer.unwrap())
        .await;
    assert_eq!(code_of(refused), ProblemCode::PasskeyRefused);
    assert!(audit_data(&server, "rp_passkey_refused").len() >= 3);

    // A good one still works (the refused assertions moved the authenticator's own count).
    let (ceremony, answer) = assertion(&app, dir.path(), ORIGIN, &[]).await;
    let good = app
        .client
        .finish_passkey_authentication(&ceremony, answer.unwrap())
        .await
        .unwrap();
    assert!(good.counter > 1, "{}", good.counter);

    // A lowered signature counter: refused, audited as a possible clone, and alice is told.
    let (ceremony, answer) = assertion(&app, dir.path(), ORIGIN, &["--sign-count", "1"]).await;
    let cloned = app
        .client
        .finish_passkey_authentication(&ceremony, answer.unwrap())
        .await;
    assert_eq!(code_of(cloned), ProblemCode::PasskeyRefused);
    let suspected = audit_data(&server, "rp_passkey_clone_suspected");
    assert_eq!(suspected.len(), 1, "{suspected:?}");
    let row: Value = serde_json::from_str(&suspected[0]).unwrap();
    assert_eq!(row["counter"], 1);
    assert_eq!(row["stored_counter"], good.counter);
    assert_eq!(audit_data(&server, "rp_passkey_used").len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webauthn_identities_are_checked_and_kept_per_application() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let app = console(&server).await;
    let set = |rp_id: &str, origin: &str| SetRpWebauthn {
        rp_id: rp_id.into(),
        rp_name: "Acme".into(),
        origin: origin.into(),
    };
    for (rp_id, origin) in [
        ("other.example", ORIGIN),
        ("acme.example", "http://console.acme.example"),
        ("acme.example", "https://console.acme.example/login"),
        ("acme.example", "not a url"),
    ] {
        let refused = server
            .admin
            .set_app_webauthn(&app.id, &set(rp_id, origin))
            .await;
        assert_eq!(
            code_of(refused),
            ProblemCode::InvalidRequest,
            "{rp_id} {origin}"
        );
    }
    // The CLI sets a development identity on localhost.
    let mut command = assent_bin();
    command
        .args([
            "admin",
            "--server",
            &server.base,
            "app",
            "webauthn",
            &app.id,
        ])
        .args([
            "--rp-id",
            "localhost",
            "--rp-name",
            "Acme",
            "--origin",
            "http://localhost:8800",
        ])
        .env("ASSENT_ADMIN_KEY", &server.admin_key);
    let (status, out, err) = run(command);
    assert_eq!(status, 0, "{err}");
    assert!(
        out.contains("relying-party id localhost at http://localhost:8800"),
        "{out}"
    );
    // An application without an identity cannot start ceremonies.
    let other = server.app("Other").await;
    let refused = other.client.start_passkey_registration("alice").await;
    assert_eq!(code_of(refused), ProblemCode::Forbidden);
    // One application's ceremony is not another's.
    let started = app
        .client
        .start_passkey_registration("alice")
        .await
        .unwrap();
    server
        .admin
        .set_app_webauthn(&other.id, &set("acme.example", ORIGIN))
        .await
        .unwrap();
    let foreign = other
        .client
        .finish_passkey_registration(&started.ceremony_id, serde_json::json!({}))
        .await;
    assert_eq!(code_of(foreign), ProblemCode::NotFound);
    // An unknown user is unknown.
    let unknown = app.client.start_passkey_registration("nobody").await;
    assert_eq!(code_of(unknown), ProblemCode::UnknownUser);
}

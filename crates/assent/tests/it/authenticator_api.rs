//! The device-side endpoints the web authenticator uses: passkeys and user verification,
//! device self-management, alerts, push subscriptions; each rule with its refusal.

use assent_client::DeviceClient;
use assent_proto::ProblemCode;
use assent_proto::api::{ApprovalState, DeviceState, PushKeys, PushSubscriptionBody};
use assent_proto::jose::{SigningKey, b64};
use assent_proto::statement::Decision;
use assent_proto::webauthn::{sign_assertion, sign_assertion_counted, spki_from_p256_point};
use assent_testkit::{TestServer, transfer};

/// The credential id of the software passkey.
fn credential() -> String {
    b64(b"credential-1")
}

/// A software passkey registered for `device`.
async fn passkey(device: &DeviceClient) -> SigningKey {
    let key = SigningKey::generate().unwrap();
    let spki = spki_from_p256_point(&key.jwk().to_sec1().unwrap());
    device
        .register_passkey(&credential(), &b64(spki))
        .await
        .unwrap();
    key
}

fn expect_code<T: std::fmt::Debug>(
    result: Result<T, assent_client::ClientError>,
    code: ProblemCode,
) {
    let err = result.expect_err("the server must refuse");
    assert_eq!(err.problem_code(), Some(code), "{err}");
}

#[tokio::test]
async fn user_verification_needs_a_passkey_assertion_over_the_statement() {
    let server = TestServer::spawn().await;
    let origin = server.assent.settings().origin().to_owned();
    let rp_id = server.assent.settings().rp_id().to_owned();
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let mut request = transfer("alice", "250.00");
    request.user_verification = true;
    let created = app.client.create_approval(&request).await.unwrap();
    let view = device.approval(&created.id).await.unwrap();
    assert!(view.user_verification_required);
    let code = created.display_code.as_deref();
    let statement = device
        .sign_decision(&view, Decision::Approve, code)
        .unwrap();

    // No passkey registered yet.
    expect_code(
        device.submit(&created.id, statement.clone()).await,
        ProblemCode::UserVerificationRequired,
    );
    let key = passkey(&device).await;
    // A passkey, but no assertion.
    expect_code(
        device.submit(&created.id, statement.clone()).await,
        ProblemCode::UserVerificationRequired,
    );
    // An assertion over another statement, from another origin, without user verification,
    // or from another key: each refused, and the request stays pending.
    let other = device
        .sign_decision(&view, Decision::Approve, code)
        .unwrap();
    for (signed_over, from, flags, signer) in [
        (other.as_str(), origin.as_str(), 0x05, key.pkcs8()),
        (
            statement.as_str(),
            "https://evil.example",
            0x05,
            key.pkcs8(),
        ),
        (statement.as_str(), origin.as_str(), 0x01, key.pkcs8()),
        (
            statement.as_str(),
            origin.as_str(),
            0x05,
            SigningKey::generate().unwrap().pkcs8(),
        ),
    ] {
        let assertion =
            sign_assertion(signer, &credential(), signed_over, from, &rp_id, flags).unwrap();
        let refused = device
            .submit_with(&created.id, statement.clone(), Some(assertion))
            .await;
        expect_code(refused, ProblemCode::UserVerificationFailed);
    }
    assert_eq!(
        app.client.approval(&created.id, None).await.unwrap().state,
        ApprovalState::Pending
    );

    let assertion = sign_assertion(
        key.pkcs8(),
        &credential(),
        &statement,
        &origin,
        &rp_id,
        0x05,
    )
    .unwrap();
    let accepted = device
        .submit_with(&created.id, statement, Some(assertion))
        .await
        .unwrap();
    assert_eq!(accepted.state, ApprovalState::Approved);
    let status = app.client.approval(&created.id, None).await.unwrap();
    let jwks = assent_client::fetch_jwks(&server.base).await.unwrap();
    let verified = assent_proto::receipt::verify_receipt(&status.receipt.unwrap(), &jwks).unwrap();
    assert!(
        verified.receipt.user_verification.is_some(),
        "the receipt carries the passkey evidence"
    );

    // Denying never needs the passkey.
    let created = app.client.create_approval(&request).await.unwrap();
    device
        .decide(&created.id, Decision::Deny, None)
        .await
        .unwrap();
    server.stop().await;
}

/// Answers request `id` with an approval whose passkey assertion carries `sign_count`.
async fn approve_with_sign_count(
    server: &TestServer,
    device: &DeviceClient,
    key: &SigningKey,
    id: &str,
    code: Option<&str>,
    sign_count: u32,
) -> Result<assent_proto::api::DecisionAccepted, assent_client::ClientError> {
    let settings = server.assent.settings();
    let view = device.approval(id).await.unwrap();
    let statement = device
        .sign_decision(&view, Decision::Approve, code)
        .unwrap();
    let assertion = sign_assertion_counted(
        key.pkcs8(),
        &credential(),
        &statement,
        settings.origin(),
        settings.rp_id(),
        0x05,
        sign_count,
    )
    .unwrap();
    device.submit_with(id, statement, Some(assertion)).await
}

#[tokio::test]
async fn a_passkey_sign_count_that_does_not_grow_is_refused_as_a_possible_clone() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let key = passkey(&device).await;
    let mut request = transfer("alice", "250.00");
    request.user_verification = true;

    let first = app.client.create_approval(&request).await.unwrap();
    let code = first.display_code.as_deref();
    let accepted = approve_with_sign_count(&server, &device, &key, &first.id, code, 5)
        .await
        .unwrap();
    assert_eq!(accepted.state, ApprovalState::Approved);

    // The same counter again (a copy of the passkey used after the original), then a lower
    // one: each refused, audited and alerted, and the request stays pending.
    let second = app.client.create_approval(&request).await.unwrap();
    let code = second.display_code.as_deref();
    for presented in [5, 3] {
        expect_code(
            approve_with_sign_count(&server, &device, &key, &second.id, code, presented).await,
            ProblemCode::UserVerificationFailed,
        );
    }
    assert_eq!(
        app.client.approval(&second.id, None).await.unwrap().state,
        ApprovalState::Pending
    );
    let suspected: Vec<serde_json::Value> =
        crate::support::audit_data(&server, "passkey_clone_suspected")
            .iter()
            .map(|d| serde_json::from_str(d).unwrap())
            .collect();
    assert_eq!(suspected.len(), 2);
    assert_eq!(suspected[0]["stored_sign_count"], 5);
    assert_eq!(suspected[0]["presented_sign_count"], 5);
    assert_eq!(suspected[1]["presented_sign_count"], 3);
    assert_eq!(
        suspected[0]["device_id"],
        device.profile().device_id.as_str()
    );
    let alerts = device.alerts().await.unwrap();
    assert!(
        alerts.iter().any(|a| a.kind == "passkey_clone_suspected"),
        "{alerts:?}"
    );

    // A counter that grew is accepted.
    let accepted = approve_with_sign_count(&server, &device, &key, &second.id, code, 6)
        .await
        .unwrap();
    assert_eq!(accepted.state, ApprovalState::Approved);
    server.stop().await;
}

#[tokio::test]
async fn passkey_registration_refuses_other_keys() {
    let server = TestServer::spawn().await;
    let device = server.user_with_device("alice").await;
    let p384_like = b64([0x30, 0x76, 0x30, 0x10]);
    expect_code(
        device.register_passkey(&credential(), &p384_like).await,
        ProblemCode::InvalidRequest,
    );
    expect_code(
        device.register_passkey(&credential(), "not base64!").await,
        ProblemCode::InvalidRequest,
    );
    let key = SigningKey::generate().unwrap();
    let spki = b64(spki_from_p256_point(&key.jwk().to_sec1().unwrap()));
    expect_code(
        device.register_passkey("", &spki).await,
        ProblemCode::InvalidRequest,
    );
    expect_code(
        device.register_passkey("cred-1", &spki).await,
        ProblemCode::InvalidRequest,
    );
    device.register_passkey(&credential(), &spki).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn devices_are_managed_within_one_user_only() {
    let server = TestServer::spawn().await;
    let phone = server.user_with_device("alice").await;
    let laptop = server.device("alice", "laptop").await;
    let mallory = server.user_with_device("mallory").await;

    let listed = phone.devices().await.unwrap();
    assert_eq!(listed.len(), 2);
    phone
        .rename(&laptop.profile().device_id, "Work laptop")
        .await
        .unwrap();
    assert!(
        laptop
            .devices()
            .await
            .unwrap()
            .iter()
            .any(|d| d.name == "Work laptop")
    );
    expect_code(
        phone.rename(&laptop.profile().device_id, "").await,
        ProblemCode::InvalidRequest,
    );

    // Another user's devices do not exist as far as this device is concerned.
    let theirs = mallory.profile().device_id.clone();
    expect_code(
        phone.rename(&theirs, "mine now").await,
        ProblemCode::NotFound,
    );
    expect_code(phone.revoke(&theirs).await, ProblemCode::NotFound);
    assert!(
        !mallory
            .devices()
            .await
            .unwrap()
            .iter()
            .any(|d| d.state == DeviceState::Revoked)
    );

    // The lost laptop is revoked from the phone: it can do nothing from then on.
    phone.revoke(&laptop.profile().device_id).await.unwrap();
    expect_code(laptop.devices().await, ProblemCode::DeviceRevoked);
    let alerts: Vec<String> = phone
        .alerts()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.message)
        .collect();
    assert!(
        alerts[0].starts_with("Device revoked: Work laptop"),
        "{alerts:?}"
    );
    assert!(
        alerts
            .iter()
            .any(|m| m.starts_with("New device enrolled: laptop")),
        "{alerts:?}"
    );
    assert!(
        mallory
            .alerts()
            .await
            .unwrap()
            .iter()
            .all(|a| !a.message.contains("laptop"))
    );
    server.stop().await;
}

#[tokio::test]
async fn push_subscriptions_are_checked() {
    let server = TestServer::spawn().await;
    let device = server.user_with_device("alice").await;
    let browser_key = SigningKey::generate().unwrap();
    let good = PushSubscriptionBody {
        endpoint: "https://push.example.net/send/abc".into(),
        keys: PushKeys {
            p256dh: b64(browser_key.jwk().to_sec1().unwrap()),
            auth: b64([7u8; 16]),
        },
        expiration_time: None,
    };
    device.subscribe_push(&good).await.unwrap();
    let mut plain_http = good.clone();
    plain_http.endpoint = "http://push.example.net/send/abc".into();
    expect_code(
        device.subscribe_push(&plain_http).await,
        ProblemCode::InvalidRequest,
    );
    let mut short_auth = good.clone();
    short_auth.keys.auth = b64([7u8; 8]);
    expect_code(
        device.subscribe_push(&short_auth).await,
        ProblemCode::InvalidRequest,
    );
    let key: serde_json::Value = reqwest::get(format!("{}/v1/push/vapid-public-key", server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let point = assent_proto::jose::b64_decode(key["public_key"].as_str().unwrap()).unwrap();
    assert_eq!((point.len(), point[0]), (65, 4));
    server.stop().await;
}

#[tokio::test]
async fn the_web_authenticator_is_served_with_a_strict_policy() {
    let server = TestServer::spawn().await;
    for (path, kind) in [
        ("/app/", "text/html"),
        ("/app/enroll", "text/html"),
        ("/app/app.js", "text/javascript"),
        ("/app/sw.js", "text/javascript"),
        ("/app/app.css", "text/css"),
        ("/app/manifest.webmanifest", "application/manifest+json"),
        ("/app/icon.svg", "image/svg+xml"),
    ] {
        let response = reqwest::get(format!("{}{path}", server.base))
            .await
            .unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let headers = response.headers();
        assert!(
            headers["content-type"].to_str().unwrap().starts_with(kind),
            "{path}"
        );
        let csp = headers["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && csp.contains("frame-ancestors 'none'"),
            "{path}: {csp}"
        );
        assert_eq!(headers["x-content-type-options"], "nosniff");
    }
    let html = reqwest::get(format!("{}/app/", server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "every asset is served locally"
    );
    server.stop().await;
}

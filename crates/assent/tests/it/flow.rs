//! The full flow on a fresh data directory, and the receipt checked three independent ways.

use crate::support::{assent_bin, python, repo_root, run};
use assent_proto::api::{Activation, ApprovalState};
use assent_proto::receipt::verify_receipt;
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, login, transfer};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn full_flow_ends_with_a_receipt_that_verifies_offline() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;

    let created = app
        .client
        .create_approval(&transfer("alice", "250.00"))
        .await
        .unwrap();
    assert_eq!(created.state, ApprovalState::Pending);
    let code = created
        .display_code
        .clone()
        .expect("number matching is on by default");
    assert_eq!(code.len(), 6);

    // The device sees the full context, and never the code.
    let pending = device.pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    let shown = &pending[0];
    assert_eq!(shown.application.name, "Acme");
    assert_eq!(
        shown.binding_message.as_deref(),
        Some("Send 250.00 EUR to Bob")
    );
    assert_eq!(shown.authorization_details[0]["amount"], "250.00");
    assert!(shown.code_required);
    assert!(!serde_json::to_string(shown).unwrap().contains(&code));

    let waiter = {
        let rp = app.client.clone();
        let id = created.id.clone();
        tokio::spawn(async move { rp.approval(&id, Some(20)).await })
    };
    let accepted = device
        .decide(&created.id, Decision::Approve, Some(&code))
        .await
        .unwrap();
    assert_eq!(accepted.state, ApprovalState::Approved);

    let status = waiter.await.unwrap().unwrap();
    assert_eq!(status.state, ApprovalState::Approved);
    assert!(status.decided_at.is_some());
    assert_eq!(
        status.device.as_ref().unwrap().id,
        device.profile().device_id
    );
    let receipt = status.receipt.clone().unwrap();

    // 1. Our own verifier.
    let jwks = assent_client::fetch_jwks(&server.base).await.unwrap();
    let verified = verify_receipt(&receipt, &jwks).unwrap();
    assert_eq!(verified.receipt.state, "approved");
    assert_eq!(
        verified.statement.unwrap().code.as_deref(),
        Some(code.as_str())
    );

    // 2. The CLI, against a JWKS file and against the server URL.
    let receipt_file = server.scratch("receipt.jws");
    let jwks_file = server.scratch("jwks.json");
    std::fs::write(&receipt_file, &receipt).unwrap();
    std::fs::write(&jwks_file, serde_json::to_vec(&jwks).unwrap()).unwrap();
    for jwks_arg in [jwks_file.display().to_string(), server.base.clone()] {
        let mut cmd = assent_bin();
        cmd.args(["receipt", "verify"])
            .arg(&receipt_file)
            .args(["--jwks", &jwks_arg]);
        let (code, out, err) = run(cmd);
        assert_eq!(code, 0, "{out}{err}");
        assert!(out.contains("receipt VALID"), "{out}");
    }

    // 3. An independent JOSE implementation (PyJWT + cryptography).
    let mut cmd = std::process::Command::new(python());
    cmd.arg(repo_root().join("tests/interop/verify_receipt.py"))
        .arg(&receipt_file)
        .arg(&jwks_file);
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "PyJWT refused the receipt: {out}{err}");
    assert!(out.contains("approved"), "{out}");

    // A receipt altered by one character fails all of them.
    let mut forged = receipt.clone().into_bytes();
    let middle = forged.len() / 2;
    forged[middle] = if forged[middle] == b'A' { b'B' } else { b'A' };
    let forged = String::from_utf8(forged).unwrap();
    assert!(verify_receipt(&forged, &jwks).is_err());
    std::fs::write(&receipt_file, &forged).unwrap();
    let mut cmd = assent_bin();
    cmd.args(["receipt", "verify"])
        .arg(&receipt_file)
        .args(["--jwks"])
        .arg(&jwks_file);
    assert_ne!(run(cmd).0, 0);
    let mut cmd = std::process::Command::new(python());
    cmd.arg(repo_root().join("tests/interop/verify_receipt.py"))
        .arg(&receipt_file)
        .arg(&jwks_file);
    assert_ne!(run(cmd).0, 0, "PyJWT accepted a forged receipt");

    assert!(server.admin.verify_audit().await.unwrap().intact);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_and_fraud_are_final_with_their_reasons() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    for (decision, state, reason) in [
        (Decision::Deny, ApprovalState::Denied, "denied_by_user"),
        (Decision::Fraud, ApprovalState::Fraud, "reported_as_fraud"),
    ] {
        let created = app.client.create_approval(&login("alice")).await.unwrap();
        device.decide(&created.id, decision, None).await.unwrap();
        let status = app.client.approval(&created.id, None).await.unwrap();
        assert_eq!(status.state, state);
        assert_eq!(status.reason.as_deref(), Some(reason));
        let jwks = assent_client::fetch_jwks(&server.base).await.unwrap();
        verify_receipt(status.receipt.as_deref().unwrap(), &jwks).unwrap();
    }
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relying_party_cancels_and_relying_parties_create_enrollments() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let cancelled = app.client.cancel(&created.id).await.unwrap();
    assert_eq!(cancelled.state, ApprovalState::Cancelled);
    assert_eq!(
        cancelled.reason.as_deref(),
        Some("cancelled_by_relying_party")
    );
    assert!(device.pending().await.unwrap().is_empty());
    let err = device
        .decide(&created.id, Decision::Approve, Some("000000"))
        .await
        .unwrap_err();
    assert_eq!(
        err.problem_code(),
        Some(assent_proto::ProblemCode::AlreadyDecided)
    );

    // A relying party enrolls a user's first device, active at once; a further device is held
    // until an existing device approves it, so one application cannot add a device that
    // answers another application's requests. An admin's enrollment is trusted.
    server.user("bob").await;
    let enrollment = app.client.create_enrollment("bob").await.unwrap();
    assert_eq!(enrollment.activation, Activation::Immediate);
    assert!(enrollment.qr_svg.starts_with("<?xml"));
    let first = assent_client::DeviceClient::enroll(&enrollment.link, "phone", "test")
        .await
        .unwrap();
    assert_eq!(first.profile().user, "bob");
    assert_eq!(first.activation_code(), None);
    for user in ["bob", "alice"] {
        let held = app.client.create_enrollment(user).await.unwrap();
        assert_eq!(held.activation, Activation::DeviceApproval);
    }
    let trusted = server.admin.create_enrollment("bob").await.unwrap();
    assert_eq!(trusted.activation, Activation::Immediate);
    server.stop().await;

    // With no registration method accepted, adding a device takes an admin.
    let server = TestServer::spawn_with(|c| c.enrollment.trusted_registration.clear()).await;
    let app = server.app("acme").await;
    server.user_with_device("alice").await;
    let refused = app.client.create_enrollment("alice").await.unwrap_err();
    assert_eq!(
        refused.problem_code(),
        Some(assent_proto::ProblemCode::Forbidden)
    );
    server.stop().await;
}

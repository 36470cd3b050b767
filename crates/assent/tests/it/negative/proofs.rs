//! Refused device proofs and statements: forged, replayed, stale, for another request, endpoint, user or set of details, or from a revoked device.

use super::*;

#[tokio::test]
async fn forged_statement_signature_is_refused() {
    let (server, app, device) = setup().await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let view = device.approval(&created.id).await.unwrap();
    let attacker = SigningKey::generate().unwrap();
    let statement = statement_for(&view, Decision::Approve, created.display_code.as_deref());
    let forged = sign(&attacker, &device.profile().device_id, &statement);
    expect_code(
        device.submit(&created.id, forged).await,
        ProblemCode::InvalidSignature,
    );
    // A statement whose kid names no device is refused the same way.
    let unknown = sign(
        &attacker,
        "01a203d9-7c2e-7a51-8d0f-3b7f0c1e5a22",
        &statement,
    );
    expect_code(
        device.submit(&created.id, unknown).await,
        ProblemCode::InvalidSignature,
    );
    assert_eq!(status_of(&app, &created.id).await, ApprovalState::Pending);
    server.stop().await;
}

#[tokio::test]
async fn replayed_device_proof_is_refused() {
    let (server, _app, device) = setup().await;
    let http = reqwest::Client::new();
    let path = "/v1/device/approvals";
    let proof = device.proof("GET", path).unwrap();
    let first = http
        .get(format!("{}{path}", server.base))
        .header("DPoP", &proof)
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 200);
    let replay = http
        .get(format!("{}{path}", server.base))
        .header("DPoP", &proof)
        .send()
        .await
        .unwrap();
    assert_problem(&refusal(replay).await, ProblemCode::ProofReplayed);
    server.stop().await;
}

/// The fetch of one request records its proof with the delivery, in one transaction: a replay is
/// refused whether the request is pending, decided or unknown, and a refused replay adds no
/// delivery to the audit log.
#[tokio::test]
async fn replayed_fetch_proof_is_refused_and_records_nothing() {
    let (server, app, device) = setup().await;
    let http = reqwest::Client::new();
    let fetch = |path: String, proof: String| {
        let (http, url) = (http.clone(), format!("{}{path}", server.base));
        async move { http.get(url).header("DPoP", proof).send().await.unwrap() }
    };
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let path = format!("/v1/device/approvals/{}", created.id);
    let proof = device.proof("GET", &path).unwrap();
    assert_eq!(fetch(path.clone(), proof.clone()).await.status(), 200);
    let delivered = audit_data(&server, "approval_delivered").len();
    assert_problem(
        &refusal(fetch(path.clone(), proof.clone()).await).await,
        ProblemCode::ProofReplayed,
    );
    assert_eq!(
        audit_data(&server, "approval_delivered").len(),
        delivered,
        "a refused replay is not a delivery"
    );

    // Once decided, the request is shown without a new delivery; its proof is still single-use.
    device
        .decide(
            &created.id,
            Decision::Approve,
            created.display_code.as_deref(),
        )
        .await
        .unwrap();
    let proof = device.proof("GET", &path).unwrap();
    assert_eq!(fetch(path.clone(), proof.clone()).await.status(), 200);
    assert_problem(
        &refusal(fetch(path.clone(), proof).await).await,
        ProblemCode::ProofReplayed,
    );

    // A request that does not exist: not found the first time, a replay the second.
    let unknown = "/v1/device/approvals/01a203d9-7c2e-7a51-8d0f-3b7f0c1e5a22".to_owned();
    let proof = device.proof("GET", &unknown).unwrap();
    assert_problem(
        &refusal(fetch(unknown.clone(), proof.clone()).await).await,
        ProblemCode::NotFound,
    );
    assert_problem(
        &refusal(fetch(unknown, proof).await).await,
        ProblemCode::ProofReplayed,
    );
    server.stop().await;
}

#[tokio::test]
async fn device_proof_for_another_endpoint_or_missing_is_refused() {
    let (server, app, device) = setup().await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let http = reqwest::Client::new();
    let proof = device.proof("GET", "/v1/device/approvals").unwrap();
    let other = http
        .get(format!(
            "{}/v1/device/approvals/{}",
            server.base, created.id
        ))
        .header("DPoP", &proof)
        .send()
        .await
        .unwrap();
    assert_problem(&refusal(other).await, ProblemCode::InvalidDeviceProof);
    let none = http
        .get(format!("{}/v1/device/approvals", server.base))
        .send()
        .await
        .unwrap();
    assert_problem(&refusal(none).await, ProblemCode::InvalidDeviceProof);
    // A proof made with an unenrolled key.
    let stranger = SigningKey::generate().unwrap();
    let claims = assent_proto::statement::DeviceProof {
        jti: "x1".into(),
        htm: "GET".into(),
        htu: format!("{}/v1/device/approvals", server.base),
        iat: time_now(),
    };
    let proof = stranger
        .sign(
            assent_proto::statement::DEVICE_PROOF_TYP,
            None,
            true,
            &claims,
        )
        .unwrap();
    let r = http
        .get(format!("{}/v1/device/approvals", server.base))
        .header("DPoP", proof)
        .send()
        .await
        .unwrap();
    assert_problem(&refusal(r).await, ProblemCode::InvalidDeviceProof);
    server.stop().await;
}

#[tokio::test]
async fn stale_device_proof_is_refused() {
    let (server, _app, device) = setup().await;
    server.clock.advance(time::Duration::minutes(10));
    expect_code(device.pending().await, ProblemCode::InvalidDeviceProof);
    server.stop().await;
}

#[tokio::test]
async fn statement_for_another_request_is_refused() {
    let (server, app, device) = setup().await;
    let first = app.client.create_approval(&login("alice")).await.unwrap();
    let view = device.approval(&first.id).await.unwrap();
    let statement = device
        .sign_decision(&view, Decision::Approve, first.display_code.as_deref())
        .unwrap();
    let other_app = server.app("Other").await;
    let second = other_app
        .client
        .create_approval(&login("alice"))
        .await
        .unwrap();
    expect_code(
        device.submit(&second.id, statement).await,
        ProblemCode::StatementMismatch,
    );

    // Same request id, but the nonce of an older view: refused too.
    let mut stale = statement_for(&view, Decision::Approve, first.display_code.as_deref());
    stale.nonce = "AAAAAAAAAAAAAAAAAAAAAA".into();
    let stale = sign(device.key(), &device.profile().device_id, &stale);
    expect_code(
        device.submit(&first.id, stale).await,
        ProblemCode::StatementMismatch,
    );
    assert_eq!(status_of(&app, &first.id).await, ApprovalState::Pending);
    assert_eq!(
        status_of(&other_app, &second.id).await,
        ApprovalState::Pending
    );
    server.stop().await;
}

#[tokio::test]
async fn statement_over_other_details_is_refused() {
    let (server, app, device) = setup().await;
    let created = app
        .client
        .create_approval(&transfer("alice", "10.00"))
        .await
        .unwrap();
    let view = device.approval(&created.id).await.unwrap();
    let mut statement = statement_for(&view, Decision::Approve, created.display_code.as_deref());
    statement.details_hash =
        assent_proto::statement::details_hash("transaction", view.binding_message.as_deref(), &[json!({
            "type": "payment_initiation", "amount": "10000.00", "currency": "EUR", "creditor": "Bob Martin"
        })])
        .unwrap();
    let signed = sign(device.key(), &device.profile().device_id, &statement);
    expect_code(
        device.submit(&created.id, signed).await,
        ProblemCode::DetailsMismatch,
    );
    assert_eq!(status_of(&app, &created.id).await, ApprovalState::Pending);
    server.stop().await;
}

#[tokio::test]
async fn details_altered_in_the_database_after_display_are_caught() {
    let (server, app, device) = setup().await;
    let created = app
        .client
        .create_approval(&transfer("alice", "10.00"))
        .await
        .unwrap();
    let view = device.approval(&created.id).await.unwrap();
    let statement = device
        .sign_decision(&view, Decision::Approve, created.display_code.as_deref())
        .unwrap();
    // Someone with write access to the database raises the amount after the user saw it.
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let changed = db
        .execute(
            "UPDATE approvals SET authorization_details = replace(authorization_details, '10.00', '9999.00') WHERE id = ?1",
            [&created.id],
        )
        .unwrap();
    assert_eq!(changed, 1);
    expect_code(
        device.submit(&created.id, statement).await,
        ProblemCode::DetailsMismatch,
    );
    assert_eq!(status_of(&app, &created.id).await, ApprovalState::Pending);
    server.stop().await;
}

#[tokio::test]
async fn device_of_another_user_cannot_see_or_answer() {
    let (server, app, alice) = setup().await;
    let bob = server.user_with_device("bob").await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    expect_code(
        bob.approval(&created.id).await,
        ProblemCode::DeviceNotAuthorized,
    );
    assert!(bob.pending().await.unwrap().is_empty());
    let view = alice.approval(&created.id).await.unwrap();
    let statement = statement_for(&view, Decision::Approve, created.display_code.as_deref());
    let signed = sign(bob.key(), &bob.profile().device_id, &statement);
    expect_code(
        bob.submit(&created.id, signed).await,
        ProblemCode::DeviceNotAuthorized,
    );
    assert_eq!(status_of(&app, &created.id).await, ApprovalState::Pending);
    server.stop().await;
}

#[tokio::test]
async fn revoked_device_can_do_nothing() {
    let (server, app, device) = setup().await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let view = device.approval(&created.id).await.unwrap();
    let presigned = device
        .sign_decision(&view, Decision::Approve, created.display_code.as_deref())
        .unwrap();
    server
        .admin
        .revoke_device(&device.profile().device_id)
        .await
        .unwrap();
    expect_code(device.pending().await, ProblemCode::DeviceRevoked);
    expect_code(
        device.approval(&created.id).await,
        ProblemCode::DeviceRevoked,
    );
    expect_code(
        device.submit(&created.id, presigned).await,
        ProblemCode::DeviceRevoked,
    );
    // The request pending at the moment of revocation is withdrawn, not left for whoever
    // holds another device.
    let status = app.client.approval(&created.id, None).await.unwrap();
    assert_eq!(status.state, ApprovalState::Cancelled);
    assert_eq!(status.reason.as_deref(), Some("device_revoked"));
    let devices = server
        .admin
        .list_devices(Some("alice"))
        .await
        .unwrap()
        .devices;
    assert_eq!(devices[0].state, assent_proto::api::DeviceState::Revoked);
    server.stop().await;
}

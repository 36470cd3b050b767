//! Every refusal, each its own test with its problem type: the security rules of the approval
//! core, proven by trying to break them through the real server.

use crate::support::audit_data;
use assent_client::DeviceClient;
use assent_proto::ProblemCode;
use assent_proto::api::{ApprovalState, DeviceApproval};
use assent_proto::jose::SigningKey;
use assent_proto::problem::Problem;
use assent_proto::statement::{DECISION_TYP, Decision, DecisionStatement};
use assent_testkit::{TestApp, TestServer, login, transfer};
use serde_json::json;

/// What a refused request came back with.
struct Refusal {
    status: u16,
    problem: Problem,
    content_type: String,
}

async fn refusal(response: reqwest::Response) -> Refusal {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.text().await.unwrap();
    let problem: Problem = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("not a problem document ({e}): {body}"));
    Refusal {
        status,
        problem,
        content_type,
    }
}

fn assert_problem(r: &Refusal, code: ProblemCode) {
    assert_eq!(r.problem.problem_code(), Some(code), "{:?}", r.problem);
    assert_eq!(r.status, code.status());
    assert_eq!(
        r.problem.type_,
        format!("urn:assent:problem:{}", code.as_str())
    );
    assert_eq!(r.content_type, "application/problem+json");
    assert!(r.problem.request_id.is_some());
    assert!(r.problem.detail.as_deref().is_some_and(|d| !d.is_empty()));
}

fn expect_code<T: std::fmt::Debug>(
    result: Result<T, assent_client::ClientError>,
    code: ProblemCode,
) {
    let err = result.expect_err("the server must refuse");
    assert_eq!(err.problem_code(), Some(code), "{err}");
}

async fn setup() -> (TestServer, TestApp, DeviceClient) {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    (server, app, device)
}

fn statement_for(
    view: &DeviceApproval,
    decision: Decision,
    code: Option<&str>,
) -> DecisionStatement {
    DecisionStatement {
        request_id: view.id.clone(),
        nonce: view.nonce.clone(),
        details_hash: view.details_hash.clone(),
        decision,
        code: code.map(str::to_owned),
        iat: time_now(),
    }
}

fn time_now() -> i64 {
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn sign(key: &SigningKey, kid: &str, statement: &DecisionStatement) -> String {
    key.sign(DECISION_TYP, Some(kid), false, statement).unwrap()
}

async fn status_of(app: &TestApp, id: &str) -> ApprovalState {
    app.client.approval(id, None).await.unwrap().state
}

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

#[tokio::test]
async fn expired_request_cannot_be_answered() {
    let (server, app, device) = setup().await;
    let mut request = login("alice");
    request.expires_in = Some(30);
    let created = app.client.create_approval(&request).await.unwrap();
    let view = device.approval(&created.id).await.unwrap();
    let statement = device
        .sign_decision(&view, Decision::Approve, created.display_code.as_deref())
        .unwrap();
    server.clock.advance(time::Duration::seconds(31));
    expect_code(
        device.submit(&created.id, statement).await,
        ProblemCode::Expired,
    );
    let status = app.client.approval(&created.id, None).await.unwrap();
    assert_eq!(status.state, ApprovalState::Expired);
    assert_eq!(status.reason.as_deref(), Some("expired"));
    assert!(device.pending().await.unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn expires_in_is_capped_at_ten_minutes() {
    let (server, app, _device) = setup().await;
    let mut request = login("alice");
    request.expires_in = Some(601);
    expect_code(
        app.client.create_approval(&request).await,
        ProblemCode::InvalidRequest,
    );
    request.expires_in = Some(600);
    app.client.create_approval(&request).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn wrong_code_denies_the_request() {
    let (server, app, device) = setup().await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let right = created.display_code.clone().unwrap();
    let wrong = if right == "000000" {
        "111111"
    } else {
        "000000"
    };
    expect_code(
        device
            .decide(&created.id, Decision::Approve, Some(wrong))
            .await,
        ProblemCode::WrongCode,
    );
    let status = app.client.approval(&created.id, None).await.unwrap();
    assert_eq!(status.state, ApprovalState::Denied);
    assert_eq!(status.reason.as_deref(), Some("wrong_code"));
    // One guess per request: the right code afterwards changes nothing.
    expect_code(
        device
            .decide(&created.id, Decision::Approve, Some(&right))
            .await,
        ProblemCode::AlreadyDecided,
    );
    // An approval without any code is refused without ending the request.
    let second = app.client.create_approval(&login("alice")).await.unwrap();
    expect_code(
        device.decide(&second.id, Decision::Approve, None).await,
        ProblemCode::CodeRequired,
    );
    assert_eq!(status_of(&app, &second.id).await, ApprovalState::Pending);
    server.stop().await;
}

#[tokio::test]
async fn second_answer_after_a_final_one_is_refused() {
    let (server, app, device) = setup().await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let view = device.approval(&created.id).await.unwrap();
    let approve = device
        .sign_decision(&view, Decision::Approve, created.display_code.as_deref())
        .unwrap();
    let deny = device.sign_decision(&view, Decision::Deny, None).unwrap();
    device.submit(&created.id, approve.clone()).await.unwrap();
    expect_code(
        device.submit(&created.id, deny).await,
        ProblemCode::AlreadyDecided,
    );
    expect_code(
        device.submit(&created.id, approve).await,
        ProblemCode::AlreadyDecided,
    );
    expect_code(
        app.client.cancel(&created.id).await,
        ProblemCode::AlreadyDecided,
    );
    assert_eq!(status_of(&app, &created.id).await, ApprovalState::Approved);
    server.stop().await;
}

#[tokio::test]
async fn another_applications_request_is_not_found() {
    let (server, app, _device) = setup().await;
    let other = server.app("Other").await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    expect_code(
        other.client.approval(&created.id, None).await,
        ProblemCode::NotFound,
    );
    expect_code(
        other.client.approval(&created.id, Some(1)).await,
        ProblemCode::NotFound,
    );
    expect_code(
        other.client.cancel(&created.id).await,
        ProblemCode::NotFound,
    );
    let events = reqwest::Client::new()
        .get(format!(
            "{}/v1/approvals/{}/events",
            server.base, created.id
        ))
        .bearer_auth(&other.api_key)
        .send()
        .await
        .unwrap();
    assert_problem(&refusal(events).await, ProblemCode::NotFound);
    // The same answer as for an id that does not exist at all.
    expect_code(
        other
            .client
            .approval("01a203d9-7c2e-7a51-8d0f-3b7f0c1e5a22", None)
            .await,
        ProblemCode::NotFound,
    );
    expect_code(
        other.client.approval("not-an-id", None).await,
        ProblemCode::NotFound,
    );
    assert_eq!(status_of(&app, &created.id).await, ApprovalState::Pending);
    server.stop().await;
}

#[tokio::test]
async fn reused_enrollment_code_is_refused() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let enrollment = server.admin.create_enrollment("alice").await.unwrap();
    DeviceClient::enroll(&enrollment.link, "phone", "test")
        .await
        .unwrap();
    expect_code(
        DeviceClient::enroll(&enrollment.link, "attacker", "test").await,
        ProblemCode::EnrollmentCodeUsed,
    );
    let bad = enrollment.link.replace("code=", "code=x");
    expect_code(
        DeviceClient::enroll(&bad, "guess", "test").await,
        ProblemCode::EnrollmentCodeInvalid,
    );
    assert_eq!(
        server
            .admin
            .list_devices(Some("alice"))
            .await
            .unwrap()
            .devices
            .len(),
        1
    );
    server.stop().await;
}

#[tokio::test]
async fn expired_enrollment_code_is_refused() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    // Issue the link 16 minutes in the past (links live 15), then come back to the present.
    server.clock.advance(time::Duration::minutes(-16));
    let enrollment = server.admin.create_enrollment("alice").await.unwrap();
    server.clock.advance(time::Duration::minutes(16));
    expect_code(
        DeviceClient::enroll(&enrollment.link, "phone", "test").await,
        ProblemCode::EnrollmentCodeExpired,
    );
    server.stop().await;
}

#[tokio::test]
async fn enrollment_link_from_another_server_is_refused_by_the_device() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let enrollment = server.admin.create_enrollment("alice").await.unwrap();
    let (before, _) = enrollment.link.split_once("fp=").unwrap();
    let wrong_fp = format!("{before}fp=4ujoisk7lDeOKv6JMaonLfiF2oPZnukjYKDFbd7ojMU");
    let err = DeviceClient::enroll(&wrong_fp, "phone", "test")
        .await
        .unwrap_err();
    assert!(err.to_string().contains("fingerprint"), "{err}");
    // The code was not spent by the refused attempt.
    DeviceClient::enroll(&enrollment.link, "phone", "test")
        .await
        .unwrap();
    server.stop().await;
}

#[tokio::test]
async fn malformed_json_is_a_problem() {
    let (server, app, _device) = setup().await;
    let r = reqwest::Client::new()
        .post(format!("{}/v1/approvals", server.base))
        .bearer_auth(&app.api_key)
        .header("content-type", "application/json")
        .body("{\"user\": \"alice\",")
        .send()
        .await
        .unwrap();
    assert_problem(&refusal(r).await, ProblemCode::MalformedJson);
    let r = reqwest::Client::new()
        .post(format!("{}/v1/approvals", server.base))
        .bearer_auth(&app.api_key)
        .header("content-type", "application/json")
        .body("{\"user\": \"alice\", \"kind\": \"teleport\"}")
        .send()
        .await
        .unwrap();
    assert_problem(&refusal(r).await, ProblemCode::InvalidRequest);
    let r = reqwest::Client::new()
        .post(format!("{}/v1/approvals", server.base))
        .bearer_auth(&app.api_key)
        .body("{\"user\": \"alice\"}")
        .send()
        .await
        .unwrap();
    assert_problem(&refusal(r).await, ProblemCode::UnsupportedMediaType);
    server.stop().await;
}

#[tokio::test]
async fn body_over_the_limit_is_refused() {
    let (server, app, _device) = setup().await;
    let limit = server.config.http.body_limit_bytes;
    let big = format!(
        "{{\"user\":\"alice\",\"binding_message\":\"{}\"}}",
        "x".repeat(limit + 1)
    );
    for path in ["/v1/approvals", "/v1/device/enroll"] {
        let r = reqwest::Client::new()
            .post(format!("{}{path}", server.base))
            .bearer_auth(&app.api_key)
            .header("content-type", "application/json")
            .body(big.clone())
            .send()
            .await
            .unwrap();
        assert_problem(&refusal(r).await, ProblemCode::BodyTooLarge);
    }
    server.stop().await;
}

#[tokio::test]
async fn unknown_user_is_a_problem() {
    let (server, app, _device) = setup().await;
    expect_code(
        app.client.create_approval(&login("mallory")).await,
        ProblemCode::UnknownUser,
    );
    expect_code(
        app.client.create_enrollment("mallory").await,
        ProblemCode::UnknownUser,
    );
    server.stop().await;
}

#[tokio::test]
async fn user_without_device_cannot_be_asked() {
    let (server, app, _device) = setup().await;
    server.user("carol").await;
    expect_code(
        app.client.create_approval(&login("carol")).await,
        ProblemCode::NoActiveDevice,
    );
    server.stop().await;
}

#[tokio::test]
async fn missing_or_wrong_api_key_is_refused() {
    let (server, app, _device) = setup().await;
    let http = reqwest::Client::new();
    let url = format!("{}/v1/approvals", server.base);
    let body = serde_json::to_string(&login("alice")).unwrap();
    let send = |auth: Option<String>| {
        let mut request = http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.clone());
        if let Some(auth) = auth {
            request = request.header("authorization", auth);
        }
        request.send()
    };
    for auth in [
        None,
        Some("Bearer".into()),
        Some("Basic YWxpY2U6c2VjcmV0".into()),
        Some("Bearer ak.nosuchkey.secret".into()),
        Some(format!("Bearer {}x", app.api_key)),
        Some(format!("Bearer {}", app.api_key.replace("ak.", "ak.x"))),
    ] {
        assert_problem(
            &refusal(send(auth).await.unwrap()).await,
            ProblemCode::Unauthorized,
        );
    }
    // The right kind of key for each side.
    assert_problem(
        &refusal(
            send(Some(format!("Bearer {}", server.admin_key)))
                .await
                .unwrap(),
        )
        .await,
        ProblemCode::Forbidden,
    );
    let r = http
        .get(format!("{}/v1/admin/users", server.base))
        .bearer_auth(&app.api_key)
        .send()
        .await
        .unwrap();
    assert_problem(&refusal(r).await, ProblemCode::Forbidden);
    let r = http
        .get(format!("{}/v1/audit/verify", server.base))
        .send()
        .await
        .unwrap();
    assert_problem(&refusal(r).await, ProblemCode::Unauthorized);
    server.stop().await;
}

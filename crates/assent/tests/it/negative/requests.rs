//! Refused transitions and reads of requests and enrollments: expired, already decided, another application's, a wrong code, a reused or foreign enrollment.

use super::*;

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

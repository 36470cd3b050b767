//! Refused input: malformed or oversized bodies, unknown users, users without a device, missing or wrong API keys.

use super::*;

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

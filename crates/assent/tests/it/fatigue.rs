//! Push fatigue and prompt bombing: one pending prompt per user and application, a prompt
//! budget that suspends push, fraud reports that suspend push, one alert per suspension, and an
//! audit trail that tells the story in order.

use crate::support::audit_rows;
use assent_proto::ProblemCode;
use assent_proto::api::ApprovalState;
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, approved, login};

#[tokio::test]
async fn prompt_bombing_is_cut_off_after_the_budget() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let mut offered = Vec::new();
    let mut refused = Vec::new();
    // An attacker with the password: 50 sign-ins in two minutes.
    for attempt in 0..50 {
        match app.client.create_approval(&login("alice")).await {
            Ok(created) => {
                // The device never shows a stack: only the newest is pending.
                let pending = device.pending().await.unwrap();
                assert_eq!(pending.len(), 1);
                assert_eq!(pending[0].id, created.id);
                offered.push(created.id);
            }
            Err(e) => {
                assert_eq!(
                    e.problem_code(),
                    Some(ProblemCode::PushSuspended),
                    "attempt {attempt}: {e}"
                );
                let assent_client::ClientError::Problem(problem) = e else {
                    unreachable!()
                };
                assert_eq!(problem.status, 429);
                assert!(problem.extensions["suspended_until"].is_string());
                assert!(problem.extensions["fallback_factors"].is_array());
                refused.push(attempt);
            }
        }
        server.clock.advance(time::Duration::milliseconds(2400));
    }
    assert_eq!(offered.len(), 3, "the budget is 3 prompts");
    assert_eq!(refused.len(), 47);
    for earlier in &offered[..2] {
        let status = app.client.approval(earlier, None).await.unwrap();
        assert_eq!(status.state, ApprovalState::Cancelled);
        assert_eq!(status.reason.as_deref(), Some("superseded"));
    }
    // One alert for the user, not one per attempt.
    let alerts = device.alerts().await.unwrap();
    let suspensions: Vec<_> = alerts
        .iter()
        .filter(|a| a.kind == "push_suspended")
        .collect();
    assert_eq!(suspensions.len(), 1, "{alerts:?}");
    assert!(suspensions[0].message.contains("change it"));

    // The audit log tells the story in order: three prompts (each superseding the last), then
    // the suspension as an admin alert.
    let story: Vec<String> = audit_rows(&server)
        .into_iter()
        .filter(|(kind, _)| {
            kind.starts_with("approval_created")
                || kind == "push_suspended"
                || kind == "approval_decided"
        })
        .map(|(kind, data)| {
            if data.contains("superseded") {
                "superseded".into()
            } else {
                kind
            }
        })
        .collect();
    assert_eq!(
        story,
        [
            "approval_created",
            "superseded",
            "approval_created",
            "superseded",
            "approval_created",
            "push_suspended"
        ]
    );
    let (_, event) = audit_rows(&server)
        .into_iter()
        .find(|(k, _)| k == "push_suspended")
        .unwrap();
    assert!(
        event.contains("\"reason\":\"prompt_budget\"") && event.contains("\"recent_prompts\":3"),
        "{event}"
    );
    server.stop().await;
}

#[tokio::test]
async fn suspension_ends_and_repeats_with_back_off() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    server.user_with_device("alice").await;
    for _ in 0..3 {
        app.client.create_approval(&login("alice")).await.unwrap();
    }
    let refused = app
        .client
        .create_approval(&login("alice"))
        .await
        .unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::PushSuspended));
    // 15 minutes later push is back.
    server
        .clock
        .advance(time::Duration::minutes(15) + time::Duration::seconds(1));
    for _ in 0..3 {
        app.client.create_approval(&login("alice")).await.unwrap();
    }
    // Bombing again the same day: the next suspension lasts twice as long.
    let refused = app
        .client
        .create_approval(&login("alice"))
        .await
        .unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::PushSuspended));
    server.clock.advance(time::Duration::minutes(16));
    let still = app
        .client
        .create_approval(&login("alice"))
        .await
        .unwrap_err();
    assert_eq!(
        still.problem_code(),
        Some(ProblemCode::PushSuspended),
        "30 minutes, not 15"
    );
    server.clock.advance(time::Duration::minutes(15));
    app.client.create_approval(&login("alice")).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn an_approval_restores_the_budget_and_other_users_are_unaffected() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let alice = server.user_with_device("alice").await;
    server.user_with_device("bob").await;
    for _ in 0..2 {
        app.client.create_approval(&login("alice")).await.unwrap();
    }
    approved(&app.client, &alice, &login("alice")).await;
    // The budget counts from the last approval: three more are allowed.
    for _ in 0..3 {
        server.clock.advance(time::Duration::seconds(1));
        app.client.create_approval(&login("alice")).await.unwrap();
    }
    server.clock.advance(time::Duration::seconds(1));
    assert!(app.client.create_approval(&login("alice")).await.is_err());
    app.client.create_approval(&login("bob")).await.unwrap();
    server.stop().await;
}

#[tokio::test]
async fn a_fraud_report_suspends_push_at_once() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    device
        .decide(&created.id, Decision::Fraud, None)
        .await
        .unwrap();
    assert_eq!(
        app.client.approval(&created.id, None).await.unwrap().state,
        ApprovalState::Fraud
    );
    let refused = app
        .client
        .create_approval(&login("alice"))
        .await
        .unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::PushSuspended));
    let assent_client::ClientError::Problem(problem) = refused else {
        unreachable!()
    };
    assert_eq!(problem.extensions["reason"], "fraud_reported");
    let alerts = device.alerts().await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == "push_suspended" && a.message.contains("not yours")),
        "{alerts:?}"
    );
    assert!(
        audit_rows(&server)
            .iter()
            .any(|(k, d)| k == "push_suspended" && d.contains("fraud_reported"))
    );
    server.stop().await;
}

#[tokio::test]
async fn superseding_can_be_switched_off() {
    let server = TestServer::spawn_with(|c| c.fatigue.supersede_pending = false).await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    app.client.create_approval(&login("alice")).await.unwrap();
    app.client.create_approval(&login("alice")).await.unwrap();
    assert_eq!(device.pending().await.unwrap().len(), 2);
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn simultaneous_sign_ins_cannot_outrun_the_budget() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    // An attacker with the password fires 40 sign-ins at once: each creation checks the budget
    // and the pending prompts before it writes, so unserialized checks would all pass together.
    let attempts: Vec<_> = (0..40)
        .map(|_| {
            let client = app.client.clone();
            tokio::spawn(async move { client.create_approval(&login("alice")).await })
        })
        .collect();
    let mut offered = Vec::new();
    for attempt in attempts {
        match attempt.await.unwrap() {
            Ok(created) => offered.push(created.id),
            Err(e) => assert_eq!(e.problem_code(), Some(ProblemCode::PushSuspended), "{e}"),
        }
    }
    assert_eq!(offered.len(), 3, "the budget is 3 prompts: {offered:?}");
    let pending = device.pending().await.unwrap();
    assert_eq!(pending.len(), 1, "only the newest is pending: {pending:?}");
    server.stop().await;
}

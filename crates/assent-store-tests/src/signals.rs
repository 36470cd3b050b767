//! What the fatigue defense, the risk engine and webhooks keep, read back as written.

use crate::support::{app, approval, audit, device, event, now, outcome, user};
use assent_core::Store;
use assent_core::model::{
    Approval, DeliveryChannel, Outcome, PastApproval, Suspension, SuspensionReason, Webhook,
    WebhookProgress,
};
use assent_proto::states::ApprovalState;
use std::sync::Arc;
use time::Duration;

/// The records of the fatigue defense, the risk engine and webhooks, read back as written.
pub(crate) async fn fatigue_risk_and_webhook_records(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let start = now();

    assert_eq!(store.suspension(&alice.id).await.unwrap(), None);
    let suspension = Suspension {
        user_id: alice.id.clone(),
        until: start + Duration::minutes(30),
        reason: SuspensionReason::PromptBudget,
        created_at: start,
    };
    store.suspend(&suspension, audit(event())).await.unwrap();
    let replaced = Suspension {
        reason: SuspensionReason::FraudReported,
        until: start + Duration::hours(1),
        ..suspension
    };
    store.suspend(&replaced, audit(event())).await.unwrap();
    assert_eq!(store.suspension(&alice.id).await.unwrap(), Some(replaced));

    let first = Approval {
        created_at: start - Duration::seconds(10),
        ..approval(&acme, &alice, Duration::minutes(2))
    };
    let second = Approval {
        context: assent_proto::api::RequestContext {
            ip: Some("203.0.113.7".into()),
            user_agent: Some("Firefox".into()),
            ..Default::default()
        },
        ..approval(&acme, &alice, Duration::minutes(2))
    };
    for a in [&first, &second] {
        store.insert_approval(a, &[], audit(event())).await.unwrap();
    }
    assert_eq!(
        store
            .prompts_since(&alice.id, start - Duration::minutes(1))
            .await
            .unwrap(),
        2
    );
    assert_eq!(
        store
            .prompts_since(&alice.id, first.created_at)
            .await
            .unwrap(),
        1,
        "strictly after"
    );
    let past = |a: &Approval| PastApproval {
        state: a.state,
        created_at: a.created_at,
        decided_at: a.decided_at,
        origin: assent_core::model::origin_of(&a.context),
    };
    assert_eq!(
        past(&second).origin,
        assent_proto::api::RequestContext {
            ip: Some("203.0.113.7".into()),
            ..Default::default()
        },
        "the origin leaves the user agent out"
    );
    assert_eq!(
        store
            .request_history(&alice.id, first.created_at, 10)
            .await
            .unwrap(),
        [past(&second), past(&first)],
        "newest first, with where they came from"
    );
    assert_eq!(
        store
            .request_history(&alice.id, first.created_at, 1)
            .await
            .unwrap()
            .len(),
        1
    );

    assert_eq!(store.last_approved_at(&alice.id).await.unwrap(), None);
    let approved = outcome(ApprovalState::Approved, Some(&phone));
    assert!(
        store
            .finalize(&first.id, &approved, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(
        store.last_approved_at(&alice.id).await.unwrap(),
        Some(approved.decided_at)
    );
    assert_eq!(
        store.device(&phone.id).await.unwrap().unwrap().last_seen_at,
        Some(approved.decided_at),
        "an answer counts as the device being seen"
    );
    let oldest = store
        .request_history(&alice.id, first.created_at, 10)
        .await
        .unwrap()
        .pop()
        .unwrap();
    assert_eq!(
        (oldest.created_at, oldest.state, oldest.decided_at),
        (
            first.created_at,
            ApprovalState::Approved,
            Some(approved.decided_at)
        ),
        "the history shows how a request ended"
    );

    assert_eq!(store.first_delivery_at(&second.id).await.unwrap(), None);
    let delivered = audit(event());
    let delivered_at = delivered.at;
    store
        .record_delivery(&second.id, &phone.id, DeliveryChannel::Fetch, delivered)
        .await
        .unwrap();
    assert_eq!(
        store.first_delivery_at(&second.id).await.unwrap(),
        Some(delivered_at)
    );

    store
        .record_network_report("203.0.113.0/24", start)
        .await
        .unwrap();
    store
        .record_network_report("203.0.113.0/24", start + Duration::seconds(5))
        .await
        .unwrap();
    assert_eq!(
        store
            .network_reports_since("203.0.113.0/24", start)
            .await
            .unwrap(),
        2,
        "at or after"
    );
    assert_eq!(
        store
            .network_reports_since("203.0.113.0/24", start + Duration::seconds(1))
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .network_reports_since("198.51.100.0/24", start)
            .await
            .unwrap(),
        0
    );

    // A second answer within the resolution leaves the device's row alone.
    let soon = Outcome {
        decided_at: approved.decided_at + Duration::seconds(30),
        ..outcome(ApprovalState::Approved, Some(&phone))
    };
    assert!(
        store
            .finalize(&second.id, &soon, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(
        store.device(&phone.id).await.unwrap().unwrap().last_seen_at,
        Some(approved.decided_at),
        "seen within the last minute already"
    );

    assert_eq!(
        store.webhook_progress(&acme.id).await.unwrap(),
        WebhookProgress::default()
    );
    let head = store.audit_head().await.unwrap().unwrap();
    let hook = Webhook {
        app_id: acme.id.clone(),
        url: "https://acme.example/hook".into(),
        secret_sealed: vec![3; 40],
        events: vec!["approval.final".into(), "alert".into()],
        created_at: start,
    };
    store.set_webhook(&hook, audit(event())).await.unwrap();
    assert_eq!(store.webhooks().await.unwrap(), vec![hook.clone()]);
    assert_eq!(
        store.webhook_progress(&acme.id).await.unwrap().cursor,
        head,
        "a new webhook starts at the current end of the log"
    );
    let progress = WebhookProgress {
        cursor: head + 1,
        last_error: Some("HTTP 500".into()),
        failed: 2,
    };
    store
        .set_webhook_progress(&acme.id, &progress)
        .await
        .unwrap();
    let moved = Webhook {
        url: "https://acme.example/v2".into(),
        ..hook
    };
    store.set_webhook(&moved, audit(event())).await.unwrap();
    assert_eq!(store.webhooks().await.unwrap(), vec![moved]);
    assert_eq!(
        store.webhook_progress(&acme.id).await.unwrap(),
        progress,
        "replacing a webhook keeps its progress"
    );
}

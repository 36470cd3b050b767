//! Approval requests: the conditional final write (and a fraud report's network with it),
//! pending and due requests, deliveries recorded once, and a fetch's proof and delivery in one
//! write.

use crate::support::{app, approval, audit, audit_rows, device, event, now, outcome, user};
use assent_core::Store;
use assent_core::ids::{ApprovalId, DeviceId};
use assent_core::model::{DeliveryChannel, EndReason, Outcome, ProofUse};
use assent_proto::states::ApprovalState;
use std::sync::Arc;
use time::Duration;

pub(crate) async fn finalize_is_conditional(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&a, &[], audit(event()))
        .await
        .unwrap();
    assert_eq!(store.approval(&a.id).await.unwrap(), Some(a.clone()));
    let before = audit_rows(&store).await;
    let approved = outcome(ApprovalState::Approved, Some(&phone));
    assert!(
        store
            .finalize(&a.id, &approved, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .finalize(&a.id, &outcome(ApprovalState::Denied, None), audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(
        audit_rows(&store).await,
        before + 1,
        "only the winning write is audited"
    );
    let stored = store.approval(&a.id).await.unwrap().unwrap();
    assert_eq!(
        stored,
        a.clone().decided(&approved),
        "finalize changes the outcome's fields and nothing else (the service relies on it)"
    );
    assert_eq!(stored.state, ApprovalState::Approved);
    assert_eq!(stored.receipt.as_deref(), Some("receipt-approved"));
    assert_eq!(stored.device_id, Some(phone.id));
    assert_eq!(stored.decided_at, Some(approved.decided_at));
    assert_eq!(stored.authorization_details, a.authorization_details);
}

pub(crate) async fn concurrent_finalize_has_one_winner(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    for _ in 0..10 {
        let a = approval(&acme, &alice, Duration::minutes(2));
        store
            .insert_approval(&a, &[], audit(event()))
            .await
            .unwrap();
        let racers: Vec<_> = (0..8)
            .map(|i| {
                let store = store.clone();
                let id = a.id.clone();
                let state = if i % 2 == 0 {
                    ApprovalState::Approved
                } else {
                    ApprovalState::Denied
                };
                tokio::spawn(async move {
                    store
                        .finalize(&id, &outcome(state, None), audit(event()))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for racer in racers {
            winners += usize::from(racer.await.unwrap());
        }
        assert_eq!(winners, 1);
    }
}

pub(crate) async fn pending_and_due_for_expiry(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let acme = app(&store, "Acme").await;
    let live = approval(&acme, &alice, Duration::minutes(2));
    let old = approval(&acme, &alice, Duration::seconds(-1));
    let done = approval(&acme, &alice, Duration::minutes(2));
    let other = approval(&acme, &bob, Duration::minutes(2));
    for a in [&live, &old, &done, &other] {
        store.insert_approval(a, &[], audit(event())).await.unwrap();
    }
    store
        .finalize(
            &done.id,
            &outcome(ApprovalState::Cancelled, None),
            audit(event()),
        )
        .await
        .unwrap();
    let pending: Vec<ApprovalId> = store
        .pending_for_user(&alice.id, now())
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(pending, vec![live.id.clone()]);
    let due: Vec<ApprovalId> = store
        .due_for_expiry(now(), 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.id)
        .collect();
    assert_eq!(due, vec![old.id]);
    assert_eq!(
        store
            .due_for_expiry(now() + Duration::minutes(5), 10)
            .await
            .unwrap()
            .len(),
        3
    );
    assert_eq!(
        store
            .due_for_expiry(now() + Duration::minutes(5), 2)
            .await
            .unwrap()
            .len(),
        2
    );
}

pub(crate) async fn deliveries_are_recorded_once(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&a, &[], audit(event()))
        .await
        .unwrap();
    let before = audit_rows(&store).await;
    assert!(
        store
            .record_delivery(&a.id, &phone.id, DeliveryChannel::Fetch, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .record_delivery(&a.id, &phone.id, DeliveryChannel::Fetch, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(audit_rows(&store).await, before + 1);
}

pub(crate) async fn a_fetch_records_its_proof_and_its_delivery_together(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let tablet = device(&store, &alice).await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&a, &[], audit(event()))
        .await
        .unwrap();
    let proof = |jti: &str| ProofUse {
        jkt: phone.jkt.clone(),
        jti: jti.into(),
        forget_after: now() + Duration::minutes(5),
    };
    let fetch = |proof: ProofUse, device: DeviceId| {
        let (store, id) = (store.clone(), a.id.clone());
        async move {
            store
                .record_delivery_with_proof(
                    &proof,
                    &id,
                    &device,
                    DeliveryChannel::Fetch,
                    audit(event()),
                )
                .await
                .unwrap()
        }
    };
    let before = audit_rows(&store).await;
    assert_eq!(fetch(proof("p1"), phone.id.clone()).await, Some(true));
    assert_eq!(audit_rows(&store).await, before + 1);
    assert!(
        !store
            .consume_proof(&phone.jkt, "p1", now() + Duration::minutes(5))
            .await
            .unwrap(),
        "the proof id is recorded"
    );
    // A replay writes nothing, not even another device's delivery.
    assert_eq!(fetch(proof("p1"), tablet.id.clone()).await, None);
    assert_eq!(audit_rows(&store).await, before + 1);
    assert!(
        store
            .record_delivery(&a.id, &tablet.id, DeliveryChannel::Fetch, audit(event()))
            .await
            .unwrap(),
        "the replay recorded no delivery for the tablet"
    );
    // A fresh proof for a request already delivered: recorded, no second audit row.
    assert_eq!(fetch(proof("p2"), phone.id.clone()).await, Some(false));
    assert_eq!(fetch(proof("p2"), phone.id.clone()).await, None);
    assert_eq!(audit_rows(&store).await, before + 2);
}

/// A fraud report's network is written by the final write that reports it, in its
/// transaction: a write that loses (the request had already ended) marks nothing.
pub(crate) async fn a_fraud_report_marks_its_network_with_its_outcome(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let network = "203.0.113.0/24";
    let reported = Outcome {
        state: EndReason::ReportedAsFraud.state(),
        reason: Some(EndReason::ReportedAsFraud),
        reported_network: Some(network.into()),
        ..outcome(EndReason::ReportedAsFraud.state(), Some(&phone))
    };
    let since = reported.decided_at - Duration::minutes(1);
    let reports = || async { store.network_reports_since(network, since).await.unwrap() };

    let cancelled = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&cancelled, &[], audit(event()))
        .await
        .unwrap();
    assert!(
        store
            .finalize(
                &cancelled.id,
                &outcome(ApprovalState::Cancelled, None),
                audit(event())
            )
            .await
            .unwrap()
    );
    assert!(
        !store
            .finalize(&cancelled.id, &reported, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(reports().await, 0, "a losing write marks no network");

    let a = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&a, &[], audit(event()))
        .await
        .unwrap();
    let before = audit_rows(&store).await;
    assert!(
        store
            .finalize(&a.id, &reported, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(reports().await, 1);
    assert_eq!(audit_rows(&store).await, before + 1);
    assert!(
        !store
            .finalize(&a.id, &reported, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(reports().await, 1, "marked once, by the write that won");
    assert_eq!(
        store.approval(&a.id).await.unwrap(),
        Some(a.decided(&reported))
    );
}

//! Writes raced against each other, as several nodes sharing one database race them: every
//! only-once write has exactly one winner, and the audit chain stays one chain without gaps.

use crate::support::{
    app, approval, audit, audit_rows, device, enrollment, event, now, outcome, pending_device, user,
};
use assent_core::Store;
use assent_core::audit::AuditEvent;
use assent_core::audit::check::verify_chain;
use assent_core::ids::DeviceId;
use assent_core::model::{DeliveryChannel, Device, RecoveryCode, TotpSecret};
use assent_proto::states::{Activation, ApprovalState};
use std::sync::Arc;
use time::Duration;

/// Runs `n` copies of `race` at once and counts the ones that returned `true`.
pub(crate) async fn winners<F, Fut>(n: usize, race: F) -> usize
where
    F: Fn(usize) -> Fut,
    Fut: std::future::Future<Output = bool> + Send + 'static,
{
    let tasks: Vec<_> = (0..n).map(|i| tokio::spawn(race(i))).collect();
    let mut won = 0;
    for task in tasks {
        won += usize::from(task.await.unwrap());
    }
    won
}

/// The chain verifies, holds `rows` rows numbered without gaps, and its recorded head agrees.
pub(crate) async fn assert_one_chain(store: &Arc<dyn Store>, rows: usize) {
    let report = verify_chain(store.as_ref()).await.unwrap();
    assert!(report.intact, "{report:?}");
    assert_eq!(report.rows, u64::try_from(rows).unwrap());
    let seqs: Vec<u64> = store
        .audit_page(0, 100_000)
        .await
        .unwrap()
        .iter()
        .map(|r| r.seq)
        .collect();
    assert_eq!(seqs, (1..=report.rows).collect::<Vec<_>>());
    assert_eq!(store.audit_head().await.unwrap(), report.head_seq);
}

/// Many answers to one request at once (on several nodes, for a shared database): one wins,
/// and only its audit row joins the chain.
pub(crate) async fn concurrent_finalize_keeps_one_chain(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&a, &[], audit(event()))
        .await
        .unwrap();
    let before = audit_rows(&store).await;
    let won = winners(16, |i| {
        let (store, id, phone) = (store.clone(), a.id.clone(), phone.clone());
        async move {
            let outcome = match i % 3 {
                0 => outcome(ApprovalState::Approved, Some(&phone)),
                1 => outcome(ApprovalState::Denied, Some(&phone)),
                _ => outcome(ApprovalState::Expired, None),
            };
            let event = AuditEvent::decided(&id, outcome.state.as_str(), None, None);
            store.finalize(&id, &outcome, audit(event)).await.unwrap()
        }
    })
    .await;
    assert_eq!(won, 1);
    assert_one_chain(&store, before + 1).await;
    let stored = store.approval(&a.id).await.unwrap().unwrap();
    assert_ne!(stored.state, ApprovalState::Pending);
}

/// Audited writes of every kind racing: every one of them is in the chain, once, in one order.
pub(crate) async fn concurrent_audited_writes_keep_one_chain(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let owner = user(&store, "owner").await;
    let before = audit_rows(&store).await;
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let (store, acme, owner) = (store.clone(), acme.clone(), owner.clone());
            tokio::spawn(async move {
                for i in 0..10 {
                    match i % 3 {
                        0 => store
                            .append_audit(audit(AuditEvent::ServerKeyCreated {
                                kid: format!("k{task}-{i}"),
                            }))
                            .await
                            .unwrap(),
                        1 => {
                            user(&store, &format!("u{task}-{i}")).await;
                        }
                        _ => store
                            .insert_approval(
                                &approval(&acme, &owner, Duration::minutes(2)),
                                &[],
                                audit(event()),
                            )
                            .await
                            .unwrap(),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_one_chain(&store, before + 80).await;
}

/// Every "only once" write, raced: exactly one caller wins each, and the chain holds exactly
/// the winners' rows.
pub(crate) async fn concurrent_single_use_writes_have_one_winner(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let before = audit_rows(&store).await;

    // One enrollment, eight devices trying to complete it.
    let enrollment = enrollment(&store, &alice, vec![5; 32], Activation::Immediate).await;
    let template = phone.clone();
    let won = winners(8, |i| {
        let (store, id) = (store.clone(), enrollment.id.clone());
        let device = Device {
            id: DeviceId::generate(),
            jkt: format!("{}-{i}", template.jkt),
            ..template.clone()
        };
        async move {
            store
                .complete_enrollment(&id, &device, audit(event()))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1, "one device per enrollment");
    assert_eq!(store.list_devices(Some(&alice.id)).await.unwrap().len(), 2);

    let expires = now() + Duration::minutes(2);
    let won = winners(8, |_| {
        let store = store.clone();
        async move { store.consume_proof("jkt", "jti", expires).await.unwrap() }
    })
    .await;
    assert_eq!(won, 1, "a proof id is accepted once");

    let secret = TotpSecret {
        user_id: alice.id.clone(),
        seed_sealed: vec![1; 48],
        algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        last_step: None,
        created_at: now(),
    };
    let won = winners(8, |_| {
        let (store, secret) = (store.clone(), secret.clone());
        async move { store.insert_totp(&secret, audit(event())).await.unwrap() }
    })
    .await;
    assert_eq!(won, 1, "one TOTP factor per user");
    let won = winners(8, |_| {
        let (store, id) = (store.clone(), alice.id.clone());
        async move { store.use_totp_step(&id, 7, audit(event())).await.unwrap() }
    })
    .await;
    assert_eq!(won, 1, "a TOTP step is accepted once");

    let codes: Vec<RecoveryCode> = (0..2)
        .map(|slot| RecoveryCode {
            user_id: alice.id.clone(),
            slot,
            hash: format!("h{slot}"),
            created_at: now(),
        })
        .collect();
    store
        .replace_recovery_codes(&alice.id, &codes, audit(event()))
        .await
        .unwrap();
    let won = winners(8, |_| {
        let (store, id) = (store.clone(), alice.id.clone());
        async move {
            store
                .use_recovery_code(&id, 1, "h1", now(), audit(event()))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1, "a recovery code is used once");

    let a = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&a, &[], audit(event()))
        .await
        .unwrap();
    let won = winners(8, |_| {
        let (store, id, device) = (store.clone(), a.id.clone(), phone.id.clone());
        async move {
            store
                .record_delivery(&id, &device, DeliveryChannel::Fetch, audit(event()))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1, "a delivery is recorded (and audited) once");

    // Activation and refusal of one waiting device, raced: one decision.
    let waiting = pending_device(&store, &alice).await;
    let won = winners(8, |i| {
        let (store, id) = (store.clone(), waiting.id.clone());
        async move {
            if i % 2 == 0 {
                store.activate_device(&id, audit(event())).await.unwrap()
            } else {
                store
                    .remove_pending_device(&id, audit(event()))
                    .await
                    .unwrap()
            }
        }
    })
    .await;
    assert_eq!(won, 1, "a waiting device is activated or removed, once");

    let won = winners(8, |_| {
        let (store, id) = (store.clone(), phone.id.clone());
        async move {
            store
                .revoke_device(&id, now(), audit(event()))
                .await
                .unwrap()
        }
    })
    .await;
    assert_eq!(won, 1, "a device is revoked once");

    // Setup rows: enrollment, recovery codes, approval, the waiting device's enrollment and
    // enrollment completion; winners: enrollment, totp, step, code, delivery, decision, revoke.
    assert_one_chain(&store, before + 5 + 7).await;
}

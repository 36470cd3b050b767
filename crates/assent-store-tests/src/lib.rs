//! The behavioural suite of the storage port. Every adapter runs [`CHECKS`], each against a fresh
//! empty store, so SQLite and PostgreSQL are held to the same contract: conditional final writes,
//! single-use codes and proofs, audit rows written with (and only with) their change.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_core::audit::check::verify_chain;
use assent_core::audit::{Actor, AuditEvent, PendingAudit};
use assent_core::clock::{Clock, SystemClock, truncate_to_millis};
use assent_core::ids::{AlertId, AppId, ApprovalId, DeviceId, EnrollmentId, UserId, Username};
use assent_core::model::{
    Admission, Alert, ApiKeyRecord, App, Approval, DeliveryChannel, Device, Enrollment, KeyRole,
    LAST_SEEN_RESOLUTION, Outcome, Passkey, PastApproval, ProofUse, PushSubscription, RecoveryCode,
    Suspension, SuspensionReason, TotpSecret, User, Webhook, WebhookProgress,
};
use assent_core::{Store, StoreError};
use assent_proto::api::{Activation, ApprovalKind, ApprovalState, DeviceState};
use assent_proto::jose::SigningKey;
use futures_util::future::BoxFuture;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A named check of the contract.
pub type Check = fn(Arc<dyn Store>) -> BoxFuture<'static, ()>;

/// Every check, by name.
pub const CHECKS: &[(&str, Check)] = &[
    ("pending_activation_is_decided_once", |s| {
        Box::pin(pending_activation_is_decided_once(s))
    }),
    ("totp_steps_only_move_forward", |s| {
        Box::pin(totp_steps_only_move_forward(s))
    }),
    ("recovery_codes_are_single_use_and_replaced_whole", |s| {
        Box::pin(recovery_codes_are_single_use_and_replaced_whole(s))
    }),
    ("attempts_are_limited_atomically", |s| {
        Box::pin(attempts_are_limited_atomically(s))
    }),
    ("users_are_unique_and_found", |s| {
        Box::pin(users_are_unique_and_found(s))
    }),
    ("apps_and_keys", |s| Box::pin(apps_and_keys(s))),
    ("enrollment_is_single_use", |s| {
        Box::pin(enrollment_is_single_use(s))
    }),
    ("finalize_is_conditional", |s| {
        Box::pin(finalize_is_conditional(s))
    }),
    ("concurrent_finalize_has_one_winner", |s| {
        Box::pin(concurrent_finalize_has_one_winner(s))
    }),
    ("pending_and_due_for_expiry", |s| {
        Box::pin(pending_and_due_for_expiry(s))
    }),
    ("proof_ids_are_single_use", |s| {
        Box::pin(proof_ids_are_single_use(s))
    }),
    ("a_fetch_records_its_proof_and_its_delivery_together", |s| {
        Box::pin(a_fetch_records_its_proof_and_its_delivery_together(s))
    }),
    ("deliveries_are_recorded_once", |s| {
        Box::pin(deliveries_are_recorded_once(s))
    }),
    ("revocation_is_conditional", |s| {
        Box::pin(revocation_is_conditional(s))
    }),
    ("audit_chain_is_intact_and_paged", |s| {
        Box::pin(audit_chain_is_intact_and_paged(s))
    }),
    ("failed_writes_leave_no_audit_row", |s| {
        Box::pin(failed_writes_leave_no_audit_row(s))
    }),
    ("authenticator_records", |s| {
        Box::pin(authenticator_records(s))
    }),
    ("concurrent_finalize_keeps_one_chain", |s| {
        Box::pin(concurrent_finalize_keeps_one_chain(s))
    }),
    ("concurrent_audited_writes_keep_one_chain", |s| {
        Box::pin(concurrent_audited_writes_keep_one_chain(s))
    }),
    ("concurrent_single_use_writes_have_one_winner", |s| {
        Box::pin(concurrent_single_use_writes_have_one_winner(s))
    }),
    ("fatigue_risk_and_webhook_records", |s| {
        Box::pin(fatigue_risk_and_webhook_records(s))
    }),
];

fn now() -> OffsetDateTime {
    truncate_to_millis(SystemClock.now())
}

fn audit(event: AuditEvent) -> PendingAudit {
    PendingAudit::new(now(), Actor::System, event)
}

fn event() -> AuditEvent {
    AuditEvent::ServerKeyCreated { kid: "test".into() }
}

async fn audit_rows(store: &Arc<dyn Store>) -> usize {
    store.audit_page(0, 100_000).await.unwrap().len()
}

async fn user(store: &Arc<dyn Store>, name: &str) -> User {
    let user = User {
        id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        created_at: now(),
    };
    store.insert_user(&user, audit(event())).await.unwrap();
    user
}

async fn app(store: &Arc<dyn Store>, name: &str) -> App {
    let app = App {
        id: AppId::generate(),
        name: name.into(),
        created_at: now(),
    };
    let key = ApiKeyRecord {
        id: format!("k-{name}"),
        secret_hash: vec![1; 32],
        role: KeyRole::App(app.id.clone()),
        created_at: now(),
    };
    store.insert_app(&app, &key, audit(event())).await.unwrap();
    app
}

async fn device(store: &Arc<dyn Store>, user: &User) -> Device {
    let key = SigningKey::generate().unwrap();
    let enrollment = Enrollment {
        id: EnrollmentId::generate(),
        user_id: user.id.clone(),
        code_hash: key.jwk().thumbprint().into_bytes(),
        created_at: now(),
        expires_at: now() + Duration::minutes(15),
        used_at: None,
        activation: Activation::Immediate,
    };
    store
        .insert_enrollment(&enrollment, audit(event()))
        .await
        .unwrap();
    let device = Device {
        id: DeviceId::generate(),
        user_id: user.id.clone(),
        name: "phone".into(),
        platform: "test".into(),
        jwk: key.jwk().clone(),
        jkt: key.jwk().thumbprint(),
        state: DeviceState::Active,
        created_at: now(),
        revoked_at: None,
        last_seen_at: None,
        activation_code_sealed: None,
        web_push: false,
    };
    assert!(
        store
            .complete_enrollment(&enrollment.id, &device, audit(event()))
            .await
            .unwrap()
    );
    device
}

fn approval(app: &App, user: &User, expires_in: Duration) -> Approval {
    Approval {
        id: ApprovalId::generate(),
        app_id: app.id.clone(),
        user_id: user.id.clone(),
        kind: ApprovalKind::Transaction,
        binding_message: Some("Send 10.00 EUR".into()),
        authorization_details: vec![serde_json::json!({"type": "payment", "amount": "10.00"})],
        context: Default::default(),
        nonce: "nonce".into(),
        display_code: Some("123456".into()),
        user_verification: true,
        risk: Default::default(),
        policy_rule: Some("test".into()),
        state: ApprovalState::Pending,
        reason: None,
        created_at: now(),
        expires_at: now() + expires_in,
        decided_at: None,
        device_id: None,
        statement: None,
        receipt: None,
    }
}

fn outcome(state: ApprovalState, device: Option<&Device>) -> Outcome {
    Outcome {
        state,
        reason: None,
        decided_at: now(),
        device_id: device.map(|d| d.id.clone()),
        statement: device.map(|_| "statement".into()),
        receipt: format!("receipt-{}", state.as_str()),
    }
}

async fn users_are_unique_and_found(store: Arc<dyn Store>) {
    let bob = user(&store, "bob").await;
    let alice = user(&store, "alice").await;
    assert_eq!(store.user(&bob.id).await.unwrap(), Some(bob.clone()));
    assert_eq!(
        store
            .user_by_name(&Username::parse("ALICE").unwrap())
            .await
            .unwrap(),
        Some(alice.clone())
    );
    assert_eq!(
        store
            .user_by_name(&Username::parse("carol").unwrap())
            .await
            .unwrap(),
        None
    );
    let twin = User {
        id: UserId::generate(),
        ..alice.clone()
    };
    assert!(matches!(
        store.insert_user(&twin, audit(event())).await,
        Err(StoreError::Conflict(_))
    ));
    let names: Vec<String> = store
        .list_users()
        .await
        .unwrap()
        .iter()
        .map(|u| u.username.to_string())
        .collect();
    assert_eq!(names, ["alice", "bob"]);
}

async fn apps_and_keys(store: Arc<dyn Store>) {
    assert!(!store.has_admin_key().await.unwrap());
    let admin = ApiKeyRecord {
        id: "admin1".into(),
        secret_hash: vec![2; 32],
        role: KeyRole::Admin,
        created_at: now(),
    };
    store.insert_api_key(&admin, audit(event())).await.unwrap();
    assert!(store.has_admin_key().await.unwrap());
    assert_eq!(store.api_key("admin1").await.unwrap(), Some(admin));
    let acme = app(&store, "Acme").await;
    assert_eq!(store.app(&acme.id).await.unwrap(), Some(acme.clone()));
    let key = store.api_key("k-Acme").await.unwrap().unwrap();
    assert_eq!(key.role, KeyRole::App(acme.id));
    assert_eq!(store.api_key("nope").await.unwrap(), None);
    let twin = App {
        id: AppId::generate(),
        name: "Acme".into(),
        created_at: now(),
    };
    let key = ApiKeyRecord {
        id: "k2".into(),
        secret_hash: vec![3; 32],
        role: KeyRole::App(twin.id.clone()),
        created_at: now(),
    };
    assert!(matches!(
        store.insert_app(&twin, &key, audit(event())).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        store.api_key("k2").await.unwrap(),
        None,
        "a refused app leaves no key behind"
    );
}

async fn enrollment_is_single_use(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let enrollment = Enrollment {
        id: EnrollmentId::generate(),
        user_id: alice.id.clone(),
        code_hash: vec![7; 32],
        created_at: now(),
        expires_at: now() + Duration::minutes(15),
        used_at: None,
        activation: Activation::Immediate,
    };
    store
        .insert_enrollment(&enrollment, audit(event()))
        .await
        .unwrap();
    assert_eq!(
        store.enrollment_by_code_hash(&[7; 32]).await.unwrap(),
        Some(enrollment.clone())
    );
    let key = SigningKey::generate().unwrap();
    let make = |name: &str| Device {
        id: DeviceId::generate(),
        user_id: alice.id.clone(),
        name: name.into(),
        platform: "test".into(),
        jwk: key.jwk().clone(),
        jkt: format!("{}-{name}", key.jwk().thumbprint()),
        state: DeviceState::Active,
        created_at: now(),
        revoked_at: None,
        last_seen_at: None,
        activation_code_sealed: None,
        web_push: false,
    };
    let first = make("first");
    assert!(
        store
            .complete_enrollment(&enrollment.id, &first, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .complete_enrollment(&enrollment.id, &make("second"), audit(event()))
            .await
            .unwrap()
    );
    assert!(
        store
            .enrollment_by_code_hash(&[7; 32])
            .await
            .unwrap()
            .unwrap()
            .used_at
            .is_some()
    );
    let devices = store.list_devices(Some(&alice.id)).await.unwrap();
    assert_eq!(devices, vec![first.clone()]);
    assert_eq!(
        store.device_by_jkt(&first.jkt).await.unwrap(),
        Some(first.clone())
    );
    assert_eq!(store.device(&first.id).await.unwrap(), Some(first));
}

async fn finalize_is_conditional(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    store.insert_approval(&a, audit(event())).await.unwrap();
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

async fn concurrent_finalize_has_one_winner(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    for _ in 0..10 {
        let a = approval(&acme, &alice, Duration::minutes(2));
        store.insert_approval(&a, audit(event())).await.unwrap();
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

async fn pending_and_due_for_expiry(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let acme = app(&store, "Acme").await;
    let live = approval(&acme, &alice, Duration::minutes(2));
    let old = approval(&acme, &alice, Duration::seconds(-1));
    let done = approval(&acme, &alice, Duration::minutes(2));
    let other = approval(&acme, &bob, Duration::minutes(2));
    for a in [&live, &old, &done, &other] {
        store.insert_approval(a, audit(event())).await.unwrap();
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

async fn proof_ids_are_single_use(store: Arc<dyn Store>) {
    let expires = now() + Duration::minutes(2);
    assert!(store.consume_proof("jkt1", "jti1", expires).await.unwrap());
    assert!(!store.consume_proof("jkt1", "jti1", expires).await.unwrap());
    assert!(
        store.consume_proof("jkt2", "jti1", expires).await.unwrap(),
        "ids are per key"
    );
    assert!(
        store
            .consume_proof("jkt1", "old", now() - Duration::seconds(1))
            .await
            .unwrap()
    );
    assert_eq!(store.purge_proofs(now()).await.unwrap(), 1);
    assert!(
        !store.consume_proof("jkt1", "jti1", expires).await.unwrap(),
        "live ids survive a purge"
    );
}

async fn deliveries_are_recorded_once(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    store.insert_approval(&a, audit(event())).await.unwrap();
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

async fn a_fetch_records_its_proof_and_its_delivery_together(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let tablet = device(&store, &alice).await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    store.insert_approval(&a, audit(event())).await.unwrap();
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

async fn revocation_is_conditional(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let phone = device(&store, &alice).await;
    assert!(
        store
            .revoke_device(&phone.id, now(), audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_device(&phone.id, now(), audit(event()))
            .await
            .unwrap()
    );
    let stored = store.device(&phone.id).await.unwrap().unwrap();
    assert_eq!(stored.state, DeviceState::Revoked);
    assert!(stored.revoked_at.is_some());
}

async fn audit_chain_is_intact_and_paged(store: Arc<dyn Store>) {
    for i in 0..25 {
        store
            .append_audit(audit(AuditEvent::ServerKeyCreated {
                kid: format!("k{i}"),
            }))
            .await
            .unwrap();
    }
    let alice = user(&store, "alice").await;
    device(&store, &alice).await;
    let report = verify_chain(store.as_ref()).await.unwrap();
    assert!(report.intact, "{report:?}");
    assert_eq!(report.rows, 28);
    assert_eq!(store.audit_head().await.unwrap(), Some(28));
    let page = store.audit_page(10, 5).await.unwrap();
    let seqs: Vec<u64> = page.iter().map(|r| r.seq).collect();
    assert_eq!(seqs, [11, 12, 13, 14, 15]);
    assert_eq!(
        page[0].prev_hash,
        store.audit_page(9, 1).await.unwrap()[0].hash
    );
}

async fn failed_writes_leave_no_audit_row(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let before = audit_rows(&store).await;
    let twin = User {
        id: UserId::generate(),
        ..alice
    };
    assert!(store.insert_user(&twin, audit(event())).await.is_err());
    assert_eq!(audit_rows(&store).await, before);
    assert!(verify_chain(store.as_ref()).await.unwrap().intact);
}

async fn authenticator_records(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let phone = device(&store, &alice).await;
    let acme = app(&store, "Acme").await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    store.insert_approval(&a, audit(event())).await.unwrap();
    assert!(
        store
            .approval(&a.id)
            .await
            .unwrap()
            .unwrap()
            .user_verification
    );

    store
        .rename_device(&phone.id, "Work phone", audit(event()))
        .await
        .unwrap();
    assert_eq!(
        store.device(&phone.id).await.unwrap().unwrap().name,
        "Work phone"
    );

    assert_eq!(store.passkey(&phone.id).await.unwrap(), None);
    let first = Passkey {
        device_id: phone.id.clone(),
        credential_id: "c1".into(),
        public_key: vec![4; 65],
        created_at: now(),
    };
    store.set_passkey(&first, audit(event())).await.unwrap();
    let second = Passkey {
        credential_id: "c2".into(),
        ..first.clone()
    };
    store.set_passkey(&second, audit(event())).await.unwrap();
    assert_eq!(
        store.passkey(&phone.id).await.unwrap(),
        Some(second),
        "a new passkey replaces the old"
    );

    let subscription = PushSubscription {
        device_id: phone.id.clone(),
        endpoint: "https://push.example/1".into(),
        p256dh: "k".into(),
        auth: "a".into(),
        created_at: now(),
    };
    store
        .set_push_subscription(&subscription, audit(event()))
        .await
        .unwrap();
    assert_eq!(
        store.push_subscription(&phone.id).await.unwrap(),
        Some(subscription)
    );

    for (i, owner) in [&alice, &alice, &bob].into_iter().enumerate() {
        let alert = Alert {
            id: AlertId::generate(),
            user_id: owner.id.clone(),
            kind: "test".into(),
            message: format!("alert {i}"),
            created_at: now() + Duration::seconds(i64::try_from(i).unwrap()),
            device_id: None,
        };
        store.insert_alert(&alert).await.unwrap();
    }
    let alerts = store.alerts_for_user(&alice.id, 10).await.unwrap();
    let messages: Vec<String> = alerts.into_iter().map(|a| a.message).collect();
    assert_eq!(
        messages,
        ["alert 1", "alert 0"],
        "newest first, only the user's own"
    );
    assert_eq!(store.alerts_for_user(&alice.id, 1).await.unwrap().len(), 1);
}

async fn pending_device(store: &Arc<dyn Store>, user: &User) -> Device {
    let key = SigningKey::generate().unwrap();
    let enrollment = Enrollment {
        id: EnrollmentId::generate(),
        user_id: user.id.clone(),
        code_hash: key.jwk().thumbprint().into_bytes(),
        created_at: now(),
        expires_at: now() + Duration::minutes(15),
        used_at: None,
        activation: Activation::DeviceApproval,
    };
    store
        .insert_enrollment(&enrollment, audit(event()))
        .await
        .unwrap();
    let stored = store
        .enrollment_by_code_hash(&enrollment.code_hash)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(stored.activation, Activation::DeviceApproval);
    let device = Device {
        id: DeviceId::generate(),
        user_id: user.id.clone(),
        name: "new phone".into(),
        platform: "test".into(),
        jwk: key.jwk().clone(),
        jkt: key.jwk().thumbprint(),
        state: DeviceState::PendingActivation,
        created_at: now(),
        revoked_at: None,
        last_seen_at: Some(now()),
        activation_code_sealed: Some(vec![9; 40]),
        web_push: false,
    };
    assert!(
        store
            .complete_enrollment(&enrollment.id, &device, audit(event()))
            .await
            .unwrap()
    );
    device
}

async fn pending_activation_is_decided_once(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let phone = device(&store, &alice).await;
    let first = pending_device(&store, &alice).await;
    assert_eq!(store.device(&first.id).await.unwrap(), Some(first.clone()));
    // An active device is neither activated nor removed by these.
    assert!(
        !store
            .activate_device(&phone.id, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .remove_pending_device(&phone.id, audit(event()))
            .await
            .unwrap()
    );
    let before = audit_rows(&store).await;
    assert!(
        store
            .activate_device(&first.id, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .activate_device(&first.id, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(audit_rows(&store).await, before + 1);
    let activated = store.device(&first.id).await.unwrap().unwrap();
    assert_eq!(activated.state, DeviceState::Active);
    assert_eq!(activated.activation_code_sealed, None);

    let second = pending_device(&store, &alice).await;
    let waiting = store
        .pending_devices_created_before(now() + Duration::seconds(1), 10)
        .await
        .unwrap();
    assert_eq!(waiting.len(), 1, "only the device still waiting");
    assert_eq!(waiting[0].id, second.id);
    assert!(
        store
            .pending_devices_created_before(now() - Duration::minutes(1), 10)
            .await
            .unwrap()
            .is_empty()
    );
    // Whatever names the removed device goes with it, a delivery included (none can be
    // recorded through the service, which refuses a waiting device every request).
    let acme = app(&store, "acme").await;
    let request = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&request, audit(event()))
        .await
        .unwrap();
    store
        .record_delivery(
            &request.id,
            &second.id,
            DeliveryChannel::Fetch,
            audit(event()),
        )
        .await
        .unwrap();
    assert!(
        store
            .first_delivery_at(&request.id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .remove_pending_device(&second.id, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(
        store.first_delivery_at(&request.id).await.unwrap(),
        None,
        "the delivery went with the device"
    );
    assert_eq!(store.device(&second.id).await.unwrap(), None);
    assert!(
        !store
            .activate_device(&second.id, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(store.list_devices(Some(&alice.id)).await.unwrap().len(), 2);

    // Last seen only moves forward, and by a whole resolution step at least.
    let later = now() + Duration::minutes(5);
    let last_seen = |store: Arc<dyn Store>, id: DeviceId| async move {
        store.device(&id).await.unwrap().unwrap().last_seen_at
    };
    store.touch_device(&phone.id, later).await.unwrap();
    store.touch_device(&phone.id, now()).await.unwrap();
    assert_eq!(
        last_seen(store.clone(), phone.id.clone()).await,
        Some(later)
    );
    let within = later + LAST_SEEN_RESOLUTION - Duration::milliseconds(1);
    store.touch_device(&phone.id, within).await.unwrap();
    assert_eq!(
        last_seen(store.clone(), phone.id.clone()).await,
        Some(later),
        "within the resolution, the row is left alone"
    );
    let next = later + LAST_SEEN_RESOLUTION;
    store.touch_device(&phone.id, next).await.unwrap();
    assert_eq!(last_seen(store.clone(), phone.id.clone()).await, Some(next));
}

async fn totp_steps_only_move_forward(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let secret = TotpSecret {
        user_id: alice.id.clone(),
        seed_sealed: vec![1; 48],
        algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        last_step: None,
        created_at: now(),
    };
    assert!(store.insert_totp(&secret, audit(event())).await.unwrap());
    assert!(!store.insert_totp(&secret, audit(event())).await.unwrap());
    assert_eq!(store.totp(&alice.id).await.unwrap(), Some(secret.clone()));
    assert!(
        store
            .use_totp_step(&alice.id, 100, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_totp_step(&alice.id, 100, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_totp_step(&alice.id, 99, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        store
            .use_totp_step(&alice.id, 101, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(
        store.totp(&alice.id).await.unwrap().unwrap().last_step,
        Some(101)
    );
    assert!(store.delete_totp(&alice.id, audit(event())).await.unwrap());
    assert!(!store.delete_totp(&alice.id, audit(event())).await.unwrap());
    assert_eq!(store.totp(&alice.id).await.unwrap(), None);
}

async fn recovery_codes_are_single_use_and_replaced_whole(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let created = now();
    let set = |tag: &str| -> Vec<RecoveryCode> {
        (0..3)
            .map(|slot| RecoveryCode {
                user_id: alice.id.clone(),
                slot,
                hash: format!("{tag}-{slot}"),
                created_at: created,
            })
            .collect()
    };
    store
        .replace_recovery_codes(&alice.id, &set("a"), audit(event()))
        .await
        .unwrap();
    assert_eq!(store.recovery_codes(&alice.id).await.unwrap(), set("a"));
    let at = now();
    assert!(
        store
            .use_recovery_code(&alice.id, 1, "a-1", at, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code(&alice.id, 1, "a-1", at, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(store.recovery_codes(&alice.id).await.unwrap().len(), 2);
    store
        .replace_recovery_codes(&alice.id, &set("b"), audit(event()))
        .await
        .unwrap();
    // A code matched against the old set cannot spend a slot of the new one.
    assert!(
        !store
            .use_recovery_code(&alice.id, 0, "a-0", at, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(store.recovery_codes(&alice.id).await.unwrap(), set("b"));
}

async fn attempts_are_limited_atomically(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let start = now();
    let since = start - Duration::minutes(15);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (store, id) = (store.clone(), alice.id.clone());
        tasks.push(tokio::spawn(async move {
            store
                .admit_attempt(&id, "totp", start + Duration::seconds(i), since, 5)
                .await
                .unwrap()
        }));
    }
    let mut admitted = 0;
    for task in tasks {
        if task.await.unwrap() == Admission::Admitted {
            admitted += 1;
        }
    }
    assert_eq!(
        admitted, 5,
        "exactly the limit is admitted, however they race"
    );
    let (count, oldest) = store
        .attempts_since(&alice.id, "totp", since)
        .await
        .unwrap();
    assert_eq!(count, 5);
    assert!(oldest.is_some());
    match store
        .admit_attempt(&alice.id, "totp", start, since, 5)
        .await
        .unwrap()
    {
        Admission::Refused { oldest: o } => assert_eq!(Some(o), oldest),
        Admission::Admitted => panic!("the sixth attempt must be refused"),
    }
    // Another factor has its own allowance; a success clears one factor only.
    assert_eq!(
        store
            .admit_attempt(&alice.id, "recovery_code", start, since, 5)
            .await
            .unwrap(),
        Admission::Admitted
    );
    store.clear_attempts(&alice.id, "totp").await.unwrap();
    assert_eq!(
        store
            .attempts_since(&alice.id, "totp", since)
            .await
            .unwrap()
            .0,
        0
    );
    assert_eq!(
        store
            .attempts_since(&alice.id, "recovery_code", since)
            .await
            .unwrap()
            .0,
        1
    );
    // Attempts older than the window no longer count.
    assert_eq!(
        store
            .admit_attempt(
                &alice.id,
                "recovery_code",
                start,
                start + Duration::seconds(1),
                1
            )
            .await
            .unwrap(),
        Admission::Admitted
    );
}

/// Runs `n` copies of `race` at once and counts the ones that returned `true`.
async fn winners<F, Fut>(n: usize, race: F) -> usize
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
async fn assert_one_chain(store: &Arc<dyn Store>, rows: usize) {
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
async fn concurrent_finalize_keeps_one_chain(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    store.insert_approval(&a, audit(event())).await.unwrap();
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
async fn concurrent_audited_writes_keep_one_chain(store: Arc<dyn Store>) {
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
async fn concurrent_single_use_writes_have_one_winner(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let before = audit_rows(&store).await;

    // One enrollment, eight devices trying to complete it.
    let enrollment = Enrollment {
        id: EnrollmentId::generate(),
        user_id: alice.id.clone(),
        code_hash: vec![5; 32],
        created_at: now(),
        expires_at: now() + Duration::minutes(15),
        used_at: None,
        activation: Activation::Immediate,
    };
    store
        .insert_enrollment(&enrollment, audit(event()))
        .await
        .unwrap();
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
    store.insert_approval(&a, audit(event())).await.unwrap();
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

/// The records of the fatigue defense, the risk engine and webhooks, read back as written.
async fn fatigue_risk_and_webhook_records(store: Arc<dyn Store>) {
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
        store.insert_approval(a, audit(event())).await.unwrap();
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

//! What the checks share: the clock reading and audit event they write with, and sample
//! records written through the port (a user, an application, an enrolled or a waiting device,
//! a request and its outcome).

use assent_core::Store;
use assent_core::audit::{Actor, AuditEvent, PendingAudit};
use assent_core::clock::{Clock, SystemClock, truncate_to_millis};
use assent_core::ids::{AppId, ApprovalId, DeviceId, EnrollmentId, UserId, Username};
use assent_core::model::{
    ApiKeyRecord, App, Approval, Device, Enrollment, KeyRole, MatchingCode, Outcome, User,
};
use assent_proto::jose::SigningKey;
use assent_proto::states::{Activation, ApprovalKind, ApprovalState, DeviceState};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

pub(crate) fn now() -> OffsetDateTime {
    truncate_to_millis(SystemClock.now())
}

pub(crate) fn audit(event: AuditEvent) -> PendingAudit {
    PendingAudit::new(now(), Actor::System, event)
}

pub(crate) fn event() -> AuditEvent {
    AuditEvent::ServerKeyCreated { kid: "test".into() }
}

pub(crate) async fn audit_rows(store: &Arc<dyn Store>) -> usize {
    store.audit_page(0, 100_000).await.unwrap().len()
}

pub(crate) async fn user(store: &Arc<dyn Store>, name: &str) -> User {
    let user = User {
        id: UserId::generate(),
        username: Username::parse(name).unwrap(),
        created_at: now(),
    };
    store.insert_user(&user, audit(event())).await.unwrap();
    user
}

pub(crate) async fn app(store: &Arc<dyn Store>, name: &str) -> App {
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
        revoked_at: None,
    };
    store.insert_app(&app, &key, audit(event())).await.unwrap();
    app
}

/// A fresh enrollment for `user`, valid for 15 minutes, inserted with its audit row.
pub(crate) async fn enrollment(
    store: &Arc<dyn Store>,
    user: &User,
    code_hash: Vec<u8>,
    activation: Activation,
) -> Enrollment {
    let enrollment = Enrollment {
        id: EnrollmentId::generate(),
        user_id: user.id.clone(),
        code_hash,
        created_at: now(),
        expires_at: now() + Duration::minutes(15),
        used_at: None,
        activation,
    };
    store
        .insert_enrollment(&enrollment, audit(event()))
        .await
        .unwrap();
    enrollment
}

pub(crate) async fn device(store: &Arc<dyn Store>, user: &User) -> Device {
    let key = SigningKey::generate().unwrap();
    let enrollment = enrollment(
        store,
        user,
        key.jwk().thumbprint().into_bytes(),
        Activation::Immediate,
    )
    .await;
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
        push_channel: None,
        push_working: false,
    };
    assert!(
        store
            .complete_enrollment(&enrollment.id, &device, audit(event()))
            .await
            .unwrap()
    );
    device
}

pub(crate) async fn pending_device(store: &Arc<dyn Store>, user: &User) -> Device {
    let key = SigningKey::generate().unwrap();
    let enrollment = enrollment(
        store,
        user,
        key.jwk().thumbprint().into_bytes(),
        Activation::DeviceApproval,
    )
    .await;
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
        push_channel: None,
        push_working: false,
    };
    assert!(
        store
            .complete_enrollment(&enrollment.id, &device, audit(event()))
            .await
            .unwrap()
    );
    device
}

pub(crate) fn approval(app: &App, user: &User, expires_in: Duration) -> Approval {
    Approval {
        id: ApprovalId::generate(),
        app_id: app.id.clone(),
        user_id: user.id.clone(),
        kind: ApprovalKind::Transaction,
        binding_message: Some("Send 10.00 EUR".into()),
        authorization_details: vec![serde_json::json!({"type": "payment", "amount": "10.00"})],
        context: Default::default(),
        nonce: "nonce".into(),
        code: Some(MatchingCode {
            length: 6,
            digest: vec![7; 32],
        }),
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
        quorum: None,
    }
}

pub(crate) fn outcome(state: ApprovalState, device: Option<&Device>) -> Outcome {
    Outcome {
        state,
        reason: None,
        decided_at: now(),
        device_id: device.map(|d| d.id.clone()),
        statement: device.map(|_| "statement".into()),
        receipt: format!("receipt-{}", state.as_str()),
        reported_network: None,
    }
}

//! Enrollments: a code enrolls one device, once.

use crate::support::{audit, enrollment, event, now, user};
use assent_core::Store;
use assent_core::ids::DeviceId;
use assent_core::model::Device;
use assent_proto::jose::SigningKey;
use assent_proto::states::{Activation, DeviceState};
use std::sync::Arc;

pub(crate) async fn enrollment_is_single_use(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let enrollment = enrollment(&store, &alice, vec![7; 32], Activation::Immediate).await;
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
        push_channel: None,
        push_working: false,
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

//! Devices and what hangs off one: proof ids used once, revocation and activation decided once,
//! last seen moving forward only, renames, a passkey and a push subscription replaced per device,
//! and the user's alerts (newest first, only the user's own).

use crate::support::{app, approval, audit, audit_rows, device, event, now, pending_device, user};
use assent_core::Store;
use assent_core::ids::{AlertId, DeviceId};
use assent_core::model::{Alert, DeliveryChannel, LAST_SEEN_RESOLUTION, Passkey};
use assent_proto::states::DeviceState;
use std::sync::Arc;
use time::Duration;

pub(crate) async fn proof_ids_are_single_use(store: Arc<dyn Store>) {
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

pub(crate) async fn revocation_is_conditional(store: Arc<dyn Store>) {
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

pub(crate) async fn pending_activation_is_decided_once(store: Arc<dyn Store>) {
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
        .insert_approval(&request, &[], audit(event()))
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

pub(crate) async fn authenticator_records(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let phone = device(&store, &alice).await;
    let acme = app(&store, "Acme").await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&a, &[], audit(event()))
        .await
        .unwrap();
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
        sign_count: 0,
    };
    store.set_passkey(&first, audit(event())).await.unwrap();
    let second = Passkey {
        credential_id: "c2".into(),
        ..first.clone()
    };
    store.set_passkey(&second, audit(event())).await.unwrap();
    assert_eq!(
        store.passkey(&phone.id).await.unwrap(),
        Some(second.clone()),
        "a new passkey replaces the old"
    );

    // The signature counter only moves forward, and only for the passkey it was read from.
    let advance = |credential: &'static str, to: u32| {
        let (store, id) = (store.clone(), phone.id.clone());
        async move { store.advance_sign_count(&id, credential, to).await.unwrap() }
    };
    assert!(advance("c2", 5).await);
    assert!(!advance("c2", 5).await, "the same counter twice");
    assert!(!advance("c2", 3).await, "a counter that went back");
    assert!(!advance("c1", 9).await, "the replaced passkey");
    assert!(advance("c2", 6).await);
    let sign_count = |store: Arc<dyn Store>, id: DeviceId| async move {
        store.passkey(&id).await.unwrap().unwrap().sign_count
    };
    assert_eq!(sign_count(store.clone(), phone.id.clone()).await, 6);
    store.set_passkey(&second, audit(event())).await.unwrap();
    assert_eq!(
        sign_count(store.clone(), phone.id.clone()).await,
        0,
        "a registration starts its counter again"
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

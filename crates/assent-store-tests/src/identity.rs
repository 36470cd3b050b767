//! API keys, applications and users: unique, found, never changed.

use crate::support::{app, audit, audit_rows, event, now, user};
use assent_core::ids::{AppId, UserId, Username};
use assent_core::model::{ApiKeyRecord, App, KeyRole, User};
use assent_core::{Store, StoreError};
use std::sync::Arc;
use time::Duration;

pub(crate) async fn users_are_unique_and_found(store: Arc<dyn Store>) {
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

pub(crate) async fn apps_and_keys(store: Arc<dyn Store>) {
    assert!(!store.has_admin_key().await.unwrap());
    let admin = ApiKeyRecord {
        id: "admin1".into(),
        secret_hash: vec![2; 32],
        role: KeyRole::Admin,
        created_at: now(),
        revoked_at: None,
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
        revoked_at: None,
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

pub(crate) async fn keys_rotate_and_revoke_once(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let zed = app(&store, "Zed").await;
    let names: Vec<String> = store
        .list_apps()
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.name)
        .collect();
    assert_eq!(names, ["Acme", "Zed"]);
    let first = store.api_key("k-Acme").await.unwrap().unwrap();
    assert_eq!(first.revoked_at, None);
    let later = now() + Duration::seconds(5);
    let second = ApiKeyRecord {
        id: "k-Acme-2".into(),
        secret_hash: vec![4; 32],
        role: KeyRole::App(acme.id.clone()),
        created_at: later,
        revoked_at: None,
    };
    let before = audit_rows(&store).await;
    store
        .rotate_api_key(&second, std::slice::from_ref(&first.id), audit(event()))
        .await
        .unwrap();
    assert_eq!(audit_rows(&store).await, before + 1);
    let keys = store.app_keys(&acme.id).await.unwrap();
    assert_eq!(
        keys.iter().map(|k| k.id.as_str()).collect::<Vec<_>>(),
        ["k-Acme-2", "k-Acme"],
        "newest first"
    );
    assert_eq!(keys[0].revoked_at, None);
    assert_eq!(
        keys[1].revoked_at,
        Some(later),
        "revoked at the new key's birth"
    );
    assert_eq!(
        store.api_key("k-Acme-zz").await.unwrap(),
        None,
        "an unknown key is not found"
    );
    // Another application's keys are untouched.
    assert_eq!(store.app_keys(&zed.id).await.unwrap()[0].revoked_at, None);

    let at = later + Duration::seconds(1);
    let before = audit_rows(&store).await;
    assert!(
        store
            .revoke_api_key("k-Acme-2", at, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .revoke_api_key("k-Acme-2", at, audit(event()))
            .await
            .unwrap(),
        "a key is revoked once"
    );
    assert!(
        !store
            .revoke_api_key("nope", at, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(
        audit_rows(&store).await,
        before + 1,
        "only the change is audited"
    );
    assert_eq!(
        store.api_key("k-Acme-2").await.unwrap().unwrap().revoked_at,
        Some(at)
    );

    let admin = ApiKeyRecord {
        id: "admin1".into(),
        secret_hash: vec![2; 32],
        role: KeyRole::Admin,
        created_at: now(),
        revoked_at: None,
    };
    store.insert_api_key(&admin, audit(event())).await.unwrap();
    assert!(store.has_admin_key().await.unwrap());
    assert!(
        store
            .revoke_api_key("admin1", at, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store.has_admin_key().await.unwrap(),
        "a revoked admin key is no admin key"
    );
}

pub(crate) async fn concurrent_key_revocations_have_one_winner(store: Arc<dyn Store>) {
    app(&store, "Acme").await;
    let before = audit_rows(&store).await;
    let tries = (0..8).map(|_| {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .revoke_api_key("k-Acme", now(), audit(event()))
                .await
                .unwrap()
        })
    });
    let won = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(won, 1);
    assert_eq!(audit_rows(&store).await, before + 1);
}

pub(crate) async fn a_rotation_with_a_stale_view_writes_nothing(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let new_key = |id: &str| ApiKeyRecord {
        id: id.into(),
        secret_hash: vec![5; 32],
        role: KeyRole::App(acme.id.clone()),
        created_at: now(),
        revoked_at: None,
    };
    store
        .rotate_api_key(&new_key("k2"), &["k-Acme".to_owned()], audit(event()))
        .await
        .unwrap();
    // A second rotation that still believes k-Acme is the working key: refused, nothing kept.
    let before = audit_rows(&store).await;
    assert!(matches!(
        store
            .rotate_api_key(&new_key("k3"), &["k-Acme".to_owned()], audit(event()))
            .await,
        Err(StoreError::Conflict(_))
    ));
    // Naming too few keys is refused too: k2 would stay working beside k3.
    assert!(matches!(
        store
            .rotate_api_key(&new_key("k3"), &[], audit(event()))
            .await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(audit_rows(&store).await, before);
    assert_eq!(store.api_key("k3").await.unwrap(), None);
    assert_eq!(store.api_key("k2").await.unwrap().unwrap().revoked_at, None);

    // Eight rotations from the same view: one wins, and one key works at the end.
    let tries = (0..8).map(|i| {
        let store = store.clone();
        let key = new_key(&format!("race{i}"));
        tokio::spawn(async move {
            store
                .rotate_api_key(&key, &["k2".to_owned()], audit(event()))
                .await
                .is_ok()
        })
    });
    let won = futures_util::future::join_all(tries)
        .await
        .into_iter()
        .filter(|r| *r.as_ref().unwrap())
        .count();
    assert_eq!(won, 1);
    let working = store
        .app_keys(&acme.id)
        .await
        .unwrap()
        .into_iter()
        .filter(|k| k.revoked_at.is_none())
        .count();
    assert_eq!(working, 1);
}

//! API keys, applications and users: unique, found, never changed.

use crate::support::{app, audit, event, now, user};
use assent_core::ids::{AppId, UserId, Username};
use assent_core::model::{ApiKeyRecord, App, KeyRole, User};
use assent_core::{Store, StoreError};
use std::sync::Arc;

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

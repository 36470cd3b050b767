//! Duo Auth API integrations: read back as written (millisecond times, either push setting),
//! found by their exact key only, created once with their audit row, listed oldest first.

use crate::support::{app, audit, audit_rows, now};
use assent_core::audit::AuditEvent;
use assent_core::duo::records::DuoIntegration;
use assent_core::ids::AppId;
use assent_core::model::App;
use assent_core::{Store, StoreError};
use std::sync::Arc;
use time::Duration;

fn created(integration: &DuoIntegration) -> AuditEvent {
    AuditEvent::DuoIntegrationCreated {
        ikey: integration.ikey.clone(),
        app_id: integration.app_id.to_string(),
        api_host: integration.api_host.clone(),
        allow_unmatched_push: integration.allow_unmatched_push,
        allow_legacy_v1: integration.allow_legacy_v1,
    }
}

/// An integration of `app` created `age_ms` milliseconds after a time with a millisecond part,
/// so a store that kept only seconds would not read it back equal.
fn integration(app: &App, ikey: &str, age_ms: i64) -> DuoIntegration {
    let base = now().replace_millisecond(417).unwrap();
    DuoIntegration {
        ikey: ikey.into(),
        app_id: app.id.clone(),
        skey_sealed: vec![0xC3; 72],
        api_host: "assent.example.com".into(),
        allow_unmatched_push: false,
        allow_legacy_v1: false,
        created_at: base + Duration::milliseconds(age_ms),
    }
}

async fn create(store: &Arc<dyn Store>, integration: &DuoIntegration) -> Result<(), StoreError> {
    store
        .insert_duo_integration(integration, audit(created(integration)))
        .await
}

pub(crate) async fn duo_integrations_round_trip_and_are_created_once(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let plain = integration(&acme, "DIAAAAAAAAAAAAAAAAA1", 0);
    let lenient = DuoIntegration {
        ikey: "DIAAAAAAAAAAAAAAAAA2".into(),
        skey_sealed: (0..=255).collect(),
        api_host: "duo.example.org:8443".into(),
        allow_unmatched_push: true,
        allow_legacy_v1: true,
        ..integration(&acme, "", 1)
    };
    assert_eq!(store.duo_integration(&plain.ikey).await.unwrap(), None);

    for stored in [&plain, &lenient] {
        let before = audit_rows(&store).await;
        create(&store, stored).await.unwrap();
        assert_eq!(audit_rows(&store).await, before + 1, "one audit row each");
        let row = store.audit_page(0, 100_000).await.unwrap().pop().unwrap();
        assert_eq!(row.kind, "duo_integration_created");
        assert_eq!(row.subject, format!("duo:{}", stored.ikey));
        assert_eq!(
            store.duo_integration(&stored.ikey).await.unwrap().as_ref(),
            Some(stored)
        );
    }
    assert_eq!(
        store
            .duo_integration(&plain.ikey.to_lowercase())
            .await
            .unwrap(),
        None,
        "keys are exact"
    );
    assert_eq!(
        store.duo_integration("DIAAAAAAAAAAAAAAAAA3").await.unwrap(),
        None
    );

    // A second integration with a taken key is refused whole: no change, no audit row.
    let before = audit_rows(&store).await;
    let usurper = DuoIntegration {
        skey_sealed: vec![0x3C; 72],
        allow_unmatched_push: true,
        ..integration(&acme, &plain.ikey, 5)
    };
    let refused = create(&store, &usurper).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(
        store.duo_integration(&plain.ikey).await.unwrap(),
        Some(plain)
    );
    assert_eq!(audit_rows(&store).await, before);

    // So is one for an application that does not exist.
    let orphan = DuoIntegration {
        app_id: AppId::generate(),
        ..integration(&acme, "DIAAAAAAAAAAAAAAAAA4", 6)
    };
    let refused = create(&store, &orphan).await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(store.duo_integration(&orphan.ikey).await.unwrap(), None);
    assert_eq!(audit_rows(&store).await, before);
    assert_eq!(store.list_duo_integrations().await.unwrap().len(), 2);
}

pub(crate) async fn duo_integrations_are_listed_oldest_first(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let globex = app(&store, "Globex").await;
    assert_eq!(store.list_duo_integrations().await.unwrap(), []);
    // Inserted newest first; two created in the same millisecond come in key order.
    let newest = integration(&acme, "DIAAAAAAAAAAAAAAAAA0", 2_000);
    let tied_b = integration(&globex, "DIBBBBBBBBBBBBBBBBBB", 1);
    let tied_a = DuoIntegration {
        allow_unmatched_push: true,
        ..integration(&acme, "DIAAAAAAAAAAAAAAAAAA", 1)
    };
    let oldest = integration(&globex, "DIZZZZZZZZZZZZZZZZZZ", 0);
    for stored in [&newest, &tied_b, &tied_a, &oldest] {
        create(&store, stored).await.unwrap();
    }
    assert_eq!(
        store.list_duo_integrations().await.unwrap(),
        vec![oldest, tied_a, tied_b, newest]
    );
}

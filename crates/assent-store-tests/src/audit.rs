//! The audit chain: intact, paged, and written only with its change.

use crate::support::{audit, audit_rows, device, event, user};
use assent_core::Store;
use assent_core::audit::AuditEvent;
use assent_core::audit::check::verify_chain;
use assent_core::ids::UserId;
use assent_core::model::User;
use std::sync::Arc;

pub(crate) async fn audit_chain_is_intact_and_paged(store: Arc<dyn Store>) {
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

pub(crate) async fn failed_writes_leave_no_audit_row(store: Arc<dyn Store>) {
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

/// An event about `user`, through `app`, with the row written at `at`.
async fn append_at(store: &Arc<dyn Store>, at: time::OffsetDateTime, event: AuditEvent) -> u64 {
    use assent_core::audit::{Actor, PendingAudit};
    store
        .append_audit(PendingAudit::new(at, Actor::System, event))
        .await
        .unwrap();
    store.audit_head().await.unwrap().unwrap()
}

pub(crate) async fn audit_search_filters_and_resumes(store: Arc<dyn Store>) {
    use assent_core::audit::export::AuditFilter;
    use assent_core::ids::{AppId, DeviceId};
    use time::Duration;
    let t = crate::support::now();
    let (alice, bob) = (UserId::generate(), UserId::generate());
    let (app, device) = (AppId::generate(), DeviceId::generate());
    let alert = |user: &UserId| AuditEvent::AdminAlert {
        detector: "burst_of_prompts".into(),
        user_id: user.to_string(),
        approval_id: None,
        evidence: "3 prompts".into(),
    };
    let first = append_at(&store, t, alert(&alice)).await;
    let created = append_at(
        &store,
        t + Duration::seconds(10),
        AuditEvent::AppCreated {
            app_id: app.to_string(),
            name: "Acme".into(),
            key_id: "k1".into(),
        },
    )
    .await;
    let cloned = append_at(
        &store,
        t + Duration::seconds(20),
        AuditEvent::PasskeyCloneSuspected {
            device_id: device.to_string(),
            user_id: bob.to_string(),
            stored_sign_count: 5,
            presented_sign_count: 3,
        },
    )
    .await;
    let later = append_at(&store, t + Duration::seconds(30), alert(&alice)).await;
    let seqs = |rows: Vec<assent_core::model::AuditRecord>| -> Vec<u64> {
        rows.iter().map(|r| r.seq).collect()
    };
    let search = |filter: AuditFilter| {
        let store = store.clone();
        async move { seqs(store.audit_search(&filter, 100).await.unwrap()) }
    };
    let base = AuditFilter {
        after: first - 1,
        ..AuditFilter::default()
    };
    assert_eq!(search(base.clone()).await, [first, created, cloned, later]);
    // By user (the subject, or a user_id in the event), device, application, kind.
    let by_user = |u: &UserId| AuditFilter {
        user: Some(u.clone()),
        ..base.clone()
    };
    assert_eq!(search(by_user(&alice)).await, [first, later]);
    assert_eq!(
        search(by_user(&bob)).await,
        [cloned],
        "bob's only in the event"
    );
    let by_device = AuditFilter {
        device: Some(device.clone()),
        ..base.clone()
    };
    assert_eq!(search(by_device).await, [cloned]);
    let by_app = AuditFilter {
        app: Some(app.clone()),
        ..base.clone()
    };
    assert_eq!(search(by_app).await, [created]);
    let by_kind = AuditFilter {
        kind: Some("admin_alert".into()),
        ..base.clone()
    };
    assert_eq!(search(by_kind.clone()).await, [first, later]);
    // By time: from `since`, before `until`.
    let window = AuditFilter {
        since: Some(t + Duration::seconds(10)),
        until: Some(t + Duration::seconds(30)),
        ..base.clone()
    };
    assert_eq!(search(window).await, [created, cloned]);
    // Resumed after a sequence number, and paged.
    let resumed = AuditFilter {
        after: created,
        ..base.clone()
    };
    assert_eq!(search(resumed).await, [cloned, later]);
    assert_eq!(
        seqs(store.audit_search(&base, 2).await.unwrap()),
        [first, created]
    );
    let nobody = AuditFilter {
        user: Some(UserId::generate()),
        ..by_kind
    };
    assert!(search(nobody).await.is_empty());
}

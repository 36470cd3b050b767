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

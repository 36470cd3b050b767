//! The CIBA notification outbox (ping and push modes): due once the approval is final, claimed
//! by one sender at a time, retried at its time, never again once delivered or given up.

use crate::ciba::{agent_client, pending_request, registered};
use crate::races::winners;
use crate::support::{app, audit, now, user};
use assent_core::Store;
use assent_core::ciba::records::NotificationDone;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A notification is due only once its approval is final; one of simultaneous claimers gets it;
/// a retry is due again at its time, and a delivered or given-up one never again. Requests
/// without a notification token have no notification.
pub(crate) async fn ciba_notifications_are_due_once_final_and_claimed_once(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let client = agent_client(&acme, "agent", &alice.id);
    store
        .insert_ciba_client(&client, audit(registered(&client)))
        .await
        .unwrap();
    let later = now() + Duration::minutes(2);
    let mut notified = pending_request(&store, &client, &acme, &alice, later).await;
    notified.notification_token_sealed = Some(vec![7; 40]);
    store.insert_ciba_request(&notified).await.unwrap();
    let silent = pending_request(&store, &client, &acme, &alice, later).await;
    store.insert_ciba_request(&silent).await.unwrap();
    let due = |at: OffsetDateTime| {
        let store = store.clone();
        async move {
            store
                .due_ciba_notifications(at, 10)
                .await
                .unwrap()
                .into_iter()
                .map(|r| r.id_hash)
                .collect::<Vec<_>>()
        }
    };
    assert!(due(now()).await.is_empty(), "the approval is still pending");

    for request in [&notified, &silent] {
        let decided = crate::support::outcome(assent_proto::states::ApprovalState::Denied, None);
        assert!(
            store
                .finalize(
                    &request.approval_id,
                    &decided,
                    audit(crate::support::event())
                )
                .await
                .unwrap()
        );
    }
    assert_eq!(due(now()).await, vec![notified.id_hash.clone()]);

    let lease = now() + Duration::seconds(40);
    let claims = winners(8, {
        let (store, id) = (store.clone(), notified.id_hash.clone());
        move |_| {
            let (store, id) = (store.clone(), id.clone());
            async move {
                store
                    .claim_ciba_notification(&id, now(), lease)
                    .await
                    .unwrap()
                    .is_some()
            }
        }
    })
    .await;
    assert_eq!(claims, 1, "one claimer wins");
    assert!(
        due(now()).await.is_empty(),
        "claimed: not due while the lease runs"
    );

    let retry_at = now() + Duration::seconds(5);
    let retry = NotificationDone::Retry {
        retry_at,
        error: "the endpoint answered 503".into(),
    };
    store
        .finish_ciba_notification(&notified.id_hash, &retry)
        .await
        .unwrap();
    assert!(due(now()).await.is_empty(), "not before its retry time");
    assert_eq!(due(retry_at).await, vec![notified.id_hash.clone()]);
    let attempts = store
        .claim_ciba_notification(
            &notified.id_hash,
            retry_at,
            retry_at + Duration::seconds(40),
        )
        .await
        .unwrap();
    assert_eq!(attempts, Some(1), "the first attempt was counted");
    let delivered = NotificationDone::Delivered { at: retry_at };
    store
        .finish_ciba_notification(&notified.id_hash, &delivered)
        .await
        .unwrap();
    assert!(
        due(retry_at + Duration::hours(1)).await.is_empty(),
        "delivered: never again"
    );
    assert_eq!(
        store
            .claim_ciba_notification(
                &notified.id_hash,
                retry_at,
                retry_at + Duration::seconds(40)
            )
            .await
            .unwrap(),
        None
    );
    // The purge takes the outbox row with its request.
    store
        .purge_ciba(later + Duration::seconds(1))
        .await
        .unwrap();
    assert!(
        store
            .ciba_request(&notified.id_hash)
            .await
            .unwrap()
            .is_none()
    );
}

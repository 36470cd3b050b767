//! Push targets, the push outbox and e-mail addresses: a target is replaced whole and disabled
//! only while it is the one the sender used; a request's pushes commit with it; a claim takes
//! each due push once and leases it; a finish lands only for its own claim, with its audit row.

use crate::support::{app, approval, audit, audit_rows, device, event, now, user};
use assent_core::Store;
use assent_core::ids::DeviceId;
use assent_core::outbox::pushes::{
    PushAddress, PushChannel, PushJob, PushResult, PushState, PushTarget, PushUrgency,
};
use std::collections::HashSet;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

fn web_push(device: &DeviceId, endpoint: &str) -> PushTarget {
    PushTarget {
        device_id: device.clone(),
        address: PushAddress::WebPush {
            endpoint: endpoint.into(),
            p256dh: "key".into(),
            auth: "auth".into(),
        },
        created_at: now(),
        disabled_at: None,
        disabled_reason: None,
    }
}

fn job(n: usize, device: Option<&DeviceId>, due_at: OffsetDateTime) -> PushJob {
    PushJob {
        id: format!("psh_{n}_{}", uuid_like()),
        channel: PushChannel::WebPush,
        device_id: device.cloned(),
        user_id: None,
        approval_id: None,
        urgency: PushUrgency::High,
        topic: Some("topic".into()),
        payload: format!("{{\"n\":{n}}}"),
        state: PushState::Queued,
        attempts: 0,
        due_at,
        expires_at: due_at + Duration::minutes(5),
        last_error: None,
        created_at: now() + Duration::milliseconds(i64::try_from(n).unwrap()),
        updated_at: now(),
    }
}

fn uuid_like() -> String {
    assent_core::ids::UserId::generate().to_string()
}

pub(crate) async fn targets_are_replaced_and_disabled_conditionally(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let phone = device(&store, &alice).await;
    assert_eq!(store.push_target(&phone.id).await.unwrap(), None);
    let first = web_push(&phone.id, "https://push.example/1");
    store.set_push_target(&first, audit(event())).await.unwrap();
    assert_eq!(
        store.push_target(&phone.id).await.unwrap(),
        Some(first.clone())
    );
    let seen = store.device(&phone.id).await.unwrap().unwrap();
    assert_eq!(seen.push_channel, Some(PushChannel::WebPush));
    assert!(seen.push_working);

    let native = PushTarget {
        address: PushAddress::Apns {
            token: "ab12".into(),
        },
        ..first.clone()
    };
    store
        .set_push_target(&native, audit(event()))
        .await
        .unwrap();
    assert_eq!(
        store.push_target(&phone.id).await.unwrap(),
        Some(native.clone())
    );

    let before = audit_rows(&store).await;
    assert!(
        !store
            .disable_push_target(&first, now(), "gone", audit(event()))
            .await
            .unwrap(),
        "a target that was replaced since is not disabled"
    );
    assert!(
        store
            .disable_push_target(&native, now(), "Unregistered", audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .disable_push_target(&native, now(), "Unregistered", audit(event()))
            .await
            .unwrap(),
        "disabled once"
    );
    assert_eq!(audit_rows(&store).await, before + 1);
    let disabled = store.push_target(&phone.id).await.unwrap().unwrap();
    assert!(disabled.disabled_at.is_some());
    assert_eq!(disabled.disabled_reason.as_deref(), Some("Unregistered"));
    let seen = store.device(&phone.id).await.unwrap().unwrap();
    assert_eq!(seen.push_channel, Some(PushChannel::Apns));
    assert!(
        !seen.push_working,
        "the device shows its target no longer works"
    );

    store.set_push_target(&first, audit(event())).await.unwrap();
    assert!(
        store.device(&phone.id).await.unwrap().unwrap().push_working,
        "registering again enables it"
    );
}

pub(crate) async fn a_request_and_its_pushes_are_written_together(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let phone = device(&store, &alice).await;
    let a = approval(&acme, &alice, Duration::minutes(2));
    let pushes: Vec<PushJob> = (0..2)
        .map(|n| PushJob {
            approval_id: Some(a.id.clone()),
            user_id: Some(alice.id.clone()),
            ..job(n, Some(&phone.id), now())
        })
        .collect();
    store
        .insert_approval(&a, &pushes, audit(event()))
        .await
        .unwrap();
    assert_eq!(store.pushes_for_approval(&a.id).await.unwrap(), pushes);

    // A failed insert (the same id again) leaves no push behind.
    let again: Vec<PushJob> = vec![PushJob {
        approval_id: Some(a.id.clone()),
        ..job(9, Some(&phone.id), now())
    }];
    assert!(
        store
            .insert_approval(&a, &again, audit(event()))
            .await
            .is_err()
    );
    assert_eq!(store.pushes_for_approval(&a.id).await.unwrap(), pushes);
}

pub(crate) async fn claims_lease_and_finish_once(store: Arc<dyn Store>) {
    let t = now();
    let later = job(1, None, t + Duration::minutes(1));
    let due = job(0, None, t);
    store
        .enqueue_pushes(&[due.clone(), later.clone()])
        .await
        .unwrap();
    let lease = t + Duration::seconds(30);
    let claimed = store.claim_pushes(t, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 1, "only what is due is claimed");
    let c = &claimed[0];
    assert_eq!(
        (c.id.as_str(), c.state, c.attempts, c.due_at),
        (due.id.as_str(), PushState::Sent, 1, lease)
    );
    assert!(
        store.claim_pushes(t, lease, 10).await.unwrap().is_empty(),
        "a leased push is not claimed again before its lease ends"
    );
    // The sender died: after the lease another claims it, as attempt 2.
    let reclaimed = store
        .claim_pushes(lease, lease + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(
        reclaimed
            .iter()
            .map(|j| (j.id.clone(), j.attempts))
            .collect::<Vec<_>>(),
        vec![(due.id.clone(), 2)]
    );
    let before = audit_rows(&store).await;
    assert!(
        !store
            .finish_push(&due.id, 1, &PushResult::Accepted, t, Some(audit(event())))
            .await
            .unwrap(),
        "the first claim's late finish does not land"
    );
    assert_eq!(audit_rows(&store).await, before, "nor its audit row");
    let retry_at = lease + Duration::seconds(5);
    let retry = PushResult::Retry {
        at: retry_at,
        error: "429".into(),
    };
    assert!(
        store
            .finish_push(&due.id, 2, &retry, t, None)
            .await
            .unwrap()
    );
    assert!(
        store
            .claim_pushes(lease, lease + Duration::seconds(30), 10)
            .await
            .unwrap()
            .is_empty(),
        "a retry waits for its time"
    );
    let third = store
        .claim_pushes(retry_at, retry_at + Duration::seconds(30), 10)
        .await
        .unwrap();
    assert_eq!(third.len(), 1);
    assert_eq!(third[0].last_error.as_deref(), Some("429"));
    assert!(
        store
            .finish_push(&due.id, 3, &PushResult::Accepted, t, Some(audit(event())))
            .await
            .unwrap()
    );
    assert_eq!(audit_rows(&store).await, before + 1);
    assert!(
        !store
            .finish_push(&due.id, 3, &PushResult::Accepted, t, Some(audit(event())))
            .await
            .unwrap(),
        "finished once"
    );
    assert!(
        store
            .claim_pushes(t + Duration::hours(1), t + Duration::hours(2), 10)
            .await
            .unwrap()
            .iter()
            .all(|j| j.id == later.id),
        "an accepted push is never claimed again"
    );
}

pub(crate) async fn concurrent_claims_take_each_push_once(store: Arc<dyn Store>) {
    let t = now();
    let jobs: Vec<PushJob> = (0..60).map(|n| job(n, None, t)).collect();
    store.enqueue_pushes(&jobs).await.unwrap();
    let claimers: Vec<_> = (0..4)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut mine = Vec::new();
                loop {
                    let batch = store
                        .claim_pushes(t, t + Duration::minutes(1), 7)
                        .await
                        .unwrap();
                    if batch.is_empty() {
                        return mine;
                    }
                    mine.extend(batch.into_iter().map(|j| j.id));
                }
            })
        })
        .collect();
    let mut seen = HashSet::new();
    let mut total = 0;
    for claimer in claimers {
        for id in claimer.await.unwrap() {
            total += 1;
            assert!(seen.insert(id), "a push was claimed twice");
        }
    }
    assert_eq!(total, 60, "every push was claimed");
}

pub(crate) async fn user_emails_are_set_and_removed(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    assert_eq!(store.user_email(&alice.id).await.unwrap(), None);
    let before = audit_rows(&store).await;
    store
        .set_user_email(&alice.id, Some("alice@example.com"), audit(event()))
        .await
        .unwrap();
    store
        .set_user_email(&alice.id, Some("alice@example.org"), audit(event()))
        .await
        .unwrap();
    assert_eq!(
        store.user_email(&alice.id).await.unwrap().as_deref(),
        Some("alice@example.org")
    );
    assert_eq!(store.user_email(&bob.id).await.unwrap(), None);
    store
        .set_user_email(&alice.id, None, audit(event()))
        .await
        .unwrap();
    assert_eq!(store.user_email(&alice.id).await.unwrap(), None);
    assert_eq!(audit_rows(&store).await, before + 3);
}

//! Incident broadcasts: a broadcast reads back as written with its recipients, all or nothing
//! and with its audit row; an acknowledgement is recorded once (raced too) and moves the
//! counts; a reminder is due only unacknowledged and in time, and claimed once (raced too);
//! nothing is audited for a write that did not happen.

use crate::races::{assert_one_chain, winners};
use crate::support::{audit, audit_rows, device, now, user};
use assent_core::Store;
use assent_core::audit::AuditEvent;
use assent_core::broadcasts::audit::{Acknowledged, Created, Reminded};
use assent_core::broadcasts::records::{Acknowledgement, Audience, Broadcast, DueReminder};
use assent_core::ids::{BroadcastId, DeviceId, UserId};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

fn broadcast(audience: Audience, age_ms: i64) -> Broadcast {
    Broadcast {
        id: BroadcastId::generate(),
        message: "We had a breach.\nChange your password.".into(),
        audience,
        created_by: "admin:k1".into(),
        created_at: now().replace_millisecond(417).unwrap() + Duration::milliseconds(age_ms),
        reminder_interval: Duration::hours(4),
    }
}

async fn send(
    store: &Arc<dyn Store>,
    b: &Broadcast,
    to: &[UserId],
    first_reminder_at: OffsetDateTime,
) -> Result<(), assent_core::StoreError> {
    let created = AuditEvent::BroadcastCreated(Created {
        broadcast_id: b.id.to_string(),
        message: b.message.clone(),
        group: None,
        recipients: u32::try_from(to.len()).unwrap(),
        reminder_interval_secs: b.reminder_interval.whole_seconds(),
    });
    store
        .insert_broadcast(b, to, first_reminder_at, audit(created))
        .await
}

fn ack(device: &DeviceId, at_ms: i64) -> Acknowledgement {
    Acknowledgement {
        at: now().replace_millisecond(123).unwrap() + Duration::milliseconds(at_ms),
        device_id: device.clone(),
        statement: "eyJhbGciOiJFUzI1NiJ9.eyJ9.c2ln".into(),
    }
}

async fn acknowledge(
    store: &Arc<dyn Store>,
    b: &BroadcastId,
    user: &UserId,
    a: &Acknowledgement,
) -> bool {
    let event = AuditEvent::BroadcastAcknowledged(Acknowledged {
        broadcast_id: b.to_string(),
        user_id: user.to_string(),
        device_id: a.device_id.to_string(),
    });
    store
        .acknowledge_broadcast(b, user, a, audit(event))
        .await
        .unwrap()
}

async fn claim(store: &Arc<dyn Store>, due: &DueReminder, next_at: OffsetDateTime) -> bool {
    let event = AuditEvent::BroadcastReminded(Reminded {
        broadcast_id: due.broadcast_id.to_string(),
        user_id: due.user_id.to_string(),
        reminder: due.reminders + 1,
    });
    store
        .claim_reminder(due, next_at, audit(event))
        .await
        .unwrap()
}

pub(crate) async fn broadcasts_round_trip_with_their_recipients(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    assert!(store.list_broadcasts(10).await.unwrap().is_empty());
    let staff = broadcast(Audience::Group("staff".into()), 0);
    let everyone = broadcast(Audience::Everyone, 5_000);
    let before = audit_rows(&store).await;
    let due = now() + Duration::hours(4);
    send(&store, &staff, &[alice.id.clone(), bob.id.clone()], due)
        .await
        .unwrap();
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    send(&store, &everyone, std::slice::from_ref(&alice.id), due)
        .await
        .unwrap();
    let last = store.audit_page(0, 100_000).await.unwrap().pop().unwrap();
    assert_eq!(last.kind, "broadcast_created");
    assert_eq!(last.subject, format!("broadcast:{}", everyone.id));

    assert_eq!(
        store.broadcast(&staff.id).await.unwrap().as_ref(),
        Some(&staff)
    );
    assert_eq!(
        store.broadcast(&BroadcastId::generate()).await.unwrap(),
        None
    );
    let listed = store.list_broadcasts(10).await.unwrap();
    let ids: Vec<_> = listed.iter().map(|s| s.broadcast.id.clone()).collect();
    assert_eq!(ids, [everyone.id.clone(), staff.id.clone()], "newest first");
    assert_eq!((listed[1].recipients, listed[1].acknowledged), (2, 0));
    assert_eq!(listed[0].broadcast, everyone);
    assert_eq!(store.list_broadcasts(1).await.unwrap().len(), 1, "limited");

    let rows = store.broadcast_recipients(&staff.id).await.unwrap();
    assert_eq!(rows.len(), 2);
    for row in &rows {
        assert_eq!(row.next_reminder_at, due);
        assert_eq!(row.reminders, 0);
        assert_eq!(row.acknowledgement, None);
    }
    assert!(
        store
            .broadcast_recipient(&everyone.id, &bob.id)
            .await
            .unwrap()
            .is_none(),
        "bob was not a recipient"
    );
    let pending = store.user_broadcasts(&alice.id, false, 10).await.unwrap();
    let pending: Vec<_> = pending.iter().map(|(b, _)| b.id.clone()).collect();
    assert_eq!(
        pending,
        [staff.id.clone(), everyone.id.clone()],
        "oldest first"
    );
    assert!(
        store
            .user_broadcasts(&alice.id, true, 10)
            .await
            .unwrap()
            .is_empty()
    );

    // A recipient who does not exist fails the broadcast whole: no row, no audit row.
    let before = audit_rows(&store).await;
    let orphan = broadcast(Audience::Everyone, 9_000);
    assert!(
        send(
            &store,
            &orphan,
            &[alice.id.clone(), UserId::generate()],
            due
        )
        .await
        .is_err()
    );
    assert_eq!(store.broadcast(&orphan.id).await.unwrap(), None);
    assert!(
        store
            .broadcast_recipients(&orphan.id)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(audit_rows(&store).await, before);
}

pub(crate) async fn acknowledgements_are_recorded_once(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let carol = user(&store, "carol").await;
    let phone = device(&store, &alice).await;
    let b = broadcast(Audience::Everyone, 0);
    send(&store, &b, &[alice.id.clone(), bob.id.clone()], now())
        .await
        .unwrap();
    let before = audit_rows(&store).await;
    let first = ack(&phone.id, 0);
    assert!(acknowledge(&store, &b.id, &alice.id, &first).await);
    assert_eq!(audit_rows(&store).await, before + 1);
    assert!(
        !acknowledge(&store, &b.id, &alice.id, &ack(&phone.id, 1_000)).await,
        "once"
    );
    assert!(
        !acknowledge(&store, &b.id, &carol.id, &ack(&phone.id, 0)).await,
        "not a recipient"
    );
    assert_eq!(audit_rows(&store).await, before + 1, "nothing else audited");

    let row = store
        .broadcast_recipient(&b.id, &alice.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.acknowledgement, Some(first), "the first one kept");
    let listed = store.list_broadcasts(10).await.unwrap();
    assert_eq!((listed[0].recipients, listed[0].acknowledged), (2, 1));
    let done = store.user_broadcasts(&alice.id, true, 10).await.unwrap();
    assert_eq!(done.len(), 1);
    assert!(
        store
            .user_broadcasts(&alice.id, false, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store
            .user_broadcasts(&bob.id, false, 10)
            .await
            .unwrap()
            .len(),
        1
    );
    // Acknowledged or not, reminders are due only for those who have not.
    let due = store.due_reminders(now(), 30, 10).await.unwrap();
    let due: Vec<_> = due.iter().map(|d| d.user_id.clone()).collect();
    assert_eq!(due, std::slice::from_ref(&bob.id));
}

pub(crate) async fn reminders_are_due_in_time_and_claimed_once(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let b = broadcast(Audience::Everyone, 0);
    let first = now().replace_millisecond(250).unwrap() + Duration::hours(4);
    send(&store, &b, &[alice.id.clone(), bob.id.clone()], first)
        .await
        .unwrap();
    assert!(
        store
            .due_reminders(first - Duration::milliseconds(1), 30, 10)
            .await
            .unwrap()
            .is_empty(),
        "not due yet"
    );
    let due = store.due_reminders(first, 30, 10).await.unwrap();
    assert_eq!(due.len(), 2);
    assert_eq!(
        store.due_reminders(first, 30, 1).await.unwrap().len(),
        1,
        "limited"
    );
    let before = audit_rows(&store).await;
    let next = first + Duration::hours(4);
    assert!(claim(&store, &due[0], next).await);
    assert!(!claim(&store, &due[0], next).await, "claimed once");
    assert_eq!(audit_rows(&store).await, before + 1);
    let row = store
        .broadcast_recipient(&b.id, &due[0].user_id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((row.reminders, row.next_reminder_at), (1, next));
    let still = store.due_reminders(first, 30, 10).await.unwrap();
    assert_eq!(still.len(), 1, "the other is still due");
    assert_eq!(still[0].user_id, due[1].user_id);
    // Past the most reminders, none is due.
    assert_eq!(store.due_reminders(next, 1, 10).await.unwrap().len(), 1);
    assert_eq!(store.due_reminders(next, 2, 10).await.unwrap().len(), 2);
}

pub(crate) async fn acknowledgement_and_reminder_races_have_one_winner(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let phone = device(&store, &alice).await;
    let b = broadcast(Audience::Everyone, 0);
    let due_at = now();
    send(&store, &b, &[alice.id.clone(), bob.id.clone()], due_at)
        .await
        .unwrap();
    let before = audit_rows(&store).await;
    let acks = {
        let (store, id, user, device) = (store.clone(), b.id.clone(), alice.id.clone(), phone.id);
        move |i: usize| {
            let (store, id, user, device) =
                (store.clone(), id.clone(), user.clone(), device.clone());
            async move {
                let a = ack(&device, i64::try_from(i).unwrap());
                acknowledge(&store, &id, &user, &a).await
            }
        }
    };
    assert_eq!(winners(8, acks).await, 1, "acknowledged once");
    let due = store.due_reminders(due_at, 30, 10).await.unwrap();
    assert_eq!(due.len(), 1, "only bob, who has not acknowledged");
    let claims = {
        let (store, due) = (store.clone(), due[0].clone());
        move |i: usize| {
            let (store, due) = (store.clone(), due.clone());
            async move {
                let next =
                    due_at + Duration::hours(4) + Duration::seconds(i64::try_from(i).unwrap());
                claim(&store, &due, next).await
            }
        }
    };
    assert_eq!(winners(8, claims).await, 1, "reminded once");
    let row = store
        .broadcast_recipient(&b.id, &bob.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(row.reminders, 1);
    assert_one_chain(&store, before + 2).await;
}

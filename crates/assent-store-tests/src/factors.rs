//! Fallback factors: TOTP steps move forward only, recovery codes are single-use and replaced
//! whole, attempts are limited atomically.

use crate::support::{audit, event, now, user};
use assent_core::Store;
use assent_core::model::{Admission, RecoveryCode, TotpSecret};
use std::sync::Arc;
use time::Duration;

pub(crate) async fn totp_steps_only_move_forward(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let secret = TotpSecret {
        user_id: alice.id.clone(),
        seed_sealed: vec![1; 48],
        algorithm: "SHA1".into(),
        digits: 6,
        period: 30,
        last_step: None,
        created_at: now(),
    };
    assert!(store.insert_totp(&secret, audit(event())).await.unwrap());
    assert!(!store.insert_totp(&secret, audit(event())).await.unwrap());
    assert_eq!(store.totp(&alice.id).await.unwrap(), Some(secret.clone()));
    assert!(
        store
            .use_totp_step(&alice.id, 100, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_totp_step(&alice.id, 100, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_totp_step(&alice.id, 99, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        store
            .use_totp_step(&alice.id, 101, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(
        store.totp(&alice.id).await.unwrap().unwrap().last_step,
        Some(101)
    );
    assert!(store.delete_totp(&alice.id, audit(event())).await.unwrap());
    assert!(!store.delete_totp(&alice.id, audit(event())).await.unwrap());
    assert_eq!(store.totp(&alice.id).await.unwrap(), None);
}

pub(crate) async fn recovery_codes_are_single_use_and_replaced_whole(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let created = now();
    let set = |tag: &str| -> Vec<RecoveryCode> {
        (0..3)
            .map(|slot| RecoveryCode {
                user_id: alice.id.clone(),
                slot,
                hash: format!("{tag}-{slot}"),
                created_at: created,
            })
            .collect()
    };
    store
        .replace_recovery_codes(&alice.id, &set("a"), audit(event()))
        .await
        .unwrap();
    assert_eq!(store.recovery_codes(&alice.id).await.unwrap(), set("a"));
    let at = now();
    assert!(
        store
            .use_recovery_code(&alice.id, 1, "a-1", at, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .use_recovery_code(&alice.id, 1, "a-1", at, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(store.recovery_codes(&alice.id).await.unwrap().len(), 2);
    store
        .replace_recovery_codes(&alice.id, &set("b"), audit(event()))
        .await
        .unwrap();
    // A code matched against the old set cannot spend a slot of the new one.
    assert!(
        !store
            .use_recovery_code(&alice.id, 0, "a-0", at, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(store.recovery_codes(&alice.id).await.unwrap(), set("b"));
}

pub(crate) async fn attempts_are_limited_atomically(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let start = now();
    let since = start - Duration::minutes(15);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (store, id) = (store.clone(), alice.id.clone());
        tasks.push(tokio::spawn(async move {
            store
                .admit_attempt(&id, "totp", start + Duration::seconds(i), since, 5)
                .await
                .unwrap()
        }));
    }
    let mut admitted = 0;
    for task in tasks {
        if task.await.unwrap() == Admission::Admitted {
            admitted += 1;
        }
    }
    assert_eq!(
        admitted, 5,
        "exactly the limit is admitted, however they race"
    );
    let (count, oldest) = store
        .attempts_since(&alice.id, "totp", since)
        .await
        .unwrap();
    assert_eq!(count, 5);
    assert!(oldest.is_some());
    match store
        .admit_attempt(&alice.id, "totp", start, since, 5)
        .await
        .unwrap()
    {
        Admission::Refused { oldest: o } => assert_eq!(Some(o), oldest),
        Admission::Admitted => panic!("the sixth attempt must be refused"),
    }
    // Another factor has its own allowance; a success clears one factor only.
    assert_eq!(
        store
            .admit_attempt(&alice.id, "recovery_code", start, since, 5)
            .await
            .unwrap(),
        Admission::Admitted
    );
    store.clear_attempts(&alice.id, "totp").await.unwrap();
    assert_eq!(
        store
            .attempts_since(&alice.id, "totp", since)
            .await
            .unwrap()
            .0,
        0
    );
    assert_eq!(
        store
            .attempts_since(&alice.id, "recovery_code", since)
            .await
            .unwrap()
            .0,
        1
    );
    // Attempts older than the window no longer count.
    assert_eq!(
        store
            .admit_attempt(
                &alice.id,
                "recovery_code",
                start,
                start + Duration::seconds(1),
                1
            )
            .await
            .unwrap(),
        Admission::Admitted
    );
}

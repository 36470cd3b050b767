//! Console sessions: live only while signed in, within the idle and absolute timeouts; ended
//! once; one per approval.

use crate::support::{app, approval, audit, audit_rows, event, now, user};
use assent_core::Store;
use assent_core::StoreError;
use assent_core::model::ConsoleSession;
use std::sync::Arc;
use time::Duration;

fn session(user: &assent_core::model::User, token: u8) -> ConsoleSession {
    ConsoleSession {
        id_hash: vec![token; 32],
        user_id: user.id.clone(),
        created_at: now(),
        last_seen_at: now(),
        expires_at: now() + Duration::hours(8),
        approval_id: None,
        ended_at: None,
    }
}

pub(crate) async fn console_sessions_time_out_and_end_once(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let idle = Duration::minutes(15);
    let s = session(&alice, 1);
    let before = audit_rows(&store).await;
    store
        .insert_console_session(&s, audit(event()))
        .await
        .unwrap();
    assert_eq!(audit_rows(&store).await, before + 1);

    let t1 = now() + Duration::minutes(10);
    let seen = store
        .touch_console_session(&s.id_hash, t1, idle)
        .await
        .unwrap()
        .expect("live within the idle timeout");
    assert_eq!(seen.last_seen_at, t1);
    assert_eq!(seen.user_id, alice.id);
    assert_eq!(seen.expires_at, s.expires_at);
    // Reading it changes nothing.
    let read = store.console_session(&s.id_hash).await.unwrap().unwrap();
    assert_eq!(read, seen);
    assert_eq!(store.console_session(&[9; 32]).await.unwrap(), None);
    // Each use moves the idle window on: 20 minutes after the sign-in is 10 after the last use.
    let t2 = now() + Duration::minutes(20);
    assert!(
        store
            .touch_console_session(&s.id_hash, t2, idle)
            .await
            .unwrap()
            .is_some()
    );
    // Unused for 16 minutes: over, and it stays over.
    let t3 = t2 + Duration::minutes(16);
    assert_eq!(
        store
            .touch_console_session(&s.id_hash, t3, idle)
            .await
            .unwrap(),
        None
    );
    // The absolute end, however active.
    let s2 = session(&alice, 2);
    store
        .insert_console_session(&s2, audit(event()))
        .await
        .unwrap();
    let mut t = now();
    while t + Duration::minutes(10) < s2.expires_at {
        t += Duration::minutes(10);
        let live = store
            .touch_console_session(&s2.id_hash, t, idle)
            .await
            .unwrap();
        assert!(live.is_some(), "used every 10 minutes, live at {t}");
    }
    assert_eq!(
        store
            .touch_console_session(&s2.id_hash, s2.expires_at, idle)
            .await
            .unwrap(),
        None
    );

    // Ended once; then never live again.
    let s3 = session(&alice, 3);
    store
        .insert_console_session(&s3, audit(event()))
        .await
        .unwrap();
    let before = audit_rows(&store).await;
    assert!(
        store
            .end_console_session(&s3.id_hash, t1, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .end_console_session(&s3.id_hash, t1, audit(event()))
            .await
            .unwrap()
    );
    assert!(
        !store
            .end_console_session(&[9; 32], t1, audit(event()))
            .await
            .unwrap()
    );
    assert_eq!(audit_rows(&store).await, before + 1);
    assert_eq!(
        store
            .touch_console_session(&s3.id_hash, t1, idle)
            .await
            .unwrap(),
        None
    );
    let ended = store.console_session(&s3.id_hash).await.unwrap().unwrap();
    assert_eq!(ended.ended_at, Some(t1));
    assert_eq!(
        store
            .touch_console_session(&[9; 32], t1, idle)
            .await
            .unwrap(),
        None
    );
}

pub(crate) async fn an_approval_opens_one_console_session(store: Arc<dyn Store>) {
    let alice = user(&store, "alice").await;
    let acme = app(&store, "Acme").await;
    let request = approval(&acme, &alice, Duration::minutes(2));
    store
        .insert_approval(&request, &[], audit(event()))
        .await
        .unwrap();
    let first = ConsoleSession {
        approval_id: Some(request.id.clone()),
        ..session(&alice, 1)
    };
    store
        .insert_console_session(&first, audit(event()))
        .await
        .unwrap();
    let before = audit_rows(&store).await;
    let second = ConsoleSession {
        approval_id: Some(request.id.clone()),
        ..session(&alice, 2)
    };
    assert!(matches!(
        store.insert_console_session(&second, audit(event())).await,
        Err(StoreError::Conflict(_))
    ));
    assert_eq!(
        audit_rows(&store).await,
        before,
        "a refused session writes nothing"
    );
    assert_eq!(
        store
            .touch_console_session(&second.id_hash, now(), Duration::minutes(15))
            .await
            .unwrap(),
        None
    );
    // Sessions long past their end are forgotten when a new one is stored.
    let old = ConsoleSession {
        created_at: now() - Duration::days(3),
        last_seen_at: now() - Duration::days(3),
        expires_at: now() - Duration::days(2),
        ..session(&alice, 3)
    };
    store
        .insert_console_session(&old, audit(event()))
        .await
        .unwrap();
    store
        .insert_console_session(&session(&alice, 4), audit(event()))
        .await
        .unwrap();
    assert!(
        matches!(
            store.insert_console_session(&old, audit(event())).await,
            Ok(())
        ),
        "the old row was purged, so its hash is free again"
    );
}

//! Passkeys at relying parties' origins: an application's WebAuthn identity is set and replaced
//! whole with its audit row, and is its own; a ceremony is taken once, by its own application,
//! and never once it has expired (raced too); a passkey reads back as written, registered once
//! per credential id and application; its use moves the counter only from the value seen, once
//! (raced too). Nothing is audited for a write that did not happen.

use crate::races::{assert_one_chain, winners};
use crate::support::{app, audit, audit_rows, now, user};
use assent_core::audit::AuditEvent;
use assent_core::ids::{AppId, UserId};
use assent_core::model::{App, User};
use assent_core::passkeys::records::{Ceremony, CeremonyKind, RpPasskey, RpWebauthn};
use assent_core::{Store, StoreError};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A time with a millisecond part, so a store that kept only seconds would not read it back
/// equal.
fn base() -> OffsetDateTime {
    now().replace_millisecond(417).unwrap()
}

/// The last audit row's kind and subject.
async fn last_audit(store: &Arc<dyn Store>) -> (String, String) {
    let row = store.audit_page(0, 100_000).await.unwrap().pop().unwrap();
    (row.kind, row.subject)
}

fn webauthn(app: &AppId, host: &str) -> RpWebauthn {
    RpWebauthn {
        app_id: app.clone(),
        rp_id: host.into(),
        rp_name: format!("Shop at {host}"),
        origin: format!("https://{host}"),
    }
}

async fn set_webauthn(store: &Arc<dyn Store>, config: &RpWebauthn) -> Result<(), StoreError> {
    let set = AuditEvent::RpWebauthnSet {
        app_id: config.app_id.to_string(),
        rp_id: config.rp_id.clone(),
        origin: config.origin.clone(),
    };
    store.set_app_webauthn(config, audit(set)).await
}

fn ceremony(app: &App, user: &User, kind: CeremonyKind, expires_at: OffsetDateTime) -> Ceremony {
    let id = UserId::generate().to_string();
    Ceremony {
        state: format!(r#"{{"challenge":"ch-{id}","kind":"{}"}}"#, kind.as_str()),
        id: format!("cer-{id}"),
        app_id: app.id.clone(),
        user_id: user.id.clone(),
        kind,
        expires_at,
    }
}

fn passkey(
    app: &App,
    user: &User,
    id: &str,
    counter: u32,
    created_at: OffsetDateTime,
) -> RpPasskey {
    RpPasskey {
        id: id.into(),
        app_id: app.id.clone(),
        user_id: user.id.clone(),
        passkey: format!(r#"{{"cred":{{"cred_id":"{id}","user":"{}"}}}}"#, user.id),
        counter,
        created_at,
        last_used_at: None,
    }
}

async fn register(store: &Arc<dyn Store>, passkey: &RpPasskey) -> Result<(), StoreError> {
    let registered = AuditEvent::RpPasskeyRegistered {
        app_id: passkey.app_id.to_string(),
        user_id: passkey.user_id.to_string(),
        credential_id: passkey.id.clone(),
    };
    store.insert_rp_passkey(passkey, audit(registered)).await
}

async fn use_passkey(
    store: &Arc<dyn Store>,
    passkey: &RpPasskey,
    seen: u32,
) -> Result<bool, StoreError> {
    let used = AuditEvent::RpPasskeyUsed {
        app_id: passkey.app_id.to_string(),
        user_id: passkey.user_id.to_string(),
        credential_id: passkey.id.clone(),
        counter: passkey.counter,
        user_verified: true,
    };
    store.use_rp_passkey(passkey, seen, audit(used)).await
}

pub(crate) async fn rp_webauthn_round_trips_and_is_replaced(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let globex = app(&store, "Globex").await;
    assert_eq!(store.app_webauthn(&acme.id).await.unwrap(), None);

    let before = audit_rows(&store).await;
    let first = webauthn(&acme.id, "shop.acme.example");
    set_webauthn(&store, &first).await.unwrap();
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    assert_eq!(
        last_audit(&store).await,
        ("rp_webauthn_set".into(), format!("app:{}", acme.id))
    );
    assert_eq!(store.app_webauthn(&acme.id).await.unwrap(), Some(first));
    assert_eq!(
        store.app_webauthn(&globex.id).await.unwrap(),
        None,
        "its own"
    );

    // Set again, every field changed: replaced whole, with an audit row of its own.
    let second = RpWebauthn {
        app_id: acme.id.clone(),
        rp_id: "acme.example".into(),
        rp_name: "Acme Corporation".into(),
        origin: "https://login.acme.example:8443".into(),
    };
    set_webauthn(&store, &second).await.unwrap();
    assert_eq!(audit_rows(&store).await, before + 2, "one audit row each");
    assert_eq!(
        last_audit(&store).await,
        ("rp_webauthn_set".into(), format!("app:{}", acme.id))
    );
    assert_eq!(
        store.app_webauthn(&acme.id).await.unwrap(),
        Some(second.clone())
    );
    assert_eq!(store.app_webauthn(&globex.id).await.unwrap(), None);

    // Another application's is separate: setting it leaves the first one alone.
    let other = webauthn(&globex.id, "globex.example");
    set_webauthn(&store, &other).await.unwrap();
    assert_eq!(store.app_webauthn(&globex.id).await.unwrap(), Some(other));
    assert_eq!(store.app_webauthn(&acme.id).await.unwrap(), Some(second));
    assert_eq!(audit_rows(&store).await, before + 3);

    // An unknown application's is refused, with nothing audited.
    let stranger = AppId::generate();
    let refused = set_webauthn(&store, &webauthn(&stranger, "nowhere.example")).await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(store.app_webauthn(&stranger).await.unwrap(), None);
    assert_eq!(audit_rows(&store).await, before + 3);
}

pub(crate) async fn ceremonies_are_taken_once(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let globex = app(&store, "Globex").await;
    let alice = user(&store, "alice").await;
    let before = audit_rows(&store).await;
    let t = base();

    // Taken only by its own application, once.
    let c = ceremony(
        &acme,
        &alice,
        CeremonyKind::Registration,
        t + Duration::minutes(5),
    );
    store.insert_ceremony(&c).await.unwrap();
    assert_eq!(
        store
            .take_ceremony("cer-unknown", &acme.id, t)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store.take_ceremony(&c.id, &globex.id, t).await.unwrap(),
        None,
        "another application's"
    );
    assert_eq!(
        store.take_ceremony(&c.id, &acme.id, t).await.unwrap(),
        Some(c.clone()),
        "still there after another application's attempt"
    );
    assert_eq!(
        store.take_ceremony(&c.id, &acme.id, t).await.unwrap(),
        None,
        "used already"
    );

    // Authentication round-trips too, up to its last millisecond.
    let a = ceremony(
        &acme,
        &alice,
        CeremonyKind::Authentication,
        t + Duration::minutes(1),
    );
    store.insert_ceremony(&a).await.unwrap();
    let last_ms = a.expires_at - Duration::milliseconds(1);
    assert_eq!(
        store.take_ceremony(&a.id, &acme.id, last_ms).await.unwrap(),
        Some(a.clone())
    );
    assert_eq!(store.take_ceremony(&a.id, &acme.id, t).await.unwrap(), None);

    // Expired (expires_at <= now): not taken, and gone, even if asked for later with an earlier
    // `now`.
    let e = ceremony(
        &acme,
        &alice,
        CeremonyKind::Registration,
        t + Duration::minutes(1),
    );
    store.insert_ceremony(&e).await.unwrap();
    assert_eq!(
        store
            .take_ceremony(&e.id, &acme.id, e.expires_at)
            .await
            .unwrap(),
        None,
        "expired at its expiry"
    );
    assert_eq!(
        store.take_ceremony(&e.id, &acme.id, t).await.unwrap(),
        None,
        "removed when found expired"
    );

    // Expired ceremonies are removed on the way, whichever ceremony is taken.
    let stale = ceremony(
        &globex,
        &alice,
        CeremonyKind::Authentication,
        t + Duration::minutes(1),
    );
    let fresh = ceremony(
        &acme,
        &alice,
        CeremonyKind::Registration,
        t + Duration::minutes(10),
    );
    store.insert_ceremony(&stale).await.unwrap();
    store.insert_ceremony(&fresh).await.unwrap();
    assert_eq!(
        store
            .take_ceremony(&fresh.id, &acme.id, t + Duration::minutes(2))
            .await
            .unwrap(),
        Some(fresh)
    );
    assert_eq!(
        store.take_ceremony(&stale.id, &globex.id, t).await.unwrap(),
        None,
        "removed on the way"
    );

    // Many finishes of one ceremony at once: one takes it.
    let raced = ceremony(
        &acme,
        &alice,
        CeremonyKind::Authentication,
        t + Duration::minutes(5),
    );
    store.insert_ceremony(&raced).await.unwrap();
    let won = winners(8, |_| {
        let (store, raced) = (store.clone(), raced.clone());
        async move {
            let taken = store
                .take_ceremony(&raced.id, &raced.app_id, base())
                .await
                .unwrap();
            if let Some(taken) = &taken {
                assert_eq!(taken, &raced);
            }
            taken.is_some()
        }
    })
    .await;
    assert_eq!(won, 1, "taken once");
    assert_eq!(
        store.take_ceremony(&raced.id, &acme.id, t).await.unwrap(),
        None
    );
    assert_eq!(
        audit_rows(&store).await,
        before,
        "ceremonies are not audited"
    );
}

pub(crate) async fn rp_passkeys_round_trip_and_are_registered_once(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let globex = app(&store, "Globex").await;
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    assert_eq!(store.rp_passkeys(&acme.id, &alice.id).await.unwrap(), []);

    // The newer one inserted first (and with the smaller id), so only their times order them.
    let t = base();
    let older = passkey(&acme, &alice, "zz-older", 7, t);
    let newer = passkey(
        &acme,
        &alice,
        "aa-newer",
        u32::MAX,
        t + Duration::milliseconds(1_501),
    );
    let bobs = passkey(&acme, &bob, "bob-1", 3, t + Duration::milliseconds(20));
    // The same credential id as alice's older one, at another application: allowed.
    let elsewhere = passkey(
        &globex,
        &alice,
        &older.id,
        0,
        t + Duration::milliseconds(40),
    );

    let before = audit_rows(&store).await;
    for (i, p) in (1..).zip([&newer, &older, &bobs, &elsewhere]) {
        register(&store, p).await.unwrap();
        assert_eq!(audit_rows(&store).await, before + i, "one audit row each");
        assert_eq!(
            last_audit(&store).await,
            (
                "rp_passkey_registered".into(),
                format!("user:{}", p.user_id)
            )
        );
    }
    assert_eq!(
        store.rp_passkeys(&acme.id, &alice.id).await.unwrap(),
        [older.clone(), newer.clone()],
        "alice's at acme, oldest first"
    );
    assert_eq!(
        store.rp_passkeys(&acme.id, &bob.id).await.unwrap(),
        std::slice::from_ref(&bobs)
    );
    assert_eq!(
        store.rp_passkeys(&globex.id, &alice.id).await.unwrap(),
        std::slice::from_ref(&elsewhere)
    );
    assert_eq!(store.rp_passkeys(&globex.id, &bob.id).await.unwrap(), []);
    assert_eq!(
        store
            .rp_passkeys(&acme.id, &UserId::generate())
            .await
            .unwrap(),
        []
    );

    // The same credential id again at the same application, whoever claims it: refused whole,
    // nothing changed, nothing audited.
    let before = audit_rows(&store).await;
    for claimant in [&alice, &bob] {
        let mut again = passkey(&acme, claimant, &older.id, 99, t + Duration::minutes(1));
        again.passkey = r#"{"cred":"usurper"}"#.into();
        let refused = register(&store, &again).await;
        assert!(
            matches!(refused, Err(StoreError::Conflict(_))),
            "{refused:?}"
        );
    }
    assert_eq!(
        audit_rows(&store).await,
        before,
        "no audit row for a refused write"
    );
    assert_eq!(
        store.rp_passkeys(&acme.id, &alice.id).await.unwrap(),
        [older, newer]
    );
    assert_eq!(
        store.rp_passkeys(&acme.id, &bob.id).await.unwrap(),
        std::slice::from_ref(&bobs)
    );
    assert_eq!(
        store.rp_passkeys(&globex.id, &alice.id).await.unwrap(),
        std::slice::from_ref(&elsewhere)
    );
}

pub(crate) async fn passkey_uses_move_the_counter_once(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let globex = app(&store, "Globex").await;
    let alice = user(&store, "alice").await;
    let t = base();
    let stored = passkey(&acme, &alice, "cred-1", 0, t);
    // The same credential id at another application, with the same counter: never touched.
    let elsewhere = passkey(&globex, &alice, "cred-1", 0, t);
    register(&store, &stored).await.unwrap();
    register(&store, &elsewhere).await.unwrap();
    let before = audit_rows(&store).await;

    // A use from the counter seen: the new state, counter and time, with one audit row.
    let used = RpPasskey {
        passkey: r#"{"cred":{"cred_id":"cred-1","counter":1}}"#.into(),
        counter: 1,
        last_used_at: Some(t + Duration::milliseconds(2_345)),
        ..stored.clone()
    };
    assert!(use_passkey(&store, &used, 0).await.unwrap());
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    assert_eq!(
        last_audit(&store).await,
        ("rp_passkey_used".into(), format!("user:{}", alice.id))
    );
    assert_eq!(
        store.rp_passkeys(&acme.id, &alice.id).await.unwrap(),
        std::slice::from_ref(&used)
    );
    assert_eq!(
        store.rp_passkeys(&globex.id, &alice.id).await.unwrap(),
        std::slice::from_ref(&elsewhere),
        "another application's passkey with the same credential id"
    );

    // A second use from the old counter: nothing written, nothing audited.
    let stale = RpPasskey {
        passkey: r#"{"cred":"stale"}"#.into(),
        counter: 5,
        last_used_at: Some(t + Duration::minutes(1)),
        ..stored.clone()
    };
    assert!(
        !use_passkey(&store, &stale, 0).await.unwrap(),
        "moved already"
    );
    // An unknown credential, or one at an unknown application, is not written either.
    let unknown = RpPasskey {
        id: "cred-unknown".into(),
        ..stale.clone()
    };
    assert!(!use_passkey(&store, &unknown, 1).await.unwrap());
    let stranger = RpPasskey {
        app_id: AppId::generate(),
        ..stale.clone()
    };
    assert!(!use_passkey(&store, &stranger, 1).await.unwrap());
    assert_eq!(audit_rows(&store).await, before + 1, "no audit row");
    assert_eq!(
        store.rp_passkeys(&acme.id, &alice.id).await.unwrap(),
        std::slice::from_ref(&used),
        "unchanged"
    );

    // Many uses from the same counter at once: one moves it, and only its audit row lands.
    let won = winners(8, |i| {
        let (store, used) = (store.clone(), used.clone());
        async move {
            let next = RpPasskey {
                passkey: format!(r#"{{"cred":"race-{i}"}}"#),
                counter: 2,
                last_used_at: Some(base() + Duration::minutes(2)),
                ..used
            };
            use_passkey(&store, &next, 1).await.unwrap()
        }
    })
    .await;
    assert_eq!(won, 1, "moved once");
    assert_one_chain(&store, before + 2).await;
    let after = store.rp_passkeys(&acme.id, &alice.id).await.unwrap();
    assert_eq!(after.len(), 1);
    assert_eq!(after[0].counter, 2);
    assert!(
        after[0].passkey.starts_with(r#"{"cred":"race-"#),
        "{after:?}"
    );
    assert_eq!(
        store.rp_passkeys(&globex.id, &alice.id).await.unwrap(),
        std::slice::from_ref(&elsewhere)
    );
}

//! Break-glass: the code is set and replaced whole, spent by the one ending that names it (raced
//! too) and by no refused one, and a break-glass grant is reviewed once. Nothing is audited for
//! a write that did not happen.

use crate::access_fixtures::{
    after, base, end, ending, grant, insert, last_audit, pending, read, request,
};
use crate::races::assert_one_chain;
use crate::support::{app, audit, audit_rows, user};
use assent_core::Store;
use assent_core::access::records::{
    AccessEnding, AccessReason, AccessRequest, AccessState, BreakGlass, BreakGlassUse,
};
use assent_core::audit::AuditEvent;
use assent_core::ids::AccessRequestId;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A break-glass code's hash as the server stores it (an Argon2id PHC string), told apart by
/// `tag`.
fn code_hash(tag: &str) -> String {
    format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdC1zYWx0${tag}+aGFzaC1oYXNoLWhhc2g/Zz0")
}

async fn set_code(store: &Arc<dyn Store>, hash: &str) {
    store
        .set_break_glass_code(hash, base(), audit(AuditEvent::BreakGlassCodeSet {}))
        .await
        .unwrap();
}

async fn stored_code(store: &Arc<dyn Store>) -> Option<String> {
    store.break_glass_code().await.unwrap()
}

/// A break-glass ending spending `hash`, with the grant `jti`, `after_ms` after [`base`].
fn break_glass(hash: &str, reason: &str, jti: &str, after_ms: i64) -> AccessEnding {
    AccessEnding {
        reason: AccessReason::BreakGlass,
        at: base() + Duration::milliseconds(after_ms),
        grant: Some(grant(jti)),
        break_glass: Some(BreakGlassUse {
            code_hash: hash.into(),
            reason: reason.into(),
        }),
    }
}

async fn review(
    store: &Arc<dyn Store>,
    id: &AccessRequestId,
    at: OffsetDateTime,
    by: &str,
    note: &str,
) -> bool {
    let event = AuditEvent::BreakGlassReviewed {
        request_id: id.to_string(),
        note: note.into(),
    };
    store
        .review_break_glass(id, at, by, note, audit(event))
        .await
        .unwrap()
}

async fn unreviewed(store: &Arc<dyn Store>, limit: u32) -> Vec<AccessRequestId> {
    store
        .unreviewed_break_glass(limit)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect()
}

pub(crate) async fn break_glass_codes_are_set_replaced_and_read(store: Arc<dyn Store>) {
    assert_eq!(stored_code(&store).await, None, "no code at first");

    let first = code_hash("first");
    let before = audit_rows(&store).await;
    set_code(&store, &first).await;
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    let row = last_audit(&store).await;
    assert_eq!(
        (row.kind.as_str(), row.subject.as_str()),
        ("break_glass_code_set", "break_glass")
    );
    assert_eq!(stored_code(&store).await.as_deref(), Some(first.as_str()));
    assert_eq!(stored_code(&store).await, Some(first.clone()), "read twice");

    // A new code replaces it whole: one code, the new one.
    let second = code_hash("second");
    set_code(&store, &second).await;
    assert_eq!(audit_rows(&store).await, before + 2, "one audit row each");
    let row = last_audit(&store).await;
    assert_eq!(row.kind, "break_glass_code_set");
    assert_eq!(stored_code(&store).await, Some(second.clone()));

    // The replaced code opens nothing; the new one is the only one stored, and once spent no
    // other (an older row left behind) takes its place.
    let (acme, alice, r) = pending(&store).await;
    let before = audit_rows(&store).await;
    let old = break_glass(&first, "outage", "jti-old", 10);
    assert!(!end(&store, &r, &old).await, "the replaced code is refused");
    assert_eq!(read(&store, &r.id).await, r);
    assert_eq!(audit_rows(&store).await, before);
    assert_eq!(stored_code(&store).await, Some(second.clone()));
    let new = break_glass(&second, "outage", "jti-new", 10);
    assert!(end(&store, &r, &new).await);
    assert_eq!(
        stored_code(&store).await,
        None,
        "no code left after the only one"
    );
    let other = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &other, &[]).await;
    assert!(!end(&store, &other, &break_glass(&first, "x", "jti-x", 10)).await);
    assert_eq!(read(&store, &other.id).await, other);

    // Setting the same code again after it was spent stores it again.
    set_code(&store, &second).await;
    assert_eq!(stored_code(&store).await, Some(second));
}

pub(crate) async fn break_glass_spends_the_code_once(store: Arc<dyn Store>) {
    let (acme, alice, a) = pending(&store).await;
    let b = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &b, &[]).await;
    let c = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &c, &[]).await;

    let hash = code_hash("one");
    set_code(&store, &hash).await;
    let before = audit_rows(&store).await;
    let reason = "Prod down, approvers asleep: INC-7 «ünïcode» ✓";
    let used = break_glass(&hash, reason, "jti-bg-a", 321);
    assert!(end(&store, &a, &used).await);
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    let row = last_audit(&store).await;
    assert_eq!(
        (row.kind.as_str(), row.subject),
        ("access_request_ended", format!("access:{}", a.id))
    );
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    assert_eq!(data["reason"], "break_glass");
    assert_eq!(data["break_glass_reason"], reason);
    assert_eq!(data["review_required"], true);

    let stored = read(&store, &a.id).await;
    assert_eq!(
        stored,
        after(&a, &used),
        "state, reason, time, grant, break-glass"
    );
    assert_eq!(stored.state, AccessState::Granted);
    assert_eq!(stored.reason, Some(AccessReason::BreakGlass));
    assert_eq!(stored.decided_at, Some(used.at));
    assert_eq!(stored.grant, used.grant);
    assert_eq!(
        stored.break_glass,
        Some(BreakGlass {
            reason: reason.into(),
            reviewed_at: None,
            reviewed_by: None,
            review_note: None,
        })
    );
    assert_eq!(
        store.access_request_by_grant("jti-bg-a").await.unwrap(),
        Some(stored.clone())
    );
    assert_eq!(stored_code(&store).await, None, "the code is spent");

    // The spent code opens nothing more: B stays pending, nothing audited.
    let again = break_glass(&hash, "again", "jti-bg-b", 400);
    assert!(!end(&store, &b, &again).await);
    assert_eq!(read(&store, &b.id).await, b, "still pending, untouched");
    assert_eq!(audit_rows(&store).await, before + 1, "nothing audited");
    assert_eq!(
        store.access_request_by_grant("jti-bg-b").await.unwrap(),
        None
    );
    assert_eq!(stored_code(&store).await, None);

    // With a new code, a wrong one is refused and spends nothing.
    let fresh = code_hash("two");
    set_code(&store, &fresh).await;
    let before = audit_rows(&store).await;
    let wrong = [
        hash.clone(),
        fresh.to_uppercase(),
        fresh[..fresh.len() - 1].to_owned(),
        format!("{fresh} "),
        format!("{fresh}%"),
        "%".to_owned(),
        String::new(),
    ];
    for (i, w) in wrong.iter().enumerate() {
        let guess = break_glass(w, "guess", &format!("jti-bg-c{i}"), 500);
        assert!(!end(&store, &c, &guess).await, "{w:?}");
        assert_eq!(read(&store, &c.id).await, c, "{w:?}");
        assert_eq!(stored_code(&store).await, Some(fresh.clone()), "{w:?}");
    }
    assert_eq!(audit_rows(&store).await, before, "nothing audited");

    // A request already ended does not end again, even with the right code, and the code is
    // not spent by it.
    let denied_one = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &denied_one, &[]).await;
    assert!(end(&store, &denied_one, &ending(AccessReason::Denied, None)).await);
    let denied_one = read(&store, &denied_one.id).await;
    let before = audit_rows(&store).await;
    for done in [&stored, &denied_one] {
        let late = break_glass(&fresh, "late", "jti-bg-late", 600);
        assert!(!end(&store, done, &late).await, "{:?}", done.state);
        assert_eq!(&read(&store, &done.id).await, done);
        assert_eq!(stored_code(&store).await, Some(fresh.clone()), "not spent");
    }
    let ghost = request(&acme, &alice, Duration::minutes(10));
    assert!(!end(&store, &ghost, &break_glass(&fresh, "ghost", "jti-g", 600)).await);
    assert_eq!(store.access_request(&ghost.id).await.unwrap(), None);
    assert_eq!(stored_code(&store).await, Some(fresh.clone()), "not spent");
    assert_eq!(audit_rows(&store).await, before, "nothing audited");
    assert_eq!(
        store.access_request_by_grant("jti-bg-late").await.unwrap(),
        None
    );

    // An ending without break-glass leaves the code alone.
    let ordinary = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &ordinary, &[]).await;
    let quorum = ending(AccessReason::QuorumReached, Some(grant("jti-quorum")));
    assert!(end(&store, &ordinary, &quorum).await);
    assert_eq!(read(&store, &ordinary.id).await.break_glass, None);
    assert_eq!(stored_code(&store).await, Some(fresh.clone()));

    // The code survived every refusal: C ends with it, once.
    let right = break_glass(&fresh, "finally", "jti-bg-c", 700);
    assert!(end(&store, &c, &right).await);
    assert_eq!(read(&store, &c.id).await, after(&c, &right));
    assert_eq!(stored_code(&store).await, None);
}

/// Several requesters invoking break-glass at once with the one code: one grant, the code
/// spent, one audit row in an intact chain.
pub(crate) async fn break_glass_endings_race(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let alice = user(&store, "alice").await;
    for round in 0..3 {
        let hash = code_hash(&format!("round{round}"));
        set_code(&store, &hash).await;
        let requests: Vec<AccessRequest> = (0..8)
            .map(|_| request(&acme, &alice, Duration::minutes(10)))
            .collect();
        for r in &requests {
            insert(&store, r, &[]).await;
        }
        let endings: Vec<AccessEnding> = (0..8)
            .map(|i| {
                break_glass(
                    &hash,
                    &format!("racer {i}"),
                    &format!("jti-{round}-{i}"),
                    50,
                )
            })
            .collect();
        let before = audit_rows(&store).await;
        let racers: Vec<_> = requests
            .iter()
            .zip(&endings)
            .map(|(r, e)| {
                let (store, r, e) = (store.clone(), r.clone(), e.clone());
                tokio::spawn(async move { end(&store, &r, &e).await })
            })
            .collect();
        let mut won = Vec::new();
        for (i, racer) in racers.into_iter().enumerate() {
            if racer.await.unwrap() {
                won.push(i);
            }
        }
        assert_eq!(won.len(), 1, "one winner: {won:?}");
        let w = won[0];

        let mut granted = Vec::new();
        for (i, r) in requests.iter().enumerate() {
            let stored = read(&store, &r.id).await;
            if i == w {
                assert_eq!(stored, after(r, &endings[i]));
            } else {
                assert_eq!(&stored, r, "loser {i} untouched");
            }
            if stored.state == AccessState::Granted {
                granted.push(i);
            }
        }
        assert_eq!(granted, [w], "one request granted");
        assert_eq!(stored_code(&store).await, None, "the code is spent");
        for i in 0..8 {
            let jti = format!("jti-{round}-{i}");
            let found = store.access_request_by_grant(&jti).await.unwrap();
            assert_eq!(
                found.map(|r| r.id),
                (i == w).then(|| requests[w].id.clone())
            );
        }

        assert_one_chain(&store, before + 1).await;
        let row = last_audit(&store).await;
        assert_eq!(
            (row.kind.as_str(), row.subject),
            ("access_request_ended", format!("access:{}", requests[w].id))
        );
        let data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
        assert_eq!(
            data["grant_id"],
            format!("jti-{round}-{w}"),
            "the winner's row"
        );
        assert_eq!(data["break_glass_reason"], format!("racer {w}"));
    }
}

pub(crate) async fn break_glass_reviews_once(store: Arc<dyn Store>) {
    let (acme, alice, first) = pending(&store).await;
    let second = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &second, &[]).await;
    let ordinary = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &ordinary, &[]).await;
    let waiting = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &waiting, &[]).await;
    assert_eq!(unreviewed(&store, 10).await, []);

    // Ended first but decided later, so the decision time orders them, not the writes.
    set_code(&store, &code_hash("a")).await;
    let late = break_glass(&code_hash("a"), "first", "jti-first", 5_000);
    assert!(end(&store, &first, &late).await);
    set_code(&store, &code_hash("b")).await;
    let early = break_glass(&code_hash("b"), "second", "jti-second", 1_000);
    assert!(end(&store, &second, &early).await);
    let quorum = ending(AccessReason::QuorumReached, Some(grant("jti-quorum")));
    assert!(end(&store, &ordinary, &quorum).await);
    let first = read(&store, &first.id).await;
    let second = read(&store, &second.id).await;
    let ordinary = read(&store, &ordinary.id).await;

    assert_eq!(
        store.unreviewed_break_glass(10).await.unwrap(),
        [second.clone(), first.clone()],
        "read back whole, oldest decision first, only break-glass grants"
    );
    assert_eq!(
        unreviewed(&store, 2).await,
        [second.id.clone(), first.id.clone()]
    );
    assert_eq!(
        unreviewed(&store, 1).await,
        std::slice::from_ref(&second.id)
    );

    // A review is recorded once, with its audit row.
    let before = audit_rows(&store).await;
    let at = base() + Duration::milliseconds(9_876);
    let note = "Checked with the on-call: legitimate «INC-7» ✓";
    assert!(review(&store, &second.id, at, "admin:k1", note).await);
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    let row = last_audit(&store).await;
    assert_eq!(
        (row.kind.as_str(), row.subject),
        ("break_glass_reviewed", format!("access:{}", second.id))
    );
    let data: serde_json::Value = serde_json::from_str(&row.data).unwrap();
    assert_eq!(data["note"], note);
    let reviewed = read(&store, &second.id).await;
    assert_eq!(
        reviewed,
        AccessRequest {
            break_glass: Some(BreakGlass {
                reason: "second".into(),
                reviewed_at: Some(at),
                reviewed_by: Some("admin:k1".into()),
                review_note: Some(note.into()),
            }),
            ..second.clone()
        },
        "the review changes the review and nothing else"
    );
    assert_eq!(
        unreviewed(&store, 10).await,
        std::slice::from_ref(&first.id)
    );
    assert_eq!(unreviewed(&store, 1).await, std::slice::from_ref(&first.id));

    // A second review is refused: the first one's time, author and note stay.
    let later = at + Duration::seconds(3);
    assert!(!review(&store, &second.id, later, "admin:k2", "again").await);
    assert_eq!(read(&store, &second.id).await, reviewed);
    assert_eq!(audit_rows(&store).await, before + 1, "nothing audited");

    // A grant of the approvers, a pending request or an unknown one has nothing to review.
    let ghost = AccessRequestId::generate();
    for id in [&ordinary.id, &waiting.id, &ghost] {
        assert!(!review(&store, id, at, "admin:k1", "no").await, "{id}");
    }
    assert_eq!(audit_rows(&store).await, before + 1, "nothing audited");
    assert_eq!(read(&store, &ordinary.id).await, ordinary);
    assert_eq!(read(&store, &waiting.id).await, waiting);
    assert_eq!(ordinary.break_glass, None);
    assert_eq!(store.access_request(&ghost).await.unwrap(), None);
    assert_eq!(
        unreviewed(&store, 10).await,
        std::slice::from_ref(&first.id)
    );

    // The last one reviewed, none is left.
    assert!(review(&store, &first.id, later, "admin:k2", "").await);
    let done = read(&store, &first.id).await;
    let review_of = done.break_glass.unwrap();
    assert_eq!(review_of.reviewed_at, Some(later));
    assert_eq!(review_of.reviewed_by.as_deref(), Some("admin:k2"));
    assert_eq!(review_of.review_note.as_deref(), Some(""));
    assert_eq!(unreviewed(&store, 10).await, []);
    assert_eq!(audit_rows(&store).await, before + 2);
}

//! Access requests with several approvers: a request and its approvers read back as written
//! (approvers in their order), found from an approver's prompt; a request ends once, with its
//! grant and its audit row (raced too); a grant is revoked once; the pending requests whose time
//! is up are listed oldest first. Break-glass: the code is set and replaced whole, spent by the
//! one ending that names it (raced too) and by no refused one, and a break-glass grant is
//! reviewed once. Nothing is audited for a write that did not happen.

use crate::races::assert_one_chain;
use crate::support::{app, approval, audit, audit_rows, event, now, user};
use assent_core::Store;
use assent_core::access::records::{
    AccessEnding, AccessReason, AccessRequest, AccessState, Approver, BreakGlass, BreakGlassUse,
    Grant,
};
use assent_core::audit::AuditEvent;
use assent_core::ids::{AccessRequestId, ApprovalId, UserId};
use assent_core::model::{App, AuditRecord, User};
use serde_json::json;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A time with a millisecond part, so a store that kept only seconds would not read it back
/// equal.
fn base() -> OffsetDateTime {
    now().replace_millisecond(417).unwrap()
}

/// A pending request of `requester`'s through `app`, expiring `expires_in` from [`base`].
fn request(app: &App, requester: &User, expires_in: Duration) -> AccessRequest {
    let created_at = base();
    AccessRequest {
        id: AccessRequestId::generate(),
        app_id: app.id.clone(),
        requester: requester.id.clone(),
        privilege: vec![
            json!({
                "type": "role",
                "role": "db-admin",
                "resource": {"cluster": "zürich-1", "shards": [1, 2, {"name": "東京"}]},
                "actions": ["read", "write"],
                "ratio": 0.1,
                "note": null,
                "break_glass": true,
            }),
            json!({"type": "repo", "locations": ["https://example.com/a \"b\"\nc"], "depth": {}}),
        ],
        justification: "Incident INC-42: rotate the créds ✓".into(),
        grant_seconds: 3_600,
        approvals_required: 2,
        denials_required: 1,
        state: AccessState::Pending,
        reason: None,
        created_at,
        expires_at: created_at + expires_in,
        decided_at: None,
        grant: None,
        break_glass: None,
    }
}

fn created(request: &AccessRequest, approvers: &[Approver]) -> AuditEvent {
    AuditEvent::AccessRequestCreated {
        request_id: request.id.to_string(),
        app_id: request.app_id.to_string(),
        requester_id: request.requester.to_string(),
        approvers: approvers.iter().map(|a| a.user_id.to_string()).collect(),
        approvals_required: request.approvals_required,
        denials_required: request.denials_required,
        expires_at: request.expires_at.unix_timestamp(),
    }
}

fn ended(request: &AccessRequest, ending: &AccessEnding) -> AuditEvent {
    AuditEvent::AccessRequestEnded {
        request_id: request.id.to_string(),
        app_id: request.app_id.to_string(),
        requester_id: request.requester.to_string(),
        state: ending.reason.state().as_str().to_owned(),
        reason: ending.reason.as_str().to_owned(),
        approved_by: Vec::new(),
        denied_by: Vec::new(),
        grant_id: ending.grant.as_ref().map(|g| g.id.clone()),
        grant_expires_at: ending.grant.as_ref().map(|g| g.expires_at.unix_timestamp()),
        break_glass_reason: ending.break_glass.as_ref().map(|b| b.reason.clone()),
        review_required: ending.break_glass.is_some(),
    }
}

fn revoked(request: &AccessRequest, by: &str) -> AuditEvent {
    AuditEvent::AccessGrantRevoked {
        request_id: request.id.to_string(),
        app_id: request.app_id.to_string(),
        grant_id: request
            .grant
            .as_ref()
            .map_or_else(String::new, |g| g.id.clone()),
        by: by.into(),
    }
}

fn grant(id: &str) -> Grant {
    let not_before = base() + Duration::milliseconds(250);
    Grant {
        id: id.into(),
        token: format!("eyJhbGciOiJFUzI1NiJ9.{id}.sig"),
        not_before,
        expires_at: not_before + Duration::hours(1),
        revoked_at: None,
        revoked_by: None,
    }
}

fn ending(reason: AccessReason, grant: Option<Grant>) -> AccessEnding {
    AccessEnding {
        reason,
        at: base() + Duration::milliseconds(123),
        grant,
        break_glass: None,
    }
}

/// Stores `request` with `approvers` and its audit row.
async fn insert(store: &Arc<dyn Store>, request: &AccessRequest, approvers: &[Approver]) {
    store
        .insert_access_request(request, approvers, audit(created(request, approvers)))
        .await
        .unwrap();
}

async fn end(store: &Arc<dyn Store>, request: &AccessRequest, ending: &AccessEnding) -> bool {
    store
        .end_access_request(&request.id, ending, audit(ended(request, ending)))
        .await
        .unwrap()
}

async fn revoke(
    store: &Arc<dyn Store>,
    request: &AccessRequest,
    at: OffsetDateTime,
    by: &str,
) -> bool {
    store
        .revoke_access_grant(&request.id, at, by, audit(revoked(request, by)))
        .await
        .unwrap()
}

/// `request` as it reads after `ending`.
fn after(request: &AccessRequest, ending: &AccessEnding) -> AccessRequest {
    AccessRequest {
        state: ending.reason.state(),
        reason: Some(ending.reason),
        decided_at: Some(ending.at),
        grant: ending.grant.clone(),
        break_glass: ending.break_glass.as_ref().map(|b| BreakGlass {
            reason: b.reason.clone(),
            reviewed_at: None,
            reviewed_by: None,
            review_note: None,
        }),
        ..request.clone()
    }
}

async fn read(store: &Arc<dyn Store>, id: &AccessRequestId) -> AccessRequest {
    store.access_request(id).await.unwrap().unwrap()
}

async fn last_audit(store: &Arc<dyn Store>) -> AuditRecord {
    store.audit_page(0, 100_000).await.unwrap().pop().unwrap()
}

/// An approval request (the prompt of an approver), stored.
async fn prompt(store: &Arc<dyn Store>, app: &App, approver: &User) -> ApprovalId {
    let a = approval(app, approver, Duration::minutes(10));
    store
        .insert_approval(&a, &[], audit(event()))
        .await
        .unwrap();
    a.id
}

/// A requester, an application and a pending request with no approver reachable.
async fn pending(store: &Arc<dyn Store>) -> (App, User, AccessRequest) {
    let acme = app(store, "Acme").await;
    let alice = user(store, "alice").await;
    let r = request(&acme, &alice, Duration::minutes(10));
    insert(store, &r, &[]).await;
    (acme, alice, r)
}

pub(crate) async fn access_requests_round_trip(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let alice = user(&store, "alice").await;
    let mut approvers = Vec::new();
    for name in ["bob", "carol", "dave"] {
        approvers.push(user(&store, name).await);
    }
    // In descending order of their ids, so a store that sorted them by user would not read
    // them back in order.
    approvers.sort_by(|a, b| b.id.as_str().cmp(a.id.as_str()));
    let first = prompt(&store, &acme, &approvers[0]).await;
    let last = prompt(&store, &acme, &approvers[2]).await;
    let unrelated = prompt(&store, &acme, &approvers[1]).await;
    let stored = vec![
        Approver {
            user_id: approvers[0].id.clone(),
            approval_id: Some(first.clone()),
            unreachable: None,
        },
        Approver {
            user_id: approvers[1].id.clone(),
            approval_id: None,
            unreachable: Some("no_active_device".into()),
        },
        Approver {
            user_id: approvers[2].id.clone(),
            approval_id: Some(last.clone()),
            unreachable: None,
        },
    ];
    let r = request(&acme, &alice, Duration::minutes(10));
    assert_eq!(store.access_request(&r.id).await.unwrap(), None);

    let before = audit_rows(&store).await;
    insert(&store, &r, &stored).await;
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    let row = last_audit(&store).await;
    assert_eq!(
        (row.kind.as_str(), row.subject),
        ("access_request_created", format!("access:{}", r.id))
    );

    assert_eq!(
        store.access_request(&r.id).await.unwrap().as_ref(),
        Some(&r)
    );
    let read_back = read(&store, &r.id).await;
    assert_eq!(read_back.privilege, r.privilege, "privilege as written");
    assert_eq!(
        read_back.privilege[0]["resource"]["shards"][2]["name"],
        "東京"
    );
    assert_eq!(read_back.created_at, r.created_at, "milliseconds kept");
    assert_eq!(read_back.expires_at, r.expires_at, "milliseconds kept");
    assert_eq!(store.access_approvers(&r.id).await.unwrap(), stored);

    for approval in [&first, &last] {
        assert_eq!(
            store.access_request_of_approval(approval).await.unwrap(),
            Some(r.id.clone()),
            "{approval}"
        );
    }
    assert_eq!(
        store.access_request_of_approval(&unrelated).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .access_request_of_approval(&ApprovalId::generate())
            .await
            .unwrap(),
        None
    );

    // Unknown requests read as nothing.
    let unknown = AccessRequestId::generate();
    assert_eq!(store.access_request(&unknown).await.unwrap(), None);
    assert_eq!(store.access_approvers(&unknown).await.unwrap(), []);

    // A request without approvers has none, and reads back as well.
    let lone = request(&acme, &alice, Duration::minutes(1));
    insert(&store, &lone, &[]).await;
    assert_eq!(
        store.access_request(&lone.id).await.unwrap(),
        Some(lone.clone())
    );
    assert_eq!(store.access_approvers(&lone.id).await.unwrap(), []);
    assert_eq!(store.access_approvers(&r.id).await.unwrap(), stored);

    // A request naming a prompt that does not exist is refused whole: no request, no approver,
    // no audit row.
    let before = audit_rows(&store).await;
    let broken = request(&acme, &alice, Duration::minutes(10));
    let ghost = vec![
        Approver {
            user_id: approvers[1].id.clone(),
            approval_id: Some(unrelated.clone()),
            unreachable: None,
        },
        Approver {
            user_id: approvers[2].id.clone(),
            approval_id: Some(ApprovalId::generate()),
            unreachable: None,
        },
    ];
    let refused = store
        .insert_access_request(&broken, &ghost, audit(created(&broken, &ghost)))
        .await;
    assert!(refused.is_err(), "{refused:?}");
    assert_eq!(store.access_request(&broken.id).await.unwrap(), None);
    assert_eq!(store.access_approvers(&broken.id).await.unwrap(), []);
    assert_eq!(
        store.access_request_of_approval(&unrelated).await.unwrap(),
        None
    );
    assert_eq!(audit_rows(&store).await, before, "nothing audited");
}

pub(crate) async fn access_requests_end_once(store: Arc<dyn Store>) {
    let (acme, alice, r) = pending(&store).await;
    let before = audit_rows(&store).await;
    let granted = ending(AccessReason::QuorumReached, Some(grant("jti-granted")));
    assert!(end(&store, &r, &granted).await);
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    let row = last_audit(&store).await;
    assert_eq!(
        (row.kind.as_str(), row.subject),
        ("access_request_ended", format!("access:{}", r.id))
    );
    let stored = read(&store, &r.id).await;
    assert_eq!(
        stored,
        after(&r, &granted),
        "the ending changes its state, reason, time and grant, and nothing else"
    );
    assert_eq!(stored.state, AccessState::Granted);
    assert_eq!(stored.reason, Some(AccessReason::QuorumReached));
    assert_eq!(stored.decided_at, Some(granted.at));
    assert_eq!(stored.grant, granted.grant);

    // A second ending is refused: nothing written, nothing audited.
    let denied = ending(AccessReason::Denied, None);
    assert!(!end(&store, &r, &denied).await);
    let other = ending(AccessReason::QuorumReached, Some(grant("jti-second")));
    assert!(!end(&store, &r, &other).await);
    assert_eq!(audit_rows(&store).await, before + 1, "nothing audited");
    assert_eq!(read(&store, &r.id).await, stored);
    assert_eq!(
        store.access_request_by_grant("jti-second").await.unwrap(),
        None
    );

    assert_eq!(
        store.access_request_by_grant("jti-granted").await.unwrap(),
        Some(stored.clone())
    );
    for unknown in ["jti-unknown", "JTI-GRANTED", "jti-grante", ""] {
        assert_eq!(
            store.access_request_by_grant(unknown).await.unwrap(),
            None,
            "{unknown:?}"
        );
    }

    // Every other reason ends it in its state, with no grant.
    let reasons = [
        (AccessReason::Denied, AccessState::Rejected),
        (AccessReason::QuorumUnreachable, AccessState::Rejected),
        (AccessReason::Expired, AccessState::Expired),
        (AccessReason::CancelledByRequester, AccessState::Cancelled),
    ];
    for (reason, state) in reasons {
        let other = request(&acme, &alice, Duration::minutes(10));
        insert(&store, &other, &[]).await;
        let before = audit_rows(&store).await;
        let without = ending(reason, None);
        assert!(end(&store, &other, &without).await, "{reason:?}");
        assert_eq!(audit_rows(&store).await, before + 1, "{reason:?}");
        let stored = read(&store, &other.id).await;
        assert_eq!(stored, after(&other, &without), "{reason:?}");
        assert_eq!(stored.state, state);
        assert_eq!(stored.reason, Some(reason));
        assert_eq!(stored.grant, None, "{reason:?}");
        assert!(!end(&store, &other, &granted).await, "{reason:?}");
        assert_eq!(read(&store, &other.id).await, stored, "{reason:?}");
        assert_eq!(audit_rows(&store).await, before + 1, "{reason:?}");
    }
    assert_eq!(
        store.access_request_by_grant("jti-granted").await.unwrap(),
        Some(stored)
    );

    // An unknown request does not end.
    let before = audit_rows(&store).await;
    let ghost = request(&acme, &alice, Duration::minutes(10));
    assert!(!end(&store, &ghost, &denied).await);
    assert_eq!(store.access_request(&ghost.id).await.unwrap(), None);
    assert_eq!(audit_rows(&store).await, before);
}

pub(crate) async fn access_grants_revoke_once(store: Arc<dyn Store>) {
    let (acme, alice, r) = pending(&store).await;
    let granted = ending(AccessReason::QuorumReached, Some(grant("jti-1")));
    assert!(end(&store, &r, &granted).await);
    let r = read(&store, &r.id).await;

    let before = audit_rows(&store).await;
    let at = base() + Duration::milliseconds(2_345);
    assert!(revoke(&store, &r, at, "admin:k1").await);
    assert_eq!(audit_rows(&store).await, before + 1, "one audit row");
    let row = last_audit(&store).await;
    assert_eq!(
        (row.kind.as_str(), row.subject),
        ("access_grant_revoked", format!("access:{}", r.id))
    );
    let stored = read(&store, &r.id).await;
    let revocation = stored.grant.clone().unwrap();
    assert_eq!(revocation.revoked_at, Some(at));
    assert_eq!(revocation.revoked_by.as_deref(), Some("admin:k1"));
    let mut expected = r.clone();
    if let Some(g) = expected.grant.as_mut() {
        g.revoked_at = Some(at);
        g.revoked_by = Some("admin:k1".into());
    }
    assert_eq!(
        stored, expected,
        "revoking changes the revocation and nothing else"
    );
    assert_eq!(
        store.access_request_by_grant("jti-1").await.unwrap(),
        Some(stored.clone())
    );

    // A second revocation is refused: the first one's time and author stay.
    let bob = UserId::generate();
    let later = at + Duration::seconds(5);
    assert!(!revoke(&store, &r, later, &format!("user:{bob}")).await);
    assert_eq!(audit_rows(&store).await, before + 1, "nothing audited");
    assert_eq!(read(&store, &r.id).await, stored);

    // A pending request, one rejected, one expired or an unknown one has no grant to revoke.
    let waiting = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &waiting, &[]).await;
    let rejected = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &rejected, &[]).await;
    assert!(end(&store, &rejected, &ending(AccessReason::Denied, None)).await);
    let expired = request(&acme, &alice, Duration::minutes(10));
    insert(&store, &expired, &[]).await;
    assert!(end(&store, &expired, &ending(AccessReason::Expired, None)).await);
    let ghost = request(&acme, &alice, Duration::minutes(10));
    let before = audit_rows(&store).await;
    let untouched = [
        read(&store, &waiting.id).await,
        read(&store, &rejected.id).await,
        read(&store, &expired.id).await,
    ];
    for x in untouched.iter().chain([&ghost]) {
        assert!(!revoke(&store, x, at, "admin:k1").await, "{:?}", x.state);
    }
    assert_eq!(audit_rows(&store).await, before, "nothing audited");
    for x in &untouched {
        assert_eq!(&read(&store, &x.id).await, x);
        assert_eq!(x.grant, None);
    }
    assert_eq!(untouched[0].state, AccessState::Pending);
    assert_eq!(untouched[1].state, AccessState::Rejected);
    assert_eq!(store.access_request(&ghost.id).await.unwrap(), None);

    // The pending one still ends, after the refused revocation.
    let later_grant = ending(AccessReason::QuorumReached, Some(grant("jti-2")));
    assert!(end(&store, &waiting, &later_grant).await);
    assert_eq!(
        read(&store, &waiting.id).await,
        after(&waiting, &later_grant)
    );
}

pub(crate) async fn access_requests_due(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let alice = user(&store, "alice").await;
    let t0 = base();
    let at = |minutes: i64| AccessRequest {
        created_at: t0,
        expires_at: t0 + Duration::minutes(minutes),
        ..request(&acme, &alice, Duration::ZERO)
    };
    let now = t0 + Duration::minutes(10);
    // Expiring 3, 2 and 1 minutes before `now`, at `now` exactly, after it; one long expired
    // but ended. Stored in none of these orders.
    let (m3, m2, m1, m0, future, done) = (at(7), at(8), at(9), at(10), at(11), at(5));
    for r in [&m1, &m0, &future, &done, &m3, &m2] {
        insert(&store, r, &[]).await;
    }
    assert!(
        end(
            &store,
            &done,
            &ending(AccessReason::CancelledByRequester, None)
        )
        .await
    );

    let ids = |due: Vec<AccessRequest>| -> Vec<AccessRequestId> {
        due.into_iter().map(|r| r.id).collect()
    };
    let due = store.access_requests_due(now, 10).await.unwrap();
    assert_eq!(due.first(), Some(&m3), "read back whole");
    assert_eq!(
        ids(due),
        [&m3, &m2, &m1, &m0].map(|r| r.id.clone()),
        "oldest expiry first, up to `now` included"
    );
    assert_eq!(
        ids(store.access_requests_due(now, 2).await.unwrap()),
        [&m3, &m2].map(|r| r.id.clone())
    );
    assert_eq!(
        ids(store.access_requests_due(now, 1).await.unwrap()),
        std::slice::from_ref(&m3.id)
    );
    assert_eq!(
        ids(store
            .access_requests_due(now - Duration::milliseconds(1), 10)
            .await
            .unwrap()),
        [&m3, &m2, &m1].map(|r| r.id.clone()),
        "not one millisecond early"
    );
    assert_eq!(
        ids(store
            .access_requests_due(now + Duration::minutes(5), 10)
            .await
            .unwrap()),
        [&m3, &m2, &m1, &m0, &future].map(|r| r.id.clone())
    );
    assert_eq!(
        store
            .access_requests_due(t0 - Duration::minutes(1), 10)
            .await
            .unwrap(),
        []
    );

    // Once ended, a request is no longer due.
    assert!(end(&store, &m2, &ending(AccessReason::Expired, None)).await);
    assert_eq!(
        ids(store.access_requests_due(now, 10).await.unwrap()),
        [&m3, &m1, &m0].map(|r| r.id.clone())
    );
}

/// Many nodes counting the same quorum at once: one ending wins, only its audit row joins the
/// chain, and the grant stored is the winner's.
pub(crate) async fn access_request_ends_race(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let alice = user(&store, "alice").await;
    for round in 0..3 {
        let r = request(&acme, &alice, Duration::minutes(10));
        insert(&store, &r, &[]).await;
        let endings: Vec<AccessEnding> = (0..8)
            .map(|i| {
                let jti = format!("jti-{round}-{i}");
                ending(AccessReason::QuorumReached, Some(grant(&jti)))
            })
            .collect();
        let before = audit_rows(&store).await;
        let racers: Vec<_> = endings
            .iter()
            .map(|granted| {
                let (store, r, granted) = (store.clone(), r.clone(), granted.clone());
                tokio::spawn(async move { end(&store, &r, &granted).await })
            })
            .collect();
        let mut won = Vec::new();
        for (i, racer) in racers.into_iter().enumerate() {
            if racer.await.unwrap() {
                won.push(i);
            }
        }
        assert_eq!(won.len(), 1, "one winner: {won:?}");
        let winner = format!("jti-{round}-{}", won[0]);

        let stored = read(&store, &r.id).await;
        assert_eq!(stored.state, AccessState::Granted);
        assert_eq!(stored.grant.as_ref().map(|g| g.id.as_str()), Some(&*winner));
        assert_eq!(stored, after(&r, &endings[won[0]]));
        assert_eq!(
            store.access_request_by_grant(&winner).await.unwrap(),
            Some(stored)
        );
        for i in (0..8).filter(|i| *i != won[0]) {
            let loser = format!("jti-{round}-{i}");
            assert_eq!(store.access_request_by_grant(&loser).await.unwrap(), None);
        }

        assert_one_chain(&store, before + 1).await;
        let rows = store.audit_page(0, 100_000).await.unwrap();
        let ends: Vec<&AuditRecord> = rows
            .iter()
            .filter(|row| row.kind == "access_request_ended")
            .filter(|row| row.subject == format!("access:{}", r.id))
            .collect();
        assert_eq!(ends.len(), 1, "one audit row");
        let data: serde_json::Value = serde_json::from_str(&ends[0].data).unwrap();
        assert_eq!(data["grant_id"], winner.as_str(), "the winner's audit row");
    }
}

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

//! Access requests with several approvers: a request and its approvers read back as written
//! (approvers in their order), found from an approver's prompt; a request ends once, with its
//! grant and its audit row (raced too); a grant is revoked once; the pending requests whose time
//! is up are listed oldest first. Nothing is audited for a write that did not happen.

use crate::access_fixtures::*;
use crate::races::assert_one_chain;
use crate::support::{app, audit, audit_rows, user};
use assent_core::Store;
use assent_core::access::records::{
    AccessEnding, AccessReason, AccessRequest, AccessState, Approver,
};
use assent_core::ids::{AccessRequestId, ApprovalId, UserId};
use assent_core::model::AuditRecord;
use std::sync::Arc;
use time::Duration;

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

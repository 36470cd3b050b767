//! What the policy adds to requests: a request's quorum reads back as written (and a request
//! without one reads none); a co-approval holds the user's approval of one request, found by
//! that request, and a second co-approval of the same request is refused whole (raced too);
//! a passkey proof is taken once, by its own application, and never once it has expired; a
//! user's ended requests are listed newest first, theirs alone, and the pending ones counted.

use crate::access_fixtures::{base, created, insert, prompt, read, request};
use crate::races::winners;
use crate::support::{app, approval, audit, audit_rows, event, now, user};
use assent_core::access::records::{Approver, HeldApproval};
use assent_core::ids::{AccessRequestId, DeviceId};
use assent_core::model::Quorum;
use assent_core::passkeys::records::PasskeyProof;
use assent_core::{Store, StoreError};
use std::sync::Arc;
use time::Duration;

pub(crate) async fn quorums_round_trip(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let alice = user(&store, "alice").await;
    let mut four_eyes = approval(&acme, &alice, Duration::minutes(5));
    four_eyes.quorum = Some(Quorum {
        approvals: 3,
        approver_groups: vec!["treasury".into(), "risk-office".into()],
    });
    let plain = approval(&acme, &alice, Duration::minutes(5));
    for a in [&four_eyes, &plain] {
        store.insert_approval(a, &[], audit(event())).await.unwrap();
    }
    assert_eq!(
        store.approval_as_stored(&four_eyes.id).await.unwrap(),
        Some(four_eyes.clone())
    );
    assert_eq!(
        store.approval(&plain.id).await.unwrap(),
        Some(plain.clone())
    );
    let pending = store.pending_for_user(&alice.id, now()).await.unwrap();
    assert!(pending.contains(&four_eyes) && pending.contains(&plain));
}

pub(crate) async fn co_approvals_hold_a_request_once(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let held = approval(&acme, &alice, Duration::minutes(5));
    store
        .insert_approval(&held, &[], audit(event()))
        .await
        .unwrap();
    let bobs_prompt = prompt(&store, &acme, &bob).await;
    let approvers = vec![Approver {
        user_id: bob.id.clone(),
        approval_id: Some(bobs_prompt),
        unreachable: None,
    }];
    let holding = |r: &assent_core::access::records::AccessRequest| {
        let mut r = r.clone();
        r.holds = Some(HeldApproval {
            approval_id: held.id.clone(),
            device_id: DeviceId::generate(),
            statement: "eyJ0eXAiOiJhc3NlbnQtZGVjaXNpb24ranOzIn0.e30.c2ln".into(),
            user_verification: Some(
                r#"{"origin":"https://assent.example","rp_id":"assent.example"}"#.into(),
            ),
        });
        r
    };
    assert_eq!(store.access_request_holding(&held.id).await.unwrap(), None);
    let first = holding(&request(&acme, &alice, Duration::minutes(5)));
    insert(&store, &first, &approvers).await;
    assert_eq!(
        read(&store, &first.id).await,
        first,
        "reads back as written"
    );
    assert_eq!(
        store.access_request_holding(&held.id).await.unwrap(),
        Some(first.id.clone())
    );

    // A second co-approval of the same request is refused whole: no request, no approver,
    // no audit row.
    let before = audit_rows(&store).await;
    let second = holding(&request(&acme, &alice, Duration::minutes(5)));
    let refused = store
        .insert_access_request(&second, &[], audit(created(&second, &[])))
        .await;
    assert!(
        matches!(refused, Err(StoreError::Conflict(_))),
        "{refused:?}"
    );
    assert_eq!(store.access_request(&second.id).await.unwrap(), None);
    assert_eq!(audit_rows(&store).await, before);

    // An access request that holds nothing is found by no request.
    let plain = request(&acme, &alice, Duration::minutes(5));
    insert(&store, &plain, &[]).await;
    assert_eq!(read(&store, &plain.id).await.holds, None);

    // Raced: of several co-approvals of one request, one is stored.
    let raced = approval(&acme, &alice, Duration::minutes(5));
    store
        .insert_approval(&raced, &[], audit(event()))
        .await
        .unwrap();
    let won = winners(8, |_| {
        let store = store.clone();
        let mut r = holding(&request(&acme, &alice, Duration::minutes(5)));
        if let Some(h) = r.holds.as_mut() {
            h.approval_id = raced.id.clone();
        }
        async move {
            store
                .insert_access_request(&r, &[], audit(created(&r, &[])))
                .await
                .is_ok()
        }
    })
    .await;
    assert_eq!(won, 1, "one co-approval per request");
    let holder: Option<AccessRequestId> = store.access_request_holding(&raced.id).await.unwrap();
    assert!(holder.is_some());
}

pub(crate) async fn passkey_proofs_are_taken_once(store: Arc<dyn Store>) {
    let acme = app(&store, "Acme").await;
    let globex = app(&store, "Globex").await;
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let t = base();
    let proof = |id: &str, expires_at| PasskeyProof {
        id: id.into(),
        app_id: acme.id.clone(),
        user_id: alice.id.clone(),
        credential_id: "cred-Zm9v".into(),
        user_verified: true,
        verified_at: t,
        expires_at,
    };
    let fresh = proof("proof-fresh", t + Duration::minutes(5));
    store.insert_passkey_proof(&fresh).await.unwrap();
    assert_eq!(
        store
            .take_passkey_proof("proof-fresh", &globex.id, &alice.id, t)
            .await
            .unwrap(),
        None,
        "another application's"
    );
    assert_eq!(
        store
            .take_passkey_proof("proof-fresh", &acme.id, &bob.id, t)
            .await
            .unwrap(),
        None,
        "another user's"
    );
    assert_eq!(
        store
            .take_passkey_proof("proof-fresh", &acme.id, &alice.id, t)
            .await
            .unwrap(),
        Some(fresh.clone()),
        "reads back as written, after another application's and another user's attempts"
    );
    assert_eq!(
        store
            .take_passkey_proof("proof-fresh", &acme.id, &alice.id, t)
            .await
            .unwrap(),
        None,
        "used already"
    );

    // Usable up to its last millisecond, never at it.
    let ending = proof("proof-ending", t + Duration::minutes(1));
    store.insert_passkey_proof(&ending).await.unwrap();
    assert_eq!(
        store
            .take_passkey_proof("proof-ending", &acme.id, &alice.id, ending.expires_at)
            .await
            .unwrap(),
        None,
        "expired"
    );
    let last = proof("proof-last", t + Duration::minutes(1));
    store.insert_passkey_proof(&last).await.unwrap();
    assert_eq!(
        store
            .take_passkey_proof(
                "proof-last",
                &acme.id,
                &alice.id,
                last.expires_at - Duration::milliseconds(1)
            )
            .await
            .unwrap(),
        Some(last)
    );

    // Raced: taken once.
    let raced = proof("proof-raced", t + Duration::minutes(5));
    store.insert_passkey_proof(&raced).await.unwrap();
    let (app_id, alice_id) = (acme.id.clone(), alice.id.clone());
    let won = winners(8, |_| {
        let (store, app_id, alice_id) = (store.clone(), app_id.clone(), alice_id.clone());
        async move {
            store
                .take_passkey_proof("proof-raced", &app_id, &alice_id, t)
                .await
                .unwrap()
                .is_some()
        }
    })
    .await;
    assert_eq!(won, 1);
}

pub(crate) async fn ended_requests_are_listed_newest_first_per_user(store: Arc<dyn Store>) {
    use crate::support::outcome;
    use assent_proto::states::ApprovalState;
    let acme = app(&store, "Acme").await;
    let alice = user(&store, "alice").await;
    let bob = user(&store, "bob").await;
    let t = base();
    let mut ended = Vec::new();
    for (i, state) in [
        ApprovalState::Approved,
        ApprovalState::Denied,
        ApprovalState::Expired,
    ]
    .into_iter()
    .enumerate()
    {
        let mut a = approval(&acme, &alice, Duration::minutes(5));
        a.created_at = t + Duration::seconds(i as i64);
        store
            .insert_approval(&a, &[], audit(event()))
            .await
            .unwrap();
        let o = outcome(state, None);
        assert!(store.finalize(&a.id, &o, audit(event())).await.unwrap());
        ended.push(a.id);
    }
    let pending = approval(&acme, &alice, Duration::minutes(5));
    store
        .insert_approval(&pending, &[], audit(event()))
        .await
        .unwrap();
    let bobs = approval(&acme, &bob, Duration::minutes(5));
    store
        .insert_approval(&bobs, &[], audit(event()))
        .await
        .unwrap();
    assert!(
        store
            .finalize(
                &bobs.id,
                &outcome(ApprovalState::Approved, None),
                audit(event())
            )
            .await
            .unwrap()
    );
    let listed: Vec<_> = store
        .ended_for_user(&alice.id, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|a| (a.id, a.state))
        .collect();
    assert_eq!(
        listed,
        [
            (ended[2].clone(), ApprovalState::Expired),
            (ended[1].clone(), ApprovalState::Denied),
            (ended[0].clone(), ApprovalState::Approved),
        ],
        "newest first, the pending one and bob's left out"
    );
    assert_eq!(store.ended_for_user(&alice.id, 2).await.unwrap().len(), 2);
    assert_eq!(
        store.pending_count(t - Duration::minutes(1)).await.unwrap(),
        1
    );
}

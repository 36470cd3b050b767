//! A quorum for any request (`approvals = 2` in the policy): the user's own approval is held by a
//! co-approval and the request stays pending for its relying party until a co-approver from the
//! rule's groups (never the user) approves; the receipt then carries the co-approval's receipt
//! and verifies offline. A co-approver's denial denies it; a cancelled request withdraws the
//! co-approvers' prompts; too few co-approvers refuse it at once; CIBA's token waits too.

use super::Team;
use assent_core::risk::policy::Policy;
use assent_proto::ProblemCode;
use assent_proto::api::ApprovalStatus;
use assent_proto::jose::JwkSet;
use assent_proto::statement::Decision;
use assent_proto::states::{ApprovalKind, ApprovalState};
use assent_testkit::transfer;

/// Transfers over 10,000 need a second approver from `treasury`; everything else (the
/// co-approvers' own prompts included) is pushed as usual, without user verification.
const FOUR_EYES: &str = r#"
[[rule]]
name = "large transfers need a second approver"
when = "request.kind == 'transaction' && request.amount > 10000.0"
outcome = "push"
approvals = 2
approver_groups = ["treasury"]

[[rule]]
name = "rest"
when = "true"
outcome = "push"
"#;

/// The team, with bob, carol and alice herself in `treasury`, under [`FOUR_EYES`].
async fn treasury() -> Team {
    let team = Team::new().await;
    team.server.admin.create_group("treasury").await.unwrap();
    for user in ["alice", "bob", "carol"] {
        team.server
            .admin
            .add_group_member("treasury", user)
            .await
            .unwrap();
    }
    team.server
        .assent
        .set_policy(Policy::parse(FOUR_EYES).unwrap());
    team
}

async fn status(team: &Team, id: &str) -> ApprovalStatus {
    team.app.client.approval(id, None).await.unwrap()
}

/// alice asks for a transfer of 20,000 and approves it on her device with the code shown; the
/// request's id and the co-approval's.
async fn approved_by_alice(team: &Team) -> (String, String) {
    let created = team
        .app
        .client
        .create_approval(&transfer("alice", "20000.00"))
        .await
        .unwrap();
    assert_eq!(
        created.policy_rule,
        "large transfers need a second approver"
    );
    let before = status(team, &created.id).await;
    assert_eq!(
        (before.state, before.approvals_required, before.co_approval),
        (ApprovalState::Pending, Some(2), None)
    );
    let alice = team.device("alice");
    let view = alice.approval(&created.id).await.unwrap();
    let statement = alice
        .sign_decision(&view, Decision::Approve, created.display_code.as_deref())
        .unwrap();
    let accepted = alice
        .submit_with(&created.id, statement, None)
        .await
        .unwrap();
    assert_eq!(
        (accepted.state, accepted.awaiting_approvals),
        (ApprovalState::Pending, Some(1)),
        "held for one co-approver"
    );
    let held = status(team, &created.id).await;
    assert_eq!(held.state, ApprovalState::Pending);
    let co_approval = held.co_approval.expect("the co-approval is named");
    (created.id, co_approval)
}

/// `user`'s prompt of co-approval `id`.
async fn prompt_of(team: &Team, id: &str, user: &str) -> String {
    let co = team.app.client.access_request(id).await.unwrap();
    co.approvers
        .iter()
        .find(|a| a.user == user)
        .and_then(|a| a.approval_id.clone())
        .unwrap_or_else(|| panic!("{user} was not asked: {co:?}"))
}

#[tokio::test]
async fn the_users_approval_waits_for_a_co_approver_and_the_receipt_carries_both() {
    let team = treasury().await;
    let (id, co_id) = approved_by_alice(&team).await;

    // The co-approval asks bob and carol (never alice, though she is in the group), for one
    // approval, and names the request it holds.
    let co = team.app.client.access_request(&co_id).await.unwrap();
    let asked: Vec<&str> = co.approvers.iter().map(|a| a.user.as_str()).collect();
    assert_eq!(asked, ["bob", "carol"]);
    assert_eq!(
        (
            co.requester.as_str(),
            co.approvals_required,
            co.denials_required
        ),
        ("alice", 1, 1)
    );
    assert_eq!(co.co_approval_of.as_deref(), Some(id.as_str()));

    // alice's devices have nothing left to answer; a second answer is refused.
    let alice = team.device("alice");
    assert!(
        alice.pending().await.unwrap().iter().all(|a| a.id != id),
        "a held request is not offered again"
    );
    let view = alice.approval(&id).await.unwrap();
    let again = alice.sign_decision(&view, Decision::Deny, None).unwrap();
    let refused = alice.submit_with(&id, again, None).await;
    assert_eq!(
        crate::support::code_of(refused),
        ProblemCode::AlreadyDecided
    );

    // bob's prompt shows the whole request, asks for no code (nothing shows him one), and
    // says what it co-approves.
    let bobs = prompt_of(&team, &co_id, "bob").await;
    let shown = team.device("bob").approval(&bobs).await.unwrap();
    assert_eq!(shown.kind, ApprovalKind::Access);
    assert!(!shown.code_required, "no code to type");
    let progress = shown.access_request.expect("the co-approval's progress");
    assert_eq!(progress.co_approval_of.as_deref(), Some(id.as_str()));
    assert!(
        shown.authorization_details[0]["co_approval"]["approval_id"] == id.as_str()
            && shown.authorization_details[1]["amount"] == "20000.00",
        "{:?}",
        shown.authorization_details
    );
    team.answer_as("bob", &bobs, Decision::Approve, None)
        .await
        .unwrap();

    let done = status(&team, &id).await;
    assert_eq!(
        (done.state, done.reason.as_deref()),
        (ApprovalState::Approved, None)
    );
    let jwks: JwkSet = reqwest::get(format!("{}/.well-known/jwks.json", team.server.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let receipt =
        assent_proto::receipt::verify_receipt(done.receipt.as_deref().unwrap(), &jwks).unwrap();
    assert_eq!(receipt.statement.unwrap().decision, Decision::Approve);
    let co_approvals = &receipt.receipt.co_approvals;
    assert_eq!(co_approvals.len(), 1);
    assert_eq!(co_approvals[0].approval_id, bobs);
    assert_eq!(
        co_approvals[0].authorization_details[1]["amount"],
        "20000.00"
    );
    // The co-approval is granted but issues no grant: the request's receipt is the record.
    let co = team.app.client.access_request(&co_id).await.unwrap();
    assert_eq!(co.state, "granted");
    assert!(co.grant.is_none(), "{:?}", co.grant);
    // carol's prompt is withdrawn: the quorum is reached.
    let carols = prompt_of(&team, &co_id, "carol").await;
    let carol_view = team.device("carol").approval(&carols).await.unwrap();
    assert_eq!(carol_view.state, ApprovalState::Cancelled);
}

#[tokio::test]
async fn a_co_approvers_denial_denies_the_request() {
    let team = treasury().await;
    let (id, co_id) = approved_by_alice(&team).await;
    let carols = prompt_of(&team, &co_id, "carol").await;
    team.answer_as("carol", &carols, Decision::Deny, None)
        .await
        .unwrap();
    let done = status(&team, &id).await;
    assert_eq!(
        (done.state, done.reason.as_deref()),
        (ApprovalState::Denied, Some("denied_by_co_approver"))
    );
    let co = team.app.client.access_request(&co_id).await.unwrap();
    assert_eq!(
        (co.state.as_str(), co.reason.as_deref()),
        ("rejected", Some("denied"))
    );
    let bobs = prompt_of(&team, &co_id, "bob").await;
    let bob_view = team.device("bob").approval(&bobs).await.unwrap();
    assert_eq!(bob_view.state, ApprovalState::Cancelled, "withdrawn");
}

#[tokio::test]
async fn a_cancelled_request_withdraws_its_co_approvers_prompts() {
    let team = treasury().await;
    let (id, co_id) = approved_by_alice(&team).await;
    let cancelled = team.app.client.cancel(&id).await.unwrap();
    assert_eq!(cancelled.state, ApprovalState::Cancelled);
    let co = team.app.client.access_request(&co_id).await.unwrap();
    assert_eq!(
        (co.state.as_str(), co.reason.as_deref()),
        ("cancelled", Some("request_ended"))
    );
    for user in ["bob", "carol"] {
        let prompt = prompt_of(&team, &co_id, user).await;
        let view = team.device(user).approval(&prompt).await.unwrap();
        assert_eq!(view.state, ApprovalState::Cancelled, "{user}'s prompt");
    }
    // A late approval from bob changes nothing.
    let bobs = prompt_of(&team, &co_id, "bob").await;
    assert!(
        team.answer_as("bob", &bobs, Decision::Approve, None)
            .await
            .is_err()
    );
    assert_eq!(status(&team, &id).await.state, ApprovalState::Cancelled);
}

#[tokio::test]
async fn too_few_co_approvers_refuse_the_request_before_anyone_is_asked() {
    let team = treasury().await;
    for user in ["bob", "carol"] {
        team.server
            .admin
            .remove_group_member("treasury", user)
            .await
            .unwrap();
    }
    let refused = team
        .app
        .client
        .create_approval(&transfer("alice", "20000.00"))
        .await;
    assert_eq!(
        crate::support::code_of(refused),
        ProblemCode::DeniedByPolicy,
        "alice alone is no quorum"
    );
    assert!(team.device("alice").pending().await.unwrap().is_empty());
    // Below the limit, no quorum.
    let small = team
        .app
        .client
        .create_approval(&transfer("alice", "50.00"))
        .await
        .unwrap();
    let status = status(&team, &small.id).await;
    assert_eq!(status.approvals_required, None);
}

#[tokio::test]
async fn a_ciba_token_waits_for_the_co_approver() {
    use crate::ciba::{Auth, Setup};
    let setup = Setup::new().await;
    let bob = setup.server.user_with_device("bob").await;
    setup.server.admin.create_group("treasury").await.unwrap();
    setup
        .server
        .admin
        .add_group_member("treasury", "bob")
        .await
        .unwrap();
    setup.server.assent.set_policy(
        Policy::parse(
            r#"
[[rule]]
name = "every sign-in at Acme Bank needs a second approver"
when = "request.kind == 'login' && request.application == 'Acme Bank'"
outcome = "push"
approvals = 2
approver_groups = ["treasury"]

[[rule]]
name = "rest"
when = "true"
outcome = "push"
"#,
        )
        .unwrap(),
    );
    let (id, secret) = setup.secret_client("poll", None, false).await;
    let auth = Auth::Basic { id, secret };
    let started = setup.start(&auth, &[]).await;
    assert_eq!(started.status, 200, "{}", started.body);
    let req_id = started.body["auth_req_id"].as_str().unwrap().to_owned();
    let code = started.body["display_code"].as_str().unwrap().to_owned();
    setup.answer(Decision::Approve, Some(&code)).await;
    setup.server.clock.advance(time::Duration::seconds(5));
    let waiting = setup.token(&auth, &req_id, None).await;
    assert_eq!(
        (waiting.status, waiting.error()),
        (400, "authorization_pending"),
        "alice approved; bob has not"
    );

    let prompt = bob.pending().await.unwrap().pop().expect("bob is asked");
    let statement = bob.sign_decision(&prompt, Decision::Approve, None).unwrap();
    bob.submit_with(&prompt.id, statement, None).await.unwrap();
    setup.server.clock.advance(time::Duration::seconds(5));
    let tokens = setup.token(&auth, &req_id, None).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    let jwks: JwkSet = reqwest::get(setup.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let receipt =
        assent_proto::receipt::verify_receipt(tokens.body["receipt"].as_str().unwrap(), &jwks)
            .unwrap();
    assert_eq!(receipt.receipt.co_approvals.len(), 1);
}

#[tokio::test]
async fn revoking_the_users_device_ends_a_held_request_and_its_co_approval() {
    let team = treasury().await;
    let (id, co_id) = approved_by_alice(&team).await;
    let alice_device = team.device("alice").profile().device_id.clone();
    team.server
        .admin
        .revoke_device(&alice_device)
        .await
        .unwrap();
    let done = status(&team, &id).await;
    assert_eq!(
        (done.state, done.reason.as_deref()),
        (ApprovalState::Cancelled, Some("device_revoked"))
    );
    let co = team.app.client.access_request(&co_id).await.unwrap();
    assert_eq!(
        (co.state.as_str(), co.reason.as_deref()),
        ("cancelled", Some("request_ended"))
    );
    let bobs = prompt_of(&team, &co_id, "bob").await;
    assert!(
        team.answer_as("bob", &bobs, Decision::Approve, None)
            .await
            .is_err(),
        "nothing left to co-approve"
    );
}

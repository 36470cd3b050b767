//! The quorum: who may answer, what decides, and that one grant is issued however the answers
//! race.

use super::{Team, elevation};
use crate::support::{audit_data, code_of};
use assent_proto::ProblemCode;
use assent_proto::statement::Decision;
use time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_of_three_grant_despite_one_denial_and_the_requester_never_approves() {
    let team = Team::new().await;
    let created = team.ask(2, 2).await;
    let request = &created.access_request;
    assert_eq!(request.state, "pending");
    assert_eq!(request.requester, "alice");
    // alice is in `ops` but never among her own approvers.
    let names: Vec<&str> = created.approvers.iter().map(|a| a.user.as_str()).collect();
    assert_eq!(names, ["bob", "carol", "dave"]);
    assert!(created.approvers.iter().all(|a| a.display_code.is_some()));
    assert!(
        team.device("alice").pending().await.unwrap().is_empty(),
        "no prompt for the requester"
    );

    // Each approver's prompt shows the whole request.
    let prompt = team.device("bob").pending().await.unwrap().remove(0);
    assert_eq!(prompt.kind, assent_proto::api::ApprovalKind::Access);
    let shown = &prompt.authorization_details;
    assert_eq!(shown[0]["type"], "access_request");
    assert_eq!(shown[0]["requester"], "alice");
    assert_eq!(
        shown[0]["justification"],
        "INC-4711: the EU cluster rejects writes"
    );
    assert_eq!(shown[0]["grant_seconds"], 900);
    assert_eq!(shown[0]["approvals_required"], 2);
    assert_eq!(shown[1]["role"], "production-admin");
    assert!(
        prompt
            .binding_message
            .unwrap()
            .starts_with("alice asks for access")
    );

    // alice's device cannot answer bob's prompt, with or without the code.
    let bobs = created.approvers.iter().find(|a| a.user == "bob").unwrap();
    let refused = team
        .device("alice")
        .decide(
            bobs.approval_id.as_deref().unwrap(),
            Decision::Approve,
            bobs.display_code.as_deref(),
        )
        .await;
    assert_eq!(code_of(refused), ProblemCode::DeviceNotAuthorized);

    // One denial of a deny threshold of two does not block it.
    team.answer(&created, "bob", Decision::Deny).await.unwrap();
    team.answer(&created, "carol", Decision::Approve)
        .await
        .unwrap();
    let now = team.app.client.access_request(&request.id).await.unwrap();
    assert_eq!(now.state, "pending");
    assert_eq!(now.approved_by, ["carol"]);
    assert_eq!(now.denied_by, ["bob"]);
    // dave sees the others' progress beside his prompt.
    let daves = team.device("dave").pending().await.unwrap().remove(0);
    let progress = daves.access_request.expect("the access request's progress");
    assert_eq!(progress.approved_by, ["carol"]);
    assert_eq!(progress.denied_by, ["bob"]);
    assert_eq!(progress.approvals_required, 2);

    team.answer(&created, "dave", Decision::Approve)
        .await
        .unwrap();
    let granted = team.app.client.access_request(&request.id).await.unwrap();
    assert_eq!(granted.state, "granted");
    assert_eq!(granted.reason.as_deref(), Some("quorum_reached"));
    assert_eq!(granted.approved_by, ["carol", "dave"]);
    let grant = granted.grant.expect("a grant");
    assert!(grant.revoked_at.is_none());
    let ended = audit_data(&team.server, "access_request_ended");
    assert_eq!(ended.len(), 1, "{ended:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_requester_is_left_out_and_too_few_approvers_are_refused() {
    let team = Team::new().await;
    let mut ask = elevation(1, 1);
    ask.approvers.groups.clear();
    ask.approvers.users = vec!["alice".into(), "bob".into()];
    let created = team.app.client.create_access_request(&ask).await.unwrap();
    let names: Vec<&str> = created.approvers.iter().map(|a| a.user.as_str()).collect();
    assert_eq!(names, ["bob"]);

    // Only alice herself: nobody can approve.
    ask.approvers.users = vec!["alice".into()];
    let refused = team.app.client.create_access_request(&ask).await;
    assert_eq!(code_of(refused), ProblemCode::InvalidRequest);
    // Three eligible in `ops` cannot give four approvals.
    let refused = team
        .app
        .client
        .create_access_request(&elevation(4, 1))
        .await;
    assert_eq!(code_of(refused), ProblemCode::InvalidRequest);
    // An unknown approver group.
    let mut unknown = elevation(1, 1);
    unknown.approvers.groups = vec!["nobody".into()];
    let refused = team.app.client.create_access_request(&unknown).await;
    assert_eq!(code_of(refused), ProblemCode::NotFound);
    // Assent's own description of the request cannot be forged inside the privilege, and the
    // privilege stays small enough for the grant to be introspected.
    let mut forged = elevation(1, 1);
    forged
        .authorization_details
        .push(serde_json::json!({"type": "access_request", "requester": "bob"}));
    let refused = team.app.client.create_access_request(&forged).await;
    assert_eq!(code_of(refused), ProblemCode::InvalidRequest);
    let mut large = elevation(1, 1);
    large.authorization_details =
        vec![serde_json::json!({"type": "role", "note": "x".repeat(5000)})];
    let refused = team.app.client.create_access_request(&large).await;
    assert_eq!(code_of(refused), ProblemCode::InvalidRequest);
    // An approver who cannot be prompted leaves the request pending (break-glass stays
    // possible), not rejected at once.
    team.server.user("frank").await;
    let mut unreachable = elevation(1, 1);
    unreachable.approvers.groups.clear();
    unreachable.approvers.users = vec!["frank".into()];
    let waiting = team
        .app
        .client
        .create_access_request(&unreachable)
        .await
        .unwrap();
    assert_eq!(waiting.access_request.state, "pending");
    assert_eq!(
        waiting.approvers[0].unreachable.as_deref(),
        Some("no_active_device")
    );
    // No justification.
    let mut bare = elevation(1, 1);
    bare.justification = "  ".into();
    let refused = team.app.client.create_access_request(&bare).await;
    assert_eq!(code_of(refused), ProblemCode::InvalidRequest);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_denials_reject_it_and_withdraw_the_open_prompt() {
    let team = Team::new().await;
    let created = team.ask(2, 2).await;
    team.answer(&created, "bob", Decision::Deny).await.unwrap();
    team.answer(&created, "carol", Decision::Fraud)
        .await
        .unwrap();
    let rejected = team
        .app
        .client
        .access_request(&created.access_request.id)
        .await
        .unwrap();
    assert_eq!(rejected.state, "rejected");
    assert_eq!(rejected.reason.as_deref(), Some("denied"));
    assert!(rejected.grant.is_none());
    let dave = rejected
        .approvers
        .iter()
        .find(|a| a.user == "dave")
        .unwrap();
    assert_eq!(dave.state.as_deref(), Some("cancelled"));
    // dave's late approval is refused: the request is over.
    let late = team.answer(&created, "dave", Decision::Approve).await;
    assert_eq!(code_of(late), ProblemCode::AlreadyDecided);
    assert!(team.device("dave").pending().await.unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_request_can_be_cancelled_and_expires() {
    let team = Team::new().await;
    let cancelled = team.ask(2, 1).await;
    let withdrawn = team
        .app
        .client
        .cancel_access_request(&cancelled.access_request.id)
        .await
        .unwrap();
    assert_eq!(withdrawn.state, "cancelled");
    assert_eq!(withdrawn.reason.as_deref(), Some("cancelled_by_requester"));
    assert!(
        team.device("bob").pending().await.unwrap().is_empty(),
        "prompts withdrawn"
    );
    let again = team
        .app
        .client
        .cancel_access_request(&cancelled.access_request.id)
        .await;
    assert_eq!(code_of(again), ProblemCode::AlreadyDecided);
    // Another application can neither see nor cancel it.
    let other = team.server.app("Other").await;
    let hidden = other
        .client
        .access_request(&cancelled.access_request.id)
        .await;
    assert_eq!(code_of(hidden), ProblemCode::NotFound);
    let hidden = other
        .client
        .cancel_access_request(&cancelled.access_request.id)
        .await;
    assert_eq!(code_of(hidden), ProblemCode::NotFound);

    // One approval of two, then the time is up: expired, not granted, no grant.
    let created = team.ask(2, 1).await;
    team.answer(&created, "bob", Decision::Approve)
        .await
        .unwrap();
    team.server.clock.advance(Duration::seconds(301));
    let expired = team
        .app
        .client
        .access_request(&created.access_request.id)
        .await
        .unwrap();
    assert_eq!(expired.state, "expired");
    assert_eq!(expired.reason.as_deref(), Some("expired"));
    assert!(expired.grant.is_none());
    assert_eq!(expired.approved_by, ["bob"]);
    let carol = expired
        .approvers
        .iter()
        .find(|a| a.user == "carol")
        .unwrap();
    assert_eq!(carol.state.as_deref(), Some("expired"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_approvals_issue_exactly_one_grant_round_after_round() {
    const ROUNDS: usize = 12;
    let team = Team::with(|c| c.fatigue.prompt_budget = 1000).await;
    for round in 0..ROUNDS {
        let created = team.ask(2, 2).await;
        let (b, c, d) = tokio::join!(
            team.answer(&created, "bob", Decision::Approve),
            team.answer(&created, "carol", Decision::Approve),
            team.answer(&created, "dave", Decision::Approve),
        );
        // At least the two that reached the quorum were accepted; a third may come too late.
        let accepted = [b, c, d].into_iter().filter(Result::is_ok).count();
        assert!(accepted >= 2, "round {round}: {accepted} answers accepted");
        let status = team
            .app
            .client
            .access_request(&created.access_request.id)
            .await
            .unwrap();
        assert_eq!(status.state, "granted", "round {round}");
        assert!(status.approved_by.len() >= 2);
    }
    let ended = audit_data(&team.server, "access_request_ended");
    assert_eq!(ended.len(), ROUNDS, "one ending, one grant per request");
    let grants: std::collections::HashSet<String> = ended
        .iter()
        .map(|d| {
            let v: serde_json::Value = serde_json::from_str(d).unwrap();
            v["grant_id"].as_str().unwrap().to_owned()
        })
        .collect();
    assert_eq!(grants.len(), ROUNDS);
}

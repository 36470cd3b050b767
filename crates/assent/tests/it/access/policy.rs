//! The policy's word on access requests and on the relying party's passkey, through the real
//! server: a rule can refuse an access request, take its approvers from named groups (the
//! application may narrow them, never widen them) with a quorum the application cannot lower,
//! and ask for the requester's passkey at the application's own origin, checked by an
//! independent software authenticator (python-fido2). A passkey authentication is shown by
//! one request only, by the same user.

use super::{Team, elevation};
use crate::rp_passkeys::{ORIGIN, authenticator};
use crate::support::code_of;
use assent_core::risk::policy::Policy;
use assent_proto::ProblemCode;
use assent_proto::api::{AccessApprovers, SetRpWebauthn};
use assent_proto::statement::Decision;
use assent_proto::states::ApprovalState;
use assent_testkit::login;
use serde_json::json;
use std::path::Path;

const POLICY: &str = r#"
[[rule]]
name = "nobody is elevated to root"
when = "request.kind == 'access_request' && request.authorization_details.exists(d, d.role == 'root')"
outcome = "deny"
message = "Root is never granted this way."

[[rule]]
name = "elevations need two SREs and the requester's passkey"
when = "request.kind == 'access_request'"
outcome = "push"
approvals = 2
approver_groups = ["sre"]
denials = 1
relying_party_passkey = true

[[rule]]
name = "with the console passkey, a sign-in needs no push"
when = "request.kind == 'login' && request.passkey"
outcome = "allow"
relying_party_passkey = true

[[rule]]
name = "console sign-ins need the passkey"
when = "request.kind == 'login' && request.application == 'Acme Admin'"
outcome = "push"
relying_party_passkey = true

[[rule]]
name = "approvers verify"
when = "true"
outcome = "push"
user_verification = true
"#;

/// The team, with carol and dave in `sre`, the console's WebAuthn identity, alice's passkey at
/// its origin, and [`POLICY`].
async fn console(dir: &Path) -> Team {
    let team = Team::new().await;
    team.server.admin.create_group("sre").await.unwrap();
    for user in ["carol", "dave"] {
        team.server
            .admin
            .add_group_member("sre", user)
            .await
            .unwrap();
    }
    let set = SetRpWebauthn {
        rp_id: "acme.example".into(),
        rp_name: "Acme Admin".into(),
        origin: ORIGIN.into(),
    };
    team.server
        .admin
        .set_app_webauthn(&team.app.id, &set)
        .await
        .unwrap();
    let started = team
        .app
        .client
        .start_passkey_registration("alice")
        .await
        .unwrap();
    let created = authenticator(dir, "register", &started.options, ORIGIN, &[]).unwrap();
    team.app
        .client
        .finish_passkey_registration(&started.ceremony_id, created)
        .await
        .unwrap();
    team.server
        .assent
        .set_policy(Policy::parse(POLICY).unwrap());
    team
}

/// A fresh passkey authentication of alice at the console: its `authentication_id`.
async fn passkey(team: &Team, dir: &Path) -> String {
    let started = team
        .app
        .client
        .start_passkey_authentication("alice")
        .await
        .unwrap();
    let answer = authenticator(dir, "authenticate", &started.options, ORIGIN, &[]).unwrap();
    let verified = team
        .app
        .client
        .finish_passkey_authentication(&started.ceremony_id, answer)
        .await
        .unwrap();
    assert!(verified.authentication_expires_at > 0);
    verified.authentication_id
}

async fn nobody_was_asked(team: &Team) {
    for user in ["bob", "carol", "dave"] {
        assert!(
            team.device(user).pending().await.unwrap().is_empty(),
            "{user} was asked"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_policy_takes_the_approvers_from_its_groups_and_asks_for_the_passkey() {
    let dir = tempfile::tempdir().unwrap();
    let team = console(dir.path()).await;
    let client = &team.app.client;

    // Without the passkey: refused, nobody asked.
    let mut asked = elevation(1, 1);
    asked.approvers = AccessApprovers::default();
    let refused = client.create_access_request(&asked).await;
    assert_eq!(code_of(refused), ProblemCode::PasskeyRequired);
    nobody_was_asked(&team).await;

    // Root: refused by the policy whatever else.
    let mut root = asked.clone();
    root.authorization_details = vec![json!({"type": "role_elevation", "role": "root"})];
    root.passkey_authentication = Some(passkey(&team, dir.path()).await);
    assert_eq!(
        code_of(client.create_access_request(&root).await),
        ProblemCode::DeniedByPolicy
    );

    // Approvers outside the policy's groups: refused, by group and by name.
    let mut wider = elevation(1, 1);
    wider.passkey_authentication = Some(passkey(&team, dir.path()).await);
    assert_eq!(
        code_of(client.create_access_request(&wider).await),
        ProblemCode::InvalidRequest,
        "group ops is not the policy's"
    );
    wider.approvers = AccessApprovers {
        users: vec!["bob".into()],
        groups: Vec::new(),
    };
    wider.passkey_authentication = Some(passkey(&team, dir.path()).await);
    assert_eq!(
        code_of(client.create_access_request(&wider).await),
        ProblemCode::InvalidRequest,
        "bob is in no group of the policy's"
    );
    nobody_was_asked(&team).await;

    // With a fresh passkey and no approvers named: the policy's group, and its quorum of two
    // although the application asked for one.
    let shown = passkey(&team, dir.path()).await;
    asked.passkey_authentication = Some(shown.clone());
    let created = client.create_access_request(&asked).await.unwrap();
    let request = &created.access_request;
    let names: Vec<&str> = request.approvers.iter().map(|a| a.user.as_str()).collect();
    assert_eq!(names, ["carol", "dave"]);
    assert_eq!(request.approvals_required, 2);
    assert_eq!(
        request.policy_rule.as_deref(),
        Some("elevations need two SREs and the requester's passkey")
    );
    assert!(team.device("bob").pending().await.unwrap().is_empty());
    team.answer(&created, "carol", Decision::Approve)
        .await
        .unwrap();
    let halfway = client.access_request(&request.id).await.unwrap();
    assert_eq!(halfway.state, "pending", "one approval of two");
    team.answer(&created, "dave", Decision::Approve)
        .await
        .unwrap();
    let granted = client.access_request(&request.id).await.unwrap();
    assert_eq!(granted.state, "granted");

    // The passkey authentication was used by that request: never again.
    let mut again = elevation(1, 1);
    again.approvers = AccessApprovers::default();
    again.passkey_authentication = Some(shown);
    assert_eq!(
        code_of(client.create_access_request(&again).await),
        ProblemCode::PasskeyRefused
    );
    again.passkey_authentication = Some("no-such-authentication".into());
    assert_eq!(
        code_of(client.create_access_request(&again).await),
        ProblemCode::PasskeyRefused
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sign_in_can_need_the_passkey_and_be_allowed_by_it() {
    let dir = tempfile::tempdir().unwrap();
    let team = console(dir.path()).await;
    let client = &team.app.client;

    // A console sign-in without the passkey is refused, and so is someone else's passkey.
    let refused = client.create_approval(&login("alice")).await;
    assert_eq!(code_of(refused), ProblemCode::PasskeyRequired);
    let mut bobs = login("bob");
    bobs.passkey_authentication = Some(passkey(&team, dir.path()).await);
    assert_eq!(
        code_of(client.create_approval(&bobs).await),
        ProblemCode::PasskeyRefused,
        "alice's passkey does not sign bob in"
    );

    // With alice's passkey, the policy allows it without a push.
    let mut with_passkey = login("alice");
    with_passkey.passkey_authentication = Some(passkey(&team, dir.path()).await);
    let created = client.create_approval(&with_passkey).await.unwrap();
    assert_eq!(created.state, ApprovalState::Approved);
    assert_eq!(
        created.policy_rule,
        "with the console passkey, a sign-in needs no push"
    );
    assert!(team.device("alice").pending().await.unwrap().is_empty());
}

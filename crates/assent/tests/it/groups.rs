//! Groups of users: managed by an admin (API and CLI), seen by policy conditions as
//! `user.groups`, and limiting an application to the members of its scope; outside it a user is
//! to the application exactly as one who does not exist.

use crate::support::{assent_bin, audit_data, run};
use assent_client::ClientError;
use assent_proto::ProblemCode;
use assent_testkit::{TestServer, login};

fn refused_as_unknown(e: ClientError) -> String {
    assert_eq!(e.problem_code(), Some(ProblemCode::UnknownUser), "{e}");
    e.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_kept_by_the_admin_and_seen_by_policy() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(
        &file,
        "[[rule]]\nname = \"contractors are refused\"\nwhen = \"'contractors' in user.groups\"\noutcome = \"deny\"\nmessage = \"Contractors sign in elsewhere.\"\n\n[[rule]]\nname = \"admins verify\"\nwhen = \"'admins' in user.groups\"\noutcome = \"push\"\nuser_verification = true\n\n[[rule]]\nname = \"rest\"\nwhen = \"true\"\noutcome = \"push\"\n",
    )
    .unwrap();
    let path = file.display().to_string();
    let server = TestServer::spawn_with(move |c| c.policy.file = path).await;
    let app = server.app("Acme").await;
    server.user_with_device("alice").await;
    server.user_with_device("bob").await;

    let admin = |args: &[&str]| {
        let mut command = assent_bin();
        command
            .args(["admin", "--server", &server.base])
            .args(args)
            .env("ASSENT_ADMIN_KEY", &server.admin_key);
        run(command)
    };
    assert_eq!(admin(&["group", "create", "admins"]).0, 0);
    assert_eq!(admin(&["group", "create", "contractors"]).0, 0);
    let (code, _, err) = admin(&["group", "create", "admins"]);
    assert_ne!(code, 0, "a second group of one name");
    assert!(err.contains("exists"), "{err}");
    let (code, _, err) = admin(&["group", "create", "Not A Name"]);
    assert_ne!(code, 0);
    assert!(err.contains("lower-case"), "{err}");
    assert_eq!(admin(&["group", "add", "admins", "alice"]).0, 0);
    // Adding again changes nothing and writes nothing.
    assert_eq!(admin(&["group", "add", "admins", "alice"]).0, 0);
    assert_eq!(audit_data(&server, "group_member_added").len(), 1);
    let (code, _, err) = admin(&["group", "add", "nobody-here", "alice"]);
    assert_ne!(code, 0);
    assert!(err.contains("no group"), "{err}");
    let (code, _, _) = admin(&["group", "add", "admins", "carol"]);
    assert_ne!(code, 0, "an unknown user");

    let (code, out, _) = admin(&["group", "list", "--json"]);
    assert_eq!(code, 0);
    let list: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(list["groups"][0]["name"], "admins");
    assert_eq!(list["groups"][0]["members"], serde_json::json!(["alice"]));
    assert_eq!(list["groups"][1]["members"], serde_json::json!([]));

    // Policy sees the groups: alice (admins) must verify, bob is asked as usual.
    let alice = app.client.create_approval(&login("alice")).await.unwrap();
    assert!(alice.user_verification, "admins verify");
    let bob = app.client.create_approval(&login("bob")).await.unwrap();
    assert!(!bob.user_verification);

    // bob joins the contractors: refused by the policy's rule, until he leaves.
    assert_eq!(admin(&["group", "add", "contractors", "bob"]).0, 0);
    let refused = app.client.create_approval(&login("bob")).await.unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::DeniedByPolicy));
    assert!(
        refused.to_string().contains("contractors are refused"),
        "{refused}"
    );
    assert_eq!(admin(&["group", "remove", "contractors", "bob"]).0, 0);
    assert_eq!(admin(&["group", "remove", "contractors", "bob"]).0, 0);
    assert_eq!(audit_data(&server, "group_member_removed").len(), 1);
    app.client.create_approval(&login("bob")).await.unwrap();
    server.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_scoped_application_reaches_only_its_groups_members() {
    let server = TestServer::spawn().await;
    let payroll = server.app("Payroll").await;
    let other = server.app("Wiki").await;
    server.user_with_device("alice").await;
    server.user_with_device("bob").await;
    server.admin.create_group("finance").await.unwrap();
    server
        .admin
        .add_group_member("finance", "alice")
        .await
        .unwrap();
    let scope = server
        .admin
        .set_app_scope(&payroll.id, vec!["finance".into(), "finance".into()])
        .await
        .unwrap();
    assert_eq!(scope.groups, vec!["finance".to_owned()]);
    assert_eq!(audit_data(&server, "app_scope_set").len(), 1);

    // alice is a member: asked as before.
    payroll
        .client
        .create_approval(&login("alice"))
        .await
        .unwrap();
    // bob exists but is outside the scope: refused exactly as a user who does not exist, for
    // a request, an enrollment, his factors and a reported event.
    let outside = refused_as_unknown(
        payroll
            .client
            .create_approval(&login("bob"))
            .await
            .unwrap_err(),
    );
    let missing = refused_as_unknown(
        payroll
            .client
            .create_approval(&login("mallory"))
            .await
            .unwrap_err(),
    );
    assert_eq!(
        outside.replace("bob", "NAME"),
        missing.replace("mallory", "NAME"),
        "no difference between outside the scope and unknown"
    );
    refused_as_unknown(payroll.client.create_enrollment("bob").await.unwrap_err());
    refused_as_unknown(payroll.client.factors("bob").await.unwrap_err());
    refused_as_unknown(
        payroll
            .client
            .report_event("bob", "password_changed", None)
            .await
            .unwrap_err(),
    );
    // Nothing reached bob's device.
    assert!(audit_data(&server, "approval_created").len() == 1);

    // An application without a scope still reaches everyone; an unknown group is refused.
    other.client.create_approval(&login("bob")).await.unwrap();
    let unknown = server
        .admin
        .set_app_scope(&payroll.id, vec!["no-such-group".into()])
        .await
        .unwrap_err();
    assert_eq!(unknown.problem_code(), Some(ProblemCode::NotFound));
    // An empty scope: any user again.
    let cleared = server
        .admin
        .set_app_scope(&payroll.id, Vec::new())
        .await
        .unwrap();
    assert!(cleared.groups.is_empty());
    payroll.client.create_approval(&login("bob")).await.unwrap();
    server.stop().await;
}

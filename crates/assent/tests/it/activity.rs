//! The account's recent activity, through the real server: the requests that ended, newest
//! first, with their context and the device that answered, and the devices; another user's
//! requests never; a report of an approval the user did not make pauses push, taints its
//! network and alerts the admins; a denial cannot be reported; and the command-line
//! authenticator shows the same and reports from it.

use crate::support::{assent_bin, audit_data, code_of, run};
use assent_proto::ProblemCode;
use assent_proto::api::{ApprovalState, RequestContext};
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, login};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_activity_lists_what_ended_and_an_approval_can_be_reported_from_it() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme Bank").await;
    let alice = server.user_with_device("alice").await;
    let bob = server.user_with_device("bob").await;
    let from = |ip: &str| {
        let mut request = login("alice");
        request.binding_message = Some(format!("Sign in from {ip}"));
        request.context = Some(RequestContext {
            ip: Some(ip.into()),
            ..RequestContext::default()
        });
        request
    };
    let mut ids = Vec::new();
    for (ip, decision) in [
        ("198.51.100.7", Decision::Approve),
        ("198.51.100.8", Decision::Deny),
        ("203.0.113.9", Decision::Approve),
    ] {
        let created = app.client.create_approval(&from(ip)).await.unwrap();
        alice
            .decide(&created.id, decision, created.display_code.as_deref())
            .await
            .unwrap();
        ids.push(created.id);
        server.clock.advance(time::Duration::seconds(1));
    }
    let pending = app.client.create_approval(&login("alice")).await.unwrap();
    let bobs = app.client.create_approval(&login("bob")).await.unwrap();
    bob.decide(&bobs.id, Decision::Approve, bobs.display_code.as_deref())
        .await
        .unwrap();

    let activity = alice.activity().await.unwrap();
    let listed: Vec<&str> = activity.requests.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        listed,
        [ids[2].as_str(), ids[1].as_str(), ids[0].as_str()],
        "what ended, newest first: not the pending one, never bob's"
    );
    let last = &activity.requests[0];
    assert_eq!(last.state, ApprovalState::Approved);
    assert_eq!(last.application.name, "Acme Bank");
    assert_eq!(
        last.binding_message.as_deref(),
        Some("Sign in from 203.0.113.9")
    );
    assert_eq!(last.context.ip.as_deref(), Some("203.0.113.9"));
    assert_eq!(last.answered_by.as_deref(), Some("phone"));
    assert_eq!(
        activity.requests[1].reason.as_deref(),
        Some("denied_by_user")
    );
    assert_eq!(activity.devices.len(), 1);
    assert!(!listed.contains(&pending.id.as_str()));

    // A denial let nothing through; bob's request is not alice's to report.
    let denied = alice.report_activity(&ids[1]).await;
    assert_eq!(code_of(denied), ProblemCode::InvalidRequest);
    let others = alice.report_activity(&bobs.id).await;
    assert_eq!(code_of(others), ProblemCode::NotFound);

    // "I did not approve that": push is paused, the network is tainted, the admins alerted.
    let reported = alice.report_activity(&ids[2]).await.unwrap();
    assert!(!reported.push_suspended_until.is_empty());
    let refused = app.client.create_approval(&login("alice")).await;
    assert_eq!(code_of(refused), ProblemCode::PushSuspended);
    let again = alice.report_activity(&ids[2]).await;
    assert_eq!(code_of(again), ProblemCode::AlreadyDecided, "reported once");
    let alerts = audit_data(&server, "admin_alert");
    assert!(
        alerts
            .iter()
            .any(|a| a.contains("reported_from_activity") && a.contains(ids[2].as_str())),
        "{alerts:?}"
    );
    // The reported network now weighs on bob's next request from it.
    let mut from_there = login("bob");
    from_there.context = Some(RequestContext {
        ip: Some("203.0.113.50".into()),
        ..RequestContext::default()
    });
    let created = app.client.create_approval(&from_there).await.unwrap();
    assert!(
        created
            .risk
            .reasons
            .iter()
            .any(|r| r.signal == "reported_network"),
        "{:?}",
        created.risk
    );

    // The command-line authenticator shows the same, and reports from it.
    let profile_dir = tempfile::tempdir().unwrap();
    alice.save(profile_dir.path()).unwrap();
    let profile = profile_dir.path().to_owned();
    let mut cmd = assent_bin();
    cmd.args(["device", "activity", "--profile"]).arg(&profile);
    let (status, out, err) = run(cmd);
    assert_eq!(status, 0, "{err}");
    assert!(
        out.contains("approved  login at Acme Bank: Sign in from 203.0.113.9"),
        "{out}"
    );
    assert!(out.contains("from 198.51.100.8"), "{out}");
    assert!(out.contains(&ids[0]), "{out}");
    let mut cmd = assent_bin();
    cmd.args(["device", "report", &ids[0], "--profile"])
        .arg(&profile);
    let (status, out, err) = run(cmd);
    assert_eq!(status, 0, "{err}");
    assert!(
        out.contains("Push requests to your account are paused"),
        "{out}"
    );
}

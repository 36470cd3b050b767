//! Break-glass: a grant without the approvers, only with the sealed break-glass code (set by an
//! admin, shown once, spent by its first use); short; every admin told on every channel (their
//! devices, the alert webhook, e-mail); unreviewed until an admin records a review.

use super::Team;
use super::grants::{start_receiver, verify_with_pyjwt, wait_for_event};
use crate::native_push::{ADMINS, Relay, subject};
use crate::support::{assent_bin, audit_data, code_of, run};
use assent_proto::ProblemCode;
use assent_proto::statement::Decision;

const REASON: &str = "EU cluster down at 03:00, no approver answers";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn break_glass_needs_the_sealed_code_alerts_every_admin_and_waits_for_a_review() {
    let relay = Relay::start();
    let team = Team::with(|c| {
        relay.configure(c);
        c.push.poll_ms = 50;
        c.push.initial_backoff_ms = 100;
        c.webhooks.initial_backoff_ms = 50;
        c.access.break_glass_grant_secs = 300;
    })
    .await;
    let erin = team.server.user_with_device("erin").await;
    team.server.admin.create_group("admins").await.unwrap();
    team.server
        .admin
        .add_group_member("admins", "erin")
        .await
        .unwrap();
    let (url, seen) = start_receiver().await;
    team.server
        .admin
        .set_webhook(&team.app.id, &url, &["alert", "access_request.final"])
        .await
        .unwrap();
    let created = team.ask(2, 1).await;
    let id = created.access_request.id.clone();
    let client = &team.app.client;

    // No code is set yet: refused, audited, and the request stays pending.
    let none_set = client
        .break_glass(&id, REASON, "abcd-efgh-jkmn-pqrs-tvwx-yz01")
        .await;
    assert_eq!(code_of(none_set), ProblemCode::Forbidden);
    let code = team.server.admin.set_break_glass_code().await.unwrap();
    assert_eq!(code.len(), 29, "{code}");
    // A wrong code is refused the same way; a blank reason is invalid.
    let wrong = client
        .break_glass(&id, REASON, "0000-0000-0000-0000-0000-0000")
        .await;
    assert_eq!(code_of(wrong), ProblemCode::Forbidden);
    let blank = client.break_glass(&id, " ", &code).await;
    assert_eq!(code_of(blank), ProblemCode::InvalidRequest);
    assert_eq!(audit_data(&team.server, "break_glass_refused").len(), 2);
    assert_eq!(client.access_request(&id).await.unwrap().state, "pending");

    // The right code, typed in upper case: granted at once, for 300 s though 900 were asked.
    let granted = client
        .break_glass(&id, REASON, &code.to_uppercase())
        .await
        .unwrap();
    assert_eq!(granted.state, "granted");
    assert_eq!(granted.reason.as_deref(), Some("break_glass"));
    assert!(granted.approved_by.is_empty());
    let glass = granted.break_glass.clone().expect("marked as break-glass");
    assert_eq!(glass.reason, REASON);
    assert_eq!(glass.review, "unreviewed");
    let grant = granted.grant.clone().unwrap();
    let claims = verify_with_pyjwt(&team, grant.token.as_deref().unwrap())
        .await
        .expect("PyJWT verifies it");
    assert_eq!(claims["break_glass"], REASON);
    assert_eq!(claims["approvers"], serde_json::json!([]));
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(),
        300
    );
    // The approvers' prompts are withdrawn; a late approval changes nothing.
    assert!(team.device("bob").pending().await.unwrap().is_empty());
    let late = team.answer(&created, "bob", Decision::Approve).await;
    assert_eq!(code_of(late), ProblemCode::AlreadyDecided);

    // The code is spent: it opens nothing more.
    let second = team.ask(2, 1).await;
    let spent = client
        .break_glass(&second.access_request.id, REASON, &code)
        .await;
    assert_eq!(code_of(spent), ProblemCode::Forbidden);

    // Every admin is told, on every channel: erin's device, the alert webhook, e-mail.
    let alerts = erin.alerts().await.unwrap();
    assert!(
        alerts
            .iter()
            .any(|a| a.kind == "break_glass" && a.message.contains(REASON)),
        "{alerts:?}"
    );
    let alert = wait_for_event(&seen, "alert").await;
    assert_eq!(alert["data"]["kind"], "admin_alert");
    let mut detectors = Vec::new();
    for _ in 0..100 {
        detectors = seen
            .lock()
            .unwrap()
            .iter()
            .filter(|e| e["type"] == "alert")
            .map(|e| {
                e["data"]["details"]["detector"]
                    .as_str()
                    .unwrap_or("")
                    .to_owned()
            })
            .collect();
        if detectors.iter().filter(|d| *d == "break_glass").count() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    // Two refusals, the grant, and the spent code's refusal.
    assert_eq!(detectors.iter().filter(|d| *d == "break_glass").count(), 4);
    let final_event = wait_for_event(&seen, "access_request.final").await;
    assert_eq!(final_event["data"]["reason"], "break_glass");
    let mails = relay
        .to_when(ADMINS, |m| {
            m.iter()
                .any(|x| subject(x) == "Assent admin alert: break-glass by alice")
        })
        .await;
    assert!(!mails.is_empty());
    let raw = serde_json::to_string(&mails).unwrap();
    assert!(!raw.contains(&code), "the code is in no e-mail");

    // The audit marks it for review; it stays unreviewed until an admin records one.
    let ended = audit_data(&team.server, "access_request_ended");
    let row: serde_json::Value = serde_json::from_str(ended.last().unwrap()).unwrap();
    assert_eq!(row["review_required"], true);
    assert_eq!(row["break_glass_reason"], REASON);
    let admin = &team.server.admin;
    let unreviewed = admin.unreviewed_break_glass().await.unwrap();
    assert_eq!(unreviewed.access_requests.len(), 1);
    assert_eq!(unreviewed.access_requests[0].id, id);
    // The same through the CLI.
    let cli = |args: &[&str]| {
        let mut command = assent_bin();
        command
            .args(["admin", "--server", &team.server.base, "access"])
            .args(args)
            .env("ASSENT_ADMIN_KEY", &team.server.admin_key);
        run(command)
    };
    let (status, out, err) = cli(&["unreviewed"]);
    assert_eq!(status, 0, "{err}");
    assert!(
        out.contains(&id) && out.contains("break-glass, unreviewed"),
        "{out}"
    );
    let (status, out, err) = cli(&[
        "review",
        &id,
        "--note",
        "Called alice: the outage was real (INC-4712).",
    ]);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains("break-glass, reviewed"), "{out}");
    let reviewed = admin.access_request(&id).await.unwrap();
    let glass = reviewed.break_glass.unwrap();
    assert_eq!(glass.review, "reviewed");
    assert!(glass.reviewed_by.unwrap().starts_with("admin:"));
    assert!(
        admin
            .unreviewed_break_glass()
            .await
            .unwrap()
            .access_requests
            .is_empty()
    );
    assert_eq!(audit_data(&team.server, "break_glass_reviewed").len(), 1);
    let (_, out, _) = cli(&["unreviewed"]);
    assert!(out.contains("No break-glass grant waits"), "{out}");
    let again = admin.review_break_glass(&id, "again").await;
    assert_eq!(code_of(again), ProblemCode::AlreadyDecided);
    // Only a break-glass grant is reviewed.
    let ordinary = admin
        .review_break_glass(&second.access_request.id, "nothing to review")
        .await;
    assert_eq!(code_of(ordinary), ProblemCode::InvalidRequest);
    // The approvers' path is untouched: the second request is still theirs to decide.
    team.answer(&second, "carol", Decision::Approve)
        .await
        .unwrap();
    team.answer(&second, "dave", Decision::Approve)
        .await
        .unwrap();
    let quorum = client
        .access_request(&second.access_request.id)
        .await
        .unwrap();
    assert_eq!(quorum.state, "granted");
    assert!(quorum.break_glass.is_none());
}

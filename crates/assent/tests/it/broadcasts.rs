//! Incident broadcasts through the real server: a broadcast to a group reaches its members
//! (their alerts and open streams), never anyone else; an acknowledgement is a statement signed
//! by the recipient's device and accepted once; statements made for another broadcast, another
//! user, another message, by another device's key or of another type are refused; the admin
//! sees who acknowledged, when and on which device; the reminder sweep reminds only those who
//! have not, once per interval, also when two nodes on one PostgreSQL database sweep at once; a
//! broadcast to everyone reaches every user; the command-line authenticator lists and
//! acknowledges, and the admin command line sends and shows.

use crate::support::{assent_bin, audit_data, code_of, run};
use assent_client::DeviceEvent;
use assent_proto::ProblemCode;
use assent_proto::api::CreateBroadcast;
use assent_proto::statement::{
    BROADCAST_ACK_TYP, BroadcastAckStatement, DECISION_TYP, broadcast_message_hash,
};
use assent_testkit::TestServer;
use std::time::Duration;

const MESSAGE: &str = "We had a breach.\nChange your password and review your recent activity.";

/// Now, as the server's clock (still the devices' time here) says.
fn iat(server: &TestServer) -> i64 {
    assent_core::Clock::now(server.clock.as_ref()).unix_timestamp()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_broadcast_is_acknowledged_once_by_signed_statement_and_reminded() {
    let server = TestServer::spawn().await;
    let alice = server.user_with_device("alice").await;
    let bob = server.user_with_device("bob").await;
    let carol = server.user_with_device("carol").await;
    server.admin.create_group("staff").await.unwrap();
    for member in ["alice", "bob"] {
        server
            .admin
            .add_group_member("staff", member)
            .await
            .unwrap();
    }
    let mut alice_events = alice.stream().await.unwrap();

    let created = server
        .admin
        .create_broadcast(&CreateBroadcast {
            message: MESSAGE.into(),
            group: Some("staff".into()),
            everyone: false,
            reminder_interval_seconds: Some(600),
        })
        .await
        .unwrap();
    assert_eq!(created.recipients, 2);
    let id = created.id.clone();

    // The open authenticator is told at once.
    let announced = tokio::time::timeout(Duration::from_secs(10), async {
        while let Some(event) = alice_events.recv().await {
            if event == DeviceEvent::Broadcast(id.clone()) {
                return true;
            }
        }
        false
    })
    .await;
    assert_eq!(announced, Ok(true));
    // Alerts reach every recipient (written in the background, after the answer), and only
    // them.
    alerted("alice", &alice).await;
    alerted("bob", &bob).await;
    assert!(
        !carol
            .alerts()
            .await
            .unwrap()
            .iter()
            .any(|a| a.kind == "broadcast")
    );

    let list = alice.broadcasts().await.unwrap();
    assert_eq!(list.pending.len(), 1);
    let shown = &list.pending[0];
    assert_eq!(
        (shown.id.as_str(), shown.message.as_str()),
        (id.as_str(), MESSAGE)
    );
    assert_eq!(shown.message_hash, broadcast_message_hash(MESSAGE));
    assert_eq!(shown.user, "alice");
    assert!(list.acknowledged.is_empty());

    // Carol is not a recipient: she neither sees nor acknowledges it.
    assert!(carol.broadcasts().await.unwrap().pending.is_empty());
    let hers = carol
        .sign_broadcast_statement(&BroadcastAckStatement {
            broadcast_id: id.clone(),
            user: "carol".into(),
            message_hash: broadcast_message_hash(MESSAGE),
            iat: iat(&server),
        })
        .unwrap();
    assert_eq!(
        code_of(carol.submit_broadcast_ack(&id, hers).await),
        ProblemCode::NotFound
    );

    // Statements that are not alice's acknowledgement of this broadcast are refused.
    let other = server
        .admin
        .create_broadcast(&CreateBroadcast {
            message: "Another notice.".into(),
            everyone: true,
            ..CreateBroadcast::default()
        })
        .await
        .unwrap();
    assert_eq!(other.recipients, 3, "everyone");
    let good = BroadcastAckStatement {
        broadcast_id: id.clone(),
        user: "alice".into(),
        message_hash: broadcast_message_hash(MESSAGE),
        iat: iat(&server),
    };
    let refused = |statement: BroadcastAckStatement| {
        let signed = alice.sign_broadcast_statement(&statement).unwrap();
        alice.submit_broadcast_ack(&id, signed)
    };
    let for_other = BroadcastAckStatement {
        broadcast_id: other.id.clone(),
        ..good.clone()
    };
    assert_eq!(
        code_of(refused(for_other).await),
        ProblemCode::StatementMismatch
    );
    let for_bob = BroadcastAckStatement {
        user: "bob".into(),
        ..good.clone()
    };
    assert_eq!(
        code_of(refused(for_bob).await),
        ProblemCode::StatementMismatch
    );
    let wrong_hash = BroadcastAckStatement {
        message_hash: broadcast_message_hash("We had a breach."),
        ..good.clone()
    };
    assert_eq!(
        code_of(refused(wrong_hash).await),
        ProblemCode::DetailsMismatch
    );
    let stale = BroadcastAckStatement {
        iat: iat(&server) - 3_600,
        ..good.clone()
    };
    assert_eq!(code_of(refused(stale).await), ProblemCode::StaleStatement);
    // Signed by bob's key: under bob's device id, or claiming alice's.
    let by_bob = bob.sign_broadcast_statement(&good).unwrap();
    assert_eq!(
        code_of(alice.submit_broadcast_ack(&id, by_bob).await),
        ProblemCode::InvalidSignature
    );
    let forged = bob
        .key()
        .sign(
            BROADCAST_ACK_TYP,
            Some(&alice.profile().device_id),
            false,
            &good,
        )
        .unwrap();
    assert_eq!(
        code_of(alice.submit_broadcast_ack(&id, forged).await),
        ProblemCode::InvalidSignature
    );
    // A statement of another type (a decision's) is not an acknowledgement.
    let decision_typed = alice
        .key()
        .sign(DECISION_TYP, Some(&alice.profile().device_id), false, &good)
        .unwrap();
    assert_eq!(
        code_of(alice.submit_broadcast_ack(&id, decision_typed).await),
        ProblemCode::InvalidStatement
    );
    // ... and an acknowledgement is not a decision.
    let ack_as_decision = alice.sign_broadcast_statement(&good).unwrap();
    let app = server.app("Acme").await;
    let request = app
        .client
        .create_approval(&assent_testkit::login("alice"))
        .await
        .unwrap();
    assert_eq!(
        code_of(alice.submit(&request.id, ack_as_decision).await),
        ProblemCode::InvalidStatement
    );
    assert!(audit_data(&server, "broadcast_acknowledged").is_empty());

    // Alice acknowledges through the command-line authenticator.
    let profile_dir = tempfile::tempdir().unwrap();
    alice.save(profile_dir.path()).unwrap();
    let mut cmd = assent_bin();
    cmd.args(["device", "broadcasts", "--profile"])
        .arg(profile_dir.path());
    let (status, out, err) = run(cmd);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains("TO ACKNOWLEDGE") && out.contains(&id), "{out}");
    assert!(out.contains("    Change your password"), "{out}");
    let mut cmd = assent_bin();
    cmd.args(["device", "ack", &id, "--profile"])
        .arg(profile_dir.path());
    let (status, out, err) = run(cmd);
    assert_eq!(status, 0, "{err}");
    assert!(
        out.contains("We had a breach."),
        "the message is shown: {out}"
    );
    assert!(out.contains("Acknowledged at"), "{out}");

    // Once: a second acknowledgement is a conflict, through the client and the command line.
    let again = alice.sign_broadcast_statement(&good).unwrap();
    assert_eq!(
        code_of(alice.submit_broadcast_ack(&id, again).await),
        ProblemCode::AlreadyDecided
    );
    let mut cmd = assent_bin();
    cmd.args(["device", "ack", &id, "--profile"])
        .arg(profile_dir.path());
    let (status, _, err) = run(cmd);
    assert_ne!(status, 0);
    assert!(err.contains("already acknowledged"), "{err}");
    let list = alice.broadcasts().await.unwrap();
    assert_eq!(list.pending.len(), 1, "the broadcast to everyone waits");
    assert_eq!(list.acknowledged.len(), 1);
    assert!(list.acknowledged[0].acknowledged_at.is_some());

    // The admin sees who acknowledged, when and on which device, with the signed statement.
    let detail = server.admin.broadcast(&id).await.unwrap();
    assert_eq!(
        (detail.broadcast.recipients, detail.broadcast.acknowledged),
        (2, 1)
    );
    assert_eq!(detail.broadcast.group.as_deref(), Some("staff"));
    assert!(detail.broadcast.created_by.starts_with("admin:"));
    let users: Vec<_> = detail.recipients.iter().map(|r| r.user.as_str()).collect();
    assert_eq!(users, ["alice", "bob"]);
    let (a, b) = (&detail.recipients[0], &detail.recipients[1]);
    assert!(a.acknowledged && a.acknowledged_at.is_some());
    assert_eq!(
        a.device_id.as_deref(),
        Some(alice.profile().device_id.as_str())
    );
    assert_eq!(a.device_name.as_deref(), Some("phone"));
    let statement = a.statement.as_deref().unwrap();
    let claims: BroadcastAckStatement = assent_proto::jose::Parsed::parse(statement)
        .unwrap()
        .verify(alice.key().jwk())
        .unwrap();
    assert_eq!(claims.broadcast_id, id);
    assert!(!b.acknowledged && b.acknowledged_at.is_none() && b.device_id.is_none());
    let list = server.admin.broadcasts().await.unwrap();
    assert_eq!(list.broadcasts[0].id, other.id, "newest first");
    assert_eq!(list.broadcasts[1].acknowledged, 1);
    assert_eq!(audit_data(&server, "broadcast_created").len(), 2);
    let acked = audit_data(&server, "broadcast_acknowledged");
    assert_eq!(acked.len(), 1);
    assert!(acked[0].contains(&alice.profile().device_id), "{acked:?}");

    // Past the interval, the sweep reminds bob, not alice; once per interval.
    server.clock.advance(time::Duration::minutes(11));
    server.assent.remind_due_broadcasts().await.unwrap();
    assert_eq!(
        server.assent.remind_due_broadcasts().await.unwrap(),
        0,
        "once"
    );
    let reminded = audit_data(&server, "broadcast_reminded");
    assert_eq!(reminded.len(), 1, "{reminded:?}");
    assert!(reminded[0].contains(&id), "{reminded:?}");
    let detail = server.admin.broadcast(&id).await.unwrap();
    assert_eq!(
        (
            detail.recipients[0].reminders,
            detail.recipients[1].reminders
        ),
        (0, 1)
    );
    // Back to the devices' time, so their proofs are fresh.
    server.clock.advance(time::Duration::minutes(-11));
    let reminders = |alerts: Vec<assent_proto::api::AlertView>| {
        alerts
            .into_iter()
            .filter(|a| a.kind == "broadcast_reminder")
            .count()
    };
    assert_eq!(reminders(bob.alerts().await.unwrap()), 1);
    assert_eq!(reminders(alice.alerts().await.unwrap()), 0);

    // A revoked device cannot acknowledge.
    server
        .admin
        .revoke_device(&bob.profile().device_id)
        .await
        .unwrap();
    let late = BroadcastAckStatement {
        user: "bob".into(),
        ..good.clone()
    };
    let late = bob.sign_broadcast_statement(&late).unwrap();
    assert_eq!(
        code_of(bob.submit_broadcast_ack(&id, late).await),
        ProblemCode::DeviceRevoked
    );

    // The broadcast to everyone: carol acknowledges it through the client.
    let done = carol.acknowledge_broadcast(&other.id).await.unwrap();
    assert_eq!(done.id, other.id);
    let detail = server.admin.broadcast(&other.id).await.unwrap();
    assert_eq!(
        (detail.broadcast.recipients, detail.broadcast.acknowledged),
        (3, 1)
    );
    assert_eq!(detail.broadcast.group, None);
    assert_eq!(
        detail.broadcast.reminder_interval_seconds,
        4 * 3600,
        "default"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broadcasts_are_bounded_and_the_admin_command_line_sends_and_shows() {
    let server = TestServer::spawn().await;
    server.user_with_device("alice").await;
    let send = async |message: &str, group: Option<&str>, interval: Option<u32>| {
        let body = CreateBroadcast {
            message: message.into(),
            group: group.map(str::to_owned),
            everyone: group.is_none(),
            reminder_interval_seconds: interval,
        };
        server.admin.create_broadcast(&body).await
    };
    for (message, group, interval, code) in [
        ("", None, None, ProblemCode::InvalidRequest),
        (" \n ", None, None, ProblemCode::InvalidRequest),
        ("bell\u{7}", None, None, ProblemCode::InvalidRequest),
        ("ok", None, Some(299), ProblemCode::InvalidRequest),
        ("ok", None, Some(604_801), ProblemCode::InvalidRequest),
        ("ok", Some("nobody"), None, ProblemCode::NotFound),
        (
            "pay \u{202E}001$\u{202C}",
            None,
            None,
            ProblemCode::InvalidRequest,
        ),
        ("zero\u{200B}width", None, None, ProblemCode::InvalidRequest),
    ] {
        assert_eq!(
            code_of(send(message, group, interval).await),
            code,
            "{message:?}"
        );
    }
    // The audience is said explicitly: neither, or both, is refused.
    let mut neither = CreateBroadcast {
        message: "ok".into(),
        ..CreateBroadcast::default()
    };
    assert_eq!(
        code_of(server.admin.create_broadcast(&neither).await),
        ProblemCode::InvalidRequest
    );
    neither.group = Some("staff".into());
    neither.everyone = true;
    assert_eq!(
        code_of(server.admin.create_broadcast(&neither).await),
        ProblemCode::InvalidRequest
    );
    let long = "x".repeat(2001);
    assert_eq!(
        code_of(send(&long, None, None).await),
        ProblemCode::InvalidRequest
    );
    assert_eq!(
        code_of(server.admin.broadcast("not-an-id").await),
        ProblemCode::NotFound
    );
    assert!(audit_data(&server, "broadcast_created").is_empty());

    let admin = |args: &[&str]| {
        let mut cmd = assent_bin();
        cmd.env("ASSENT_ADMIN_KEY", &server.admin_key)
            .args(["admin", "--server", &server.base])
            .args(args);
        run(cmd)
    };
    let (status, out, err) = admin(&[
        "broadcast",
        "send",
        "Rotate your keys.",
        "--everyone",
        "--reminder-interval",
        "900",
    ]);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains("sent to 1 recipient"), "{out}");
    let (status, out, err) = admin(&["broadcast", "list"]);
    assert_eq!(status, 0, "{err}");
    assert!(
        out.contains("0/1 acknowledged  to everyone  Rotate your keys."),
        "{out}"
    );
    let id = server.admin.broadcasts().await.unwrap().broadcasts[0]
        .id
        .clone();
    let (status, out, err) = admin(&["broadcast", "show", &id]);
    assert_eq!(status, 0, "{err}");
    assert!(out.contains("reminders every 900 s"), "{out}");
    assert!(
        out.contains("alice") && out.contains("NOT acknowledged"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_sweeping_at_once_remind_each_recipient_once() {
    use assent_server::config::DatabaseUrl;
    assent_testkit::postgres::with_postgres(|url| async move {
        let a = TestServer::spawn_with({
            let url = url.clone();
            |c| c.database = DatabaseUrl(url)
        })
        .await;
        let b_dir = tempfile::tempdir().unwrap();
        let b = crate::nodes::join_with(&a, &url, &b_dir, |_| {}).await;
        let bob = a.user_with_device("bob").await;
        let carol = a.user_with_device("carol").await;
        let created = a
            .admin
            .create_broadcast(&CreateBroadcast {
                message: "Rotate your SSH keys.".into(),
                group: None,
                everyone: true,
                reminder_interval_seconds: Some(300),
            })
            .await
            .unwrap();
        assert_eq!(created.recipients, 2);
        // Seen from the other node too.
        assert_eq!(
            b.admin
                .broadcast(&created.id)
                .await
                .unwrap()
                .recipients
                .len(),
            2
        );

        let later = time::Duration::minutes(6);
        a.clock.advance(later);
        b.clock.advance(later);
        for _ in 0..3 {
            let (x, y) = tokio::join!(
                a.assent.remind_due_broadcasts(),
                b.assent.remind_due_broadcasts()
            );
            assert!(x.unwrap() + y.unwrap() <= 2);
        }
        let detail = b.admin.broadcast(&created.id).await.unwrap();
        let counts: Vec<u32> = detail.recipients.iter().map(|r| r.reminders).collect();
        assert_eq!(counts, [1, 1], "each reminded once, whichever node swept");
        a.clock.advance(-later);
        b.clock.advance(-later);
        for device in [&bob, &carol] {
            let alerts = device.alerts().await.unwrap();
            let reminders = alerts
                .iter()
                .filter(|x| x.kind == "broadcast_reminder")
                .count();
            assert_eq!(reminders, 1, "{alerts:?}");
        }
        b.stop().await;
        a.stop().await;
    })
    .await;
}

/// Waits (5 s at most) for the broadcast's alert on a device: alerts are written in the
/// background, after the admin's answer.
async fn alerted(who: &str, device: &assent_client::DeviceClient) {
    for _ in 0..100 {
        let alerts = device.alerts().await.unwrap();
        if alerts
            .iter()
            .any(|a| a.kind == "broadcast" && a.message.contains("We had a breach."))
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("{who} was never alerted");
}

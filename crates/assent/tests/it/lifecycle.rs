//! The device life cycle through the real server: a lost phone revoked from another device,
//! and trusted registration (a new device held until an existing one approves it, or let in
//! with a recovery code).

use crate::support::{audit_data, code_of};
use assent_client::DeviceClient;
use assent_proto::ProblemCode;
use assent_proto::api::{Activation, ApprovalState, DeviceState};
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, login};

#[tokio::test]
async fn a_lost_phone_is_revoked_from_another_device() {
    let server = TestServer::spawn().await;
    let app = server.app("acme").await;
    let phone = server.user_with_device("alice").await;
    let laptop = server.device("alice", "laptop").await;
    let mut laptop_events = laptop.stream().await.unwrap();

    // Both devices are listed with name, platform, enrollment time, last seen and channel.
    let devices = laptop.devices().await.unwrap();
    assert_eq!(devices.len(), 2);
    for d in &devices {
        assert_eq!(d.platform, "test");
        assert!(d.last_seen_at.is_some(), "{d:?}");
        assert_eq!(d.push_channel, "stream");
    }

    // A request is pending; whoever holds the lost phone has already signed an approval.
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let view = phone.approval(&created.id).await.unwrap();
    let presigned = phone
        .sign_decision(&view, Decision::Approve, created.display_code.as_deref())
        .unwrap();

    // The user revokes the phone from the laptop.
    laptop.revoke(&phone.profile().device_id).await.unwrap();

    assert_eq!(
        code_of(phone.submit(&created.id, presigned).await),
        ProblemCode::DeviceRevoked
    );
    assert_eq!(code_of(phone.pending().await), ProblemCode::DeviceRevoked);
    // The pending prompt is withdrawn: gone from every device, cancelled for the relying party.
    assert!(laptop.pending().await.unwrap().is_empty());
    let status = app.client.approval(&created.id, None).await.unwrap();
    assert_eq!(status.state, ApprovalState::Cancelled);
    assert_eq!(status.reason.as_deref(), Some("device_revoked"));
    // The user is told, on the device in hand, live and in the list.
    let alerts = laptop.alerts().await.unwrap();
    let revoked = alerts
        .iter()
        .find(|a| a.kind == "device_revoked")
        .expect("an alert about the revocation");
    assert!(revoked.message.contains("phone"), "{}", revoked.message);
    assert!(revoked.message.contains("withdrawn"), "{}", revoked.message);
    let mut heard = false;
    while let Ok(Some(event)) =
        tokio::time::timeout(std::time::Duration::from_secs(5), laptop_events.recv()).await
    {
        if matches!(&event, assent_client::DeviceEvent::Alert(m) if m.contains("Device revoked")) {
            heard = true;
            break;
        }
    }
    assert!(heard, "the laptop's stream announced the revocation");
    let states: Vec<_> = laptop
        .devices()
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.state)
        .collect();
    assert_eq!(states, [DeviceState::Revoked, DeviceState::Active]);
    // The laptop cannot revoke a device of another user.
    let mallory = server.user_with_device("mallory").await;
    assert_eq!(
        code_of(laptop.revoke(&mallory.profile().device_id).await),
        ProblemCode::NotFound
    );
    server.stop().await;
}

#[tokio::test]
async fn a_new_device_answers_nothing_until_an_existing_one_approves_it() {
    let server = TestServer::spawn().await;
    let app = server.app("acme").await;
    let phone = server.user_with_device("alice").await;

    // The relying party adds a device for a user who has one: it is held.
    let enrollment = app.client.create_enrollment("alice").await.unwrap();
    assert_eq!(enrollment.activation, Activation::DeviceApproval);
    let tablet = DeviceClient::enroll(&enrollment.link, "tablet", "test")
        .await
        .unwrap();
    let shown = tablet.activation_code().expect("a code to show").to_owned();
    assert_eq!(shown.len(), 6);
    assert_eq!(
        tablet.me().await.unwrap().state,
        DeviceState::PendingActivation
    );

    // It can answer nothing: no list, no request, no decision.
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    assert_eq!(
        code_of(tablet.pending().await),
        ProblemCode::DevicePendingActivation
    );
    assert_eq!(
        code_of(tablet.approval(&created.id).await),
        ProblemCode::DevicePendingActivation
    );
    let view = phone.approval(&created.id).await.unwrap();
    let forged = tablet
        .sign_decision(&view, Decision::Approve, created.display_code.as_deref())
        .unwrap();
    assert_eq!(
        code_of(tablet.submit(&created.id, forged).await),
        ProblemCode::DevicePendingActivation
    );
    assert_eq!(
        app.client.approval(&created.id, None).await.unwrap().state,
        ApprovalState::Pending
    );

    // The phone is told, and sees the tablet waiting.
    let alerts = phone.alerts().await.unwrap();
    let request = alerts
        .iter()
        .find(|a| a.kind == "device_activation_requested")
        .expect("an activation alert");
    assert_eq!(
        request.device_id.as_deref(),
        Some(tablet.profile().device_id.as_str())
    );
    let waiting = phone.devices().await.unwrap();
    assert_eq!(waiting[1].state, DeviceState::PendingActivation);

    // Approving needs the code the tablet shows.
    let tablet_id = tablet.profile().device_id.clone();
    assert_eq!(
        code_of(
            phone
                .decide_activation(&tablet_id, Decision::Approve, None)
                .await
        ),
        ProblemCode::CodeRequired
    );
    let activated = phone
        .decide_activation(&tablet_id, Decision::Approve, Some(&shown))
        .await
        .unwrap()
        .expect("activated");
    assert_eq!(activated.state, DeviceState::Active);
    assert_eq!(tablet.me().await.unwrap().state, DeviceState::Active);
    assert_eq!(
        code_of(
            phone
                .decide_activation(&tablet_id, Decision::Approve, Some(&shown))
                .await
        ),
        ProblemCode::AlreadyDecided
    );
    // Now it answers like any device.
    let pending = tablet.pending().await.unwrap();
    assert_eq!(pending.len(), 1);
    let accepted = tablet
        .decide(
            &pending[0].id,
            Decision::Approve,
            created.display_code.as_deref(),
        )
        .await
        .unwrap();
    assert_eq!(accepted.state, ApprovalState::Approved);
    assert_eq!(audit_data(&server, "device_activated").len(), 1);

    // Denied: the new device is removed and can do nothing, not even ask about itself.
    let enrollment = app.client.create_enrollment("alice").await.unwrap();
    let intruder = DeviceClient::enroll(&enrollment.link, "unknown", "test")
        .await
        .unwrap();
    let intruder_id = intruder.profile().device_id.clone();
    assert!(
        phone
            .decide_activation(&intruder_id, Decision::Deny, None)
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(
        code_of(intruder.me().await),
        ProblemCode::InvalidDeviceProof
    );
    assert!(
        phone
            .devices()
            .await
            .unwrap()
            .iter()
            .all(|d| d.id != intruder_id)
    );

    // A wrong code counts as a denial.
    let enrollment = app.client.create_enrollment("alice").await.unwrap();
    let guessed = DeviceClient::enroll(&enrollment.link, "guessed", "test")
        .await
        .unwrap();
    let wrong = if guessed.activation_code() == Some("000000") {
        "111111"
    } else {
        "000000"
    };
    assert_eq!(
        code_of(
            phone
                .decide_activation(&guessed.profile().device_id, Decision::Approve, Some(wrong))
                .await
        ),
        ProblemCode::WrongCode
    );
    assert_eq!(code_of(guessed.me().await), ProblemCode::InvalidDeviceProof);
    let refused = audit_data(&server, "device_activation_refused");
    assert_eq!(refused.len(), 2);
    assert!(refused[0].contains("\"denied\"") && refused[1].contains("\"wrong_code\""));
    let alerts = phone.alerts().await.unwrap();
    assert!(alerts.iter().any(|a| a.kind == "device_activation_refused"));

    // A device nobody approves is removed once an enrollment link would have expired.
    let enrollment = app.client.create_enrollment("alice").await.unwrap();
    let forgotten = DeviceClient::enroll(&enrollment.link, "forgotten", "test")
        .await
        .unwrap();
    assert_eq!(server.assent.expire_pending_devices().await.unwrap(), 0);
    server.clock.advance(time::Duration::minutes(16));
    assert_eq!(server.assent.expire_pending_devices().await.unwrap(), 1);
    let listed = server
        .admin
        .list_devices(Some("alice"))
        .await
        .unwrap()
        .devices;
    assert!(listed.iter().all(|d| d.id != forgotten.profile().device_id));
    let refused = audit_data(&server, "device_activation_refused");
    assert!(refused[2].contains("\"expired\"") && refused[2].contains("\"system\""));
    server.stop().await;
}

#[tokio::test]
async fn a_recovery_code_lets_a_replacement_device_in_at_once() {
    let server = TestServer::spawn().await;
    let app = server.app("acme").await;
    let phone = server.user_with_device("alice").await;
    let codes = phone.regenerate_recovery_codes().await.unwrap();

    // A wrong code is refused and no enrollment is made.
    assert_eq!(
        code_of(app.client.enrollment("alice", Some("0000-0000-0000")).await),
        ProblemCode::InvalidCode
    );
    let enrollment = app
        .client
        .enrollment("alice", Some(&codes[0]))
        .await
        .unwrap();
    assert_eq!(enrollment.activation, Activation::Immediate);
    let replacement = DeviceClient::enroll(&enrollment.link, "new phone", "test")
        .await
        .unwrap();
    assert_eq!(replacement.activation_code(), None);
    assert_eq!(replacement.me().await.unwrap().state, DeviceState::Active);
    assert_eq!(replacement.recovery_count().await.unwrap(), 9);
    // The code is spent.
    assert_eq!(
        code_of(app.client.enrollment("alice", Some(&codes[0])).await),
        ProblemCode::InvalidCode
    );
    let used = audit_data(&server, "factor_used");
    assert!(used[0].contains("\"enrollment\""), "{used:?}");
    server.stop().await;

    // A policy that does not accept recovery codes for registration refuses them.
    let server = TestServer::spawn_with(|c| {
        c.enrollment.trusted_registration = vec!["device_approval".into()];
    })
    .await;
    let app = server.app("acme").await;
    let phone = server.user_with_device("alice").await;
    let codes = phone.regenerate_recovery_codes().await.unwrap();
    assert_eq!(
        code_of(app.client.enrollment("alice", Some(&codes[0])).await),
        ProblemCode::Forbidden
    );
    assert_eq!(
        phone.recovery_count().await.unwrap(),
        10,
        "nothing was spent"
    );
    server.stop().await;
}

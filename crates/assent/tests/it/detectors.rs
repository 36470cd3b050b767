//! Detectors and security alerts: admin alerts with evidence for reflex approvals, bursts and
//! runs of denials; a user alert for a request from a new country; "this wasn't me" on a
//! new-device alert revokes that device.

use crate::support::audit_data;
use assent_proto::api::{DeviceState, Geo, RequestContext};
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, approved, login};

fn admin_alerts(server: &TestServer) -> Vec<String> {
    audit_data(server, "admin_alert")
}

#[tokio::test]
async fn reflex_approvals_and_bursts_raise_admin_alerts_with_evidence() {
    // The device signs with the real time while the test moves the server's clock on.
    let server = TestServer::spawn_with(|c| c.devices.max_clock_skew_secs = 3600).await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    // The manual clock stands still: every approval comes "0 ms" after delivery.
    for _ in 0..3 {
        approved(&app.client, &device, &login("alice")).await;
    }
    let alerts = admin_alerts(&server);
    assert_eq!(
        alerts
            .iter()
            .filter(|a| a.contains("reflex_approval"))
            .count(),
        3,
        "{alerts:?}"
    );
    assert!(
        alerts[0].contains("0 ms after the device received the request"),
        "{}",
        alerts[0]
    );
    // A fourth request within ten minutes is a burst.
    let fourth = app.client.create_approval(&login("alice")).await.unwrap();
    let bursts = || {
        admin_alerts(&server)
            .into_iter()
            .filter(|a| a.contains("burst_of_prompts"))
            .collect::<Vec<_>>()
    };
    let burst = bursts();
    assert_eq!(burst.len(), 1);
    assert!(
        burst[0].contains("3 requests in the last 10 min"),
        "{}",
        burst[0]
    );
    // The burst goes on: each request carries the signal, but the alert is not repeated for
    // ten minutes.
    device
        .decide(
            &fourth.id,
            Decision::Approve,
            fourth.display_code.as_deref(),
        )
        .await
        .unwrap();
    approved(&app.client, &device, &login("alice")).await;
    server.clock.advance(time::Duration::minutes(9));
    for _ in 0..3 {
        let id = approved(&app.client, &device, &login("alice")).await;
        let status = app.client.approval(&id, None).await.unwrap();
        assert!(
            status
                .risk
                .reasons
                .iter()
                .any(|r| r.signal == "prompt_rate"),
            "{status:?}"
        );
    }
    assert_eq!(bursts().len(), 1, "one alert for one burst");
    server.clock.advance(time::Duration::seconds(61));
    approved(&app.client, &device, &login("alice")).await;
    let burst = bursts();
    assert_eq!(
        burst.len(),
        2,
        "still bursting ten minutes later: {burst:?}"
    );
    assert!(
        burst[1].contains("3 requests in the last 10 min"),
        "{}",
        burst[1]
    );
    server.stop().await;
}

#[tokio::test]
async fn a_slow_approval_is_not_a_reflex_and_denials_make_a_run() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    let view = device.approval(&created.id).await.unwrap();
    server.clock.advance(time::Duration::seconds(5));
    let statement = device
        .sign_decision(&view, Decision::Approve, created.display_code.as_deref())
        .unwrap();
    device.submit(&created.id, statement).await.unwrap();
    assert!(
        admin_alerts(&server).is_empty(),
        "five seconds is time to read"
    );

    for _ in 0..2 {
        let created = app.client.create_approval(&login("alice")).await.unwrap();
        device
            .decide(&created.id, Decision::Deny, None)
            .await
            .unwrap();
        server.clock.advance(time::Duration::seconds(1));
    }
    app.client.create_approval(&login("alice")).await.unwrap();
    let alerts = admin_alerts(&server);
    assert!(
        alerts
            .iter()
            .any(|a| a.contains("run_of_denials") && a.contains("2 denials")),
        "{alerts:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn a_request_from_a_new_country_alerts_the_user() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let at = |country: &str| RequestContext {
        ip: Some("203.0.113.7".into()),
        geo: Some(Geo {
            country: Some(country.into()),
            ..Geo::default()
        }),
        ..RequestContext::default()
    };
    let mut home = login("alice");
    home.context = Some(at("FR"));
    approved(&app.client, &device, &home).await;
    let mut abroad = login("alice");
    abroad.context = Some(at("BR"));
    app.client.create_approval(&abroad).await.unwrap();
    let alerts = device.alerts().await.unwrap();
    let new_location: Vec<_> = alerts.iter().filter(|a| a.kind == "new_location").collect();
    assert_eq!(new_location.len(), 1, "{alerts:?}");
    assert!(
        new_location[0].message.contains("(BR)"),
        "{}",
        new_location[0].message
    );
    server.stop().await;
}

#[tokio::test]
async fn this_wasnt_me_on_a_new_device_alert_revokes_it() {
    let server = TestServer::spawn().await;
    let phone = server.user_with_device("alice").await;
    let intruder = server.device("alice", "unknown laptop").await;
    let alerts = phone.alerts().await.unwrap();
    let enrolled = alerts
        .iter()
        .find(|a| a.kind == "device_enrolled" && a.message.contains("unknown laptop"))
        .unwrap();
    assert_eq!(
        enrolled.device_id.as_deref(),
        Some(intruder.profile().device_id.as_str())
    );
    assert!(enrolled.message.contains("This wasn't me"));
    phone
        .revoke(enrolled.device_id.as_deref().unwrap())
        .await
        .unwrap();
    let devices = phone.devices().await.unwrap();
    let revoked = devices
        .iter()
        .find(|d| d.id == intruder.profile().device_id)
        .unwrap();
    assert_eq!(revoked.state, DeviceState::Revoked);
    assert!(intruder.pending().await.is_err());
    server.stop().await;
}

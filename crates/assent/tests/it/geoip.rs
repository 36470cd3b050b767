//! GeoIP through the real server, with a MaxMind-format database written by mmdb-writer (an
//! implementation Assent shares no code with): addresses without context.geo are located, so
//! impossible travel and new countries are seen; an approval answered far from the requester
//! raises an admin alert; a database that does not open is refused on reload.

use crate::support::{audit_data, python, repo_root, run};
use assent_proto::ProblemCode;
use assent_proto::api::RequestContext;
use assent_testkit::{TestServer, approved, login};

const PUSH_ALL: &str =
    "[[rule]]\nname = \"push everything\"\nwhen = \"true\"\noutcome = \"push\"\n";

fn from_ip(ip: &str) -> assent_proto::api::CreateApproval {
    let mut request = login("alice");
    request.context = Some(RequestContext {
        ip: Some(ip.into()),
        ..RequestContext::default()
    });
    request
}

#[tokio::test]
async fn addresses_are_located_and_far_approvals_raise_an_admin_alert() {
    let dir = tempfile::tempdir().unwrap();
    let database = dir.path().join("cities.mmdb");
    let mut cmd = std::process::Command::new(python());
    cmd.arg(repo_root().join("tests/interop/make_geoip.py"))
        .arg(&database);
    let (code, out, err) = run(cmd);
    assert_eq!(code, 0, "{out}{err}");
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, PUSH_ALL).unwrap();
    let (db, pol) = (database.display().to_string(), policy.display().to_string());
    let server = TestServer::spawn_with(move |c| {
        c.risk.geoip_file = db;
        c.policy.file = pol;
        c.devices.max_clock_skew_secs = 3600;
    })
    .await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;

    // From Paris (by the database), answered by a device in Paris (127.0.0.1 in the test data).
    approved(&app.client, &device, &from_ip("203.0.113.7")).await;
    server.clock.advance(time::Duration::minutes(10));
    // Ten minutes later from Sydney, with nothing but the address.
    let created = app
        .client
        .create_approval(&from_ip("198.51.100.9"))
        .await
        .unwrap();
    let signals: Vec<&str> = created
        .risk
        .reasons
        .iter()
        .map(|r| r.signal.as_str())
        .collect();
    assert_eq!(
        signals,
        ["new_network", "new_country", "impossible_travel"],
        "{:?}",
        created.risk
    );
    assert!(created.risk.reasons[1].detail.contains("AU"));
    let view = device.approval(&created.id).await.unwrap();
    server.clock.advance(time::Duration::seconds(5));
    let statement = device
        .sign_decision(
            &view,
            assent_proto::statement::Decision::Approve,
            created.display_code.as_deref(),
        )
        .unwrap();
    device.submit(&created.id, statement).await.unwrap();

    let alerts = audit_data(&server, "admin_alert");
    let far: Vec<_> = alerts
        .iter()
        .filter(|a| a.contains("requester_far_from_device"))
        .collect();
    assert_eq!(far.len(), 1, "{alerts:?}");
    assert!(
        far[0].contains("the requester is in AU and the approving device in Paris, FR"),
        "{}",
        far[0]
    );

    // A database that does not open is refused on reload; the running one stays.
    std::fs::write(&database, b"not a database").unwrap();
    let refused = server.admin.reload_policy().await.unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::InvalidPolicy));
    // Still located by the database loaded at start: 192.0.2.0/24 is Brazil in the test data.
    let again = app
        .client
        .create_approval(&from_ip("192.0.2.5"))
        .await
        .unwrap();
    let new_country = again
        .risk
        .reasons
        .iter()
        .find(|r| r.signal == "new_country");
    assert!(
        new_country.is_some_and(|r| r.detail.contains("BR")),
        "{:?}",
        again.risk
    );
    server.stop().await;
}

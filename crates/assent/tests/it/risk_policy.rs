//! Risk and policy through the real server: a fraud report raises the risk of its network for
//! everyone, impossible travel and large transfers need user verification under the default
//! policy, deny lists and very high risk are refused, and a policy file reloads safely.

use crate::support::{assent_bin, run};
use assent_proto::ProblemCode;
use assent_proto::api::{ApprovalKind, ApprovalState, CreateApproval, Geo, RequestContext};
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, approved, login, transfer};

fn from(ip: &str, country: &str, lat: f64, lon: f64) -> RequestContext {
    RequestContext {
        ip: Some(ip.into()),
        geo: Some(Geo {
            lat: Some(lat),
            lon: Some(lon),
            country: Some(country.into()),
            city: None,
        }),
        ..RequestContext::default()
    }
}

fn signals(created: &assent_proto::api::ApprovalCreated) -> Vec<String> {
    created
        .risk
        .reasons
        .iter()
        .map(|r| r.signal.clone())
        .collect()
}

#[tokio::test]
async fn a_fraud_report_raises_the_risk_of_its_network_for_other_users() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let alice = server.user_with_device("alice").await;
    server.user_with_device("bob").await;
    let mut request = login("alice");
    request.context = Some(from("198.51.100.23", "FR", 48.85, 2.35));
    let created = app.client.create_approval(&request).await.unwrap();
    assert_eq!(created.risk.score, 0);
    alice
        .decide(&created.id, Decision::Fraud, None)
        .await
        .unwrap();
    // The network is marked with the fraud outcome, and its audit row names it.
    let decided: Vec<serde_json::Value> = crate::support::audit_data(&server, "approval_decided")
        .iter()
        .map(|d| serde_json::from_str(d).unwrap())
        .filter(|d: &serde_json::Value| d["approval_id"] == created.id.as_str())
        .collect();
    assert_eq!(decided.len(), 1);
    assert_eq!(decided[0]["state"], "fraud");
    assert_eq!(decided[0]["reported_network"], "198.51.100.0/24");
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let reports: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM network_reports WHERE network = '198.51.100.0/24'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(reports, 1);
    drop(db);

    let mut request = login("bob");
    request.context = Some(from("198.51.100.77", "FR", 48.85, 2.35));
    let created = app.client.create_approval(&request).await.unwrap();
    assert_eq!(signals(&created), ["reported_network"]);
    assert!(
        created.risk.reasons[0].detail.contains("198.51.100.0/24"),
        "{:?}",
        created.risk
    );
    let status = app.client.approval(&created.id, None).await.unwrap();
    assert_eq!(
        status.risk, created.risk,
        "the relying party can ask later why"
    );
    server.stop().await;
}

#[tokio::test]
async fn impossible_travel_needs_user_verification_and_says_why() {
    // The test moves the server's clock ten minutes; the device signs with the real time.
    let server = TestServer::spawn_with(|c| c.devices.max_clock_skew_secs = 3600).await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let mut paris = login("alice");
    paris.context = Some(from("203.0.113.7", "FR", 48.8566, 2.3522));
    let first = approved(&app.client, &device, &paris).await;
    assert_eq!(
        app.client.approval(&first, None).await.unwrap().state,
        ApprovalState::Approved
    );

    server.clock.advance(time::Duration::minutes(10));
    let mut sydney = login("alice");
    sydney.context = Some(from("198.51.100.9", "AU", -33.8688, 151.2093));
    let created = app.client.create_approval(&sydney).await.unwrap();
    assert!(
        created.risk.score >= 50 && created.risk.score < 80,
        "{:?}",
        created.risk
    );
    assert!(
        signals(&created).contains(&"impossible_travel".to_owned()),
        "{:?}",
        created.risk
    );
    let travel = created
        .risk
        .reasons
        .iter()
        .find(|r| r.signal == "impossible_travel")
        .unwrap();
    assert!(
        travel
            .detail
            .contains("km from the last approved location in 10 min"),
        "{}",
        travel.detail
    );
    assert!(created.user_verification);
    assert_eq!(created.policy_rule, "high risk needs user verification");
    // The device is told, and an approval without the passkey check is refused.
    let view = device.approval(&created.id).await.unwrap();
    assert!(view.user_verification_required);
    let refused = device
        .decide(
            &created.id,
            Decision::Approve,
            created.display_code.as_deref(),
        )
        .await
        .unwrap_err();
    assert_eq!(
        refused.problem_code(),
        Some(ProblemCode::UserVerificationRequired)
    );
    // The audit log records the score, the signals and the rule.
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let data: String = db
        .query_row(
            "SELECT data FROM audit WHERE kind = 'approval_created' AND subject = ?1",
            [format!("approval:{}", created.id)],
            |r| r.get(0),
        )
        .unwrap();
    assert!(
        data.contains("impossible_travel") && data.contains("high risk needs user verification"),
        "{data}"
    );
    server.stop().await;
}

#[tokio::test]
async fn transfers_over_the_threshold_need_user_verification() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let small = app
        .client
        .create_approval(&transfer("alice", "999.99"))
        .await
        .unwrap();
    assert!(!small.user_verification);
    device
        .decide(&small.id, Decision::Approve, small.display_code.as_deref())
        .await
        .unwrap();
    let large = app
        .client
        .create_approval(&transfer("alice", "1500.00"))
        .await
        .unwrap();
    assert!(large.user_verification);
    assert_eq!(
        large.policy_rule,
        "large transactions need user verification"
    );
    let refused = device
        .decide(&large.id, Decision::Approve, large.display_code.as_deref())
        .await
        .unwrap_err();
    assert_eq!(
        refused.problem_code(),
        Some(ProblemCode::UserVerificationRequired)
    );
    assert_eq!(
        app.client.approval(&large.id, None).await.unwrap().state,
        ApprovalState::Pending
    );
    server.stop().await;
}

#[tokio::test]
async fn deny_listed_and_tor_requests_are_refused_without_a_prompt() {
    let dir = tempfile::tempdir().unwrap();
    let deny = dir.path().join("deny.txt");
    let tor = dir.path().join("tor.txt");
    std::fs::write(&deny, "# known bad\n192.0.2.0/24\n").unwrap();
    std::fs::write(&tor, "192.0.2.66\n").unwrap();
    let (d, t) = (deny.display().to_string(), tor.display().to_string());
    let server = TestServer::spawn_with(move |c| {
        c.risk.deny_list_file = d;
        c.risk.tor_exit_file = t;
    })
    .await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let mut listed = login("alice");
    listed.context = Some(RequestContext {
        ip: Some("192.0.2.10".into()),
        ..RequestContext::default()
    });
    let created = app.client.create_approval(&listed).await.unwrap();
    assert_eq!(signals(&created), ["deny_listed_ip"]);
    assert!(created.user_verification, "risk 60 needs user verification");
    let mut worse = login("alice");
    worse.context = Some(RequestContext {
        ip: Some("192.0.2.66".into()),
        ..RequestContext::default()
    });
    let refused = app.client.create_approval(&worse).await.unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::DeniedByPolicy));
    assert!(
        refused.to_string().contains("very high risk is refused"),
        "{refused}"
    );
    // Refused before any prompt: only the first request is pending on the device.
    assert_eq!(device.pending().await.unwrap().len(), 1);
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let refusals: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE kind = 'approval_refused'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(refusals, 1);
    server.stop().await;
}

const CUSTOM: &str = r#"
[[rule]]
name = "agents may act without a prompt"
when = "request.kind == 'agent_action'"
outcome = "allow"

[[rule]]
name = "logins"
when = "true"
outcome = "push"
number_matching = true
code_length = 8
"#;

#[tokio::test]
async fn a_policy_file_reloads_atomically_and_a_bad_one_is_refused_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("policy.toml");
    std::fs::write(&file, CUSTOM).unwrap();
    let path = file.display().to_string();
    let server = TestServer::spawn_with(move |c| c.policy.file = path).await;
    let app = server.app("Acme").await;
    server.user_with_device("alice").await;
    let created = app.client.create_approval(&login("alice")).await.unwrap();
    assert_eq!(created.display_code.unwrap().len(), 8);
    let agent = CreateApproval {
        kind: ApprovalKind::AgentAction,
        ..login("alice")
    };
    let allowed = app.client.create_approval(&agent).await.unwrap();
    assert_eq!(allowed.state, ApprovalState::Approved);
    let status = app.client.approval(&allowed.id, None).await.unwrap();
    assert_eq!(status.reason.as_deref(), Some("allowed_by_policy"));
    assert!(status.receipt.is_some());
    // A relying party that asks for a passkey check gets a prompt even where the policy allows.
    let insisting = CreateApproval {
        user_verification: true,
        ..agent.clone()
    };
    let prompted = app.client.create_approval(&insisting).await.unwrap();
    assert_eq!(prompted.state, ApprovalState::Pending);
    assert!(prompted.user_verification);

    // A syntax error on line 4: refused with the line, the running policy still decides.
    std::fs::write(
        &file,
        "[[rule]]\nname = \"broken\"\noutcome = \"push\"\nwhen = \"request.kind ==\"\n",
    )
    .unwrap();
    let refused = server.admin.reload_policy().await.unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::InvalidPolicy));
    assert!(refused.to_string().contains("line 4"), "{refused}");
    let still = app.client.create_approval(&agent).await.unwrap();
    assert_eq!(
        still.state,
        ApprovalState::Approved,
        "the old policy still decides"
    );

    // A valid new file takes effect on reload, without a restart.
    std::fs::write(&file, "[[rule]]\nname = \"no agents\"\nwhen = \"request.kind == 'agent_action'\"\noutcome = \"deny\"\nmessage = \"Agents must ask a person.\"\n\n[[rule]]\nname = \"rest\"\nwhen = \"true\"\noutcome = \"push\"\n").unwrap();
    let reloaded = server.admin.reload_policy().await.unwrap();
    assert_eq!(reloaded["rules"][0]["name"], "no agents");
    let refused = app.client.create_approval(&agent).await.unwrap_err();
    assert_eq!(refused.problem_code(), Some(ProblemCode::DeniedByPolicy));
    assert!(refused.to_string().contains("Agents must ask a person."));

    // The CLI checks files offline and names the line.
    std::fs::write(
        &file,
        "[[rule]]\nname = \"x\"\nwhen = \"1 +\"\noutcome = \"push\"\n",
    )
    .unwrap();
    let mut cmd = assent_bin();
    cmd.args(["policy", "test"]).arg(&file);
    let (code, out, _) = run(cmd);
    assert_ne!(code, 0);
    assert!(out.contains("INVALID") && out.contains("line 3"), "{out}");
    let mut cmd = assent_bin();
    cmd.args([
        "policy",
        "test",
        "default",
        "--request",
        r#"{"risk": {"score": 85}}"#,
    ]);
    let (code, out, _) = run(cmd);
    assert_eq!(code, 0);
    assert!(
        out.contains("Rule that fires: very high risk is refused"),
        "{out}"
    );
    server.stop().await;
}

//! `assent mcp` driven by an independent MCP host: the official MCP Python SDK
//! (tests/interop/mcp_client.py, installed in .venv from tests/interop/requirements.txt) starts
//! it over stdio with an agent's credentials made by `assent mcp keygen`, lists its tools and
//! calls them, while this test answers on the owner's device. The display code reaches the
//! test the way it reaches a person: in the progress notification of a waiting call, and in
//! the result of a call with `wait_seconds: 0`.

use crate::ciba::Setup;
use crate::support::{assent_bin, python, repo_root, run};
use assent_client::{AgentClient, AgentRequest};
use assent_proto::api::CreateAgent;
use assent_proto::jose::SigningKey;
use assent_proto::statement::Decision;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Duration;
use tokio::io::AsyncBufReadExt as _;

fn details() -> Value {
    json!([{
        "type": "payment_initiation",
        "instructedAmount": {"currency": "EUR", "amount": "1250.00"},
        "creditorName": "ACME GmbH",
        "creditorAccount": {"iban": "DE02120300000000202051"},
    }])
}

/// The one pending request of the owner's device, answered.
async fn answer(setup: &Setup, decision: Decision, code: Option<&str>) -> String {
    let pending = setup.device.pending().await.unwrap();
    assert_eq!(pending.len(), 1, "{pending:?}");
    assert_eq!(pending[0].application.name, "Invoice assistant");
    assert_eq!(
        pending[0].authorization_details,
        details().as_array().unwrap().clone()
    );
    setup
        .device
        .decide(&pending[0].id, decision, code)
        .await
        .unwrap();
    pending[0].id.clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_mcp_host_gets_a_verified_grant_through_assent_mcp_and_a_denial_as_a_tool_error() {
    // Requests live 30 seconds here: the test moves the server's clock past that, which stays
    // within the minute of clock skew Assent allows the agent's assertions.
    let setup = Setup::with(|c| {
        c.ciba.interval_secs = 1;
        c.approvals.default_ttl_secs = 30;
    })
    .await;
    setup.server.user_with_device("bob").await;

    // The agent's key, made as the documentation says, and the agent registered with it.
    let dir = setup.server.scratch("mcp");
    std::fs::create_dir_all(&dir).unwrap();
    let (key, jwks) = (dir.join("agent.pem"), dir.join("agent.jwks.json"));
    let mut keygen = assent_bin();
    keygen
        .args(["mcp", "keygen", "--out"])
        .arg(&key)
        .arg("--jwks")
        .arg(&jwks);
    let (code, _, stderr) = run(keygen);
    assert_eq!(code, 0, "{stderr}");
    let jwks: Value = serde_json::from_str(&std::fs::read_to_string(&jwks).unwrap()).unwrap();
    let thumbprint = jwks["keys"][0]["kid"].as_str().unwrap().to_owned();
    let agent = setup
        .server
        .admin
        .create_agent(&CreateAgent {
            name: "Invoice assistant".into(),
            owner: "alice".into(),
            jwks,
            authorization_details_types: vec!["payment_initiation".into()],
            mode: None,
            notification_endpoint: None,
        })
        .await
        .unwrap();

    // The host starts `assent mcp` with the server and client id as flags, the key from the
    // environment.
    let mut host = tokio::process::Command::new(python())
        .arg(repo_root().join("tests/interop/mcp_client.py"))
        .args(["alice", &details().to_string(), "--"])
        .arg(env!("CARGO_BIN_EXE_assent"))
        .args([
            "mcp",
            "--server",
            &setup.issuer(),
            "--client-id",
            &agent.client_id,
        ])
        .env("ASSENT_MCP_KEY", &key)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = tokio::io::BufReader::new(host.stdout.take().unwrap()).lines();
    let mut tools = Value::Null;
    let mut results: HashMap<String, (bool, Value)> = HashMap::new();
    let mut progress = Vec::new();
    let mut approved_id = None;
    let mut denied_id = None;
    let conversation = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            let event: Value = serde_json::from_str(&line).unwrap();
            match event["event"].as_str().unwrap() {
                "tools" => tools = event,
                "progress" => {
                    let code = event["code"].as_str().map(str::to_owned);
                    progress.push(event);
                    if approved_id.is_none() {
                        let code = code.expect("the notification carries the code");
                        approved_id = Some(answer(&setup, Decision::Approve, Some(&code)).await);
                    }
                }
                "result" => {
                    let step = event["step"].as_str().unwrap().to_owned();
                    if step == "pending" {
                        assert!(event["content"]["display_code"].is_string(), "{event}");
                        denied_id = Some(answer(&setup, Decision::Deny, None).await);
                    }
                    if step == "expiring" {
                        setup.server.clock.advance(time::Duration::seconds(31));
                    }
                    let is_error = event["is_error"].as_bool().unwrap();
                    results.insert(step, (is_error, event["content"].clone()));
                }
                "done" => break,
                other => panic!("unexpected event {other}"),
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(120), conversation)
        .await
        .expect("the MCP conversation ends in time");
    let output = host.wait_with_output().await.unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // The tools, with schemas a host can fill.
    assert_eq!(
        tools["names"],
        json!(["approval_status", "request_approval"])
    );
    let schema = &tools["schemas"]["request_approval"];
    for field in ["user", "action", "authorization_details", "wait_seconds"] {
        assert!(schema["properties"][field].is_object(), "{field}: {schema}");
    }
    assert_eq!(
        schema["required"],
        json!(["user", "action", "authorization_details"])
    );
    assert!(!progress.is_empty());

    // The grant: what was asked, bound to the agent's key, signed by Assent.
    let (is_error, grant) = &results["approved"];
    assert!(!is_error, "{grant}");
    assert_eq!(grant["status"], "approved");
    assert_eq!(grant["token_type"], "DPoP");
    assert_eq!(grant["expires_in"], 120);
    assert_eq!(grant["authorization_details"], details());
    assert_eq!(grant["approval_id"].as_str(), approved_id.as_deref());
    let (typ, claims) = setup
        .verified(grant["access_token"].as_str().unwrap())
        .await;
    assert_eq!(typ.as_deref(), Some("at+jwt"));
    assert_eq!(claims["authorization_details"], details());
    assert_eq!(claims["cnf"]["jkt"], thumbprint.as_str());
    assert_eq!(claims["client_id"], agent.client_id.as_str());
    assert_eq!(claims["approval_id"].as_str(), approved_id.as_deref());
    let (_, receipt) = setup.verified(grant["receipt"].as_str().unwrap()).await;
    assert_eq!(
        receipt["approval_id"].as_str(),
        approved_id.as_deref(),
        "{receipt}"
    );

    // wait_seconds 0: the code and an id to wait on, not an error.
    let (is_error, pending) = &results["pending"];
    assert!(!is_error, "{pending}");
    assert_eq!(pending["status"], "pending");
    assert!(pending["request_id"].is_string());
    assert!(denied_id.is_some());

    // A denial, a request already ended, an expiry, a bad input and a user who is not the owner: tool
    // errors the agent reads, with no grant in them.
    for (step, status) in [
        ("denied", "denied"),
        ("unknown", "unknown_request"),
        ("expired", "expired"),
        ("invalid", "invalid_input"),
        ("stranger", "access_denied"),
    ] {
        let (is_error, content) = &results[step];
        assert!(is_error, "{step}: {content}");
        assert_eq!(content["status"], status, "{step}: {content}");
        assert!(content.get("access_token").is_none(), "{step}: {content}");
    }
    assert!(setup.device.pending().await.unwrap().is_empty());
}

/// The agent client under `assent mcp` accepts only a grant that Assent signed and bound to
/// its own key, and only from the issuer it was pointed at.
#[tokio::test]
async fn the_agent_client_refuses_a_grant_it_cannot_verify_and_a_foreign_issuer() {
    let setup = Setup::with(|c| c.ciba.interval_secs = 1).await;
    let (id, key) = setup.agent().await;
    let other_key = SigningKey::generate().unwrap();
    let other_id = setup
        .server
        .admin
        .create_agent(&CreateAgent {
            name: "Another assistant".into(),
            owner: "alice".into(),
            jwks: crate::ciba::jwks_of(&other_key),
            authorization_details_types: vec!["payment_initiation".into()],
            mode: None,
            notification_endpoint: None,
        })
        .await
        .unwrap()
        .client_id;
    let load = |key: &SigningKey| SigningKey::from_pkcs8(key.pkcs8()).unwrap();
    let agent = AgentClient::new(&setup.issuer(), &id, load(&key)).unwrap();
    let other = AgentClient::new(&setup.issuer(), &other_id, load(&other_key)).unwrap();
    let details = details();
    let ask = AgentRequest {
        user: "alice",
        binding_message: "Pay invoice 2026-114",
        authorization_details: details.as_array().unwrap(),
        token_lifetime: None,
    };
    let mut grants = Vec::new();
    for client in [&agent, &other] {
        let started = client.start(&ask).await.unwrap();
        let pending = setup.device.pending().await.unwrap();
        setup
            .device
            .decide(
                &pending[0].id,
                Decision::Approve,
                started.display_code.as_deref(),
            )
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_millis(1100)).await;
        grants.push(
            client
                .token(&started.auth_req_id)
                .await
                .unwrap()
                .access_token,
        );
    }
    let claims = agent.verify_grant(&grants[0]).await.unwrap();
    assert_eq!(claims["authorization_details"], details);

    // Another agent's grant is not bound to this agent's key.
    let foreign = agent
        .verify_grant(&grants[1])
        .await
        .unwrap_err()
        .to_string();
    assert!(
        foreign.contains("not bound to this agent's key"),
        "{foreign}"
    );
    // A grant whose payload was changed no longer verifies.
    let parts: Vec<&str> = grants[0].split('.').collect();
    let mut payload: Value =
        serde_json::from_slice(&assent_proto::jose::b64_decode(parts[1]).unwrap()).unwrap();
    payload["authorization_details"][0]["instructedAmount"]["amount"] = json!("12500.00");
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        assent_proto::jose::b64(payload.to_string()),
        parts[2]
    );
    assert!(agent.verify_grant(&forged).await.is_err());

    // The same server under another name is not the issuer the agent was given.
    let mut other_name = url::Url::parse(&setup.issuer()).unwrap();
    let host = if other_name.host_str() == Some("localhost") {
        "127.0.0.1"
    } else {
        "localhost"
    };
    other_name.set_host(Some(host)).unwrap();
    let renamed = AgentClient::new(other_name.as_str(), &id, load(&key)).unwrap();
    let refused = renamed.start(&ask).await.unwrap_err().to_string();
    assert!(refused.contains("names itself"), "{refused}");
    // A key the agent did not register cannot ask.
    let stranger = AgentClient::new(&setup.issuer(), &id, SigningKey::generate().unwrap()).unwrap();
    let refused = stranger.start(&ask).await.unwrap_err();
    assert_eq!(refused.oauth_code(), Some("invalid_client"), "{refused}");
    assert!(setup.device.pending().await.unwrap().is_empty());
}

//! The canonical vectors (`testdata/canonical-vectors.json`) through the real server: details
//! whose text the canonical form would change are refused with the pointer of the part, before
//! anything is stored; the others are approved, and the receipt carries the hash the relying
//! party computed of what it sent.

use crate::support::audit_data;
use assent_proto::ProblemCode;
use assent_proto::problem::Problem;
use assent_proto::statement::Decision;
use assent_testkit::TestServer;
use serde_json::Value;

fn vectors() -> Value {
    let path = crate::support::repo_root().join("testdata/canonical-vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// A `POST /v1/approvals` body with the details spliced in as written, never re-encoded.
fn body(user: &str, kind: &str, message: &Value, details: &str) -> String {
    format!(
        r#"{{"user":"{user}","kind":"{kind}","binding_message":{message},"authorization_details":{details}}}"#
    )
}

async fn post(server: &TestServer, api_key: &str, body: String) -> (u16, String, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/approvals", server.base))
        .bearer_auth(api_key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    (status, content_type, response.text().await.unwrap())
}

#[tokio::test]
async fn details_the_canonical_form_would_change_are_refused_naming_the_part() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    let v = vectors();
    let refused = v["refused"].as_array().unwrap();
    for vector in refused {
        let name = vector["name"].as_str().unwrap();
        let details = vector["authorization_details"].as_str().unwrap();
        let pointer = vector["pointer"].as_str().unwrap();
        let (status, content_type, text) = post(
            &server,
            &app.api_key,
            body("alice", "agent_action", &Value::Null, details),
        )
        .await;
        assert_eq!(content_type, "application/problem+json", "{name}");
        let problem: Problem = serde_json::from_str(&text).unwrap();
        let detail = problem.detail.clone().unwrap();
        if vector["problem"] == "not_finite" {
            // The JSON parser already refuses a number beyond the doubles, as malformed.
            assert_eq!(
                status,
                ProblemCode::MalformedJson.status(),
                "{name}: {text}"
            );
            assert_eq!(problem.problem_code(), Some(ProblemCode::MalformedJson));
            assert!(detail.contains("out of range"), "{name}: {detail}");
            continue;
        }
        assert_eq!(
            status,
            ProblemCode::InvalidRequest.status(),
            "{name}: {text}"
        );
        assert_eq!(
            problem.problem_code(),
            Some(ProblemCode::InvalidRequest),
            "{name}"
        );
        assert_eq!(problem.extensions["pointer"], pointer, "{name}");
        assert!(detail.starts_with(pointer), "{name}: {detail}");
    }
    // The same refusals reach a relying party that sends 2^53 through the typed client.
    let mut request = assent_testkit::login("alice");
    request.authorization_details =
        vec![serde_json::json!({"type": "numbers", "n": 9_007_199_254_740_992u64})];
    let refusal = app.client.create_approval(&request).await;
    assert_eq!(
        crate::support::code_of(refusal),
        ProblemCode::InvalidRequest
    );
    // Nothing was stored, audited or sent to the device.
    assert!(audit_data(&server, "approval_created").is_empty());
    assert!(audit_data(&server, "approval_refused").is_empty());
    assert!(device.pending().await.unwrap().is_empty());
    server.stop().await;
}

#[tokio::test]
async fn exact_details_are_approved_under_the_relying_partys_own_hash() {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let jwks = assent_client::fetch_jwks(&server.base).await.unwrap();
    let v = vectors();
    let accepted = v["accepted"].as_array().unwrap();
    for (i, vector) in accepted.iter().enumerate() {
        // A user per vector, so the requests are no burst to the risk engine.
        let user = format!("user{i}");
        let device = server.user_with_device(&user).await;
        let name = vector["name"].as_str().unwrap();
        let kind = vector["kind"].as_str().unwrap();
        let details = vector["authorization_details"].as_str().unwrap();
        // The relying party's own hash of what it sends, computed beside the vector.
        let expected = vector["details_hash"].as_str().unwrap();
        let (status, _, text) = post(
            &server,
            &app.api_key,
            body(&user, kind, &vector["binding_message"], details),
        )
        .await;
        assert_eq!(status, 201, "{name}: {text}");
        let created: Value = serde_json::from_str(&text).unwrap();
        let id = created["id"].as_str().unwrap();
        // The device recomputes the hash of what it shows and signs only if it matches.
        let shown = device.approval(id).await.unwrap();
        assert_eq!(shown.details_hash, expected, "{name}");
        device
            .decide(id, Decision::Approve, created["display_code"].as_str())
            .await
            .unwrap();
        let status = app.client.approval(id, None).await.unwrap();
        let receipt = status.receipt.unwrap();
        let verified = assent_proto::receipt::verify_receipt(&receipt, &jwks).unwrap();
        assert_eq!(verified.receipt.details_hash, expected, "{name}");
        assert_eq!(verified.statement.unwrap().details_hash, expected, "{name}");
    }
    let created = audit_data(&server, "approval_created");
    assert_eq!(created.len(), accepted.len());
    for (row, vector) in created.iter().zip(accepted) {
        let row: Value = serde_json::from_str(row).unwrap();
        assert_eq!(row["details_hash"], vector["details_hash"]);
    }
    server.stop().await;
}

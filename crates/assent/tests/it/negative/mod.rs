//! Every refusal, each its own test with its problem type: the security rules of the approval
//! core, proven by trying to break them through the real server.

use crate::support::audit_data;
use assent_client::DeviceClient;
use assent_proto::ProblemCode;
use assent_proto::api::{ApprovalState, DeviceApproval};
use assent_proto::jose::SigningKey;
use assent_proto::problem::Problem;
use assent_proto::statement::{DECISION_TYP, Decision, DecisionStatement};
use assent_testkit::{TestApp, TestServer, login, transfer};
use serde_json::json;

mod bodies;
mod proofs;
mod requests;

/// What a refused request came back with.
struct Refusal {
    status: u16,
    problem: Problem,
    content_type: String,
}

async fn refusal(response: reqwest::Response) -> Refusal {
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    let body = response.text().await.unwrap();
    let problem: Problem = serde_json::from_str(&body)
        .unwrap_or_else(|e| panic!("not a problem document ({e}): {body}"));
    Refusal {
        status,
        problem,
        content_type,
    }
}

fn assert_problem(r: &Refusal, code: ProblemCode) {
    assert_eq!(r.problem.problem_code(), Some(code), "{:?}", r.problem);
    assert_eq!(r.status, code.status());
    assert_eq!(
        r.problem.type_,
        format!("urn:assent:problem:{}", code.as_str())
    );
    assert_eq!(r.content_type, "application/problem+json");
    assert!(r.problem.request_id.is_some());
    assert!(r.problem.detail.as_deref().is_some_and(|d| !d.is_empty()));
}

fn expect_code<T: std::fmt::Debug>(
    result: Result<T, assent_client::ClientError>,
    code: ProblemCode,
) {
    let err = result.expect_err("the server must refuse");
    assert_eq!(err.problem_code(), Some(code), "{err}");
}

async fn setup() -> (TestServer, TestApp, DeviceClient) {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    (server, app, device)
}

fn statement_for(
    view: &DeviceApproval,
    decision: Decision,
    code: Option<&str>,
) -> DecisionStatement {
    DecisionStatement {
        request_id: view.id.clone(),
        nonce: view.nonce.clone(),
        details_hash: view.details_hash.clone(),
        decision,
        code: code.map(str::to_owned),
        iat: time_now(),
    }
}

fn time_now() -> i64 {
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH).unwrap().as_secs() as i64
}

fn sign(key: &SigningKey, kid: &str, statement: &DecisionStatement) -> String {
    key.sign(DECISION_TYP, Some(kid), false, statement).unwrap()
}

async fn status_of(app: &TestApp, id: &str) -> ApprovalState {
    app.client.approval(id, None).await.unwrap().state
}

//! The grant: an ES256 JWT that PyJWT verifies against the JWKS, naming the requester, the
//! privilege and the approvers with their receipts; revoked early by an admin or an approver,
//! which introspection and the `access_grant.revoked` webhook show at once.

use super::Team;
use crate::support::{audit_data, code_of, database_bytes, python, repo_root, run};
use assent_proto::ProblemCode;
use assent_proto::statement::Decision;
use axum::extract::State;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub(super) type Seen = Arc<Mutex<Vec<serde_json::Value>>>;

async fn receive(State(seen): State<Seen>, body: String) -> axum::http::StatusCode {
    seen.lock()
        .unwrap()
        .push(serde_json::from_str(&body).unwrap());
    axum::http::StatusCode::NO_CONTENT
}

pub(super) async fn start_receiver() -> (String, Seen) {
    let seen = Seen::default();
    let app = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(seen.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, seen)
}

pub(super) async fn wait_for_event(seen: &Seen, kind: &str) -> serde_json::Value {
    for _ in 0..200 {
        if let Some(event) = seen.lock().unwrap().iter().find(|e| e["type"] == kind) {
            return event.clone();
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("no {kind} webhook: {:?}", seen.lock().unwrap());
}

/// PyJWT's verdict on a grant: the claims when it verifies.
pub(super) async fn verify_with_pyjwt(
    team: &Team,
    token: &str,
) -> Result<serde_json::Value, String> {
    let jwks = reqwest::get(format!("{}/.well-known/jwks.json", team.server.base))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let grant_file = team.server.scratch("grant.jwt");
    let jwks_file = team.server.scratch("jwks.json");
    std::fs::write(&grant_file, token).unwrap();
    std::fs::write(&jwks_file, jwks).unwrap();
    let mut cmd = std::process::Command::new(python());
    cmd.arg(repo_root().join("tests/interop/verify_grant.py"))
        .arg(&grant_file)
        .arg(&jwks_file)
        .arg(&team.app.id)
        .arg(&team.server.assent.settings().public_url);
    let (code, out, err) = run(cmd);
    if code == 0 {
        Ok(serde_json::from_str(out.trim()).unwrap())
    } else {
        Err(format!("{out}{err}"))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_grant_verifies_with_pyjwt_and_revocation_shows_in_introspection_and_webhooks() {
    let team = Team::with(|c| c.webhooks.initial_backoff_ms = 50).await;
    let (url, seen) = start_receiver().await;
    team.server
        .admin
        .set_webhook(
            &team.app.id,
            &url,
            &["access_request.final", "access_grant.revoked"],
        )
        .await
        .unwrap();
    let created = team.ask(2, 1).await;
    team.answer(&created, "bob", Decision::Approve)
        .await
        .unwrap();
    team.answer(&created, "dave", Decision::Approve)
        .await
        .unwrap();
    let id = &created.access_request.id;
    let status = team.app.client.access_request(id).await.unwrap();
    let grant = status.grant.expect("granted");
    let token = grant
        .token
        .clone()
        .expect("the application holds the grant");
    // A bearer credential until its end: at rest only sealed.
    let signature = token.rsplit('.').next().unwrap();
    let stored = database_bytes(&team.server.db_path());
    assert!(
        !stored
            .windows(signature.len())
            .any(|w| w == signature.as_bytes()),
        "the grant is in the database in clear"
    );

    let claims = verify_with_pyjwt(&team, &token)
        .await
        .expect("PyJWT verifies the grant");
    assert_eq!(claims["sub"], "alice");
    assert_eq!(claims["jti"], grant.id.as_str());
    assert_eq!(claims["access_request_id"], id.as_str());
    assert_eq!(
        claims["authorization_details"][0]["role"],
        "production-admin"
    );
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["nbf"].as_i64().unwrap(),
        900
    );
    let approvers: Vec<&str> = claims["approvers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user"].as_str().unwrap())
        .collect();
    assert_eq!(approvers, ["bob", "dave"]);
    // One character changed, and PyJWT refuses it.
    let mut forged = token.clone().into_bytes();
    let at = forged.len() - 10;
    forged[at] = if forged[at] == b'A' { b'B' } else { b'A' };
    assert!(
        verify_with_pyjwt(&team, std::str::from_utf8(&forged).unwrap())
            .await
            .is_err()
    );

    // The webhook tells the application the outcome.
    let final_event = wait_for_event(&seen, "access_request.final").await;
    assert_eq!(final_event["data"]["state"], "granted");
    assert_eq!(final_event["data"]["requester"], "alice");
    assert_eq!(
        final_event["data"]["approved_by"],
        serde_json::json!(["bob", "dave"])
    );
    assert_eq!(final_event["data"]["grant_id"], grant.id.as_str());

    let active = team.app.client.introspect_grant(&token).await.unwrap();
    assert!(active.active);
    assert_eq!(active.approvers, ["bob", "dave"]);
    // Another application learns nothing of it.
    let other = team.server.app("Other").await;
    let foreign = other.client.introspect_grant(&token).await.unwrap();
    assert!(!foreign.active && foreign.sub.is_none());

    // carol was an approver (she never answered): her device may revoke it; alice's may not.
    let refused = team.device("alice").revoke_grant(id).await;
    assert_eq!(code_of(refused), ProblemCode::NotFound);
    let revoked = team.device("carol").revoke_grant(id).await.unwrap();
    let revoked_grant = revoked.grant.unwrap();
    assert!(
        revoked_grant.token.is_none(),
        "a device never holds the grant"
    );
    assert!(revoked_grant.revoked_at.is_some());
    assert!(revoked_grant.revoked_by.unwrap().starts_with("user:"));
    let inactive = team.app.client.introspect_grant(&token).await.unwrap();
    assert!(!inactive.active);
    assert!(inactive.revoked_at.is_some());
    let event = wait_for_event(&seen, "access_grant.revoked").await;
    assert_eq!(event["data"]["access_request_id"], id.as_str());
    assert_eq!(event["data"]["grant_id"], grant.id.as_str());
    // Revoked once: a second revocation is refused and writes nothing.
    let again = team.server.admin.revoke_grant(id).await;
    assert_eq!(code_of(again), ProblemCode::AlreadyDecided);
    assert_eq!(audit_data(&team.server, "access_grant_revoked").len(), 1);
    // History stays: the admin still reads the whole request.
    let history = team.server.admin.access_request(id).await.unwrap();
    assert_eq!(history.state, "granted");
    assert_eq!(history.approved_by, ["bob", "dave"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_revokes_a_grant_and_it_is_inactive_after_its_end() {
    let team = Team::new().await;
    let grant_of = |id: String| {
        let client = team.app.client.clone();
        async move {
            let grant = client.access_request(&id).await.unwrap().grant.unwrap();
            grant.token.expect("the application holds the grant")
        }
    };
    let first = team.ask(1, 1).await;
    team.answer(&first, "carol", Decision::Approve)
        .await
        .unwrap();
    let lasting = grant_of(first.access_request.id.clone()).await;
    assert!(
        team.app
            .client
            .introspect_grant(&lasting)
            .await
            .unwrap()
            .active
    );

    let second = team.ask(1, 1).await;
    team.answer(&second, "bob", Decision::Approve)
        .await
        .unwrap();
    let id = &second.access_request.id;
    let revoked = team.server.admin.revoke_grant(id).await.unwrap();
    let by = revoked.grant.unwrap().revoked_by.unwrap();
    assert!(by.starts_with("admin:"), "{by}");
    let token = grant_of(id.clone()).await;
    assert!(
        !team
            .app
            .client
            .introspect_grant(&token)
            .await
            .unwrap()
            .active
    );

    // Neither garbage nor a receipt is a grant.
    let garbage = team.app.client.introspect_grant("not.a.jwt").await.unwrap();
    assert!(!garbage.active);
    let approval = second.approvers[0].approval_id.clone().unwrap();
    let receipt = team
        .app
        .client
        .approval(&approval, None)
        .await
        .unwrap()
        .receipt
        .unwrap();
    assert!(
        !team
            .app
            .client
            .introspect_grant(&receipt)
            .await
            .unwrap()
            .active
    );
    // A pending request has no grant to revoke.
    let third = team.ask(1, 1).await;
    let refused = team
        .server
        .admin
        .revoke_grant(&third.access_request.id)
        .await;
    assert_eq!(code_of(refused), ProblemCode::InvalidRequest);

    // Past its end the first grant is inactive, though nobody revoked it.
    team.server.clock.advance(time::Duration::seconds(901));
    let ended = team.app.client.introspect_grant(&lasting).await.unwrap();
    assert!(!ended.active, "past its end");
    assert!(ended.revoked_at.is_none());
}

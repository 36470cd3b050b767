//! Ping and push modes through a real notification endpoint: the client's bearer token on every
//! call, `{"auth_req_id"}` pings after which the token endpoint answers, pushed tokens that
//! verify (with `at_hash` and the `auth_req_id` claim), pushed errors for a denial and an expiry,
//! and a refused delivery retried with the same tokens.

use super::{Auth, Setup};
use assent_proto::oauth::tokens::at_hash;
use assent_proto::statement::Decision;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::Value;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// A client's notification endpoint: records every call, refuses the first `refuse`.
#[derive(Clone, Default)]
struct Endpoint {
    seen: Arc<Mutex<Vec<(String, Value)>>>,
    refuse: Arc<AtomicU32>,
}

async fn receive(State(e): State<Endpoint>, headers: HeaderMap, body: String) -> StatusCode {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    e.seen
        .lock()
        .unwrap()
        .push((bearer, serde_json::from_str(&body).unwrap_or(Value::Null)));
    let refused = e
        .refuse
        .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
        .is_ok();
    if refused {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::NO_CONTENT
    }
}

async fn endpoint(refuse: u32) -> (String, Endpoint) {
    let e = Endpoint {
        refuse: Arc::new(AtomicU32::new(refuse)),
        ..Endpoint::default()
    };
    let app = axum::Router::new()
        .route("/cb", axum::routing::post(receive))
        .with_state(e.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/cb", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, e)
}

/// Waits until the endpoint saw `count` calls; returns them.
async fn calls(e: &Endpoint, count: usize) -> Vec<(String, Value)> {
    for _ in 0..200 {
        let seen = e.seen.lock().unwrap().clone();
        if seen.len() >= count {
            return seen;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("notifications never arrived: {:?}", e.seen.lock().unwrap());
}

async fn fast_setup() -> Setup {
    Setup::with(|c| {
        c.webhooks.poll_ms = 50;
        c.webhooks.initial_backoff_ms = 1000;
    })
    .await
}

const TOKEN: &str = "aW4gdGhlIGNsaWVudCdzIGNhcmU";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ping_mode_notifies_with_the_bearer_token_then_the_tokens_are_fetched() {
    let setup = fast_setup().await;
    let (url, e) = endpoint(0).await;
    let (id, secret) = setup.secret_client("ping", Some(url), false).await;
    let auth = Auth::Basic { id, secret };
    let started = setup
        .start(&auth, &[("client_notification_token", TOKEN)])
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(started.body["interval"], 5);
    let req_id = started.body["auth_req_id"].as_str().unwrap().to_owned();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        e.seen.lock().unwrap().is_empty(),
        "no ping while the user has not answered"
    );

    setup
        .answer(Decision::Approve, started.body["display_code"].as_str())
        .await;
    let seen = calls(&e, 1).await;
    assert_eq!(seen[0].0, format!("Bearer {TOKEN}"));
    assert_eq!(seen[0].1, serde_json::json!({"auth_req_id": req_id}));
    let tokens = setup.token(&auth, &req_id, None).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);

    // A denial pings too, and the token endpoint then says so.
    let started = setup
        .start(&auth, &[("client_notification_token", TOKEN)])
        .await;
    let req_id = started.body["auth_req_id"].as_str().unwrap().to_owned();
    setup.answer(Decision::Deny, None).await;
    let seen = calls(&e, 2).await;
    assert_eq!(seen[1].1["auth_req_id"], req_id.as_str());
    let denied = setup.token(&auth, &req_id, None).await;
    assert_eq!((denied.status, denied.error()), (400, "access_denied"));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(e.seen.lock().unwrap().len(), 2, "each notification once");

    // Ping and push clients must send a notification token.
    let missing = setup.start(&auth, &[]).await;
    assert_eq!((missing.status, missing.error()), (400, "invalid_request"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_mode_delivers_tokens_that_verify_and_a_retry_carries_the_same_ones() {
    let setup = fast_setup().await;
    let (url, e) = endpoint(1).await;
    let (id, secret) = setup.secret_client("push", Some(url), false).await;
    let auth = Auth::Basic {
        id: id.clone(),
        secret,
    };
    let started = setup
        .start(&auth, &[("client_notification_token", TOKEN)])
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert!(
        started.body.get("interval").is_none(),
        "push clients do not poll"
    );
    let req_id = started.body["auth_req_id"].as_str().unwrap().to_owned();
    let approval_id = setup
        .answer(Decision::Approve, started.body["display_code"].as_str())
        .await;

    // The first attempt is refused; the retry comes once its time has come on the server clock.
    let first = calls(&e, 1).await;
    setup.server.clock.advance(time::Duration::seconds(2));
    let seen = calls(&e, 2).await;
    let (bearer, body) = &seen[1];
    assert_eq!(bearer, &format!("Bearer {TOKEN}"));
    assert_eq!(body["auth_req_id"], req_id.as_str());
    assert_eq!(body["token_type"], "Bearer");
    let access = body["access_token"].as_str().unwrap();
    let (_, id_token) = setup.verified(body["id_token"].as_str().unwrap()).await;
    assert_eq!(id_token["aud"], id.as_str());
    assert_eq!(id_token["at_hash"], at_hash(access));
    assert_eq!(
        id_token["urn:openid:params:jwt:claim:auth_req_id"],
        req_id.as_str()
    );
    let (_, claims) = setup.verified(access).await;
    assert_eq!(claims["approval_id"], approval_id.as_str());
    let (_, first_claims) = setup
        .verified(first[0].1["access_token"].as_str().unwrap())
        .await;
    assert_eq!(first_claims, claims, "the retry carries the same claims");
    assert_eq!(
        crate::support::audit_data(&setup.server, "ciba_tokens_issued").len(),
        1,
        "issued once"
    );
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(e.seen.lock().unwrap().len(), 2, "delivered: never again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn push_mode_delivers_a_denial_and_an_expiry_as_errors() {
    let setup = fast_setup().await;
    let (url, e) = endpoint(0).await;
    let (id, secret) = setup.secret_client("push", Some(url), false).await;
    let auth = Auth::Basic { id, secret };

    let started = setup
        .start(&auth, &[("client_notification_token", TOKEN)])
        .await;
    let denied_id = started.body["auth_req_id"].as_str().unwrap().to_owned();
    setup.answer(Decision::Deny, None).await;
    let seen = calls(&e, 1).await;
    assert_eq!(seen[0].1["auth_req_id"], denied_id.as_str());
    assert_eq!(seen[0].1["error"], "access_denied");
    assert!(seen[0].1.get("access_token").is_none());

    let started = setup
        .start(
            &auth,
            &[
                ("client_notification_token", TOKEN),
                ("requested_expiry", "30"),
            ],
        )
        .await;
    let expired_id = started.body["auth_req_id"].as_str().unwrap().to_owned();
    setup.server.clock.advance(time::Duration::seconds(31));
    let seen = calls(&e, 2).await;
    assert_eq!(seen[1].1["auth_req_id"], expired_id.as_str());
    assert_eq!(seen[1].1["error"], "expired_token");
}

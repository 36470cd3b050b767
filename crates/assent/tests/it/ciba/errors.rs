//! Every error the CIBA specification names, each in its own test, with its status: OAuth error
//! bodies, never problem documents.

use super::{Auth, Setup, hint_token};
use assent_proto::jose::SigningKey;
use assent_proto::statement::Decision;
use serde_json::json;
use time::Duration;

async fn secret_setup() -> (Setup, Auth) {
    let setup = Setup::new().await;
    let (id, secret) = setup.secret_client("poll", None, false).await;
    (setup, Auth::Basic { id, secret })
}

#[tokio::test]
async fn invalid_request_two_hints_or_none() {
    let (setup, auth) = secret_setup().await;
    let two = setup.start(&auth, &[("id_token_hint", "x.y.z")]).await;
    assert_eq!((two.status, two.error()), (400, "invalid_request"));
    assert!(
        two.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let none = setup
        .post("/oauth2/bc-authorize", &auth, &[("scope", "openid")], None)
        .await;
    assert_eq!((none.status, none.error()), (400, "invalid_request"));
    let not_form = reqwest::Client::new()
        .post(setup.url("/oauth2/bc-authorize"))
        .json(&json!({"scope": "openid", "login_hint": "alice"}))
        .send()
        .await
        .unwrap();
    assert_eq!(not_form.status(), 400);
    assert_eq!(
        not_form.json::<serde_json::Value>().await.unwrap()["error"],
        "invalid_request"
    );
}

#[tokio::test]
async fn invalid_scope_without_openid() {
    let (setup, auth) = secret_setup().await;
    let r = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[("scope", "profile"), ("login_hint", "alice")],
            None,
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_scope"));
}

#[tokio::test]
async fn unknown_user_id_for_a_hint_naming_no_one() {
    let (setup, auth) = secret_setup().await;
    let r = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[("scope", "openid"), ("login_hint", "mallory")],
            None,
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "unknown_user_id"));
}

#[tokio::test]
async fn unauthorized_client_a_push_client_at_the_token_endpoint() {
    let setup = Setup::new().await;
    let (id, secret) = setup
        .secret_client("push", Some("http://127.0.0.1:9/cb".into()), false)
        .await;
    let auth = Auth::Basic { id, secret };
    let started = setup
        .start(
            &auth,
            &[(
                "client_notification_token",
                "8d67dc78-7faa-4d41-aabd-67707b374255",
            )],
        )
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    let r = setup
        .token(&auth, started.body["auth_req_id"].as_str().unwrap(), None)
        .await;
    assert_eq!((r.status, r.error()), (400, "unauthorized_client"));
}

#[tokio::test]
async fn invalid_binding_message_with_a_control_character_or_too_long() {
    let (setup, auth) = secret_setup().await;
    let params = |m: &'static str| {
        [
            ("scope", "openid"),
            ("login_hint", "alice"),
            ("binding_message", m),
        ]
    };
    let r = setup
        .post("/oauth2/bc-authorize", &auth, &params("Pay\u{7}now"), None)
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_binding_message"));
    let long = "é".repeat(501);
    let r = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[
                ("scope", "openid"),
                ("login_hint", "alice"),
                ("binding_message", &long),
            ],
            None,
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_binding_message"));
    // Spaces and non-ASCII are fine.
    let ok = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &params("Überweisung 1.250,00 € an ACME"),
            None,
        )
        .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

#[tokio::test]
async fn invalid_client_wrong_secret_unknown_client_or_none() {
    let (setup, auth) = secret_setup().await;
    let Auth::Basic { id, .. } = &auth else {
        unreachable!()
    };
    let wrong = Auth::Basic {
        id: id.clone(),
        secret: "not-the-secret".into(),
    };
    let r = setup.start(&wrong, &[]).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    assert!(
        r.headers["www-authenticate"]
            .to_str()
            .unwrap()
            .starts_with("Basic")
    );
    let unknown = Auth::Post {
        id: "ciba_nobody".into(),
        secret: "x".into(),
    };
    let r = setup.start(&unknown, &[]).await;
    assert_eq!((r.status, r.error()), (401, "invalid_client"));
    let body = "scope=openid&login_hint=alice";
    let none = reqwest::Client::new()
        .post(setup.url("/oauth2/bc-authorize"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(none.status(), 401);
}

#[tokio::test]
async fn access_denied_when_the_user_denies() {
    let (setup, auth) = secret_setup().await;
    let started = setup.start(&auth, &[]).await;
    setup.answer(Decision::Deny, None).await;
    let r = setup
        .token(&auth, started.body["auth_req_id"].as_str().unwrap(), None)
        .await;
    assert_eq!((r.status, r.error()), (400, "access_denied"));
}

#[tokio::test]
async fn access_denied_at_the_backchannel_when_the_policy_refuses() {
    let (setup, auth) = secret_setup().await;
    // A fraud report suspends push for the user: the next request is refused at once.
    let started = setup.start(&auth, &[]).await;
    assert_eq!(started.status, 200);
    setup.answer(Decision::Fraud, None).await;
    let r = setup.start(&auth, &[]).await;
    assert_eq!((r.status, r.error()), (403, "access_denied"));
}

#[tokio::test]
async fn missing_user_code_when_the_client_must_send_one() {
    let setup = Setup::new().await;
    let (id, secret) = setup.secret_client("poll", None, true).await;
    let r = setup.start(&Auth::Basic { id, secret }, &[]).await;
    assert_eq!((r.status, r.error()), (400, "missing_user_code"));
}

#[tokio::test]
async fn invalid_user_code_when_it_is_not_the_users_totp() {
    let setup = Setup::new().await;
    let (id, secret) = setup.secret_client("poll", None, true).await;
    // With TOTP enrolled, a wrong code is refused; without TOTP, any code is.
    let r = setup
        .start(&Auth::Basic { id, secret }, &[("user_code", "000000")])
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_user_code"));
}

#[tokio::test]
async fn expired_login_hint_token() {
    let setup = Setup::new().await;
    let (id, key) = setup.key_client().await;
    let now = setup.now();
    let hint = hint_token(&key, now - 1);
    let auth = Auth::Key { id, key };
    let r = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[("scope", "openid"), ("login_hint_token", &hint)],
            None,
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "expired_login_hint_token"));
    // One signed by a key the client did not register is not trusted at all.
    let stranger = SigningKey::generate().unwrap();
    let forged = hint_token(&stranger, now + 60);
    let r = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[("scope", "openid"), ("login_hint_token", &forged)],
            None,
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_request"));
}

#[tokio::test]
async fn expired_token_when_the_user_never_answers() {
    let (setup, auth) = secret_setup().await;
    let started = setup.start(&auth, &[("requested_expiry", "30")]).await;
    assert_eq!(started.body["expires_in"], 30);
    setup.server.clock.advance(Duration::seconds(31));
    let r = setup
        .token(&auth, started.body["auth_req_id"].as_str().unwrap(), None)
        .await;
    assert_eq!((r.status, r.error()), (400, "expired_token"));
}

#[tokio::test]
async fn requested_expiry_is_capped_at_ten_minutes() {
    let (setup, auth) = secret_setup().await;
    let started = setup.start(&auth, &[("requested_expiry", "86400")]).await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(started.body["expires_in"], 600);
}

#[tokio::test]
async fn invalid_grant_for_an_unknown_or_foreign_auth_req_id() {
    let (setup, auth) = secret_setup().await;
    let r = setup.token(&auth, "no-such-request", None).await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));
    // Another client's request is as unknown as a made-up one.
    let started = setup.start(&auth, &[]).await;
    let (id, secret) = setup.secret_client("poll", None, false).await;
    let r = setup
        .token(
            &Auth::Post { id, secret },
            started.body["auth_req_id"].as_str().unwrap(),
            None,
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "invalid_grant"));
}

#[tokio::test]
async fn unsupported_grant_type() {
    let (setup, auth) = secret_setup().await;
    let r = setup
        .post(
            "/oauth2/token",
            &auth,
            &[("grant_type", "client_credentials")],
            None,
        )
        .await;
    assert_eq!((r.status, r.error()), (400, "unsupported_grant_type"));
}

#[tokio::test]
async fn slow_down_grows_the_interval_by_five_seconds_each_time() {
    let (setup, auth) = secret_setup().await;
    let started = setup.start(&auth, &[]).await;
    let id = started.body["auth_req_id"].as_str().unwrap().to_owned();
    let first = setup.token(&auth, &id, None).await;
    assert_eq!(first.error(), "authorization_pending");
    let early = setup.token(&auth, &id, None).await;
    assert_eq!((early.status, early.error()), (400, "slow_down"));
    assert!(
        early.body["error_description"]
            .as_str()
            .unwrap()
            .contains("10 seconds")
    );
    // Waiting 5 s is no longer enough: the interval is 10 now.
    setup.server.clock.advance(Duration::seconds(5));
    let still_early = setup.token(&auth, &id, None).await;
    assert_eq!(still_early.error(), "slow_down");
    assert!(
        still_early.body["error_description"]
            .as_str()
            .unwrap()
            .contains("15 seconds")
    );
    setup.server.clock.advance(Duration::seconds(15));
    let on_time = setup.token(&auth, &id, None).await;
    assert_eq!(on_time.error(), "authorization_pending");
}

#[tokio::test]
async fn invalid_authorization_details_that_are_not_objects_with_a_type() {
    let (setup, auth) = secret_setup().await;
    let r = setup
        .start(&auth, &[("authorization_details", r#"[{"amount": "5"}]"#)])
        .await;
    assert_eq!(
        (r.status, r.error()),
        (400, "invalid_authorization_details")
    );
    let r = setup
        .start(&auth, &[("authorization_details", "not json")])
        .await;
    assert_eq!(
        (r.status, r.error()),
        (400, "invalid_authorization_details")
    );
}

//! The poll flow end to end, the ways a client authenticates, signed request objects, hints,
//! revocation and introspection.

use super::{Auth, Setup, hint_token};
use assent_proto::jose::{JwkSet, SigningKey};
use assent_proto::oauth::tokens::at_hash;
use assent_proto::statement::Decision;
use serde_json::{Value, json};
use time::Duration;

#[tokio::test]
async fn discovery_names_the_endpoints_modes_and_extensions() {
    let setup = Setup::new().await;
    let meta: Value = reqwest::get(setup.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let base = &setup.issuer();
    assert_eq!(meta["issuer"], base.as_str());
    assert_eq!(meta["jwks_uri"], format!("{base}/.well-known/jwks.json"));
    assert_eq!(
        meta["backchannel_authentication_endpoint"],
        format!("{base}/oauth2/bc-authorize")
    );
    assert_eq!(meta["token_endpoint"], format!("{base}/oauth2/token"));
    assert_eq!(
        meta["backchannel_token_delivery_modes_supported"],
        json!(["poll", "ping", "push"])
    );
    assert_eq!(meta["backchannel_user_code_parameter_supported"], true);
    assert_eq!(
        meta["grant_types_supported"],
        json!(["urn:openid:params:grant-type:ciba"])
    );
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt"
        ])
    );
    assert_eq!(
        meta["id_token_signing_alg_values_supported"],
        json!(["ES256"])
    );
    assert_eq!(meta["subject_types_supported"], json!(["public"]));
    assert!(meta["backchannel_authentication_request_signing_alg_values_supported"].is_array());
    assert!(meta["response_types_supported"].is_array());
    assert_eq!(meta["backchannel_display_code_supported"], true);
    // An agent's types are listed once one is registered.
    assert_eq!(meta["authorization_details_types_supported"], json!([]));
    setup.agent().await;
    let meta: Value = reqwest::get(setup.url("/.well-known/openid-configuration"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        meta["authorization_details_types_supported"],
        json!(["payment_initiation"])
    );
}

#[tokio::test]
async fn poll_mode_end_to_end_with_client_secret_basic() {
    let setup = Setup::new().await;
    let (id, secret) = setup.secret_client("poll", None, false).await;
    let auth = Auth::Basic {
        id: id.clone(),
        secret,
    };
    let started = setup.start(&auth, &[]).await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(started.headers["cache-control"], "no-store");
    assert_eq!(started.body["interval"], 5);
    assert!(started.body["expires_in"].as_u64().unwrap() <= 120);
    let req_id = started.body["auth_req_id"].as_str().unwrap().to_owned();
    assert!(
        req_id.len() >= 43,
        "an auth_req_id carries at least 256 bits"
    );
    let code = started.body["display_code"].as_str().unwrap().to_owned();

    let pending = setup.token(&auth, &req_id, None).await;
    assert_eq!(
        (pending.status, pending.error()),
        (400, "authorization_pending")
    );

    // The device shows the binding message and the user types the code the client displayed.
    let shown = setup.device.pending().await.unwrap();
    assert_eq!(
        shown[0].binding_message.as_deref(),
        Some("Sign in to Acme Bank")
    );
    assert_eq!(shown[0].application.name, "Acme Bank");
    let approval_id = setup.answer(Decision::Approve, Some(&code)).await;
    setup.server.clock.advance(Duration::seconds(5));

    let tokens = setup.token(&auth, &req_id, None).await;
    assert_eq!(tokens.status, 200, "{}", tokens.body);
    assert_eq!(tokens.headers["cache-control"], "no-store");
    assert_eq!(tokens.body["token_type"], "Bearer");
    let access = tokens.body["access_token"].as_str().unwrap();
    let (typ, id_token) = setup
        .verified(tokens.body["id_token"].as_str().unwrap())
        .await;
    assert_eq!(typ.as_deref(), Some("JWT"));
    assert_eq!(id_token["iss"], setup.issuer());
    assert_eq!(id_token["aud"], id.as_str());
    assert_eq!(id_token["acr"], "urn:assent:acr:device");
    assert_eq!(id_token["amr"], json!(["pop", "user"]));
    assert_eq!(id_token["at_hash"], at_hash(access));
    assert!(id_token["auth_time"].as_i64().unwrap() <= id_token["iat"].as_i64().unwrap());
    let (typ, claims) = setup.verified(access).await;
    assert_eq!(typ.as_deref(), Some("at+jwt"));
    assert_eq!(claims["sub"], id_token["sub"]);
    assert_eq!(claims["client_id"], id.as_str());
    assert_eq!(claims["scope"], "openid");
    assert_eq!(claims["approval_id"], approval_id.as_str());
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        300
    );
    // The receipt is the approval's, and verifies offline with the published keys.
    let jwks: JwkSet = reqwest::get(setup.url("/.well-known/jwks.json"))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let receipt =
        assent_proto::receipt::verify_receipt(tokens.body["receipt"].as_str().unwrap(), &jwks)
            .unwrap();
    assert_eq!(receipt.receipt.approval_id, approval_id);

    // Tokens are issued once.
    let again = setup.token(&auth, &req_id, None).await;
    assert_eq!((again.status, again.error()), (400, "invalid_grant"));
    let issued = crate::support::audit_data(&setup.server, "ciba_tokens_issued");
    assert_eq!(issued.len(), 1, "{issued:?}");
}

#[tokio::test]
async fn client_secret_post_and_private_key_jwt_authenticate_and_an_assertion_is_used_once() {
    let setup = Setup::new().await;
    let (id, secret) = setup.secret_client("poll", None, false).await;
    let started = setup.start(&Auth::Post { id, secret }, &[]).await;
    assert_eq!(started.status, 200, "{}", started.body);

    let (id, key) = setup.key_client().await;
    let auth = Auth::Key {
        id: id.clone(),
        key: key.clone(),
    };
    let started = setup.start(&auth, &[("binding_message", "Sign in")]).await;
    // `binding_message` twice is refused: the helper sends one, the extra is a repeat.
    assert_eq!((started.status, started.error()), (400, "invalid_request"));
    let started = setup.start(&auth, &[]).await;
    assert_eq!(started.status, 200, "{}", started.body);

    // The same assertion a second time is refused.
    let assertion = setup.assertion(&id, &key);
    let body = [
        ("scope", "openid"),
        ("login_hint", "alice"),
        (
            "client_assertion_type",
            "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        ),
        ("client_assertion", assertion.as_str()),
    ];
    let first = post_raw(&setup, "/oauth2/bc-authorize", &body).await;
    assert_eq!(first.status, 200, "{}", first.body);
    let replay = post_raw(&setup, "/oauth2/bc-authorize", &body).await;
    assert_eq!((replay.status, replay.error()), (401, "invalid_client"));

    // An assertion signed by another key is refused.
    let other = SigningKey::generate().unwrap();
    let forged = Auth::Key {
        id,
        key: std::sync::Arc::new(other),
    };
    let refused = setup.start(&forged, &[]).await;
    assert_eq!((refused.status, refused.error()), (401, "invalid_client"));
}

/// POSTs exactly `params`, with no client authentication added.
async fn post_raw(setup: &Setup, path: &str, params: &[(&str, &str)]) -> super::Reply {
    let body = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish();
    let response = reqwest::Client::new()
        .post(setup.url(path))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let body = response.json().await.unwrap_or(Value::Null);
    super::Reply {
        status,
        body,
        headers,
    }
}

#[tokio::test]
async fn a_signed_request_object_carries_the_request_and_is_used_once() {
    let setup = Setup::new().await;
    let (id, key) = setup.key_client().await;
    let now = setup.now();
    let object = key
        .sign(
            "oauth-authz-req+jwt",
            Some(&key.jwk().thumbprint()),
            false,
            &json!({
                "iss": id, "aud": setup.issuer(), "iat": now, "nbf": now, "exp": now + 300,
                "jti": "request-1", "scope": "openid", "login_hint": "alice",
                "binding_message": "Pay 1.250,00 € to ACME GmbH",
                "requested_expiry": 60,
                "authorization_details": [{"type": "payment_initiation", "amount": "1250.00", "currency": "EUR", "creditor": "ACME GmbH"}],
            }),
        )
        .unwrap();
    let auth = Auth::Key {
        id: id.clone(),
        key: key.clone(),
    };
    let started = setup
        .post("/oauth2/bc-authorize", &auth, &[("request", &object)], None)
        .await;
    assert_eq!(started.status, 200, "{}", started.body);
    assert_eq!(started.body["expires_in"], 60);
    let shown = setup.device.pending().await.unwrap();
    assert_eq!(
        shown[0].binding_message.as_deref(),
        Some("Pay 1.250,00 € to ACME GmbH")
    );
    assert_eq!(shown[0].authorization_details[0]["creditor"], "ACME GmbH");

    let replay = setup
        .post("/oauth2/bc-authorize", &auth, &[("request", &object)], None)
        .await;
    assert_eq!((replay.status, replay.error()), (400, "invalid_request"));
    // Parameters beside a request object are refused.
    let beside = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[("request", &object), ("login_hint", "alice")],
            None,
        )
        .await;
    assert_eq!((beside.status, beside.error()), (400, "invalid_request"));
    // A request object signed by another key is refused.
    let other = SigningKey::generate().unwrap();
    let forged = other
        .sign("oauth-authz-req+jwt", None, false, &json!({"iss": id, "aud": setup.issuer(), "iat": now, "nbf": now, "exp": now + 300, "jti": "request-2", "scope": "openid", "login_hint": "alice"}))
        .unwrap();
    let refused = setup
        .post("/oauth2/bc-authorize", &auth, &[("request", &forged)], None)
        .await;
    assert_eq!((refused.status, refused.error()), (400, "invalid_request"));
}

#[tokio::test]
async fn an_id_token_hint_and_a_login_hint_token_name_the_user() {
    let setup = Setup::new().await;
    let (id, key) = setup.key_client().await;
    let auth = Auth::Key {
        id: id.clone(),
        key: key.clone(),
    };
    // A first sign-in, to get an ID token.
    let tokens = setup.approved_tokens(&auth).await;
    let id_token = tokens.body["id_token"].as_str().unwrap().to_owned();

    let by_id_token = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[("scope", "openid"), ("id_token_hint", &id_token)],
            None,
        )
        .await;
    assert_eq!(by_id_token.status, 200, "{}", by_id_token.body);

    let now = setup.now();
    let hint = hint_token(&key, now + 60);
    let by_hint_token = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[("scope", "openid"), ("login_hint_token", &hint)],
            None,
        )
        .await;
    assert_eq!(by_hint_token.status, 200, "{}", by_hint_token.body);

    // An ID token that another server signed is not a hint Assent trusts.
    let stranger = SigningKey::generate().unwrap();
    let forged = stranger
        .sign("JWT", None, false, &json!({"iss": setup.issuer(), "sub": "x", "aud": id, "iat": now, "exp": now + 60, "auth_time": now}))
        .unwrap();
    let refused = setup
        .post(
            "/oauth2/bc-authorize",
            &auth,
            &[("scope", "openid"), ("id_token_hint", &forged)],
            None,
        )
        .await;
    assert_eq!((refused.status, refused.error()), (400, "invalid_request"));
}

#[tokio::test]
async fn revocation_ends_a_token_and_introspection_says_so() {
    let setup = Setup::new().await;
    let (id, secret) = setup.secret_client("poll", None, false).await;
    let auth = Auth::Basic { id, secret };
    let tokens = setup.approved_tokens(&auth).await;
    let access = tokens.body["access_token"].as_str().unwrap().to_owned();

    let active = setup
        .post("/oauth2/introspect", &auth, &[("token", &access)], None)
        .await;
    assert_eq!(active.status, 200, "{}", active.body);
    assert_eq!(active.body["active"], true);
    assert_eq!(active.body["scope"], "openid");

    // Another client cannot revoke it (the answer is the same 200, and nothing changes).
    let (other_id, other_secret) = setup.secret_client("poll", None, false).await;
    let other = Auth::Post {
        id: other_id,
        secret: other_secret,
    };
    let foreign = setup
        .post("/oauth2/revoke", &other, &[("token", &access)], None)
        .await;
    assert_eq!(foreign.status, 200);
    let still = setup
        .post("/oauth2/introspect", &auth, &[("token", &access)], None)
        .await;
    assert_eq!(still.body["active"], true);

    let revoked = setup
        .post("/oauth2/revoke", &auth, &[("token", &access)], None)
        .await;
    assert_eq!(revoked.status, 200, "{}", revoked.body);
    let inactive = setup
        .post("/oauth2/introspect", &auth, &[("token", &access)], None)
        .await;
    assert_eq!(inactive.body, json!({"active": false}));
    assert_eq!(
        crate::support::audit_data(&setup.server, "access_token_revoked").len(),
        1
    );

    // Garbage is simply inactive.
    let garbage = setup
        .post(
            "/oauth2/introspect",
            &auth,
            &[("token", "not-a-token")],
            None,
        )
        .await;
    assert_eq!(garbage.body, json!({"active": false}));
}

#[tokio::test]
async fn an_expired_access_token_is_inactive() {
    let setup = Setup::new().await;
    let (id, secret) = setup.secret_client("poll", None, false).await;
    let auth = Auth::Basic { id, secret };
    let tokens = setup.approved_tokens(&auth).await;
    let access = tokens.body["access_token"].as_str().unwrap().to_owned();
    setup.server.clock.advance(Duration::seconds(301));
    let expired = setup
        .post("/oauth2/introspect", &auth, &[("token", &access)], None)
        .await;
    assert_eq!(expired.body, json!({"active": false}));
}

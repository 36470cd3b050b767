use super::*;
use crate::jose::SigningKey;
use crate::oauth::backchannel::BackchannelRequest;
use crate::oauth::testkit::{Signer, ec_jwk, jwt, jwt_raw, rsa_jwk};
use serde_json::{Map, json};

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://assent.example";

fn claims() -> Value {
    json!({
        "iss": "agent-1",
        "aud": ISSUER,
        "exp": NOW + 300,
        "iat": NOW,
        "nbf": NOW,
        "jti": "r1",
        "scope": "openid",
        "login_hint": "alice",
        "binding_message": "Deploy v2",
        "requested_expiry": 120,
        "authorization_details": [{"type": "deploy", "env": "prod", "replicas": 3}],
    })
}

fn setup() -> (SigningKey, ClientKeySet) {
    let ec = SigningKey::generate().unwrap();
    let keys =
        ClientKeySet::parse(&json!({"keys": [ec_jwk(&ec, None), rsa_jwk(None)]}).to_string())
            .unwrap();
    (ec, keys)
}

fn verify(token: &str, keys: &ClientKeySet) -> Result<VerifiedRequestObject, OAuthError> {
    verify_request_object(token, keys, "agent-1", ISSUER, NOW, 30)
}

fn with(key: &SigningKey, change: impl FnOnce(&mut Map<String, Value>)) -> String {
    let mut claims = claims();
    if let Value::Object(map) = &mut claims {
        change(map);
    }
    jwt(&json!({"alg": "ES256"}), &claims, Signer::Ec(key))
}

fn refused(token: &str, keys: &ClientKeySet) -> String {
    let error = verify(token, keys).unwrap_err();
    assert_eq!(error.error, OAuthErrorCode::InvalidRequest, "{error}");
    error.to_string()
}

#[test]
fn claims_become_the_request_parameters() {
    let (ec, keys) = setup();
    for token in [
        jwt(
            &json!({"alg": "ES256", "typ": "oauth-authz-req+jwt"}),
            &claims(),
            Signer::Ec(&ec),
        ),
        jwt(&json!({"alg": "PS256"}), &claims(), Signer::Rsa),
    ] {
        let verified = verify(&token, &keys).unwrap();
        assert_eq!(verified.jti, "r1");
        assert_eq!(verified.expires_at, NOW + 300);
        let params = &verified.params;
        assert_eq!(params.get("requested_expiry"), Some("120"));
        assert_eq!(params.get("iss"), None);
        assert_eq!(params.get("jti"), None);
        let request = BackchannelRequest::from_params(params).unwrap();
        assert_eq!(request.requested_expiry, Some(120));
        assert_eq!(request.binding_message.as_deref(), Some("Deploy v2"));
        assert_eq!(
            request.authorization_details,
            [json!({"type": "deploy", "env": "prod", "replicas": 3})]
        );
    }
}

#[test]
fn refuses_bad_signatures_as_invalid_request() {
    let (_, keys) = setup();
    let stranger = SigningKey::generate().unwrap();
    assert!(refused(&with(&stranger, |_| {}), &keys).contains("signature"));
    assert!(refused("not-a-jwt", &keys).contains("request object"));
}

#[test]
fn refuses_another_issuer_or_audience() {
    let (ec, keys) = setup();
    assert!(
        refused(
            &with(&ec, |c| {
                c.insert("iss".into(), "agent-2".into());
            }),
            &keys
        )
        .contains("iss")
    );
    assert!(
        refused(
            &with(&ec, |c| {
                c.remove("iss");
            }),
            &keys
        )
        .contains("iss")
    );
    assert!(
        refused(
            &with(&ec, |c| {
                c.insert("aud".into(), "https://other".into());
            }),
            &keys
        )
        .contains("aud")
    );
    assert!(
        verify(
            &with(&ec, |c| {
                c.insert("aud".into(), json!(["x", ISSUER]));
            }),
            &keys
        )
        .is_ok()
    );
    assert!(
        refused(
            &with(&ec, |c| {
                c.insert("client_id".into(), "agent-2".into());
            }),
            &keys
        )
        .contains("client_id")
    );
    assert!(
        verify(
            &with(&ec, |c| {
                c.insert("client_id".into(), "agent-1".into());
            }),
            &keys
        )
        .is_ok()
    );
}

#[test]
fn every_time_claim_and_jti_is_required() {
    let (ec, keys) = setup();
    for name in ["exp", "iat", "nbf", "jti"] {
        let description = refused(
            &with(&ec, |c| {
                c.remove(name);
            }),
            &keys,
        );
        assert!(
            description.contains(&format!("{name} is required")),
            "{description}"
        );
    }
    assert!(
        refused(
            &with(&ec, |c| {
                c.insert("jti".into(), "".into());
            }),
            &keys
        )
        .contains("jti")
    );
}

#[test]
fn refuses_expired_early_and_long_lived_objects() {
    let (ec, keys) = setup();
    let at = |exp: i64, nbf: i64, iat: i64| {
        verify(
            &with(&ec, |c| {
                c.insert("exp".into(), exp.into());
                c.insert("nbf".into(), nbf.into());
                c.insert("iat".into(), iat.into());
            }),
            &keys,
        )
    };
    assert!(
        at(NOW - 30, NOW - 100, NOW - 100)
            .unwrap_err()
            .to_string()
            .contains("expired")
    );
    assert!(at(NOW - 29, NOW - 100, NOW - 100).is_ok());
    assert!(
        at(NOW + 300, NOW + 31, NOW)
            .unwrap_err()
            .to_string()
            .contains("nbf")
    );
    assert!(at(NOW + 300, NOW + 30, NOW).is_ok());
    assert!(
        at(NOW + 300, NOW, NOW + 31)
            .unwrap_err()
            .to_string()
            .contains("iat")
    );
    assert!(at(NOW + 3600, NOW, NOW).is_ok());
    assert!(
        at(NOW + 3601, NOW, NOW)
            .unwrap_err()
            .to_string()
            .contains("3600")
    );
    assert!(at(i64::MAX, i64::MIN, NOW).is_err());
}

#[test]
fn refuses_nested_requests_and_other_typs() {
    let (ec, keys) = setup();
    for name in ["request", "request_uri"] {
        assert!(
            refused(
                &with(&ec, |c| {
                    c.insert(name.into(), "x".into());
                }),
                &keys
            )
            .contains("nested")
        );
    }
    for typ in ["dpop+jwt", "at+jwt", "secevent+jwt"] {
        let token = jwt(
            &json!({"alg": "ES256", "typ": typ}),
            &claims(),
            Signer::Ec(&ec),
        );
        assert!(refused(&token, &keys).contains("typ"), "{typ}");
    }
    let token = jwt(
        &json!({"alg": "ES256", "typ": "JWT"}),
        &claims(),
        Signer::Ec(&ec),
    );
    assert!(verify(&token, &keys).is_ok());
}

#[test]
fn refuses_inexact_json_in_the_payload() {
    let (ec, keys) = setup();
    let base = claims().to_string();
    let big = base.replace(r#""replicas":3"#, r#""replicas":9007199254740993"#);
    let token = jwt_raw(&json!({"alg": "ES256"}), big.as_bytes(), Signer::Ec(&ec));
    let error = verify(&token, &keys).unwrap_err();
    assert_eq!(error.error, OAuthErrorCode::InvalidAuthorizationDetails);
    let twice = base.replacen('{', r#"{"scope":"openid admin","#, 1);
    let token = jwt_raw(&json!({"alg": "ES256"}), twice.as_bytes(), Signer::Ec(&ec));
    let error = verify(&token, &keys).unwrap_err();
    assert_eq!(error.error, OAuthErrorCode::InvalidRequest);
    assert!(error.to_string().contains("twice"), "{error}");
}

#[test]
fn other_value_types_become_text() {
    let (ec, keys) = setup();
    let token = with(&ec, |c| {
        c.insert("flag".into(), true.into());
        c.insert("nothing".into(), Value::Null);
        c.insert("ratio".into(), json!(1.5));
    });
    let verified = verify(&token, &keys).unwrap();
    assert_eq!(verified.params.get("flag"), Some("true"));
    assert_eq!(verified.params.get("nothing"), None);
    assert_eq!(verified.params.get("ratio"), Some("1.5"));
}

proptest::proptest! {
    #[test]
    fn never_panics(input in "[A-Za-z0-9_.-]{0,300}", now in proptest::num::i64::ANY) {
        let (_, keys) = setup();
        let _ = verify_request_object(&input, &keys, "agent-1", ISSUER, now, 30);
    }
}

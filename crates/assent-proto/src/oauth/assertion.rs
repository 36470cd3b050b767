//! RFC 7523 client assertions (`private_key_jwt`, OpenID Connect Core §9): a client proves who
//! it is with a short-lived JWT signed by a key it registered, so no shared secret exists that
//! could leak from the server.

use super::claims;
use super::error::{OAuthError, OAuthErrorCode};
use super::keys::ClientKeySet;

/// The only `client_assertion_type` accepted (RFC 7523 §2.2).
pub const CLIENT_ASSERTION_TYPE: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// What an assertion is checked against; the caller knows the client and the time.
#[derive(Debug, Clone, Copy)]
pub struct AssertionCheck<'a> {
    /// The client the assertion must name as both `iss` and `sub`.
    pub client_id: &'a str,
    /// Values of `aud` that designate this server: its issuer and the endpoint's URL.
    pub audiences: &'a [String],
    /// Unix seconds.
    pub now: i64,
    /// Longest time from now to `exp`: a long-lived assertion is a bearer credential.
    pub max_lifetime: i64,
    /// Clock difference tolerated between the client and the server, in seconds.
    pub leeway: i64,
}

/// An assertion that passed every check but single use, which the caller enforces by storing
/// `jti` until `expires_at` and refusing it a second time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifiedAssertion {
    pub jti: String,
    pub expires_at: i64,
}

/// Verifies a client assertion. Every failure is `invalid_client` (RFC 7523 §3.2 with RFC 6749
/// §5.2), with a description that names the defect. Each check closes one attack: the
/// signature proves the key; `iss` and `sub` stop one client's assertion authenticating
/// another; `aud` stops an assertion made for another server being replayed here; `exp`, the
/// lifetime bound and `nbf`/`iat` bound how long a stolen assertion is worth anything; `jti`
/// lets the caller refuse a replay within that time.
pub fn verify_client_assertion(
    assertion: &str,
    keys: &ClientKeySet,
    check: &AssertionCheck<'_>,
) -> Result<VerifiedAssertion, OAuthError> {
    let refuse = |defect: String| {
        OAuthError::new(
            OAuthErrorCode::InvalidClient,
            format!("client assertion: {defect}"),
        )
    };
    let verified = keys
        .verify_jwt(assertion, None)
        .map_err(|e| refuse(e.to_string()))?;
    let claims = verified.claims;
    let iss = claims::string(&claims, "iss").map_err(refuse)?;
    let sub = claims::string(&claims, "sub").map_err(refuse)?;
    if iss != Some(check.client_id) || sub != Some(check.client_id) {
        return Err(refuse("iss and sub must both be the client_id".into()));
    }
    let audiences: Vec<&str> = check.audiences.iter().map(String::as_str).collect();
    claims::audience_matches(&claims, &audiences).map_err(refuse)?;
    let exp = claims::required_time(&claims, "exp").map_err(refuse)?;
    if exp <= check.now.saturating_sub(check.leeway) {
        return Err(refuse("it has expired".into()));
    }
    let latest = check
        .now
        .saturating_add(check.max_lifetime)
        .saturating_add(check.leeway);
    if exp > latest {
        return Err(refuse(format!(
            "exp is more than {} seconds ahead",
            check.max_lifetime
        )));
    }
    let horizon = check.now.saturating_add(check.leeway);
    for name in ["nbf", "iat"] {
        if claims::time(&claims, name)
            .map_err(refuse)?
            .is_some_and(|t| t > horizon)
        {
            return Err(refuse(format!("{name} is in the future")));
        }
    }
    let jti = claims::jti(&claims).map_err(refuse)?;
    Ok(VerifiedAssertion {
        jti,
        expires_at: exp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;
    use crate::oauth::testkit::{Signer, ec_jwk, jwt, rsa_jwk};
    use serde_json::{Value, json};

    const NOW: i64 = 1_800_000_000;

    fn audiences() -> Vec<String> {
        vec![
            "https://assent.example".into(),
            "https://assent.example/oauth2/token".into(),
        ]
    }

    fn check(audiences: &[String]) -> AssertionCheck<'_> {
        AssertionCheck {
            client_id: "agent-1",
            audiences,
            now: NOW,
            max_lifetime: 300,
            leeway: 30,
        }
    }

    fn claims() -> Value {
        json!({
            "iss": "agent-1",
            "sub": "agent-1",
            "aud": "https://assent.example/oauth2/token",
            "exp": NOW + 60,
            "iat": NOW,
            "jti": "a1",
        })
    }

    fn setup() -> (SigningKey, ClientKeySet) {
        let ec = SigningKey::generate().unwrap();
        let keys = ClientKeySet::parse(
            &json!({"keys": [ec_jwk(&ec, Some("e1")), rsa_jwk(Some("r1"))]}).to_string(),
        )
        .unwrap();
        (ec, keys)
    }

    fn refusal(keys: &ClientKeySet, token: &str) -> String {
        let audiences = audiences();
        let error = verify_client_assertion(token, keys, &check(&audiences)).unwrap_err();
        assert_eq!(error.error, OAuthErrorCode::InvalidClient);
        error.error_description.unwrap()
    }

    fn with(key: &SigningKey, change: impl FnOnce(&mut serde_json::Map<String, Value>)) -> String {
        let mut claims = claims();
        if let Value::Object(map) = &mut claims {
            change(map);
        }
        jwt(&json!({"alg": "ES256"}), &claims, Signer::Ec(key))
    }

    #[test]
    fn accepts_es256_and_ps256_assertions() {
        let (ec, keys) = setup();
        let audiences = audiences();
        let es = jwt(
            &json!({"alg": "ES256", "kid": "e1"}),
            &claims(),
            Signer::Ec(&ec),
        );
        let ps = jwt(&json!({"alg": "PS256"}), &claims(), Signer::Rsa);
        for token in [es, ps] {
            let verified = verify_client_assertion(&token, &keys, &check(&audiences)).unwrap();
            assert_eq!(
                verified,
                VerifiedAssertion {
                    jti: "a1".into(),
                    expires_at: NOW + 60
                }
            );
        }
        let issuer_array = with(&ec, |c| {
            c.insert("aud".into(), json!(["x", "https://assent.example"]));
        });
        assert!(verify_client_assertion(&issuer_array, &keys, &check(&audiences)).is_ok());
    }

    #[test]
    fn refuses_a_signature_by_another_key() {
        let (_, keys) = setup();
        let stranger = SigningKey::generate().unwrap();
        let token = jwt(&json!({"alg": "ES256"}), &claims(), Signer::Ec(&stranger));
        assert!(refusal(&keys, &token).contains("signature"));
        let none = format!(
            "{}.{}.",
            crate::jose::b64(r#"{"alg":"none"}"#),
            crate::jose::b64(claims().to_string())
        );
        assert!(refusal(&keys, &none).contains("alg"));
    }

    #[test]
    fn refuses_another_clients_identity() {
        let (ec, keys) = setup();
        for (name, value) in [
            ("iss", json!("agent-2")),
            ("sub", json!("agent-2")),
            ("sub", json!(7)),
        ] {
            let token = with(&ec, |c| {
                c.insert(name.into(), value);
            });
            let description = refusal(&keys, &token);
            assert!(
                description.contains("iss") || description.contains("sub"),
                "{description}"
            );
        }
        let token = with(&ec, |c| {
            c.remove("sub");
        });
        assert!(refusal(&keys, &token).contains("iss and sub"));
    }

    #[test]
    fn refuses_another_audience() {
        let (ec, keys) = setup();
        for aud in [
            json!("https://other.example"),
            json!(["https://other.example"]),
            json!(5),
        ] {
            let token = with(&ec, |c| {
                c.insert("aud".into(), aud);
            });
            assert!(refusal(&keys, &token).contains("aud"));
        }
        let token = with(&ec, |c| {
            c.remove("aud");
        });
        assert!(refusal(&keys, &token).contains("aud is required"));
    }

    #[test]
    fn refuses_expired_long_lived_and_future_assertions() {
        let (ec, keys) = setup();
        let audiences = audiences();
        let at_exp = |exp: i64| {
            let token = with(&ec, |c| {
                c.insert("exp".into(), exp.into());
            });
            verify_client_assertion(&token, &keys, &check(&audiences))
        };
        assert!(at_exp(NOW - 30).is_err());
        assert!(at_exp(NOW - 29).is_ok());
        assert!(at_exp(NOW + 330).is_ok());
        assert!(at_exp(NOW + 331).unwrap_err().to_string().contains("ahead"));
        let token = with(&ec, |c| {
            c.remove("exp");
        });
        assert!(refusal(&keys, &token).contains("exp is required"));
        for name in ["nbf", "iat"] {
            let token = with(&ec, |c| {
                c.insert(name.into(), (NOW + 31).into());
            });
            assert!(refusal(&keys, &token).contains("future"), "{name}");
            let token = with(&ec, |c| {
                c.insert(name.into(), (NOW + 30).into());
            });
            assert!(verify_client_assertion(&token, &keys, &check(&audiences)).is_ok());
            let token = with(&ec, |c| {
                c.insert(name.into(), "soon".into());
            });
            assert!(refusal(&keys, &token).contains("NumericDate"));
        }
        // Arithmetic at the edges of i64 refuses instead of overflowing.
        assert!(at_exp(i64::MAX).is_err());
        assert!(at_exp(i64::MIN).is_err());
    }

    #[test]
    fn refuses_missing_or_oversized_jti() {
        let (ec, keys) = setup();
        for jti in [
            None,
            Some(json!("")),
            Some(json!("x".repeat(257))),
            Some(json!(1)),
        ] {
            let token = with(&ec, |c| match jti {
                Some(jti) => {
                    c.insert("jti".into(), jti);
                }
                None => {
                    c.remove("jti");
                }
            });
            assert!(refusal(&keys, &token).contains("jti"));
        }
    }

    proptest::proptest! {
        #[test]
        fn never_panics(input in "[A-Za-z0-9_.-]{0,300}", now in proptest::num::i64::ANY) {
            let (_, keys) = setup();
            let audiences = audiences();
            let mut check = check(&audiences);
            check.now = now;
            let _ = verify_client_assertion(&input, &keys, &check);
        }
    }
}

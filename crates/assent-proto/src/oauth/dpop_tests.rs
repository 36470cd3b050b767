use super::*;
use crate::jose::b64;
use crate::oauth::testkit::{Signer, jwt};

const NOW: i64 = 1_800_000_000;
const URL: &str = "https://assent.example/oauth2/token";

fn check(access_token: Option<&str>) -> DpopCheck<'_> {
    DpopCheck {
        method: "POST",
        url: URL,
        now: NOW,
        max_age: 60,
        leeway: 5,
        access_token,
    }
}

fn refused(proof: &str, check: &DpopCheck<'_>) -> String {
    let error = verify_dpop_proof(proof, check).unwrap_err();
    assert_eq!(error.error, OAuthErrorCode::InvalidDpopProof);
    error.to_string()
}

/// A proof with the given header and claims, signed by `key`.
fn proof_with(key: &SigningKey, header: Value, claims: Value) -> String {
    jwt(&header, &claims, Signer::Ec(key))
}

fn header(key: &SigningKey) -> Value {
    json!({"alg": "ES256", "typ": "dpop+jwt", "jwk": key.jwk()})
}

fn claims() -> Value {
    json!({"jti": "p1", "htm": "POST", "htu": URL, "iat": NOW})
}

fn with(key: &SigningKey, change: impl FnOnce(&mut Map<String, Value>)) -> String {
    let mut claims = claims();
    if let Value::Object(map) = &mut claims {
        change(map);
    }
    proof_with(key, header(key), claims)
}

#[test]
fn a_made_proof_verifies() {
    let key = SigningKey::generate().unwrap();
    let proof = dpop_proof(
        &key,
        "POST",
        "https://assent.example/oauth2/token?x=1#f",
        NOW,
        "p1",
        None,
    )
    .unwrap();
    let verified = verify_dpop_proof(&proof, &check(None)).unwrap();
    assert_eq!(
        verified,
        VerifiedDpop {
            jkt: key.jwk().thumbprint(),
            jti: "p1".into(),
            iat: NOW
        }
    );
    let bound = dpop_proof(&key, "POST", URL, NOW, "p2", Some("tok")).unwrap();
    assert!(verify_dpop_proof(&bound, &check(Some("tok"))).is_ok());
    // ath is not required when no token is presented.
    assert!(verify_dpop_proof(&bound, &check(None)).is_ok());
}

#[test]
fn refuses_other_typs_algorithms_and_missing_keys() {
    let key = SigningKey::generate().unwrap();
    for typ in [json!("jwt"), json!("at+jwt"), Value::Null] {
        let proof = proof_with(
            &key,
            json!({"alg": "ES256", "typ": typ, "jwk": key.jwk()}),
            claims(),
        );
        assert!(refused(&proof, &check(None)).contains("typ"));
    }
    let upper = proof_with(
        &key,
        json!({"alg": "ES256", "typ": "DPoP+JWT", "jwk": key.jwk()}),
        claims(),
    );
    assert!(verify_dpop_proof(&upper, &check(None)).is_ok());
    let no_jwk = proof_with(&key, json!({"alg": "ES256", "typ": "dpop+jwt"}), claims());
    assert!(refused(&no_jwk, &check(None)).contains("jwk"));
    let header = b64(json!({"alg": "RS256", "typ": "dpop+jwt", "jwk": key.jwk()}).to_string());
    let rs256 = format!("{header}.{}.{}", b64(claims().to_string()), b64([0u8; 256]));
    assert!(refused(&rs256, &check(None)).contains("ES256"));
    let rsa_jwk = proof_with(
        &key,
        json!({"alg": "ES256", "typ": "dpop+jwt", "jwk": {"kty": "RSA", "n": "AQAB", "e": "AQAB"}}),
        claims(),
    );
    refused(&rsa_jwk, &check(None));
}

#[test]
fn refuses_a_private_key_or_another_key_in_the_header() {
    let key = SigningKey::generate().unwrap();
    let mut jwk = serde_json::to_value(key.jwk()).unwrap();
    jwk["d"] = "AAAA".into();
    let private = proof_with(
        &key,
        json!({"alg": "ES256", "typ": "dpop+jwt", "jwk": jwk}),
        claims(),
    );
    assert!(refused(&private, &check(None)).contains("private"));
    let other = SigningKey::generate().unwrap();
    let swapped = proof_with(
        &key,
        json!({"alg": "ES256", "typ": "dpop+jwt", "jwk": other.jwk()}),
        claims(),
    );
    assert!(refused(&swapped, &check(None)).contains("signature"));
}

#[test]
fn refuses_another_method_or_url() {
    let key = SigningKey::generate().unwrap();
    for htm in [json!("GET"), json!("post"), json!(1)] {
        let proof = with(&key, |c| {
            c.insert("htm".into(), htm);
        });
        assert!(refused(&proof, &check(None)).contains("htm"));
    }
    for htu in [
        "https://assent.example/oauth2/introspect",
        "https://assent.example/oauth2/token/",
        "http://assent.example/oauth2/token",
        "https://assent.example:8443/oauth2/token",
        "https://evil.example/oauth2/token",
        "/oauth2/token",
        "not a url",
    ] {
        let proof = with(&key, |c| {
            c.insert("htu".into(), htu.into());
        });
        assert!(refused(&proof, &check(None)).contains("htu"), "{htu}");
    }
    let proof = with(&key, |c| {
        c.remove("htu");
    });
    assert!(refused(&proof, &check(None)).contains("htu is required"));
}

#[test]
fn htu_ignores_case_default_ports_query_and_fragment() {
    let key = SigningKey::generate().unwrap();
    for htu in [
        "HTTPS://Assent.Example/oauth2/token",
        "https://assent.example:443/oauth2/token",
        "https://assent.example/oauth2/token?a=b",
        "https://assent.example/oauth2/token#frag",
        "https://assent.example/oauth2/./token",
    ] {
        let proof = with(&key, |c| {
            c.insert("htu".into(), htu.into());
        });
        assert!(verify_dpop_proof(&proof, &check(None)).is_ok(), "{htu}");
    }
    // The path is case-sensitive.
    let proof = with(&key, |c| {
        c.insert("htu".into(), "https://assent.example/OAUTH2/token".into());
    });
    refused(&proof, &check(None));
}

#[test]
fn refuses_old_future_or_missing_iat() {
    let key = SigningKey::generate().unwrap();
    let at = |iat: Value| {
        let proof = with(&key, |c| {
            c.insert("iat".into(), iat);
        });
        verify_dpop_proof(&proof, &check(None))
    };
    assert!(at(json!(NOW - 60)).is_ok());
    assert!(at(json!(NOW - 61)).is_err());
    assert!(at(json!(NOW + 5)).is_ok());
    assert!(at(json!(NOW + 6)).is_err());
    assert!(at(json!("now")).is_err());
    assert!(at(json!(i64::MIN)).is_err());
    let proof = with(&key, |c| {
        c.remove("iat");
    });
    assert!(refused(&proof, &check(None)).contains("iat is required"));
}

#[test]
fn refuses_bad_jti() {
    let key = SigningKey::generate().unwrap();
    for jti in [
        Some(json!("")),
        Some(json!("j".repeat(257))),
        Some(json!(3)),
        None,
    ] {
        let proof = with(&key, |c| match jti {
            Some(jti) => {
                c.insert("jti".into(), jti);
            }
            None => {
                c.remove("jti");
            }
        });
        assert!(refused(&proof, &check(None)).contains("jti"));
    }
}

#[test]
fn ath_binds_the_proof_to_its_token() {
    let key = SigningKey::generate().unwrap();
    let unbound = dpop_proof(&key, "POST", URL, NOW, "p1", None).unwrap();
    assert!(refused(&unbound, &check(Some("tok"))).contains("ath is required"));
    let other = dpop_proof(&key, "POST", URL, NOW, "p1", Some("other")).unwrap();
    assert!(refused(&other, &check(Some("tok"))).contains("ath is not"));
    let numeric = with(&key, |c| {
        c.insert("ath".into(), 5.into());
    });
    refused(&numeric, &check(Some("tok")));
}

proptest::proptest! {
    #[test]
    fn never_panics(input in "[A-Za-z0-9_.-]{0,300}", url in "\\PC{0,40}", now in proptest::num::i64::ANY) {
        let check = DpopCheck { method: "POST", url: &url, now, max_age: 60, leeway: 5, access_token: Some("t") };
        let _ = verify_dpop_proof(&input, &check);
    }
}

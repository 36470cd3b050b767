use super::*;
use crate::jose::{SigningKey, b64};
use crate::oauth::testkit::{Signer, ec_jwk, jwt, rsa_jwk};
use serde_json::json;

fn set(keys: Vec<Value>) -> String {
    json!({ "keys": keys }).to_string()
}

fn defect(json: &str) -> &'static str {
    match ClientKeySet::parse(json) {
        Err(KeyError::BadKey { defect, .. }) => defect,
        other => unreachable!("expected a key defect, got {other:?}"),
    }
}

#[test]
fn parses_ec_and_rsa_keys_and_round_trips() {
    let ec = SigningKey::generate().unwrap();
    let mut ec_jwk = ec_jwk(&ec, Some("e1"));
    ec_jwk["alg"] = "ES256".into();
    ec_jwk["use"] = "sig".into();
    ec_jwk["key_ops"] = json!(["verify"]);
    let mut rsa = rsa_jwk(Some("r1"));
    rsa["alg"] = "PS256".into();
    let keys = ClientKeySet::parse(&set(vec![ec_jwk, rsa])).unwrap();
    assert_eq!(keys.len(), 2);
    assert!(!keys.is_empty());
    let stored = keys.to_json();
    assert!(!stored.contains("key_ops"));
    assert_eq!(ClientKeySet::parse(&stored).unwrap(), keys);
}

#[test]
fn refuses_every_private_member() {
    for member in ["d", "p", "q", "dp", "dq", "qi", "oth", "k"] {
        let mut jwk = rsa_jwk(None);
        jwk[member] = "AQAB".into();
        assert_eq!(
            defect(&set(vec![jwk])),
            "a private key member is present; register the public key only",
            "{member}"
        );
    }
    let mut ec = ec_jwk(&SigningKey::generate().unwrap(), None);
    ec["d"] = "AAAA".into();
    assert!(defect(&set(vec![ec])).contains("private"));
}

#[test]
fn refuses_bad_shapes() {
    let ec = SigningKey::generate().unwrap();
    let good = ec_jwk(&ec, None);
    assert!(matches!(
        ClientKeySet::parse("nope"),
        Err(KeyError::KeySetNotJson { .. })
    ));
    assert_eq!(ClientKeySet::parse("{}"), Err(KeyError::NoKeysArray));
    assert_eq!(
        ClientKeySet::parse(r#"{"keys":{}}"#),
        Err(KeyError::NoKeysArray)
    );
    assert_eq!(
        ClientKeySet::parse(r#"{"keys":[]}"#),
        Err(KeyError::KeyCount)
    );
    assert_eq!(
        ClientKeySet::parse(&set(vec![good.clone(); 11])),
        Err(KeyError::KeyCount)
    );
    assert!(ClientKeySet::parse(&set(vec![good.clone(); 10])).is_ok());
    let padded = format!("{}{}", set(vec![good.clone()]), " ".repeat(MAX_KEY_SET_LEN));
    assert_eq!(ClientKeySet::parse(&padded), Err(KeyError::KeySetTooLarge));
    assert_eq!(
        defect(&set(vec![json!("x")])),
        "a key must be a JSON object"
    );

    let with = |name: &str, value: Value| {
        let mut jwk = good.clone();
        jwk[name] = value;
        defect(&set(vec![jwk]))
    };
    assert_eq!(with("use", "enc".into()), "use must be sig");
    assert_eq!(with("alg", "PS256".into()), "an EC key's alg must be ES256");
    assert_eq!(with("alg", "ES384".into()), "an EC key's alg must be ES256");
    assert_eq!(
        with("crv", "P-384".into()),
        "an EC key must be on crv P-256"
    );
    assert_eq!(with("kty", "oct".into()), "kty must be EC or RSA");
    assert_eq!(with("kty", "OKP".into()), "kty must be EC or RSA");
    assert_eq!(with("x", "AAAA".into()), "x and y must be 32 bytes each");
    assert_eq!(with("y", "!!".into()), "y is not base64url");
    assert_eq!(with("kid", "".into()), "kid must be 1 to 256 characters");
    assert!(with("kid", 5.into()).contains("must be strings"));
    let mut no_kty = good.clone();
    no_kty.as_object_mut().unwrap().remove("kty");
    assert_eq!(defect(&set(vec![no_kty])), "kty is required");
    let mut no_x = good;
    no_x.as_object_mut().unwrap().remove("x");
    assert_eq!(defect(&set(vec![no_x])), "an EC key needs x");
}

#[test]
fn refuses_weak_or_odd_rsa_keys() {
    let with = |name: &str, value: Value| {
        let mut jwk = rsa_jwk(None);
        jwk[name] = value;
        defect(&set(vec![jwk]))
    };
    assert_eq!(
        with("alg", "RS256".into()),
        "an RSA key's alg must be PS256"
    );
    assert_eq!(
        with("n", b64([0xffu8; 128]).into()),
        "an RSA modulus must have 2048 to 4096 bits"
    );
    assert_eq!(
        with("n", b64([0xffu8; 513]).into()),
        "an RSA modulus must have 2048 to 4096 bits"
    );
    // Leading zeros do not count towards the size.
    let mut padded = vec![0u8; 2];
    padded.extend_from_slice(&[0x7f; 255]);
    assert_eq!(
        with("n", b64(padded).into()),
        "an RSA modulus must have 2048 to 4096 bits"
    );
    for e in [vec![1u8], vec![2], vec![1, 0, 0, 0, 1], vec![]] {
        assert_eq!(
            with("e", b64(e).into()),
            "e must be an odd exponent from 3 to 2^32 - 1"
        );
    }
    assert_eq!(with("use", "enc".into()), "use must be sig");
}

#[test]
fn refuses_duplicate_kids() {
    let a = ec_jwk(&SigningKey::generate().unwrap(), Some("same"));
    let b = rsa_jwk(Some("same"));
    assert_eq!(
        ClientKeySet::parse(&set(vec![a.clone(), b])),
        Err(KeyError::DuplicateKid { index: 1 })
    );
    let c = rsa_jwk(Some("other"));
    assert!(ClientKeySet::parse(&set(vec![a, c])).is_ok());
}

fn keys_of(ec: &SigningKey) -> ClientKeySet {
    ClientKeySet::parse(&set(vec![ec_jwk(ec, Some("e1")), rsa_jwk(Some("r1"))])).unwrap()
}

#[test]
fn verifies_es256_and_ps256_with_and_without_kid() {
    let ec = SigningKey::generate().unwrap();
    let keys = keys_of(&ec);
    let claims = json!({"iss": "c1", "n": 1});
    for (header, signer) in [
        (json!({"alg": "ES256", "kid": "e1"}), Signer::Ec(&ec)),
        (json!({"alg": "ES256"}), Signer::Ec(&ec)),
        (json!({"alg": "PS256", "kid": "r1"}), Signer::Rsa),
        (json!({"alg": "PS256", "typ": "JWT"}), Signer::Rsa),
    ] {
        let token = jwt(&header, &claims, signer);
        let verified = keys.verify_jwt(&token, None).unwrap();
        assert_eq!(Value::Object(verified.claims), claims);
        assert_eq!(Value::Object(verified.header), header);
    }
}

#[test]
fn refuses_other_algorithms() {
    let ec = SigningKey::generate().unwrap();
    let keys = keys_of(&ec);
    for alg in ["none", "HS256", "RS256", "ES384", "es256", "EdDSA"] {
        let header = b64(json!({ "alg": alg }).to_string());
        let token = format!("{header}.{}.{}", b64("{}"), b64([0u8; 64]));
        assert_eq!(
            keys.verify_jwt(&token, None),
            Err(KeyError::UnsupportedAlg),
            "{alg}"
        );
        let unsigned = format!("{header}.{}.", b64("{}"));
        assert_eq!(
            keys.verify_jwt(&unsigned, None),
            Err(KeyError::UnsupportedAlg)
        );
    }
    let no_alg = jwt(&json!({"typ": "JWT"}), &json!({}), Signer::Ec(&ec));
    assert_eq!(
        keys.verify_jwt(&no_alg, None),
        Err(KeyError::UnsupportedAlg)
    );
    let numeric_alg = jwt(&json!({"alg": 256}), &json!({}), Signer::Ec(&ec));
    assert_eq!(
        keys.verify_jwt(&numeric_alg, None),
        Err(KeyError::UnsupportedAlg)
    );
}

#[test]
fn refuses_bad_signatures_and_wrong_keys() {
    let ec = SigningKey::generate().unwrap();
    let stranger = SigningKey::generate().unwrap();
    let keys = keys_of(&ec);
    let token = jwt(
        &json!({"alg": "ES256"}),
        &json!({"a": 1}),
        Signer::Ec(&stranger),
    );
    assert_eq!(keys.verify_jwt(&token, None), Err(KeyError::BadSignature));
    // A changed payload under a valid signature.
    let good = jwt(&json!({"alg": "PS256"}), &json!({"a": 1}), Signer::Rsa);
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged_payload = b64(r#"{"a":2}"#);
    parts[1] = &forged_payload;
    assert_eq!(
        keys.verify_jwt(&parts.join("."), None),
        Err(KeyError::BadSignature)
    );
    // An ES256 signature of the wrong size, and a PS256 token against a set without RSA keys.
    let mut parts: Vec<&str> = good.split('.').collect();
    parts[0] = "eyJhbGciOiJFUzI1NiJ9";
    assert_eq!(
        keys.verify_jwt(&parts.join("."), None),
        Err(KeyError::BadSignature)
    );
    let ec_only = ClientKeySet::parse(&set(vec![ec_jwk(&ec, None)])).unwrap();
    assert_eq!(
        ec_only.verify_jwt(&good, None),
        Err(KeyError::NoKeyForAlg { alg: "PS256" })
    );
}

#[test]
fn kid_selects_exactly_one_key_of_the_right_type() {
    let ec = SigningKey::generate().unwrap();
    let keys = keys_of(&ec);
    let unknown = jwt(
        &json!({"alg": "ES256", "kid": "zz"}),
        &json!({}),
        Signer::Ec(&ec),
    );
    assert_eq!(keys.verify_jwt(&unknown, None), Err(KeyError::UnknownKid));
    let crossed = jwt(
        &json!({"alg": "ES256", "kid": "r1"}),
        &json!({}),
        Signer::Ec(&ec),
    );
    assert_eq!(
        keys.verify_jwt(&crossed, None),
        Err(KeyError::KeyAlgMismatch { alg: "ES256" })
    );
    let bad_kid = jwt(
        &json!({"alg": "ES256", "kid": 1}),
        &json!({}),
        Signer::Ec(&ec),
    );
    assert_eq!(keys.verify_jwt(&bad_kid, None), Err(KeyError::BadKid));
    // With a kid, the other keys of the type are not tried.
    let other = SigningKey::generate().unwrap();
    let two = ClientKeySet::parse(&set(vec![
        ec_jwk(&ec, Some("a")),
        ec_jwk(&other, Some("b")),
    ]))
    .unwrap();
    let signed_by_b = jwt(
        &json!({"alg": "ES256", "kid": "a"}),
        &json!({}),
        Signer::Ec(&other),
    );
    assert_eq!(
        two.verify_jwt(&signed_by_b, None),
        Err(KeyError::BadSignature)
    );
    let no_kid = jwt(&json!({"alg": "ES256"}), &json!({}), Signer::Ec(&other));
    assert!(two.verify_jwt(&no_kid, None).is_ok());
}

#[test]
fn typ_is_compared_without_case_or_prefix() {
    let ec = SigningKey::generate().unwrap();
    let keys = keys_of(&ec);
    let with_typ = |typ: Value| {
        jwt(
            &json!({"alg": "ES256", "typ": typ}),
            &json!({}),
            Signer::Ec(&ec),
        )
    };
    for typ in [
        "at+jwt",
        "AT+JWT",
        "application/at+jwt",
        "Application/At+Jwt",
    ] {
        assert!(
            keys.verify_jwt(&with_typ(typ.into()), Some("at+jwt"))
                .is_ok(),
            "{typ}"
        );
        assert!(
            keys.verify_jwt(&with_typ(typ.into()), Some("application/at+jwt"))
                .is_ok()
        );
    }
    for typ in [
        json!("jwt"),
        json!("dpop+jwt"),
        json!("application/"),
        json!(1),
    ] {
        assert_eq!(
            keys.verify_jwt(&with_typ(typ), Some("at+jwt")),
            Err(KeyError::WrongTyp {
                expected: "at+jwt".into()
            })
        );
    }
    let untyped = jwt(&json!({"alg": "ES256"}), &json!({}), Signer::Ec(&ec));
    assert!(keys.verify_jwt(&untyped, Some("at+jwt")).is_err());
    assert!(keys.verify_jwt(&untyped, None).is_ok());
}

#[test]
fn refuses_crit_malformed_and_non_object_claims() {
    let ec = SigningKey::generate().unwrap();
    let keys = keys_of(&ec);
    let crit = jwt(
        &json!({"alg": "ES256", "crit": ["exp"], "exp": 1}),
        &json!({}),
        Signer::Ec(&ec),
    );
    assert_eq!(keys.verify_jwt(&crit, None), Err(KeyError::Crit));
    let array = jwt(&json!({"alg": "ES256"}), &json!([1, 2]), Signer::Ec(&ec));
    assert_eq!(keys.verify_jwt(&array, None), Err(KeyError::BadClaims));
    for token in ["", "a.b", "a.b.c.d", "!!.e30.e30"] {
        assert_eq!(
            keys.verify_jwt(token, None),
            Err(KeyError::Malformed),
            "{token}"
        );
    }
    let header_array = format!("{}.e30.AAAA", b64("[]"));
    assert_eq!(
        keys.verify_jwt(&header_array, None),
        Err(KeyError::BadHeader)
    );
    let long = format!("{}.e30.AAAA", "a".repeat(MAX_JWS_LEN));
    assert_eq!(keys.verify_jwt(&long, None), Err(KeyError::JwtTooLong));
}

#[test]
fn unverified_claim_reads_strings_only() {
    let ec = SigningKey::generate().unwrap();
    let token = jwt(
        &json!({"alg": "ES256"}),
        &json!({"iss": "c1", "n": 1}),
        Signer::Ec(&ec),
    );
    assert_eq!(unverified_claim(&token, "iss").as_deref(), Some("c1"));
    assert_eq!(unverified_claim(&token, "n"), None);
    assert_eq!(unverified_claim(&token, "sub"), None);
    assert_eq!(unverified_claim("garbage", "iss"), None);
}

proptest::proptest! {
    #[test]
    fn parse_never_panics(input in "\\PC{0,400}") {
        let _ = ClientKeySet::parse(&input);
    }

    #[test]
    fn verify_never_panics(input in "[A-Za-z0-9_.-]{0,400}", typ in proptest::option::of("\\PC{0,20}")) {
        let keys = ClientKeySet::parse(&set(vec![rsa_jwk(None)])).unwrap();
        let _ = keys.verify_jwt(&input, typ.as_deref());
        let _ = unverified_claim(&input, "iss");
    }
}

//! RFC 7523 client assertions, past the signature: each input builds an assertion from
//! arbitrary header members and claims, signed by the client's EC or RSA key or a stranger's,
//! then may change a byte. Every field the input leaves out takes its valid value, so an input of
//! zero bytes is a valid assertion. It verifies exactly when the signature is by the key the header
//! names with its own algorithm, there is no `crit`, `iss` and `sub` are both the client, `aud`
//! names this server, `exp`, `nbf`, `iat` and `jti` keep their rules, and nothing was changed
//! after signing; every refusal is `invalid_client`.
#![no_main]

use arbitrary::Arbitrary;
use assent_fuzz::oauth::{
    AlgSpec, ClientSigner, Field, KidSpec, Mutation, client_keys, header, sign_jwt,
};
use assent_proto::oauth::OAuthErrorCode;
use assent_proto::oauth::assertion::{AssertionCheck, verify_client_assertion};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const CLIENT: &str = "agent-1";
const ISSUER: &str = "https://assent.example";
const ENDPOINT: &str = "https://assent.example/oauth2/token";

#[derive(Arbitrary, Debug)]
enum Aud {
    Issuer,
    List(Vec<String>, bool),
    Other(String),
    Number(i64),
    Missing,
}

#[derive(Arbitrary, Debug)]
struct Input {
    signer: Option<ClientSigner>,
    alg: Option<AlgSpec>,
    kid: Option<KidSpec>,
    typ: Option<String>,
    crit: bool,
    iss: Option<Field>,
    sub: Option<Field>,
    aud: Option<Aud>,
    /// Seconds from now; `Some(None)` leaves `exp` out.
    exp: Option<Option<i16>>,
    nbf: Option<i16>,
    iat: Option<i16>,
    /// `Some(None)` leaves `jti` out.
    jti: Option<Option<String>>,
    extra: Option<(String, String)>,
    now: u32,
    max_lifetime: Option<u16>,
    leeway: u8,
    mutation: Mutation,
    raw: Option<String>,
}

fuzz_target!(|input: Input| {
    let now = 1_000_000_000 + i64::from(input.now);
    let max_lifetime = i64::from(input.max_lifetime.unwrap_or(300));
    let leeway = i64::from(input.leeway);
    let audiences = vec![ISSUER.to_owned(), ENDPOINT.to_owned()];
    let check = AssertionCheck {
        client_id: CLIENT,
        audiences: &audiences,
        now,
        max_lifetime,
        leeway,
    };
    if let Some(raw) = &input.raw {
        let _ = verify_client_assertion(raw, client_keys(), &check);
        return;
    }

    let signer = input.signer.unwrap_or(ClientSigner::Ec);
    let (alg, alg_ok) = input.alg.clone().unwrap_or(AlgSpec::Signer).resolve(signer);
    let (kid, kid_ok) = input
        .kid
        .clone()
        .unwrap_or(KidSpec::Missing)
        .resolve(signer);
    let header = header(alg, kid, input.typ.clone(), input.crit);

    let mut claims = Map::new();
    let mut ok = true;
    for (name, spec) in [("iss", &input.iss), ("sub", &input.sub)] {
        let (value, right) = Field::resolve(spec, CLIENT);
        ok &= right;
        if let Some(value) = value {
            claims.insert(name.into(), value.into());
        }
    }
    ok &= match &input.aud {
        None => {
            claims.insert("aud".into(), ENDPOINT.into());
            true
        }
        Some(Aud::Issuer) => {
            claims.insert("aud".into(), ISSUER.into());
            true
        }
        Some(Aud::List(list, with_issuer)) => {
            let mut list = list.clone();
            if *with_issuer {
                list.push(ISSUER.into());
            }
            let found = list.iter().any(|a| audiences.contains(a));
            claims.insert("aud".into(), json!(list));
            found
        }
        Some(Aud::Other(aud)) => {
            claims.insert("aud".into(), aud.clone().into());
            audiences.contains(aud)
        }
        Some(Aud::Number(n)) => {
            claims.insert("aud".into(), (*n).into());
            false
        }
        Some(Aud::Missing) => false,
    };
    match input.exp.unwrap_or(Some(60)) {
        Some(offset) => {
            let exp = now + i64::from(offset);
            ok &= exp > now - leeway && exp <= now + max_lifetime + leeway;
            claims.insert("exp".into(), exp.into());
        }
        None => ok = false,
    }
    for (name, offset) in [("nbf", input.nbf), ("iat", input.iat)] {
        if let Some(offset) = offset {
            let at = now + i64::from(offset);
            ok &= at <= now + leeway;
            claims.insert(name.into(), at.into());
        }
    }
    let jti = input.jti.clone().unwrap_or(Some("j1".into()));
    match &jti {
        Some(jti) => {
            ok &= !jti.is_empty() && jti.chars().count() <= 256;
            claims.insert("jti".into(), jti.clone().into());
        }
        None => ok = false,
    }
    if let Some((name, value)) = &input.extra {
        claims.insert(format!("x_{name}"), value.clone().into());
    }

    let payload = Value::Object(claims).to_string();
    let token = sign_jwt(&header, payload.as_bytes(), signer);
    let (token, unchanged) = input.mutation.apply(token);
    let result = verify_client_assertion(&token, client_keys(), &check);

    let signature_ok = signer != ClientSigner::Stranger && alg_ok && kid_ok && !input.crit;
    let expected = unchanged && signature_ok && ok;
    match &result {
        Ok(verified) => {
            assert!(
                expected,
                "accepted an assertion that breaks a rule: {input:?}"
            );
            assert_eq!(Some(&verified.jti), jti.as_ref());
        }
        Err(error) => {
            assert!(!expected, "refused a valid assertion ({error}): {input:?}");
            assert_eq!(error.error, OAuthErrorCode::InvalidClient);
        }
    }
});

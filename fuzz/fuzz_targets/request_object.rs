//! CIBA signed authentication requests, past the signature: each input builds a request object
//! from arbitrary header members, registered claims and request parameters (text, integers,
//! JSON), or a raw payload, signed by the client's EC or RSA key or a stranger's, then may
//! change a byte. Every field the input leaves out takes its valid value, so an input of zero bytes is
//! a valid request. Nothing verifies without the client's signature and an accepted `typ`; with
//! generated claims it verifies exactly when `iss` is the client, `aud` this server, `exp`,
//! `iat`, `nbf` (at most an hour from `nbf` to `exp`) and `jti` keep their rules, a
//! `client_id` claim is the client's, no request is nested and the claims are exact JSON; its
//! parameters are then its other claims, and go through the backchannel parser.
#![no_main]

use arbitrary::Arbitrary;
use assent_fuzz::oauth::{
    AlgSpec, ClientSigner, Field, KidSpec, Mutation, client_keys, header, sign_jwt,
};
use assent_proto::exact_json::check_text;
use assent_proto::oauth::backchannel::BackchannelRequest;
use assent_proto::oauth::request_object::verify_request_object;
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const CLIENT: &str = "agent-1";
const ISSUER: &str = "https://assent.example";

#[derive(Arbitrary, Debug)]
enum Param {
    Text(String),
    Integer(u32),
    /// JSON text placed as the claim's value when it parses, as a string otherwise.
    Json(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    signer: Option<ClientSigner>,
    alg: Option<AlgSpec>,
    kid: Option<KidSpec>,
    typ: Option<String>,
    iss: Option<Field>,
    aud: Option<Field>,
    /// Seconds from now; `Some(None)` leaves the claim out.
    exp: Option<Option<i16>>,
    iat: Option<Option<i16>>,
    nbf: Option<Option<i16>>,
    jti: Option<Option<String>>,
    params: Vec<(u8, Param)>,
    now: u32,
    leeway: u8,
    mutation: Mutation,
    /// Replaces the payload's text (signed as given).
    raw_payload: Option<String>,
}

const NAMES: [&str; 12] = [
    "scope",
    "login_hint",
    "binding_message",
    "requested_expiry",
    "authorization_details",
    "user_code",
    "acr_values",
    "client_notification_token",
    "client_id",
    "request",
    "id_token_hint",
    "other",
];

fuzz_target!(|input: Input| {
    let now = 1_000_000_000 + i64::from(input.now);
    let leeway = i64::from(input.leeway);
    let signer = input.signer.unwrap_or(ClientSigner::Ec);
    let (alg, alg_ok) = input.alg.clone().unwrap_or(AlgSpec::Signer).resolve(signer);
    let (kid, kid_ok) = input
        .kid
        .clone()
        .unwrap_or(KidSpec::Missing)
        .resolve(signer);
    let typ_ok = input.typ.as_deref().is_none_or(|t| {
        [
            "jwt",
            "oauth-authz-req+jwt",
            "application/oauth-authz-req+jwt",
        ]
        .iter()
        .any(|a| a.eq_ignore_ascii_case(t))
    });
    let header = header(alg, kid, input.typ.clone(), false);

    let mut claims = Map::new();
    let mut ok = true;
    for (name, spec, expected) in [("iss", &input.iss, CLIENT), ("aud", &input.aud, ISSUER)] {
        let (value, right) = Field::resolve(spec, expected);
        ok &= right;
        if let Some(value) = value {
            claims.insert(name.into(), value.into());
        }
    }
    let mut times = [None; 3];
    let defaults = [300, 0, 0];
    for (i, (name, offset)) in [("exp", input.exp), ("iat", input.iat), ("nbf", input.nbf)]
        .into_iter()
        .enumerate()
    {
        match offset.unwrap_or(Some(defaults[i])) {
            Some(offset) => {
                let at = now + i64::from(offset);
                times[i] = Some(at);
                claims.insert(name.into(), at.into());
            }
            None => ok = false,
        }
    }
    if let [Some(exp), Some(iat), Some(nbf)] = times {
        ok &= exp > now - leeway && nbf <= now + leeway && iat <= now + leeway && exp - nbf <= 3600;
    }
    let jti = input.jti.clone().unwrap_or(Some("r1".into()));
    match &jti {
        Some(jti) => {
            ok &= !jti.is_empty() && jti.chars().count() <= 256;
            claims.insert("jti".into(), jti.clone().into());
        }
        None => ok = false,
    }
    if input.params.is_empty() {
        claims.insert("scope".into(), "openid".into());
        claims.insert("login_hint".into(), "alice".into());
        claims.insert(
            "authorization_details".into(),
            json!([{"type": "deploy", "replicas": 3}]),
        );
    }
    for (which, param) in &input.params {
        let name = NAMES[usize::from(*which) % NAMES.len()];
        let value = match param {
            Param::Text(text) => Value::String(text.clone()),
            Param::Integer(n) => Value::from(*n),
            Param::Json(text) => serde_json::from_str(text).unwrap_or_else(|_| text.clone().into()),
        };
        claims.insert(name.into(), value);
    }
    ok &= !claims.contains_key("request");
    ok &= claims
        .get("client_id")
        .is_none_or(|id| id.is_null() || id.as_str() == Some(CLIENT));
    let text = Value::Object(claims.clone()).to_string();
    ok &= check_text(&text, "").is_ok();

    let payload = input.raw_payload.clone().unwrap_or(text);
    let token = sign_jwt(&header, payload.as_bytes(), signer);
    let (token, unchanged) = input.mutation.apply(token);
    let result = verify_request_object(&token, client_keys(), CLIENT, ISSUER, now, leeway);

    let signed = unchanged && signer != ClientSigner::Stranger && alg_ok && kid_ok && typ_ok;
    // With a raw payload nothing is known about the claims.
    let known = input.raw_payload.is_none();
    match result {
        Ok(verified) => {
            assert!(signed, "accepted a bad signature: {input:?}");
            if known {
                assert!(
                    ok,
                    "accepted a request object that breaks a rule: {input:?}"
                );
                assert_eq!(Some(&verified.jti), jti.as_ref());
                for name in verified.params.names() {
                    assert!(claims.contains_key(name), "{name} is not a claim");
                }
            }
            let _ = BackchannelRequest::from_params(&verified.params);
        }
        Err(error) => {
            assert!(
                !(known && signed && ok),
                "refused a valid request object ({error}): {input:?}"
            );
        }
    }
});

//! RFC 9449 DPoP proofs, past the signature: each input builds a proof from arbitrary header
//! members (typ, alg, the embedded key, a private member) and claims (htm, htu, iat, jti, ath),
//! signed by the embedded key or another, then may change a byte. Every field the input leaves
//! out takes its valid value, so an input of zero bytes is a valid proof. A proof verifies exactly when
//! it is ES256 with typ dpop+jwt, signed by the public key it embeds, for this method and URL
//! (judged only where the equivalence of two URLs is known), fresh, with a bounded jti and,
//! with an access token, that token's hash; and nothing was changed after signing. Its jkt is
//! then the embedded key's thumbprint. Proofs made by `dpop_proof` verify.
#![no_main]

use arbitrary::Arbitrary;
use assent_fuzz::Key;
use assent_fuzz::oauth::{AlgSpec, ClientSigner, Field, Mutation, sign_jwt};
use assent_proto::jose::sha256_b64;
use assent_proto::oauth::OAuthErrorCode;
use assent_proto::oauth::dpop::{DpopCheck, dpop_proof, verify_dpop_proof};
use libfuzzer_sys::fuzz_target;
use serde_json::{Map, Value, json};

const URL: &str = "https://assent.example/oauth2/token";

#[derive(Arbitrary, Debug)]
enum JwkSpec {
    /// Another key's public key.
    Other,
    /// The signer's with a private member `d`.
    Private,
    /// An RSA-shaped key.
    Rsa,
    Missing,
}

#[derive(Arbitrary, Debug)]
enum Htu {
    /// The same URL with a query and a fragment, which are ignored.
    WithQuery(String),
    /// The same URL with the host in capitals and the default port.
    Spelled,
    /// Any text: whether it designates the same URL is not judged here.
    Other(String),
    Missing,
}

#[derive(Arbitrary, Debug)]
enum Ath {
    Other(String),
    Missing,
}

#[derive(Arbitrary, Debug)]
struct Input {
    signer: Option<ClientSigner>,
    alg: Option<AlgSpec>,
    typ: Option<Field>,
    jwk: Option<JwkSpec>,
    htm: Option<Field>,
    htu: Option<Htu>,
    /// Seconds from now; `Some(None)` leaves `iat` out.
    iat: Option<Option<i16>>,
    /// `Some(None)` leaves `jti` out.
    jti: Option<Option<String>>,
    ath: Option<Ath>,
    access_token: Option<String>,
    now: u32,
    max_age: Option<u8>,
    leeway: u8,
    mutation: Mutation,
    /// Make the proof with `dpop_proof` instead.
    made: bool,
}

fn key_of(signer: ClientSigner) -> Key {
    match signer {
        ClientSigner::Stranger => Key::Other,
        _ => Key::Device,
    }
}

fuzz_target!(|input: Input| {
    let now = 1_000_000_000 + i64::from(input.now);
    let check = DpopCheck {
        method: "POST",
        url: URL,
        now,
        max_age: i64::from(input.max_age.unwrap_or(60)),
        leeway: i64::from(input.leeway),
        access_token: input.access_token.as_deref(),
    };
    let signer = input.signer.unwrap_or(ClientSigner::Ec);
    let own = key_of(signer);
    let jti = input.jti.clone().unwrap_or(Some("p1".into()));
    if input.made {
        let jti = jti.unwrap_or_default();
        let proof = dpop_proof(
            own.jws(),
            "POST",
            URL,
            now,
            &jti,
            input.access_token.as_deref(),
        )
        .expect("a proof can be made");
        let verified = verify_dpop_proof(&proof, &check);
        assert_eq!(
            verified.is_ok(),
            !jti.is_empty() && jti.chars().count() <= 256,
            "{input:?}"
        );
        if let Ok(verified) = verified {
            assert_eq!(verified.jkt, own.jwk().thumbprint());
        }
        return;
    }

    // The header. Only the fixed P-256 keys sign here; the RSA signer stands for a wrong alg.
    let (alg, alg_ok) = input.alg.clone().unwrap_or(AlgSpec::Signer).resolve(signer);
    let mut ok = alg_ok && alg.as_deref() == Some("ES256");
    let mut header = Map::new();
    if let Some(alg) = alg {
        header.insert("alg".into(), alg.into());
    }
    let (typ, _) = Field::resolve(&input.typ, "dpop+jwt");
    ok &= typ
        .as_deref()
        .is_some_and(|t| t.eq_ignore_ascii_case("dpop+jwt"));
    if let Some(typ) = typ {
        header.insert("typ".into(), typ.into());
    }
    match input.jwk {
        None => {
            header.insert("jwk".into(), json!(own.jwk()));
        }
        Some(JwkSpec::Other) => {
            let other = if own == Key::Device {
                Key::Passkey
            } else {
                Key::Device
            };
            header.insert("jwk".into(), json!(other.jwk()));
            ok = false;
        }
        Some(JwkSpec::Private) => {
            let mut jwk = json!(own.jwk());
            jwk["d"] = "AAAA".into();
            header.insert("jwk".into(), jwk);
            ok = false;
        }
        Some(JwkSpec::Rsa) => {
            header.insert(
                "jwk".into(),
                json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
            );
            ok = false;
        }
        Some(JwkSpec::Missing) => ok = false,
    }

    // The claims.
    let mut claims = Map::new();
    let (htm, htm_ok) = Field::resolve(&input.htm, "POST");
    ok &= htm_ok;
    if let Some(htm) = htm {
        claims.insert("htm".into(), htm.into());
    }
    let htu_ok = match &input.htu {
        None => {
            claims.insert("htu".into(), URL.into());
            Some(true)
        }
        Some(Htu::WithQuery(query)) => {
            let query: String = query
                .chars()
                .filter(|c| c.is_ascii_alphanumeric())
                .collect();
            claims.insert("htu".into(), format!("{URL}?{query}#{query}").into());
            Some(true)
        }
        Some(Htu::Spelled) => {
            claims.insert(
                "htu".into(),
                "HTTPS://ASSENT.example:443/oauth2/token".into(),
            );
            Some(true)
        }
        Some(Htu::Other(text)) => {
            claims.insert("htu".into(), text.clone().into());
            if text == URL { Some(true) } else { None }
        }
        Some(Htu::Missing) => Some(false),
    };
    match input.iat.unwrap_or(Some(0)) {
        Some(offset) => {
            let iat = now + i64::from(offset);
            claims.insert("iat".into(), iat.into());
            ok &= iat >= now - check.max_age && iat <= now + check.leeway;
        }
        None => ok = false,
    }
    match &jti {
        Some(jti) => {
            claims.insert("jti".into(), jti.clone().into());
            ok &= !jti.is_empty() && jti.chars().count() <= 256;
        }
        None => ok = false,
    }
    let ath = match &input.ath {
        None => input.access_token.as_deref().map(sha256_b64),
        Some(Ath::Other(text)) => Some(text.clone()),
        Some(Ath::Missing) => None,
    };
    if let Some(token) = &input.access_token {
        ok &= ath.as_deref() == Some(sha256_b64(token).as_str());
    }
    if let Some(ath) = ath {
        claims.insert("ath".into(), ath.into());
    }

    let payload = Value::Object(claims).to_string();
    let proof = sign_jwt(&Value::Object(header), payload.as_bytes(), signer);
    let (proof, unchanged) = input.mutation.apply(proof);
    let result = verify_dpop_proof(&proof, &check);
    ok &= unchanged;
    match &result {
        Ok(verified) => {
            assert!(
                ok && htu_ok != Some(false),
                "accepted a bad proof: {input:?}"
            );
            assert_eq!(verified.jkt, own.jwk().thumbprint());
        }
        Err(error) => {
            assert_eq!(error.error, OAuthErrorCode::InvalidDpopProof);
            assert!(
                !(ok && htu_ok == Some(true)),
                "refused a valid proof ({error}): {input:?}"
            );
        }
    }
});

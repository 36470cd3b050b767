//! What the OAuth tests share: a fixed RSA test key (`testdata/rsa2048.p8`, used for nothing
//! else), P-256 keys, and a signer of JWTs with any header, so a test can build exactly the
//! token whose refusal it checks.

use crate::jose::{SigningKey, b64};
use ring::rand::SystemRandom;
use ring::signature::{
    ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, RSA_PSS_SHA256, RsaKeyPair,
    RsaPublicKeyComponents,
};
use serde_json::{Value, json};
use std::sync::OnceLock;

pub(crate) const RSA_PKCS8: &[u8] = include_bytes!("../../testdata/rsa2048.p8");

pub(crate) fn rsa() -> &'static RsaKeyPair {
    static KEY: OnceLock<RsaKeyPair> = OnceLock::new();
    KEY.get_or_init(|| RsaKeyPair::from_pkcs8(RSA_PKCS8).unwrap())
}

pub(crate) fn rsa_jwk(kid: Option<&str>) -> Value {
    let public = RsaPublicKeyComponents::<Vec<u8>>::from(rsa().public());
    let mut jwk = json!({"kty": "RSA", "n": b64(&public.n), "e": b64(&public.e)});
    if let Some(kid) = kid {
        jwk["kid"] = kid.into();
    }
    jwk
}

pub(crate) fn ec_jwk(key: &SigningKey, kid: Option<&str>) -> Value {
    let jwk = key.jwk();
    let mut value = json!({"kty": "EC", "crv": "P-256", "x": jwk.x, "y": jwk.y});
    if let Some(kid) = kid {
        value["kid"] = kid.into();
    }
    value
}

/// Who signs a test token.
pub(crate) enum Signer<'a> {
    Ec(&'a SigningKey),
    Rsa,
}

/// A compact JWS of `header` and `claims` as given, signed as the signer's algorithm does.
pub(crate) fn jwt(header: &Value, claims: &Value, signer: Signer<'_>) -> String {
    jwt_raw(header, claims.to_string().as_bytes(), signer)
}

/// The same with the payload's bytes as given.
pub(crate) fn jwt_raw(header: &Value, payload: &[u8], signer: Signer<'_>) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(payload));
    let rng = SystemRandom::new();
    let signature = match signer {
        Signer::Ec(key) => {
            let pair =
                EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, key.pkcs8(), &rng)
                    .unwrap();
            pair.sign(&rng, input.as_bytes()).unwrap().as_ref().to_vec()
        }
        Signer::Rsa => {
            let mut signature = vec![0; rsa().public().modulus_len()];
            rsa()
                .sign(&RSA_PSS_SHA256, &rng, input.as_bytes(), &mut signature)
                .unwrap();
            signature
        }
    };
    format!("{input}.{}", b64(signature))
}

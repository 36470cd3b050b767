//! What the OAuth targets share: a fixed client key set (the fixed device key as an ES256 key
//! with kid `ec`, and the RSA test key of `crates/assent-proto/testdata/` as a PS256 key with
//! kid `rsa`), a signer of JWTs with any header, and the way an input changes a token.

use crate::{Key, Text};
use arbitrary::Arbitrary;
use assent_proto::jose::b64;
use assent_proto::oauth::keys::ClientKeySet;
use ring::signature::{RSA_PSS_SHA256, RsaKeyPair, RsaPublicKeyComponents};
use serde_json::{Value, json};
use std::sync::OnceLock;

const RSA_PKCS8: &[u8] = include_bytes!("../../crates/assent-proto/testdata/rsa2048.p8");

fn rsa() -> &'static RsaKeyPair {
    static KEY: OnceLock<RsaKeyPair> = OnceLock::new();
    KEY.get_or_init(|| RsaKeyPair::from_pkcs8(RSA_PKCS8).expect("fixed key loads"))
}

/// The client's registered keys.
pub fn client_keys() -> &'static ClientKeySet {
    static KEYS: OnceLock<ClientKeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ec = Key::Device.jwk();
        let rsa = RsaPublicKeyComponents::<Vec<u8>>::from(rsa().public());
        let set = json!({"keys": [
            {"kty": "EC", "crv": "P-256", "x": ec.x, "y": ec.y, "kid": "ec", "use": "sig"},
            {"kty": "RSA", "n": b64(&rsa.n), "e": b64(&rsa.e), "kid": "rsa", "alg": "PS256"},
        ]});
        ClientKeySet::parse(&set.to_string()).expect("fixed key set parses")
    })
}

/// Who signs a token: the client's EC key, its RSA key, or a key it never registered.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientSigner {
    Ec,
    Rsa,
    Stranger,
}

impl ClientSigner {
    /// The `alg` this signer's signature is for.
    pub fn alg(self) -> &'static str {
        match self {
            ClientSigner::Ec | ClientSigner::Stranger => "ES256",
            ClientSigner::Rsa => "PS256",
        }
    }

    /// The `kid` of this signer's key in the set.
    pub fn kid(self) -> &'static str {
        match self {
            ClientSigner::Ec | ClientSigner::Stranger => "ec",
            ClientSigner::Rsa => "rsa",
        }
    }

    fn sign(self, input: &[u8]) -> Vec<u8> {
        match self {
            ClientSigner::Ec => sign_fixed(Key::Device, input),
            ClientSigner::Stranger => sign_fixed(Key::Other, input),
            ClientSigner::Rsa => {
                let rng = ring::rand::SystemRandom::new();
                let mut signature = vec![0; rsa().public().modulus_len()];
                rsa()
                    .sign(&RSA_PSS_SHA256, &rng, input, &mut signature)
                    .expect("signing works");
                signature
            }
        }
    }
}

fn sign_fixed(key: Key, input: &[u8]) -> Vec<u8> {
    let rng = ring::rand::SystemRandom::new();
    let pair = ring::signature::EcdsaKeyPair::from_pkcs8(
        &ring::signature::ECDSA_P256_SHA256_FIXED_SIGNING,
        key.jws().pkcs8(),
        &rng,
    )
    .expect("fixed key loads");
    pair.sign(&rng, input)
        .expect("signing works")
        .as_ref()
        .to_vec()
}

/// A compact JWS of `header` and `payload`, signed by `signer`.
pub fn sign_jwt(header: &Value, payload: &[u8], signer: ClientSigner) -> String {
    let input = format!("{}.{}", b64(header.to_string()), b64(payload));
    let signature = signer.sign(input.as_bytes());
    format!("{input}.{}", b64(signature))
}

/// A string claim: absent or some text (the target's default, when the input gives neither, is
/// the valid value, so that an input of zero bytes is a valid token and the fuzzer starts there).
#[derive(Arbitrary, Debug, Clone)]
pub enum Field {
    Missing,
    Text(Text),
}

impl Field {
    /// The value (`None`: absent), and whether it is `expected`.
    pub fn resolve(spec: &Option<Field>, expected: &str) -> (Option<String>, bool) {
        match spec {
            None => (Some(expected.to_owned()), true),
            Some(Field::Missing) => (None, false),
            Some(Field::Text(text)) => {
                let (value, right) = text.resolve(expected);
                (Some(value), right)
            }
        }
    }
}

/// How the header's `alg` is chosen.
#[derive(Arbitrary, Debug, Clone)]
pub enum AlgSpec {
    /// The signer's own algorithm.
    Signer,
    /// The other supported one.
    Crossed,
    Other(String),
    Missing,
}

impl AlgSpec {
    /// The value, and whether it is the signer's own algorithm.
    pub fn resolve(&self, signer: ClientSigner) -> (Option<String>, bool) {
        let crossed = if signer.alg() == "ES256" {
            "PS256"
        } else {
            "ES256"
        };
        match self {
            AlgSpec::Signer => (Some(signer.alg().into()), true),
            AlgSpec::Crossed => (Some(crossed.into()), false),
            AlgSpec::Other(alg) => (Some(alg.clone()), alg == signer.alg()),
            AlgSpec::Missing => (None, false),
        }
    }
}

/// How the header's `kid` is chosen.
#[derive(Arbitrary, Debug, Clone)]
pub enum KidSpec {
    Missing,
    Signer,
    Other(String),
}

impl KidSpec {
    /// The value, and whether it lets the signer's key be used.
    pub fn resolve(&self, signer: ClientSigner) -> (Option<String>, bool) {
        match self {
            KidSpec::Missing => (None, true),
            KidSpec::Signer => (Some(signer.kid().into()), true),
            KidSpec::Other(kid) => (Some(kid.clone()), kid == signer.kid()),
        }
    }
}

/// A change to a finished token: a byte replaced, or the token cut.
#[derive(Arbitrary, Debug, Clone)]
pub enum Mutation {
    None,
    Byte { at: u16, value: u8 },
    Cut { at: u16 },
}

impl Mutation {
    /// The changed token, and whether it is still the token as signed.
    pub fn apply(&self, token: String) -> (String, bool) {
        let mut bytes = token.clone().into_bytes();
        match *self {
            Mutation::None => {}
            Mutation::Byte { at, value } => {
                if !bytes.is_empty() {
                    let at = usize::from(at) % bytes.len();
                    bytes[at] = value;
                }
            }
            Mutation::Cut { at } => bytes.truncate(usize::from(at)),
        }
        let changed = String::from_utf8_lossy(&bytes).into_owned();
        let same = changed == token;
        (changed, same)
    }
}

/// A JWT header from an algorithm, a kid, a typ and whether `crit` is present.
pub fn header(alg: Option<String>, kid: Option<String>, typ: Option<String>, crit: bool) -> Value {
    let mut header = serde_json::Map::new();
    if let Some(alg) = alg {
        header.insert("alg".into(), alg.into());
    }
    if let Some(kid) = kid {
        header.insert("kid".into(), kid.into());
    }
    if let Some(typ) = typ {
        header.insert("typ".into(), typ.into());
    }
    if crit {
        header.insert("crit".into(), json!(["exp"]));
    }
    Value::Object(header)
}

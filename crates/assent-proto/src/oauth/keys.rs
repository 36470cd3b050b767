//! The public keys a client registers (its JWKS) and the verification of the JWTs it signs with
//! them: ES256 with P-256 keys and PS256 with RSA keys of 2048 to 4096 bits, nothing else. The
//! algorithm is read from the header only to pick among these two, and a key only verifies its
//! own algorithm, so `none`, HMAC with a public key as secret and RSA PKCS#1 v1.5 cannot be
//! smuggled in.

use crate::jose::{MAX_JWS_LEN, b64_decode};
use serde_json::{Map, Value, json};

/// Largest key set accepted at registration.
pub const MAX_KEY_SET_LEN: usize = 16 * 1024;
/// Most keys in one set: enough for a rotation or two, few enough to try them all.
pub const MAX_KEYS: usize = 10;
/// Smallest and largest RSA modulus, in bits (ring verifies PSS from 2048 up to 8192).
pub const MIN_RSA_BITS: usize = 2048;
pub const MAX_RSA_BITS: usize = 4096;
/// Longest `kid`.
pub const MAX_KID: usize = 256;

/// Members that only a private key has (RFC 7518 §6.2.2, §6.3.2, §6.4.1).
const PRIVATE_MEMBERS: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];

/// The two signature algorithms a client may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JwsAlg {
    /// ECDSA on P-256 with SHA-256.
    ES256,
    /// RSASSA-PSS with SHA-256 (the only RSA scheme without PKCS#1 v1.5's history).
    PS256,
}

impl JwsAlg {
    pub fn as_str(self) -> &'static str {
        match self {
            JwsAlg::ES256 => "ES256",
            JwsAlg::PS256 => "PS256",
        }
    }

    /// Exactly `ES256` or `PS256`; JOSE algorithm names are case-sensitive.
    pub fn parse(alg: &str) -> Option<Self> {
        match alg {
            "ES256" => Some(JwsAlg::ES256),
            "PS256" => Some(JwsAlg::PS256),
            _ => None,
        }
    }
}

/// Why a key set or a JWT was refused. Messages name the defect, never key material or claims.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    #[error("the key set is larger than {MAX_KEY_SET_LEN} bytes")]
    KeySetTooLarge,
    #[error("the key set is not JSON (line {line}, column {column})")]
    KeySetNotJson { line: usize, column: usize },
    #[error("the key set must be an object with a \"keys\" array")]
    NoKeysArray,
    #[error("the key set must hold 1 to {MAX_KEYS} keys")]
    KeyCount,
    #[error("key {index}: {defect}")]
    BadKey { index: usize, defect: &'static str },
    #[error("key {index}: its kid is also another key's")]
    DuplicateKid { index: usize },
    #[error("the JWT is longer than {MAX_JWS_LEN} bytes")]
    JwtTooLong,
    #[error("the JWT is not three base64url parts separated by dots")]
    Malformed,
    #[error("the JWT header is not a JSON object")]
    BadHeader,
    #[error("the JWT alg must be ES256 or PS256")]
    UnsupportedAlg,
    #[error("the JWT header has crit, whose extensions are not understood here")]
    Crit,
    #[error("the JWT typ must be {expected}")]
    WrongTyp { expected: String },
    #[error("the JWT kid must be a string")]
    BadKid,
    #[error("no registered key has the JWT's kid")]
    UnknownKid,
    #[error("the key named by kid is not for {alg}")]
    KeyAlgMismatch { alg: &'static str },
    #[error("no registered key can verify {alg}")]
    NoKeyForAlg { alg: &'static str },
    #[error("the JWT signature does not verify")]
    BadSignature,
    #[error("the JWT claims are not a JSON object")]
    BadClaims,
}

/// The key material of one registered key, decoded once.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Material {
    /// The JWK's `x` and `y` as registered, and the uncompressed SEC1 point ring verifies with.
    Ec {
        x: String,
        y: String,
        point: Vec<u8>,
    },
    /// The JWK's `n` and `e` as registered, and their big-endian bytes without leading zeros.
    Rsa {
        n_text: String,
        e_text: String,
        n: Vec<u8>,
        e: Vec<u8>,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct ClientKey {
    kid: Option<String>,
    alg: Option<JwsAlg>,
    use_sig: bool,
    material: Material,
}

impl ClientKey {
    /// The one algorithm this key verifies.
    fn alg(&self) -> JwsAlg {
        match self.material {
            Material::Ec { .. } => JwsAlg::ES256,
            Material::Rsa { .. } => JwsAlg::PS256,
        }
    }

    fn verify(&self, signing_input: &[u8], signature: &[u8]) -> bool {
        use ring::signature::{
            ECDSA_P256_SHA256_FIXED, RSA_PSS_2048_8192_SHA256, RsaPublicKeyComponents,
            UnparsedPublicKey,
        };
        match &self.material {
            Material::Ec { point, .. } => UnparsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point)
                .verify(signing_input, signature)
                .is_ok(),
            Material::Rsa { n, e, .. } => RsaPublicKeyComponents { n, e }
                .verify(&RSA_PSS_2048_8192_SHA256, signing_input, signature)
                .is_ok(),
        }
    }

    fn to_json(&self) -> Value {
        let mut jwk = match &self.material {
            Material::Ec { x, y, .. } => json!({"kty": "EC", "crv": "P-256", "x": x, "y": y}),
            Material::Rsa { n_text, e_text, .. } => json!({"kty": "RSA", "n": n_text, "e": e_text}),
        };
        if let Value::Object(members) = &mut jwk {
            if let Some(kid) = &self.kid {
                members.insert("kid".into(), kid.clone().into());
            }
            if let Some(alg) = self.alg {
                members.insert("alg".into(), alg.as_str().into());
            }
            if self.use_sig {
                members.insert("use".into(), "sig".into());
            }
        }
        jwk
    }
}

/// A client's registered public keys: 1 to [`MAX_KEYS`] P-256 or RSA signing keys, checked once
/// at registration so that verification has no shape left to doubt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientKeySet {
    keys: Vec<ClientKey>,
}

/// A JWT whose signature verified with one of a client's keys. Nothing but the signature, the
/// algorithm, `typ` and `crit` is checked: the claims are the caller's to judge.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedJwt {
    pub header: Map<String, Value>,
    pub claims: Map<String, Value>,
}

impl ClientKeySet {
    /// Parses a JWKS (`{"keys":[...]}`), refusing what a signing key set must not hold: private
    /// members (a client that sends its private key has leaked it), keys for encryption, keys
    /// for other algorithms, small RSA moduli, and two keys with one `kid` (which would make
    /// `kid` ambiguous).
    pub fn parse(json: &str) -> Result<ClientKeySet, KeyError> {
        if json.len() > MAX_KEY_SET_LEN {
            return Err(KeyError::KeySetTooLarge);
        }
        let value: Value = serde_json::from_str(json).map_err(|e| KeyError::KeySetNotJson {
            line: e.line(),
            column: e.column(),
        })?;
        let Some(Value::Array(entries)) = value.get("keys") else {
            return Err(KeyError::NoKeysArray);
        };
        if entries.is_empty() || entries.len() > MAX_KEYS {
            return Err(KeyError::KeyCount);
        }
        let mut keys: Vec<ClientKey> = Vec::with_capacity(entries.len());
        for (index, entry) in entries.iter().enumerate() {
            let key = parse_key(entry).map_err(|defect| KeyError::BadKey { index, defect })?;
            if key.kid.is_some() && keys.iter().any(|k| k.kid == key.kid) {
                return Err(KeyError::DuplicateKid { index });
            }
            keys.push(key);
        }
        Ok(ClientKeySet { keys })
    }

    /// The set as a JWKS with public members only, for storage; [`ClientKeySet::parse`] reads
    /// it back to an equal set.
    pub fn to_json(&self) -> String {
        let keys: Vec<Value> = self.keys.iter().map(ClientKey::to_json).collect();
        json!({ "keys": keys }).to_string()
    }

    /// How many keys the set holds.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Always false: a set holds at least one key. Present because `len` is.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// Verifies a compact JWS signed with one of these keys and returns its header and claims.
    ///
    /// The header's `alg` must be ES256 or PS256. With a `kid`, only the key with that `kid` is
    /// used, and it must be of the algorithm's type; without one, every key of that type is
    /// tried (a set holds at most [`MAX_KEYS`]). When `expected_typ` is given, the header's
    /// `typ` must equal it, compared case-insensitively and with or without the
    /// `application/` prefix (RFC 7515 §4.1.9), so one kind of token cannot stand in for
    /// another. `crit` is refused: this verifier understands no extension (RFC 7515 §4.1.11).
    pub fn verify_jwt(
        &self,
        token: &str,
        expected_typ: Option<&str>,
    ) -> Result<VerifiedJwt, KeyError> {
        let parts = split(token)?;
        let header = parts.header()?;
        let alg = match header.get("alg") {
            Some(Value::String(alg)) => JwsAlg::parse(alg).ok_or(KeyError::UnsupportedAlg)?,
            _ => return Err(KeyError::UnsupportedAlg),
        };
        if header.contains_key("crit") {
            return Err(KeyError::Crit);
        }
        if let Some(expected) = expected_typ {
            let typ = header
                .get("typ")
                .and_then(Value::as_str)
                .unwrap_or_default();
            if !typ_matches(typ, expected) {
                return Err(KeyError::WrongTyp {
                    expected: expected.to_owned(),
                });
            }
        }
        let candidates: Vec<&ClientKey> = match header.get("kid") {
            Some(Value::String(kid)) => {
                let key = self
                    .keys
                    .iter()
                    .find(|k| k.kid.as_deref() == Some(kid.as_str()))
                    .ok_or(KeyError::UnknownKid)?;
                if key.alg() != alg {
                    return Err(KeyError::KeyAlgMismatch { alg: alg.as_str() });
                }
                vec![key]
            }
            Some(_) => return Err(KeyError::BadKid),
            None => self.keys.iter().filter(|k| k.alg() == alg).collect(),
        };
        if candidates.is_empty() {
            return Err(KeyError::NoKeyForAlg { alg: alg.as_str() });
        }
        let signature = b64_decode(parts.signature).map_err(|_| KeyError::Malformed)?;
        if alg == JwsAlg::ES256 && signature.len() != 64 {
            return Err(KeyError::BadSignature);
        }
        let signing_input = parts.signing_input();
        if !candidates
            .iter()
            .any(|key| key.verify(signing_input.as_bytes(), &signature))
        {
            return Err(KeyError::BadSignature);
        }
        let claims = parts.claims().ok_or(KeyError::BadClaims)?;
        Ok(VerifiedJwt { header, claims })
    }
}

/// Whether a header's `typ` is `expected`, ignoring case and an `application/` prefix on either.
fn typ_matches(typ: &str, expected: &str) -> bool {
    fn bare(media: &str) -> &str {
        match media.get(..12) {
            Some(prefix) if prefix.eq_ignore_ascii_case("application/") => &media[12..],
            _ => media,
        }
    }
    bare(typ).eq_ignore_ascii_case(bare(expected))
}

/// The three parts of a compact JWS, not yet decoded.
pub(crate) struct Parts<'a> {
    header: &'a str,
    payload: &'a str,
    signature: &'a str,
}

/// Splits a compact JWS of at most [`MAX_JWS_LEN`] bytes.
pub(crate) fn split(token: &str) -> Result<Parts<'_>, KeyError> {
    if token.len() > MAX_JWS_LEN {
        return Err(KeyError::JwtTooLong);
    }
    let mut parts = token.split('.');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(header), Some(payload), Some(signature), None) => Ok(Parts {
            header,
            payload,
            signature,
        }),
        _ => Err(KeyError::Malformed),
    }
}

impl Parts<'_> {
    fn header(&self) -> Result<Map<String, Value>, KeyError> {
        let bytes = b64_decode(self.header).map_err(|_| KeyError::Malformed)?;
        serde_json::from_slice(&bytes).map_err(|_| KeyError::BadHeader)
    }

    /// The payload's bytes, as signed.
    pub(crate) fn payload(&self) -> Option<Vec<u8>> {
        b64_decode(self.payload).ok()
    }

    pub(crate) fn claims(&self) -> Option<Map<String, Value>> {
        serde_json::from_slice(&self.payload()?).ok()
    }

    fn signing_input(&self) -> String {
        format!("{}.{}", self.header, self.payload)
    }
}

/// A string claim read WITHOUT verifying anything: only to learn which client's keys to verify
/// with (an assertion's `iss`). Never trust the value for anything else.
pub fn unverified_claim(token: &str, name: &str) -> Option<String> {
    let claims = split(token).ok()?.claims()?;
    claims.get(name)?.as_str().map(str::to_owned)
}

/// One JWK of a set, or the name of its defect.
fn parse_key(entry: &Value) -> Result<ClientKey, &'static str> {
    let Value::Object(members) = entry else {
        return Err("a key must be a JSON object");
    };
    if PRIVATE_MEMBERS.iter().any(|m| members.contains_key(*m)) {
        return Err("a private key member is present; register the public key only");
    }
    let text = |name: &'static str| -> Result<Option<&str>, &'static str> {
        match members.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s)),
            Some(_) => Err("kty, crv, x, y, n, e, kid, alg and use must be strings"),
        }
    };
    match text("use")? {
        None | Some("sig") => {}
        Some(_) => return Err("use must be sig"),
    }
    let kid = match text("kid")? {
        Some(kid) if kid.is_empty() || kid.chars().count() > MAX_KID => {
            return Err("kid must be 1 to 256 characters");
        }
        kid => kid.map(str::to_owned),
    };
    let (material, alg) = match text("kty")? {
        Some("EC") => {
            if text("crv")? != Some("P-256") {
                return Err("an EC key must be on crv P-256");
            }
            let x = text("x")?.ok_or("an EC key needs x")?;
            let y = text("y")?.ok_or("an EC key needs y")?;
            let xb = b64_decode(x).map_err(|_| "x is not base64url")?;
            let yb = b64_decode(y).map_err(|_| "y is not base64url")?;
            if xb.len() != 32 || yb.len() != 32 {
                return Err("x and y must be 32 bytes each");
            }
            let mut point = Vec::with_capacity(65);
            point.push(4);
            point.extend_from_slice(&xb);
            point.extend_from_slice(&yb);
            let material = Material::Ec {
                x: x.to_owned(),
                y: y.to_owned(),
                point,
            };
            (material, JwsAlg::ES256)
        }
        Some("RSA") => {
            let n_text = text("n")?.ok_or("an RSA key needs n")?;
            let e_text = text("e")?.ok_or("an RSA key needs e")?;
            let n = strip_zeros(b64_decode(n_text).map_err(|_| "n is not base64url")?);
            let e = strip_zeros(b64_decode(e_text).map_err(|_| "e is not base64url")?);
            let bits = n
                .first()
                .map_or(0, |top| n.len() * 8 - top.leading_zeros() as usize);
            if !(MIN_RSA_BITS..=MAX_RSA_BITS).contains(&bits) {
                return Err("an RSA modulus must have 2048 to 4096 bits");
            }
            // ring takes exponents from 3 up to 2^33 - 1, odd; 65537 is what everyone uses.
            let odd = e.last().is_some_and(|low| low & 1 == 1);
            if e.len() > 4 || !odd || e.as_slice() == [1] {
                return Err("e must be an odd exponent from 3 to 2^32 - 1");
            }
            let material = Material::Rsa {
                n_text: n_text.to_owned(),
                e_text: e_text.to_owned(),
                n,
                e,
            };
            (material, JwsAlg::PS256)
        }
        Some(_) => return Err("kty must be EC or RSA"),
        None => return Err("kty is required"),
    };
    let alg = match text("alg")? {
        None => None,
        Some(name) if JwsAlg::parse(name) == Some(alg) => Some(alg),
        Some(_) => {
            return Err(match alg {
                JwsAlg::ES256 => "an EC key's alg must be ES256",
                JwsAlg::PS256 => "an RSA key's alg must be PS256",
            });
        }
    };
    Ok(ClientKey {
        kid,
        alg,
        use_sig: text("use")?.is_some(),
        material,
    })
}

fn strip_zeros(mut bytes: Vec<u8>) -> Vec<u8> {
    let zeros = bytes.iter().take_while(|b| **b == 0).count();
    bytes.drain(..zeros);
    bytes
}

#[cfg(test)]
#[path = "keys_tests.rs"]
mod tests;

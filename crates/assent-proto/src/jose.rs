//! The small part of JOSE that Assent speaks: P-256 JWKs, RFC 7638 thumbprints and compact JWS
//! with ES256 only. Restricting to one algorithm removes algorithm-confusion attacks (`none`,
//! HS256 with a public key) by construction rather than by configuration.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SecureRandom;
use ring::signature::{self, EcdsaKeyPair, KeyPair as _};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The only signature algorithm Assent accepts.
pub const ES256: &str = "ES256";
/// Upper bound on a compact JWS we are willing to parse; real ones are well under 4 KiB.
pub const MAX_JWS_LEN: usize = 16 * 1024;

/// Why a JWS or JWK was refused. Messages name the defect, never key material.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JoseError {
    #[error("the JWS is not three base64url parts separated by dots")]
    Malformed,
    #[error("the JWS is longer than {MAX_JWS_LEN} bytes")]
    TooLong,
    #[error("the JWS header is not valid: {0}")]
    BadHeader(String),
    #[error("the JWS payload is not valid: {0}")]
    BadPayload(String),
    #[error("only ES256 is accepted")]
    UnsupportedAlgorithm,
    #[error("the signature does not verify")]
    BadSignature,
    #[error("the JWK is not a P-256 public key: {0}")]
    BadJwk(&'static str),
    #[error("the key could not be used")]
    Key,
}

/// Base64url without padding, as JOSE uses everywhere.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url without padding.
pub fn b64_decode(text: &str) -> Result<Vec<u8>, JoseError> {
    URL_SAFE_NO_PAD
        .decode(text)
        .map_err(|_| JoseError::Malformed)
}

/// SHA-256, base64url encoded: the digest form used in statements and fingerprints.
pub fn sha256_b64(bytes: impl AsRef<[u8]>) -> String {
    b64(ring::digest::digest(&ring::digest::SHA256, bytes.as_ref()))
}

/// A P-256 public key as a JWK (RFC 7517/7518). Extra members that WebCrypto adds (`ext`,
/// `key_ops`, `alg`, `use`, `kid`) are tolerated and dropped; a private member `d` is refused so
/// a buggy client cannot register its private key with us.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Jwk {
    pub kty: String,
    pub crv: String,
    pub x: String,
    pub y: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alg: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[serde(rename = "use")]
    pub use_: Option<String>,
    #[serde(default, skip_serializing)]
    #[cfg_attr(feature = "openapi", schema(ignore))]
    pub d: Option<String>,
}

impl Jwk {
    /// The JWK of an uncompressed SEC1 point (`04 || x || y`).
    pub fn from_sec1(point: &[u8]) -> Result<Self, JoseError> {
        if point.len() != 65 || point[0] != 4 {
            return Err(JoseError::BadJwk("not an uncompressed P-256 point"));
        }
        Ok(Jwk {
            kty: "EC".into(),
            crv: "P-256".into(),
            x: b64(&point[1..33]),
            y: b64(&point[33..65]),
            kid: None,
            alg: None,
            use_: None,
            d: None,
        })
    }

    /// Checks the shape and returns the uncompressed SEC1 point ring verifies with. Whether the
    /// point is on the curve is checked by ring at verification time, which every path that
    /// accepts a key does before trusting it (enrollment verifies a proof of possession).
    pub fn to_sec1(&self) -> Result<Vec<u8>, JoseError> {
        if self.kty != "EC" || self.crv != "P-256" {
            return Err(JoseError::BadJwk("kty must be EC and crv P-256"));
        }
        if self.d.is_some() {
            return Err(JoseError::BadJwk("a private key member is present"));
        }
        let x = b64_decode(&self.x).map_err(|_| JoseError::BadJwk("x is not base64url"))?;
        let y = b64_decode(&self.y).map_err(|_| JoseError::BadJwk("y is not base64url"))?;
        if x.len() != 32 || y.len() != 32 {
            return Err(JoseError::BadJwk("x and y must be 32 bytes"));
        }
        let mut point = Vec::with_capacity(65);
        point.push(4);
        point.extend_from_slice(&x);
        point.extend_from_slice(&y);
        Ok(point)
    }

    /// The RFC 7638 thumbprint: base64url SHA-256 of the required members in lexical order.
    /// Assent uses it as the key id of the server key and as the device key's stable name.
    pub fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"{}","kty":"{}","x":"{}","y":"{}"}}"#,
            self.crv, self.kty, self.x, self.y
        );
        sha256_b64(canonical)
    }

    /// The public part only, with the given key id, for publication in a JWKS.
    pub fn public_with_kid(&self, kid: &str) -> Jwk {
        Jwk {
            kid: Some(kid.to_owned()),
            alg: Some(ES256.into()),
            use_: Some("sig".into()),
            d: None,
            ..self.clone()
        }
    }
}

/// A JWK Set, as served at `/.well-known/jwks.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JwkSet {
    pub keys: Vec<Jwk>,
}

/// The protected header of every JWS Assent makes or accepts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Header {
    pub alg: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub typ: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwk: Option<Jwk>,
}

/// A compact JWS split into its parts; nothing in it is trusted until [`Parsed::verify`] passes.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub header: Header,
    signing_input: String,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

impl Parsed {
    /// Splits and decodes a compact JWS, refusing anything but ES256.
    pub fn parse(jws: &str) -> Result<Self, JoseError> {
        if jws.len() > MAX_JWS_LEN {
            return Err(JoseError::TooLong);
        }
        let mut parts = jws.split('.');
        let (Some(h), Some(p), Some(s), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(JoseError::Malformed);
        };
        let header_bytes = b64_decode(h)?;
        let header: Header = serde_json::from_slice(&header_bytes)
            .map_err(|e| JoseError::BadHeader(e.to_string()))?;
        if header.alg != ES256 {
            return Err(JoseError::UnsupportedAlgorithm);
        }
        let payload = b64_decode(p)?;
        let signature = b64_decode(s)?;
        if signature.len() != 64 {
            return Err(JoseError::BadSignature);
        }
        Ok(Parsed {
            header,
            signing_input: format!("{h}.{p}"),
            payload,
            signature,
        })
    }

    /// Verifies the signature with `key` and decodes the payload.
    pub fn verify<T: DeserializeOwned>(&self, key: &Jwk) -> Result<T, JoseError> {
        let point = key.to_sec1()?;
        signature::UnparsedPublicKey::new(&signature::ECDSA_P256_SHA256_FIXED, point)
            .verify(self.signing_input.as_bytes(), &self.signature)
            .map_err(|_| JoseError::BadSignature)?;
        serde_json::from_slice(&self.payload).map_err(|e| JoseError::BadPayload(e.to_string()))
    }

    /// The payload as sent, before verification: only for display in verification tools.
    pub fn unverified_payload(&self) -> &[u8] {
        &self.payload
    }
}

/// A P-256 signing key held in memory, loaded from or exported to PKCS#8.
pub struct SigningKey {
    pair: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    jwk: Jwk,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("thumbprint", &self.jwk.thumbprint())
            .finish_non_exhaustive()
    }
}

impl SigningKey {
    /// A fresh key from the system's random source.
    pub fn generate() -> Result<Self, JoseError> {
        let rng = ring::rand::SystemRandom::new();
        let doc = EcdsaKeyPair::generate_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
            .map_err(|_| JoseError::Key)?;
        Self::from_pkcs8(doc.as_ref())
    }

    /// Loads a PKCS#8 (DER) P-256 private key.
    pub fn from_pkcs8(der: &[u8]) -> Result<Self, JoseError> {
        let rng = ring::rand::SystemRandom::new();
        let pair = EcdsaKeyPair::from_pkcs8(&signature::ECDSA_P256_SHA256_FIXED_SIGNING, der, &rng)
            .map_err(|_| JoseError::Key)?;
        let jwk = Jwk::from_sec1(pair.public_key().as_ref())?;
        Ok(SigningKey {
            pair,
            pkcs8: der.to_vec(),
            jwk,
        })
    }

    /// The private key as PKCS#8 DER, for storage in a file only its owner can read.
    pub fn pkcs8(&self) -> &[u8] {
        &self.pkcs8
    }

    /// The public key.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// Signs `payload` as a compact JWS with the given header fields (`alg` is always ES256).
    pub fn sign<T: Serialize>(
        &self,
        typ: &str,
        kid: Option<&str>,
        embed_jwk: bool,
        payload: &T,
    ) -> Result<String, JoseError> {
        let header = Header {
            alg: ES256.into(),
            typ: Some(typ.into()),
            kid: kid.map(str::to_owned),
            jwk: embed_jwk.then(|| self.jwk.clone()),
        };
        let header =
            serde_json::to_vec(&header).map_err(|e| JoseError::BadHeader(e.to_string()))?;
        let payload =
            serde_json::to_vec(payload).map_err(|e| JoseError::BadPayload(e.to_string()))?;
        let signing_input = format!("{}.{}", b64(header), b64(payload));
        let rng = ring::rand::SystemRandom::new();
        let sig = self
            .pair
            .sign(&rng, signing_input.as_bytes())
            .map_err(|_| JoseError::Key)?;
        Ok(format!("{signing_input}.{}", b64(sig.as_ref())))
    }
}

/// Random bytes from the operating system, base64url encoded: nonces, proof ids, secrets.
pub fn random_token(bytes: usize) -> Result<String, JoseError> {
    let mut buf = vec![0u8; bytes];
    ring::rand::SystemRandom::new()
        .fill(&mut buf)
        .map_err(|_| JoseError::Key)?;
    Ok(b64(buf))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{Value, json};

    #[test]
    fn sign_then_verify_round_trips() {
        let key = SigningKey::generate().unwrap();
        let jws = key
            .sign("test+jws", Some("k1"), true, &json!({"a": 1}))
            .unwrap();
        let parsed = Parsed::parse(&jws).unwrap();
        assert_eq!(parsed.header.kid.as_deref(), Some("k1"));
        let payload: Value = parsed.verify(parsed.header.jwk.as_ref().unwrap()).unwrap();
        assert_eq!(payload, json!({"a": 1}));
    }

    #[test]
    fn refuses_other_keys_and_tampering() {
        let key = SigningKey::generate().unwrap();
        let other = SigningKey::generate().unwrap();
        let jws = key.sign("t", None, false, &json!({"a": 1})).unwrap();
        let parsed = Parsed::parse(&jws).unwrap();
        assert_eq!(
            parsed.verify::<Value>(other.jwk()),
            Err(JoseError::BadSignature)
        );
        let (head, rest) = jws.split_once('.').unwrap();
        let (_, sig) = rest.split_once('.').unwrap();
        let forged = format!("{head}.{}.{sig}", b64(br#"{"a":2}"#));
        assert_eq!(
            Parsed::parse(&forged).unwrap().verify::<Value>(key.jwk()),
            Err(JoseError::BadSignature)
        );
    }

    #[test]
    fn refuses_alg_none_and_hs256() {
        for alg in ["none", "HS256", "es256"] {
            let header = b64(format!(r#"{{"alg":"{alg}"}}"#));
            let jws = format!("{header}.{}.{}", b64("{}"), b64([0u8; 64]));
            assert_eq!(
                Parsed::parse(&jws).unwrap_err(),
                JoseError::UnsupportedAlgorithm
            );
        }
    }

    #[test]
    fn refuses_private_jwk_and_wrong_curve() {
        let key = SigningKey::generate().unwrap();
        let mut jwk = key.jwk().clone();
        jwk.d = Some("AAAA".into());
        assert!(jwk.to_sec1().is_err());
        let mut jwk = key.jwk().clone();
        jwk.crv = "P-384".into();
        assert!(jwk.to_sec1().is_err());
    }

    #[test]
    fn rfc7638_thumbprint_is_stable_under_extra_members() {
        let key = SigningKey::generate().unwrap();
        let with_extras = key.jwk().public_with_kid("x");
        assert_eq!(with_extras.thumbprint(), key.jwk().thumbprint());
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(input in "\\PC{0,300}") {
            let _ = Parsed::parse(&input);
        }
    }
}

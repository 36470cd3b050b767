//! What the fuzz targets share: fixed P-256 keys (PKCS#8 files in `keys/`, used for nothing
//! else), so that a target can build a correctly signed input from arbitrary fields and reach the
//! checks behind the signature; and the builder of WebAuthn assertions that the `webauthn` and
//! `receipt` targets both use.

pub mod oauth;

use arbitrary::Arbitrary;
use assent_proto::jose::{Jwk, SigningKey, b64};
use assent_proto::webauthn::{Assertion, challenge_for};
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use std::sync::OnceLock;

/// The keys a target can sign with.
#[derive(Arbitrary, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Server,
    Device,
    Passkey,
    Other,
}

impl Key {
    fn pkcs8(self) -> &'static [u8] {
        match self {
            Key::Server => include_bytes!("../keys/server.p8"),
            Key::Device => include_bytes!("../keys/device.p8"),
            Key::Passkey => include_bytes!("../keys/passkey.p8"),
            Key::Other => include_bytes!("../keys/other.p8"),
        }
    }

    fn index(self) -> usize {
        self as usize
    }

    /// The key for JWS (ES256, fixed-size signatures).
    pub fn jws(self) -> &'static SigningKey {
        static KEYS: [OnceLock<SigningKey>; 4] = [const { OnceLock::new() }; 4];
        KEYS[self.index()]
            .get_or_init(|| SigningKey::from_pkcs8(self.pkcs8()).expect("fixed key loads"))
    }

    /// The public key.
    pub fn jwk(self) -> &'static Jwk {
        self.jws().jwk()
    }

    /// The same key for WebAuthn (ASN.1 DER signatures).
    fn asn1(self) -> &'static EcdsaKeyPair {
        static KEYS: [OnceLock<EcdsaKeyPair>; 4] = [const { OnceLock::new() }; 4];
        KEYS[self.index()].get_or_init(|| {
            let rng = ring::rand::SystemRandom::new();
            EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, self.pkcs8(), &rng)
                .expect("fixed key loads")
        })
    }

    /// The uncompressed SEC1 point.
    pub fn point(self) -> &'static [u8] {
        self.asn1().public_key().as_ref()
    }

    /// An ASN.1 DER ECDSA signature over `message`.
    pub fn sign_asn1(self, message: &[u8]) -> Vec<u8> {
        let rng = ring::rand::SystemRandom::new();
        self.asn1()
            .sign(&rng, message)
            .expect("signing works")
            .as_ref()
            .to_vec()
    }
}

/// A string the input either leaves as expected or replaces.
#[derive(Arbitrary, Debug, Clone)]
pub enum Text {
    Expected,
    Other(String),
}

impl Text {
    /// The value, and whether it is the expected one.
    pub fn resolve(&self, expected: &str) -> (String, bool) {
        match self {
            Text::Expected => (expected.to_owned(), true),
            Text::Other(s) => (s.clone(), s == expected),
        }
    }
}

/// `clientDataJSON`, member by member.
#[derive(Arbitrary, Debug, Clone)]
pub struct ClientDataSpec {
    pub type_: Text,
    pub challenge: Text,
    pub origin: Text,
    pub cross_origin: Option<bool>,
    /// Another member (browsers add `topOrigin` and others).
    pub extra: Option<(String, String)>,
    /// Replaces the whole document.
    pub raw: Option<Vec<u8>>,
}

/// The authenticator data, field by field.
#[derive(Arbitrary, Debug, Clone)]
pub struct AuthDataSpec {
    /// Replaces the SHA-256 of the relying-party id.
    pub rp_id_hash: Option<[u8; 32]>,
    pub flags: u8,
    pub sign_count: u32,
    /// Attested credential data or extensions.
    pub trailing: Vec<u8>,
    /// Cuts the data to this length.
    pub truncate: Option<u8>,
}

/// How the assertion is signed.
#[derive(Arbitrary, Debug, Clone)]
pub enum SignatureSpec {
    /// By the registered passkey over the data as built.
    Valid,
    /// By another key.
    By(Key),
    /// A valid signature with one byte changed.
    Flipped {
        at: u8,
        xor: u8,
    },
    Raw(Vec<u8>),
}

/// A whole assertion, to be built against what a verifier expects.
#[derive(Arbitrary, Debug, Clone)]
pub struct AssertionSpec {
    pub credential_id: Text,
    pub client_data: ClientDataSpec,
    pub auth_data: AuthDataSpec,
    pub signature: SignatureSpec,
    /// Replaces one of the four base64url members with raw text: 0 credential id, 1
    /// authenticator data, 2 client data, 3 signature.
    pub encoding: Option<(u8, String)>,
}

/// What a verifier expects, as [`assent_proto::webauthn::Expected`] holds it.
pub struct Expectation<'a> {
    pub statement: &'a str,
    pub origin: &'a str,
    pub rp_id: &'a str,
    pub credential_id: &'a str,
    /// The key the signature is made with when the spec says `Valid`.
    pub signer: Key,
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).expect("a string serializes")
}

impl AssertionSpec {
    /// Builds the assertion; the flag says whether it must verify against `want`
    /// (`None` where that depends on bytes the spec gave raw).
    pub fn build(&self, want: &Expectation<'_>) -> (Assertion, Option<bool>) {
        let mut known = true;
        let (credential_id, credential_ok) = self.credential_id.resolve(want.credential_id);

        let c = &self.client_data;
        let (type_, type_ok) = c.type_.resolve("webauthn.get");
        let (challenge, challenge_ok) = c.challenge.resolve(&challenge_for(want.statement));
        let (origin, origin_ok) = c.origin.resolve(want.origin);
        let mut client_ok = type_ok && challenge_ok && origin_ok && c.cross_origin != Some(true);
        let client_data = match &c.raw {
            Some(raw) => {
                known = false;
                raw.clone()
            }
            None => {
                let mut json = format!(
                    "{{\"type\":{},\"challenge\":{},\"origin\":{}",
                    json_string(&type_),
                    json_string(&challenge),
                    json_string(&origin)
                );
                if let Some(cross) = c.cross_origin {
                    json.push_str(&format!(",\"crossOrigin\":{cross}"));
                }
                if let Some((key, value)) = &c.extra {
                    if ["type", "challenge", "origin", "crossOrigin"].contains(&key.as_str()) {
                        // A duplicate member: whether it is refused is serde's business.
                        known = false;
                    }
                    json.push_str(&format!(",{}:{}", json_string(key), json_string(value)));
                }
                json.push('}');
                json.into_bytes()
            }
        };
        client_ok &= c.raw.is_none();

        let a = &self.auth_data;
        let rp_hash = ring::digest::digest(&ring::digest::SHA256, want.rp_id.as_bytes());
        let mut auth_data = a
            .rp_id_hash
            .map_or_else(|| rp_hash.as_ref().to_vec(), |h| h.to_vec());
        auth_data.push(a.flags);
        auth_data.extend_from_slice(&a.sign_count.to_be_bytes());
        auth_data.extend_from_slice(&a.trailing);
        if let Some(len) = a.truncate {
            auth_data.truncate(usize::from(len));
        }
        let auth_ok = auth_data.len() >= 37
            && auth_data[..32] == *rp_hash.as_ref()
            && auth_data[32] & 0x05 == 0x05;

        let mut signed = auth_data.clone();
        signed
            .extend_from_slice(ring::digest::digest(&ring::digest::SHA256, &client_data).as_ref());
        let (signature, signature_ok) = match &self.signature {
            SignatureSpec::Valid => (want.signer.sign_asn1(&signed), true),
            SignatureSpec::By(key) => (key.sign_asn1(&signed), *key == want.signer),
            SignatureSpec::Flipped { at, xor } => {
                let mut sig = want.signer.sign_asn1(&signed);
                let at = usize::from(*at) % sig.len();
                sig[at] ^= xor;
                (sig, *xor == 0)
            }
            SignatureSpec::Raw(bytes) => (bytes.clone(), false),
        };

        let mut assertion = Assertion {
            credential_id,
            authenticator_data: b64(&auth_data),
            client_data_json: b64(&client_data),
            signature: b64(&signature),
        };
        if let Some((field, text)) = &self.encoding {
            known = false;
            let slot = match field % 4 {
                0 => &mut assertion.credential_id,
                1 => &mut assertion.authenticator_data,
                2 => &mut assertion.client_data_json,
                _ => &mut assertion.signature,
            };
            *slot = text.clone();
        }
        let ok = credential_ok && client_ok && auth_ok && signature_ok;
        // The credential id is checked first: naming another passkey is refused whatever else
        // was given raw.
        let certain =
            known || !credential_ok && self.encoding.as_ref().is_none_or(|e| e.0 % 4 != 0);
        (assertion, certain.then_some(ok))
    }
}

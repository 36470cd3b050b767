//! Verification of a WebAuthn assertion used as the user-verification factor of an approval.
//! The assertion's challenge is the SHA-256 of the device's signed decision statement, so the
//! passkey check is bound to exactly that answer; there is no server-side ceremony state to keep.
//! Only ES256 passkeys are accepted (WebCrypto, platform authenticators and security keys all
//! offer it).

use crate::jose::{b64, b64_decode, sha256_b64};
use serde::{Deserialize, Serialize};

/// What the browser's `navigator.credentials.get()` returned, base64url encoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct Assertion {
    pub credential_id: String,
    pub authenticator_data: String,
    pub client_data_json: String,
    /// ASN.1 DER ECDSA signature, as WebAuthn produces for ES256.
    pub signature: String,
}

/// What the assertion must show.
#[derive(Debug, Clone)]
pub struct Expected<'a> {
    /// The statement the assertion vouches for (its compact JWS).
    pub statement: &'a str,
    /// The web origin the authenticator page runs on, e.g. `https://assent.example.com`.
    pub origin: &'a str,
    /// The relying-party id the passkey was registered under (the origin's host).
    pub rp_id: &'a str,
    /// The registered credential id (base64url).
    pub credential_id: &'a str,
    /// The registered public key, as an uncompressed SEC1 point.
    pub public_key: &'a [u8],
}

/// Why an assertion was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AssertionError {
    #[error("the assertion is not base64url")]
    Encoding,
    #[error("the assertion names another passkey")]
    Credential,
    #[error("clientDataJSON is not valid: {0}")]
    ClientData(&'static str),
    #[error("the authenticator data is not valid: {0}")]
    AuthenticatorData(&'static str),
    #[error("the authenticator did not verify the user")]
    NotVerified,
    #[error("the passkey signature does not verify")]
    Signature,
}

#[derive(Deserialize)]
struct ClientData {
    #[serde(rename = "type")]
    type_: String,
    challenge: String,
    origin: String,
    #[serde(default, rename = "crossOrigin")]
    cross_origin: bool,
}

/// The challenge a device must use: base64url SHA-256 of the statement.
pub fn challenge_for(statement: &str) -> String {
    sha256_b64(statement.as_bytes())
}

/// Verifies an assertion (WebAuthn Level 3, section 7.2, for ES256 and no extensions).
pub fn verify(assertion: &Assertion, expected: &Expected<'_>) -> Result<(), AssertionError> {
    if assertion.credential_id != expected.credential_id {
        return Err(AssertionError::Credential);
    }
    let client_data_bytes =
        b64_decode(&assertion.client_data_json).map_err(|_| AssertionError::Encoding)?;
    let auth_data =
        b64_decode(&assertion.authenticator_data).map_err(|_| AssertionError::Encoding)?;
    let signature = b64_decode(&assertion.signature).map_err(|_| AssertionError::Encoding)?;

    let client: ClientData = serde_json::from_slice(&client_data_bytes)
        .map_err(|_| AssertionError::ClientData("not JSON"))?;
    if client.type_ != "webauthn.get" {
        return Err(AssertionError::ClientData("type is not webauthn.get"));
    }
    if client.challenge != challenge_for(expected.statement) {
        return Err(AssertionError::ClientData(
            "the challenge is not this statement's",
        ));
    }
    if client.origin != expected.origin || client.cross_origin {
        return Err(AssertionError::ClientData("made on another origin"));
    }
    if auth_data.len() < 37 {
        return Err(AssertionError::AuthenticatorData("shorter than 37 bytes"));
    }
    let rp_id_hash = ring::digest::digest(&ring::digest::SHA256, expected.rp_id.as_bytes());
    if auth_data[..32] != *rp_id_hash.as_ref() {
        return Err(AssertionError::AuthenticatorData(
            "made for another relying party id",
        ));
    }
    let flags = auth_data[32];
    let (user_present, user_verified) = (flags & 0x01 != 0, flags & 0x04 != 0);
    if !user_present || !user_verified {
        return Err(AssertionError::NotVerified);
    }
    let mut signed = auth_data.clone();
    signed.extend_from_slice(
        ring::digest::digest(&ring::digest::SHA256, &client_data_bytes).as_ref(),
    );
    ring::signature::UnparsedPublicKey::new(
        &ring::signature::ECDSA_P256_SHA256_ASN1,
        expected.public_key,
    )
    .verify(&signed, &signature)
    .map_err(|_| AssertionError::Signature)
}

/// The signature counter an assertion's authenticator data reports (bytes 33 to 36, big-endian):
/// read after [`verify`] accepted the assertion, for the caller to check that it grew.
pub fn sign_count(assertion: &Assertion) -> Result<u32, AssertionError> {
    let auth_data =
        b64_decode(&assertion.authenticator_data).map_err(|_| AssertionError::Encoding)?;
    let counter: [u8; 4] = auth_data
        .get(33..37)
        .and_then(|c| c.try_into().ok())
        .ok_or(AssertionError::AuthenticatorData("shorter than 37 bytes"))?;
    Ok(u32::from_be_bytes(counter))
}

/// Whether an assertion's counter may follow the stored one, by WebAuthn's rule (Level 2,
/// section 7.2, step 21): when either is non-zero the new one must be larger; a counter that
/// did not grow means two copies of the passkey may be in use.
pub fn sign_count_advances(stored: u32, presented: u32) -> bool {
    (stored == 0 && presented == 0) || presented > stored
}

/// DER prefix of a SubjectPublicKeyInfo holding an uncompressed P-256 point (id-ecPublicKey,
/// prime256v1): what `AuthenticatorAttestationResponse.getPublicKey()` returns for ES256.
const P256_SPKI_PREFIX: [u8; 26] = [
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
];

/// The uncompressed point inside a P-256 SubjectPublicKeyInfo, or `None` for any other key.
pub fn p256_point_from_spki(spki: &[u8]) -> Option<Vec<u8>> {
    let point = spki.strip_prefix(&P256_SPKI_PREFIX[..])?;
    (point.len() == 65 && point[0] == 4).then(|| point.to_vec())
}

/// The SubjectPublicKeyInfo of an uncompressed P-256 point (for tests and tools).
pub fn spki_from_p256_point(point: &[u8]) -> Vec<u8> {
    let mut spki = P256_SPKI_PREFIX.to_vec();
    spki.extend_from_slice(point);
    spki
}

/// Builds an assertion with a software key, as an authenticator would (for tests and tools),
/// with signature counter 1.
pub fn sign_assertion(
    pkcs8: &[u8],
    credential_id: &str,
    statement: &str,
    origin: &str,
    rp_id: &str,
    flags: u8,
) -> Option<Assertion> {
    sign_assertion_counted(pkcs8, credential_id, statement, origin, rp_id, flags, 1)
}

/// [`sign_assertion`] with the signature counter `sign_count`.
pub fn sign_assertion_counted(
    pkcs8: &[u8],
    credential_id: &str,
    statement: &str,
    origin: &str,
    rp_id: &str,
    flags: u8,
    sign_count: u32,
) -> Option<Assertion> {
    use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair};
    let rng = ring::rand::SystemRandom::new();
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, &rng).ok()?;
    let client_data = serde_json::json!({
        "type": "webauthn.get", "challenge": challenge_for(statement), "origin": origin, "crossOrigin": false
    })
    .to_string();
    let mut auth_data = ring::digest::digest(&ring::digest::SHA256, rp_id.as_bytes())
        .as_ref()
        .to_vec();
    auth_data.push(flags);
    auth_data.extend_from_slice(&sign_count.to_be_bytes());
    let mut signed = auth_data.clone();
    signed.extend_from_slice(
        ring::digest::digest(&ring::digest::SHA256, client_data.as_bytes()).as_ref(),
    );
    let signature = pair.sign(&rng, &signed).ok()?;
    Some(Assertion {
        credential_id: credential_id.to_owned(),
        authenticator_data: b64(auth_data),
        client_data_json: b64(client_data),
        signature: b64(signature.as_ref()),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jose::SigningKey;

    fn setup() -> (SigningKey, Vec<u8>) {
        let key = SigningKey::generate().unwrap();
        let point = key.jwk().to_sec1().unwrap();
        (key, point)
    }

    fn expected<'a>(point: &'a [u8], statement: &'a str) -> Expected<'a> {
        Expected {
            statement,
            origin: "http://localhost:8700",
            rp_id: "localhost",
            credential_id: "cred",
            public_key: point,
        }
    }

    #[test]
    fn a_verified_assertion_over_the_statement_passes() {
        let (key, point) = setup();
        let a = sign_assertion(
            key.pkcs8(),
            "cred",
            "stmt",
            "http://localhost:8700",
            "localhost",
            0x05,
        )
        .unwrap();
        assert_eq!(verify(&a, &expected(&point, "stmt")), Ok(()));
    }

    #[test]
    fn every_binding_is_checked() {
        let (key, point) = setup();
        let sign = |statement: &str, origin: &str, rp: &str, flags: u8| {
            sign_assertion(key.pkcs8(), "cred", statement, origin, rp, flags).unwrap()
        };
        let e = expected(&point, "stmt");
        assert!(matches!(
            verify(&sign("other", "http://localhost:8700", "localhost", 5), &e),
            Err(AssertionError::ClientData(_))
        ));
        assert!(matches!(
            verify(&sign("stmt", "https://evil.example", "localhost", 5), &e),
            Err(AssertionError::ClientData(_))
        ));
        assert!(matches!(
            verify(
                &sign("stmt", "http://localhost:8700", "evil.example", 5),
                &e
            ),
            Err(AssertionError::AuthenticatorData(_))
        ));
        assert_eq!(
            verify(
                &sign("stmt", "http://localhost:8700", "localhost", 0x01),
                &e
            ),
            Err(AssertionError::NotVerified)
        );
        let mut wrong_cred = sign("stmt", "http://localhost:8700", "localhost", 5);
        wrong_cred.credential_id = "other".into();
        assert_eq!(verify(&wrong_cred, &e), Err(AssertionError::Credential));
        let other = SigningKey::generate().unwrap();
        let forged = sign_assertion(
            other.pkcs8(),
            "cred",
            "stmt",
            "http://localhost:8700",
            "localhost",
            5,
        )
        .unwrap();
        assert_eq!(verify(&forged, &e), Err(AssertionError::Signature));
    }

    #[test]
    fn spki_round_trip_and_other_keys_refused() {
        let (_, point) = setup();
        assert_eq!(
            p256_point_from_spki(&spki_from_p256_point(&point)),
            Some(point)
        );
        assert_eq!(p256_point_from_spki(&[0x30, 0x59]), None);
    }

    #[test]
    fn the_sign_count_is_read_and_must_grow() {
        let (key, point) = setup();
        let a = sign_assertion_counted(
            key.pkcs8(),
            "cred",
            "stmt",
            "http://localhost:8700",
            "localhost",
            5,
            0x0102_0304,
        )
        .unwrap();
        assert_eq!(verify(&a, &expected(&point, "stmt")), Ok(()));
        assert_eq!(sign_count(&a), Ok(0x0102_0304));
        let mut short = a.clone();
        short.authenticator_data = b64([0u8; 36]);
        assert!(sign_count(&short).is_err());
        assert!(
            sign_count_advances(0, 0),
            "an authenticator without a counter"
        );
        assert!(sign_count_advances(0, 1));
        assert!(sign_count_advances(7, 8));
        assert!(!sign_count_advances(7, 7), "the same counter twice");
        assert!(!sign_count_advances(7, 3), "a counter that went back");
        assert!(!sign_count_advances(7, 0), "a counter that stopped");
    }
}

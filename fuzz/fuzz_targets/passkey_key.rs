//! Passkey public keys as devices register them: base64url of a SubjectPublicKeyInfo (what
//! `AuthenticatorAttestationResponse.getPublicKey()` returns). Only an uncompressed P-256 point
//! under the exact id-ecPublicKey/prime256v1 prefix is taken; what is taken round-trips, and a
//! point that is not on the curve never verifies a signature.
#![no_main]

use arbitrary::Arbitrary;
use assent_fuzz::Key;
use assent_proto::jose::{Jwk, b64, b64_decode};
use assent_proto::webauthn::{p256_point_from_spki, spki_from_p256_point};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Spki {
    /// A real key's SubjectPublicKeyInfo, one byte changed (or none, with `xor` 0).
    Real {
        key: Key,
        at: u8,
        xor: u8,
    },
    /// The P-256 prefix over arbitrary point bytes.
    Point(Vec<u8>),
    Raw(Vec<u8>),
    /// Text as the registration request carries it (base64url expected).
    Text(String),
}

fuzz_target!(|spki: Spki| {
    let (der, real) = match &spki {
        Spki::Real { key, at, xor } => {
            let mut der = spki_from_p256_point(key.point());
            let at = usize::from(*at) % der.len();
            der[at] ^= xor;
            (der, (*xor == 0).then_some(*key))
        }
        Spki::Point(point) => (spki_from_p256_point(point), None),
        Spki::Raw(bytes) => (bytes.clone(), None),
        Spki::Text(text) => match b64_decode(text) {
            Ok(der) => (der, None),
            Err(_) => return,
        },
    };
    assert_eq!(b64_decode(&b64(&der)).expect("base64url round trip"), der);
    let point = p256_point_from_spki(&der);
    if let Some(key) = real {
        assert_eq!(point.as_deref(), Some(key.point()));
    }
    let Some(point) = point else { return };
    assert_eq!(point.len(), 65);
    assert_eq!(spki_from_p256_point(&point), der);
    // The registered key then serves as a JWK in receipts and as the verifier of assertions.
    if let Ok(jwk) = Jwk::from_sec1(&point) {
        assert_eq!(
            jwk.to_sec1()
                .expect("a JWK made from a point converts back"),
            point
        );
        let _ = jwk.thumbprint();
    }
    let message = b"assent passkey fuzz";
    let signature = Key::Passkey.sign_asn1(message);
    let verified =
        ring::signature::UnparsedPublicKey::new(&ring::signature::ECDSA_P256_SHA256_ASN1, &point)
            .verify(message, &signature)
            .is_ok();
    assert_eq!(verified, point == Key::Passkey.point());
});

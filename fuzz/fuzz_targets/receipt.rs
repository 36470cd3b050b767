//! Offline receipt verification of arbitrary input against a fixed JWKS.
#![no_main]

use assent_proto::jose::{JwkSet, SigningKey};
use assent_proto::receipt::verify_receipt;
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

fn jwks() -> &'static JwkSet {
    static JWKS: OnceLock<JwkSet> = OnceLock::new();
    JWKS.get_or_init(|| {
        let key = SigningKey::generate().expect("key");
        let kid = key.jwk().thumbprint();
        JwkSet { keys: vec![key.jwk().public_with_kid(&kid)] }
    })
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = verify_receipt(text, jwks());
    }
});

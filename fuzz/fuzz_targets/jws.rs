//! Compact JWS parsing and verification: what every device proof, enrollment proof and decision
//! statement goes through before anything is trusted.
#![no_main]

use assent_proto::jose::Parsed;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(parsed) = Parsed::parse(text) {
            if let Some(jwk) = parsed.header.jwk.clone() {
                let _ = parsed.verify::<serde_json::Value>(&jwk);
                let _ = jwk.thumbprint();
            }
        }
    }
});

//! RFC 8785 canonicalization of relying-party supplied authorization details: the canonical form
//! must be a fixed point (canonicalizing it again changes nothing).
#![no_main]

use assent_proto::canonical::to_canonical_string;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(data) {
        if let Ok(canonical) = to_canonical_string(&value) {
            let again: serde_json::Value = serde_json::from_str(&canonical).expect("canonical output parses");
            assert_eq!(to_canonical_string(&again).expect("still canonicalizable"), canonical);
        }
    }
});

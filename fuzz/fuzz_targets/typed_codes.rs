//! Codes typed by people and sent by relying parties (recovery codes, TOTP codes): the parsers
//! must never panic, a normalized recovery code is always 12 characters of its alphabet and
//! normalizing is idempotent, and a TOTP check of arbitrary text never matches a code of
//! another length.
#![no_main]

use assent_core::factors::otp::{TotpParams, matching_step, normalize_recovery_code};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(normalized) = normalize_recovery_code(text) {
        assert_eq!(normalized.len(), 12);
        assert!(normalized.bytes().all(|b| b"0123456789abcdefghjkmnpqrstvwxyz".contains(&b)));
        assert_eq!(normalize_recovery_code(&normalized).as_deref(), Some(normalized.as_str()));
    }
    let totp = TotpParams::default()
        .totp(b"12345678901234567890", "Assent", "fuzz")
        .expect("valid parameters");
    if let Some(step) = matching_step(&totp, text, 1_111_111_109) {
        assert_eq!(text.trim().len(), 6);
        assert!((37_037_035..=37_037_037).contains(&step));
    }
});

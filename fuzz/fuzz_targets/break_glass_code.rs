//! Typed break-glass codes: `normalize_code` on arbitrary text. Besides "no panic": what it
//! accepts is 24 characters of the recovery-code alphabet, and reading that again, in upper
//! case and grouped by dashes as the code is shown, gives the same.
#![no_main]

use assent_core::access::break_glass::normalize_code;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(typed) = std::str::from_utf8(data) else {
        return;
    };
    let Some(code) = normalize_code(typed) else {
        return;
    };
    assert_eq!(code.len(), 24);
    assert!(code.bytes().all(|b| b"0123456789abcdefghjkmnpqrstvwxyz".contains(&b)));
    let shown = code
        .as_bytes()
        .chunks(4)
        .map(|c| std::str::from_utf8(c).unwrap().to_ascii_uppercase())
        .collect::<Vec<_>>()
        .join("-");
    assert_eq!(normalize_code(&shown).as_deref(), Some(code.as_str()));
});

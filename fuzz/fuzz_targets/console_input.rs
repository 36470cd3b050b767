//! What a browser sends the admin console: `Cookie` headers (the session, the sign-in ticket, the
//! form value) and URL-encoded forms. Neither may panic, a found cookie is a part of its header
//! with no separator in it, and a form's fields come back as sent.
#![no_main]

use assent_server::console_input::{cookie, form};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let headers: Vec<&str> = text.split('\n').collect();
        for name in ["__Host-assent-console", "__Host-assent-sign-in", "a", ""] {
            if let Some(value) = cookie(headers.iter().copied(), name) {
                assert!(!value.is_empty());
                assert!(!value.contains(';'));
                assert!(headers.iter().any(|h| h.contains(value)));
            }
        }
    }
    if let Ok(fields) = form(data) {
        let again = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields.iter())
            .finish();
        assert_eq!(form(again.as_bytes()).ok(), Some(fields));
    }
});

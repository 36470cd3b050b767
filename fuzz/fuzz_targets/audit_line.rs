//! Audit export lines, as `assent audit export --server` reads them from a server: any text goes
//! into `record_from_json_line`. Besides "no panic": a row it accepts renders back to a JSON
//! line that reads as the same row, and to a CEF line and a syslog message of one line each.
#![no_main]

use assent_core::audit::export::{cef_line, json_line, record_from_json_line, syslog_message};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Some(record) = record_from_json_line(text) else {
        return;
    };
    let again = record_from_json_line(&json_line(&record));
    assert_eq!(again.as_ref(), Some(&record));
    let cef = cef_line(&record, "0.1.0");
    assert!(cef.starts_with("CEF:0|Assent|Assent|0.1.0|"));
    assert!(!cef.contains('\n') && !cef.contains('\r'), "{cef}");
    let message = syslog_message(&record, "host", &cef);
    assert!(message.starts_with('<') && !message.contains('\n'));
});

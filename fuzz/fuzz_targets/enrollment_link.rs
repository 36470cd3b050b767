//! Enrollment links pasted or scanned by users: parsing must never panic, and what parses must
//! format back to a link that parses to the same value.
#![no_main]

use assent_proto::enrollment_link::EnrollmentLink;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(link) = EnrollmentLink::parse(text) {
            assert_eq!(EnrollmentLink::parse(&link.to_link()).expect("round trip"), link);
        }
    }
});

//! The server-sent events parser of the device client, fed arbitrary chunks.
#![no_main]

use assent_client::sse::SseParser;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut parser = SseParser::new();
    for chunk in data.chunks(7) {
        let _ = parser.push(chunk);
    }
});

//! Duo form bodies and query strings: `parse_form` and `parse_query` on arbitrary bytes and
//! text, and on the encoding of arbitrary pairs. Besides "no panic": at most `MAX_PARAMS`
//! pairs come out, and what parses, encoded again by `encode_form`, parses to the same pairs
//! (when the encoding stays within `MAX_PARAMS_LEN`).
#![no_main]

use arbitrary::Arbitrary;
use assent_proto::duo::params::{MAX_PARAMS, MAX_PARAMS_LEN, encode_form, parse_form, parse_query};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Input {
    Body(Vec<u8>),
    Query(String),
    Pairs(Vec<(String, String)>),
}

fn round_trip(params: &[(String, String)]) {
    assert!(params.len() <= MAX_PARAMS);
    let encoded = encode_form(params);
    if encoded.len() <= MAX_PARAMS_LEN {
        assert_eq!(
            parse_form(encoded.as_bytes()).expect("own encoding"),
            params
        );
        assert_eq!(parse_query(&encoded).expect("own encoding"), params);
    }
}

fuzz_target!(|input: Input| {
    match input {
        Input::Body(body) => {
            if let Ok(params) = parse_form(&body) {
                round_trip(&params);
            }
        }
        Input::Query(query) => {
            let form = parse_form(query.as_bytes());
            assert_eq!(parse_query(&query), form);
            if let Ok(params) = form {
                round_trip(&params);
            }
        }
        Input::Pairs(pairs) => {
            if pairs.len() <= MAX_PARAMS {
                round_trip(&pairs);
            }
        }
    }
});

//! What the Duo endpoints read from a call beyond the signature: a version 5 JSON body as
//! parameters (`DuoParams::from_json`), `pushinfo`, and the parameter accessors. Besides "no
//! panic": a body that parses yields at most `MAX_PARAMS` pairs, each readable through `get`
//! unless repeated; `pushinfo` that parses stays within its bounds with unique, non-empty keys.
#![no_main]

use arbitrary::Arbitrary;
use assent_proto::duo::params::MAX_PARAMS;
use assent_proto::duo::request::{DuoParams, MAX_PUSHINFO_PAIRS, parse_pushinfo};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
enum Input {
    Json(Vec<u8>),
    Pushinfo(String),
}

fuzz_target!(|input: Input| {
    match input {
        Input::Json(body) => {
            if let Ok(params) = DuoParams::from_json(&body) {
                assert!(params.pairs().len() <= MAX_PARAMS);
                for (name, value) in params.pairs() {
                    let repeated = params.pairs().iter().filter(|(n, _)| n == name).count() > 1;
                    match params.get(name) {
                        Ok(found) => {
                            assert!(!repeated);
                            assert_eq!(found, Some(value.as_str()));
                        }
                        Err(e) => {
                            assert!(repeated);
                            assert_eq!(&e.param, name);
                        }
                    }
                    let _ = params.flag(name);
                }
            }
        }
        Input::Pushinfo(text) => {
            if let Ok(pairs) = parse_pushinfo(&text) {
                assert!(pairs.len() <= MAX_PUSHINFO_PAIRS);
                for (index, (key, _)) in pairs.iter().enumerate() {
                    assert!(!key.is_empty());
                    assert!(pairs[..index].iter().all(|(k, _)| k != key));
                }
            }
        }
    }
});

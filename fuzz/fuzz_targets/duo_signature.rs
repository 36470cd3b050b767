//! Duo request signatures: an arbitrary `Authorization` header through `parse_authorization`,
//! and a request from arbitrary parts (date, method, host, path, parameters, body, headers,
//! version, digest, secret key) through `canonical_v1`/`canonical_v2`/`canonical_v5`, `sign`
//! and `verify`.
//! Besides "no panic": what parses formats back to the same credentials; a signature made by
//! `sign` verifies exactly when the version accepts its digest and the key is not empty; one
//! changed byte of the canonical string, of the key, or of any request part that changes the
//! canonical string makes it fail.
#![no_main]

use arbitrary::Arbitrary;
use assent_proto::duo::canonical::{canonical_v1, canonical_v2, canonical_v5};
use assent_proto::duo::signature::{
    Digest, SigVersion, format_authorization, parse_authorization, sign, verify,
};
use libfuzzer_sys::fuzz_target;

#[derive(Arbitrary, Debug)]
struct Request {
    date: String,
    method: String,
    host: String,
    path: String,
    params: Vec<(String, String)>,
    body: Vec<u8>,
    headers: Vec<(String, String)>,
}

#[derive(Arbitrary, Debug)]
enum Part {
    Date,
    Method,
    Host,
    Path,
    ParamName(usize),
    ParamValue(usize),
    Body,
    HeaderName(usize),
    HeaderValue(usize),
}

#[derive(Arbitrary, Debug)]
struct Input {
    header: String,
    request: Request,
    v5: bool,
    /// The legacy v1 form (no date), when `v5` is not chosen.
    v1: bool,
    sha1: bool,
    skey: Vec<u8>,
    /// Which byte to change, and by how much (a zero delta is made one).
    at: usize,
    delta: u8,
    part: Part,
}

impl Request {
    fn canonical(&self, version: SigVersion) -> String {
        if version == SigVersion::V1 {
            return canonical_v1(&self.method, &self.host, &self.path, &self.params);
        }
        if version == SigVersion::V5 {
            canonical_v5(
                &self.date,
                &self.method,
                &self.host,
                &self.path,
                &self.params,
                &self.body,
                &self.headers,
            )
        } else {
            canonical_v2(
                &self.date,
                &self.method,
                &self.host,
                &self.path,
                &self.params,
            )
        }
    }
}

/// Changes one byte of `bytes` (if any), keeping it only if the text stays UTF-8.
fn change_text(text: &mut String, at: usize, delta: u8) {
    let mut bytes = std::mem::take(text).into_bytes();
    change_bytes(&mut bytes, at, delta);
    *text = String::from_utf8(bytes).unwrap_or_default();
}

fn change_bytes(bytes: &mut [u8], at: usize, delta: u8) {
    if !bytes.is_empty() {
        let index = at % bytes.len();
        bytes[index] = bytes[index].wrapping_add(delta.max(1));
    }
}

fn pick<T>(list: &mut [T], index: usize) -> Option<&mut T> {
    let len = list.len();
    if len == 0 {
        None
    } else {
        list.get_mut(index % len)
    }
}

fuzz_target!(|input: Input| {
    if let Ok(presented) = parse_authorization(&input.header) {
        assert!(matches!(presented.signature_hex.len(), 40 | 128));
        let again = format_authorization(&presented.ikey, &presented.signature_hex);
        assert_eq!(parse_authorization(&again).expect("round trip"), presented);
    }

    let Input {
        mut request,
        v5,
        v1,
        sha1,
        skey,
        at,
        delta,
        part,
        ..
    } = input;
    let version = match (v5, v1) {
        (true, _) => SigVersion::V5,
        (false, true) => SigVersion::V1,
        (false, false) => SigVersion::V2,
    };
    let digest = if sha1 { Digest::Sha1 } else { Digest::Sha512 };
    let canonical = request.canonical(version);
    let signature = sign(&skey, &canonical, digest);
    assert_eq!(signature.len(), digest.hex_len());
    let verifies = verify(&skey, version, &canonical, &signature);
    assert_eq!(verifies, !skey.is_empty() && version.accepts(digest));
    if !verifies {
        return;
    }
    // Presented through the header, as a client would.
    let presented =
        parse_authorization(&format_authorization("DIFUZZ", &signature)).expect("own header");
    assert!(verify(&skey, version, &canonical, &presented.signature_hex));

    // One byte of the canonical string.
    let mut changed = canonical.clone().into_bytes();
    change_bytes(&mut changed, at, delta);
    if let Ok(changed) = String::from_utf8(changed) {
        assert!(changed == canonical || !verify(&skey, version, &changed, &signature));
    }
    // One byte of the key.
    let mut other_key = skey.clone();
    change_bytes(&mut other_key, at, delta);
    assert!(!verify(&other_key, version, &canonical, &signature));

    // One byte of one part of the request.
    match part {
        Part::Date => change_text(&mut request.date, at, delta),
        Part::Method => change_text(&mut request.method, at, delta),
        Part::Host => change_text(&mut request.host, at, delta),
        Part::Path => change_text(&mut request.path, at, delta),
        Part::ParamName(i) => {
            if let Some(p) = pick(&mut request.params, i) {
                change_text(&mut p.0, at, delta);
            }
        }
        Part::ParamValue(i) => {
            if let Some(p) = pick(&mut request.params, i) {
                change_text(&mut p.1, at, delta);
            }
        }
        Part::Body => change_bytes(&mut request.body, at, delta),
        Part::HeaderName(i) => {
            if let Some(h) = pick(&mut request.headers, i) {
                change_text(&mut h.0, at, delta);
            }
        }
        Part::HeaderValue(i) => {
            if let Some(h) = pick(&mut request.headers, i) {
                change_text(&mut h.1, at, delta);
            }
        }
    }
    let after = request.canonical(version);
    if after != canonical {
        assert!(!verify(&skey, version, &after, &signature));
    }
});

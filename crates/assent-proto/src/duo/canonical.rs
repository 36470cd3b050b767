//! The canonical request strings that Duo's clients sign (signature versions 2 and 5), built
//! from the parts of a received request so the server can recompute what the client signed.

use ring::digest;

/// Characters left as they are by the percent-encoding: RFC 3986's unreserved set, the same set
/// duo_client keeps (`urllib.parse.quote(s, '~')`) and duo_unix keeps (`urlenc_encode`).
fn is_unreserved(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~')
}

/// Percent-encodes the UTF-8 bytes of `text` as Duo's canonical form does: unreserved
/// characters kept, every other byte `%XX` in upper case (so a space is `%20`, never `+`).
pub fn percent_encode(text: &str) -> String {
    const HEX_UPPER: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(text.len());
    for &byte in text.as_bytes() {
        if is_unreserved(byte) {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX_UPPER[usize::from(byte >> 4)]));
            out.push(char::from(HEX_UPPER[usize::from(byte & 0x0f)]));
        }
    }
    out
}

/// Lower-case hex, the form every Duo client prints digests and HMACs in.
pub(crate) fn hex_lower(bytes: &[u8]) -> String {
    const HEX_LOWER: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &byte in bytes {
        out.push(char::from(HEX_LOWER[usize::from(byte >> 4)]));
        out.push(char::from(HEX_LOWER[usize::from(byte & 0x0f)]));
    }
    out
}

fn sha512_hex(bytes: &[u8]) -> String {
    hex_lower(digest::digest(&digest::SHA512, bytes).as_ref())
}

/// The parameter line: `name=value` pairs joined by `&`, names and values percent-encoded and
/// sorted by their *encoded* form, name first, then value (duo_client sorts after quoting, and
/// the order differs from sorting raw text: `%2F` sorts before `-`). A name given several times
/// keeps every value, each as its own pair. No parameters give an empty line.
pub fn canon_params(params: &[(String, String)]) -> String {
    let mut encoded: Vec<(String, String)> = params
        .iter()
        .map(|(name, value)| (percent_encode(name), percent_encode(value)))
        .collect();
    encoded.sort_unstable();
    let pairs: Vec<String> = encoded
        .iter()
        .map(|(name, value)| format!("{name}={value}"))
        .collect();
    pairs.join("&")
}

/// The SHA-512 hex of the `X-Duo-*` headers as duo_client signs them in version 5: names
/// lower-cased, sorted, and `name NUL value NUL name NUL value ...` hashed (no trailing NUL).
/// Headers not named `X-Duo-*` (in any case) are left out, because clients refuse to sign
/// them: the caller may pass every header of the request. No such header gives the digest of
/// the empty string. A name given twice, which no client signs, is kept twice, so such a
/// request can never match a client's signature.
pub fn canon_duo_headers(headers: &[(String, String)]) -> String {
    let mut lowered: Vec<(String, &str)> = headers
        .iter()
        .map(|(name, value)| (name.to_ascii_lowercase(), value.as_str()))
        .filter(|(name, _)| name.starts_with("x-duo-"))
        .collect();
    lowered.sort_unstable();
    let pairs: Vec<String> = lowered
        .iter()
        .map(|(name, value)| format!("{name}\0{value}"))
        .collect();
    sha512_hex(pairs.join("\0").as_bytes())
}

/// The canonical string of the legacy Auth API v1 (duo_unix before 2.0): the method in upper
/// case, the host in lower case, the path and the parameter line, joined by `\n`. It has no
/// date.
pub fn canonical_v1(method: &str, host: &str, path: &str, params: &[(String, String)]) -> String {
    [
        &method.to_uppercase(),
        &host.to_lowercase(),
        path,
        &canon_params(params),
    ]
    .join("\n")
}

/// The canonical string of signature version 2: the date header's text exactly as sent, the
/// method in upper case, the host in lower case, the path, and the parameter line
/// ([`canon_params`]), joined by `\n`. The date is signed as text, not as a parsed time, so
/// the caller must pass the header's bytes unchanged.
pub fn canonical_v2(
    date: &str,
    method: &str,
    host: &str,
    path: &str,
    params: &[(String, String)],
) -> String {
    [
        date,
        &method.to_uppercase(),
        &host.to_lowercase(),
        path,
        &canon_params(params),
    ]
    .join("\n")
}

/// The canonical string of signature version 5: the five lines of version 2, then the SHA-512
/// hex of the body (of the empty string when there is none, as for a `GET`), then the digest of
/// the `X-Duo-*` headers ([`canon_duo_headers`]). duo_client sends the parameters of a `POST`
/// as a JSON body and signs an empty parameter line then; a `GET` carries them in the query.
pub fn canonical_v5(
    date: &str,
    method: &str,
    host: &str,
    path: &str,
    params: &[(String, String)],
    body: &[u8],
    duo_headers: &[(String, String)],
) -> String {
    [
        date,
        &method.to_uppercase(),
        &host.to_lowercase(),
        path,
        &canon_params(params),
        &sha512_hex(body),
        &canon_duo_headers(duo_headers),
    ]
    .join("\n")
}

#[cfg(test)]
#[path = "canonical_tests.rs"]
pub(super) mod tests;

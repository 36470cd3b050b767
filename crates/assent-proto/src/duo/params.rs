//! `application/x-www-form-urlencoded` parameters of Duo requests (form bodies of version 2
//! `POST`s, query strings of `GET`s), decoded into the name/value pairs the canonical string is
//! built from.

use super::DuoSigError;

/// Most parameters in one request; `/auth/v2/auth` takes about a dozen.
pub const MAX_PARAMS: usize = 64;
/// Largest form body or query string read.
pub const MAX_PARAMS_LEN: usize = 64 * 1024;

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Decodes one name or value: `+` is a space (Python's `urlencode`, which duo_client uses, writes
/// spaces so), `%XX` a byte. A `%` without two hex digits is refused rather than kept, and the
/// result must be UTF-8: no client writes either, and a lenient decoder would let two readings
/// of one request disagree.
fn decode(raw: &[u8]) -> Result<String, DuoSigError> {
    let mut out = Vec::with_capacity(raw.len());
    let mut index = 0;
    while let Some(&byte) = raw.get(index) {
        match byte {
            b'+' => {
                out.push(b' ');
                index += 1;
            }
            b'%' => {
                let high = raw.get(index + 1).copied().and_then(hex_value);
                let low = raw.get(index + 2).copied().and_then(hex_value);
                match (high, low) {
                    (Some(high), Some(low)) => out.push(high << 4 | low),
                    _ => return Err(DuoSigError::BadPercentEscape),
                }
                index += 3;
            }
            _ => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| DuoSigError::NotUtf8)
}

/// Parses a form body as the server must to recompute a client's signature. Pairs are split on
/// `&`; empty pieces (`a=1&&b=2`, a trailing `&`) are skipped and a piece without `=` is a
/// name with an empty value, as Python's `parse_qsl(keep_blank_values=True)` reads them. A name
/// given several times keeps every value in order: duo_client sends a list parameter that way
/// and signs each value. Refused: more than [`MAX_PARAMS_LEN`] bytes or [`MAX_PARAMS`] pairs, a
/// malformed `%` escape, text that is not UTF-8 once decoded.
pub fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, DuoSigError> {
    if body.len() > MAX_PARAMS_LEN {
        return Err(DuoSigError::ParamsTooLarge {
            limit: MAX_PARAMS_LEN,
        });
    }
    let mut params = Vec::new();
    for piece in body.split(|&b| b == b'&').filter(|piece| !piece.is_empty()) {
        if params.len() == MAX_PARAMS {
            return Err(DuoSigError::TooManyParams { limit: MAX_PARAMS });
        }
        let (name, value) = match piece.iter().position(|&b| b == b'=') {
            Some(at) => (&piece[..at], &piece[at + 1..]),
            None => (piece, &piece[piece.len()..]),
        };
        params.push((decode(name)?, decode(value)?));
    }
    Ok(params)
}

/// Parses a query string (without the `?`) by the same rules as [`parse_form`]: duo_client
/// writes both with the same `urlencode`, and duo_unix with the same encoder.
pub fn parse_query(query: &str) -> Result<Vec<(String, String)>, DuoSigError> {
    parse_form(query.as_bytes())
}

/// Encodes pairs as a form body that [`parse_form`] reads back to the same pairs, in the same
/// order (names and values percent-encoded as in the canonical string). For tests and clients.
pub fn encode_form(params: &[(String, String)]) -> String {
    params
        .iter()
        .map(|(name, value)| {
            format!(
                "{}={}",
                super::canonical::percent_encode(name),
                super::canonical::percent_encode(value)
            )
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
#[path = "params_tests.rs"]
mod tests;

//! Duo's request signatures: the HMAC over a canonical string, the `Authorization` header that
//! carries it, and the date a signature is bound to.

use super::DuoSigError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ring::hmac;

pub use super::date::{DEFAULT_DATE_WINDOW, date_is_fresh, parse_date};

/// Longest `Authorization` header read. A Duo header is `Basic ` and the base64 of a 20
/// character integration key, a colon and 128 hex digits: about 200 bytes.
pub const MAX_AUTHORIZATION_LEN: usize = 512;

/// Longest integration key accepted. Duo's are 20 characters.
pub const MAX_IKEY_LEN: usize = 64;

/// The signature version a request claims (Duo calls it `sig_version`). Which one applies is
/// the server's decision per endpoint, never the client's, so that nobody can downgrade a
/// request to the weaker version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SigVersion {
    /// Method, host, path and parameters, with no date: the legacy Auth API v1 of duo_unix
    /// before 2.0 (HMAC-SHA1). Nothing bounds how long such a signature stays valid.
    V1,
    /// Date, method, host, path and parameters; HMAC-SHA1 or HMAC-SHA512.
    V2,
    /// Version 2's lines plus the body and `X-Duo-*` headers; HMAC-SHA512 only.
    V5,
}

impl SigVersion {
    /// Whether this version may be signed with `digest`. Version 5 exists to cover the body
    /// and headers with SHA-512, so a SHA-1 signature is never accepted for it.
    pub fn accepts(self, digest: Digest) -> bool {
        match self {
            SigVersion::V1 | SigVersion::V2 => true,
            SigVersion::V5 => digest == Digest::Sha512,
        }
    }
}

/// The HMAC's hash function.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Digest {
    /// HMAC-SHA1 (40 hex digits), still chosen by some duo_client version 2 callers.
    Sha1,
    /// HMAC-SHA512 (128 hex digits), the default of every current Duo client.
    Sha512,
}

impl Digest {
    /// The number of hex digits of this HMAC.
    pub fn hex_len(self) -> usize {
        match self {
            Digest::Sha1 => 40,
            Digest::Sha512 => 128,
        }
    }

    /// The digest a signature of `len` hex digits was made with: Duo's header does not name the
    /// algorithm, the length is the only sign of it.
    pub fn from_hex_len(len: usize) -> Option<Digest> {
        match len {
            40 => Some(Digest::Sha1),
            128 => Some(Digest::Sha512),
            _ => None,
        }
    }

    fn algorithm(self) -> hmac::Algorithm {
        match self {
            Digest::Sha1 => hmac::HMAC_SHA1_FOR_LEGACY_USE_ONLY,
            Digest::Sha512 => hmac::HMAC_SHA512,
        }
    }
}

/// The lower-case hex HMAC of `canonical` under the secret key `skey`, as a Duo client
/// computes it (the key is the secret key's text as bytes).
pub fn sign(skey: &[u8], canonical: &str, digest: Digest) -> String {
    let key = hmac::Key::new(digest.algorithm(), skey);
    super::canonical::hex_lower(hmac::sign(&key, canonical.as_bytes()).as_ref())
}

/// The credentials of a Duo `Authorization` header: who claims to sign, and the signature.
#[derive(Clone, PartialEq, Eq)]
pub struct Presented {
    /// The integration key, which names the secret key to verify with.
    pub ikey: String,
    /// 40 or 128 lower-case hex digits.
    pub signature_hex: String,
}

/// Shows the integration key only: a signature in a log could be replayed within the date
/// window.
impl std::fmt::Debug for Presented {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Presented")
            .field("ikey", &self.ikey)
            .finish_non_exhaustive()
    }
}

/// The header value a Duo client sends for `ikey` and a hex signature.
pub fn format_authorization(ikey: &str, signature_hex: &str) -> String {
    format!(
        "Basic {}",
        STANDARD.encode(format!("{ikey}:{signature_hex}"))
    )
}

fn is_lower_hex(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

/// Reads `Authorization: Basic base64(ikey:hex)`. The scheme is matched without regard to case
/// (RFC 7235); the base64 must be standard and padded, as both clients write it. The key must
/// be 1 to [`MAX_IKEY_LEN`] letters, digits, `-` or `_`, and the signature 40 or 128
/// lower-case hex digits, the only forms Duo's clients print: anything else is refused here,
/// before any key is looked up.
pub fn parse_authorization(header: &str) -> Result<Presented, DuoSigError> {
    if header.len() > MAX_AUTHORIZATION_LEN {
        return Err(DuoSigError::AuthorizationTooLong);
    }
    let (scheme, credentials) = header.split_once(' ').ok_or(DuoSigError::NotBasic)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(DuoSigError::NotBasic);
    }
    let decoded = STANDARD
        .decode(credentials.trim_start_matches(' '))
        .map_err(|_| DuoSigError::BadBase64)?;
    let text = String::from_utf8(decoded).map_err(|_| DuoSigError::BadBase64)?;
    let (ikey, signature_hex) = text.split_once(':').ok_or(DuoSigError::MissingColon)?;
    let ikey_ok = !ikey.is_empty()
        && ikey.len() <= MAX_IKEY_LEN
        && ikey
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if !ikey_ok {
        return Err(DuoSigError::BadIkey);
    }
    if Digest::from_hex_len(signature_hex.len()).is_none() || !is_lower_hex(signature_hex) {
        return Err(DuoSigError::BadSignatureFormat);
    }
    Ok(Presented {
        ikey: ikey.to_owned(),
        signature_hex: signature_hex.to_owned(),
    })
}

fn decode_lower_hex(text: &str) -> Option<Vec<u8>> {
    fn nibble(b: u8) -> Option<u8> {
        match b {
            b'0'..=b'9' => Some(b - b'0'),
            b'a'..=b'f' => Some(b - b'a' + 10),
            _ => None,
        }
    }
    let bytes = text.as_bytes();
    if !bytes.len().is_multiple_of(2) {
        return None;
    }
    bytes
        .chunks_exact(2)
        .map(|pair| Some(nibble(pair[0])? << 4 | nibble(pair[1])?))
        .collect()
}

/// Whether `presented_hex` is the HMAC of `canonical` under `skey` for a request of signature
/// `version`. The digest is read from the length (40 hex digits SHA-1, 128 SHA-512); SHA-1 is
/// refused for version 5. The comparison is `ring::hmac::verify`'s, in constant time, so the
/// time taken does not tell how much of a guess was right. An empty secret key never verifies:
/// anybody could sign with it.
pub fn verify(skey: &[u8], version: SigVersion, canonical: &str, presented_hex: &str) -> bool {
    if skey.is_empty() {
        return false;
    }
    let Some(digest) = Digest::from_hex_len(presented_hex.len()) else {
        return false;
    };
    if !version.accepts(digest) {
        return false;
    }
    let Some(tag) = decode_lower_hex(presented_hex) else {
        return false;
    };
    let key = hmac::Key::new(digest.algorithm(), skey);
    hmac::verify(&key, canonical.as_bytes(), &tag).is_ok()
}

#[cfg(test)]
#[path = "signature_tests.rs"]
mod tests;

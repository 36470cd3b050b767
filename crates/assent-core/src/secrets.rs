//! Secrets Assent hands out and how they are kept: API keys and enrollment codes are random,
//! shown once, and stored as SHA-256 digests (their entropy makes a slow hash unnecessary);
//! comparisons are constant-time.

use crate::error::CoreError;
use assent_proto::jose::random_token;
use ring::rand::SecureRandom;
use subtle::ConstantTimeEq;

/// Prefix that makes Assent API keys recognisable to secret scanners.
pub const API_KEY_PREFIX: &str = "ak";

/// A freshly minted API key: the full secret to show once, and what to store.
#[derive(Debug)]
pub struct NewApiKey {
    pub id: String,
    /// `ak.<id>.<secret>`: shown to the caller once.
    pub token: String,
    pub secret_hash: Vec<u8>,
}

/// Makes a new API key with a 256-bit secret.
pub fn new_api_key() -> Result<NewApiKey, CoreError> {
    let id = random_token(9)?;
    let secret = random_token(32)?;
    Ok(NewApiKey {
        token: format!("{API_KEY_PREFIX}.{id}.{secret}"),
        secret_hash: sha256(secret.as_bytes()),
        id,
    })
}

/// Splits a presented API key into id and secret, without judging it.
pub fn split_api_key(token: &str) -> Option<(&str, &str)> {
    let rest = token.strip_prefix(API_KEY_PREFIX)?.strip_prefix('.')?;
    let (id, secret) = rest.split_once('.')?;
    (!id.is_empty() && !secret.is_empty() && token.len() <= 256).then_some((id, secret))
}

/// Whether `secret` matches a stored digest, in time independent of where they differ.
pub fn secret_matches(secret: &str, stored_hash: &[u8]) -> bool {
    sha256(secret.as_bytes()).ct_eq(stored_hash).into()
}

/// A one-time enrollment code with 192 bits of entropy.
pub fn new_enrollment_code() -> Result<String, CoreError> {
    Ok(random_token(24)?)
}

/// SHA-256 digest.
pub fn sha256(bytes: &[u8]) -> Vec<u8> {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .to_vec()
}

/// A uniformly random decimal code of `len` digits (number matching).
pub fn new_display_code(len: u8) -> Result<String, CoreError> {
    let rng = ring::rand::SystemRandom::new();
    let mut code = String::with_capacity(usize::from(len));
    while code.len() < usize::from(len) {
        let mut byte = [0u8; 1];
        rng.fill(&mut byte).map_err(|_| CoreError::Crypto)?;
        // Rejection sampling: 250 is the largest multiple of 10 below 256, so every digit is
        // equally likely.
        if byte[0] < 250 {
            code.push(char::from(b'0' + byte[0] % 10));
        }
    }
    Ok(code)
}

/// `len` characters drawn uniformly from `alphabet` (at most 256 symbols), for keys whose form
/// other software expects (Duo's integration and secret keys).
pub fn random_chars(len: usize, alphabet: &[u8]) -> Result<String, CoreError> {
    let size = alphabet.len();
    if size == 0 || size > 256 {
        return Err(CoreError::Internal(
            "an alphabet of 1 to 256 symbols".into(),
        ));
    }
    // Rejection sampling below the largest multiple of the alphabet's size keeps every symbol
    // equally likely.
    let limit = 256 - 256 % size;
    let rng = ring::rand::SystemRandom::new();
    let mut out = String::with_capacity(len);
    let mut bytes = [0u8; 64];
    while out.len() < len {
        rng.fill(&mut bytes).map_err(|_| CoreError::Crypto)?;
        for &byte in &bytes {
            if usize::from(byte) < limit && out.len() < len {
                out.push(char::from(alphabet[usize::from(byte) % size]));
            }
        }
    }
    Ok(out)
}

/// Constant-time equality of two short strings (the typed code against the displayed one).
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    a.as_bytes().ct_eq(b.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn api_keys_round_trip() {
        let key = new_api_key().unwrap();
        let (id, secret) = split_api_key(&key.token).unwrap();
        assert_eq!(id, key.id);
        assert!(secret_matches(secret, &key.secret_hash));
        assert!(!secret_matches("nope", &key.secret_hash));
        assert!(split_api_key("Bearer x").is_none());
        assert!(split_api_key("ak..x").is_none());
    }

    #[test]
    fn display_codes_are_digits_of_the_asked_length() {
        for len in [4u8, 6, 8] {
            let code = new_display_code(len).unwrap();
            assert_eq!(code.len(), usize::from(len));
            assert!(code.bytes().all(|b| b.is_ascii_digit()));
        }
    }
}

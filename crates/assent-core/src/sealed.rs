//! Secrets Assent must be able to read back (webhook signing secrets, later TOTP seeds) are
//! sealed at rest with ChaCha20-Poly1305 under a data key that lives outside the database, so a
//! copy of the database alone reveals none of them. Short secrets Assent only ever compares (the
//! number-matching codes) are kept as keyed digests under the same key: a plain hash of a
//! six-digit code is undone by trying all million codes, a keyed one is not without the key.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::hmac;
use ring::rand::{SecureRandom, SystemRandom};

/// Why sealing or opening failed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SealError {
    #[error("the data key must be 32 bytes")]
    KeyLength,
    #[error("randomness unavailable")]
    Random,
    #[error("the sealed value does not open with this data key (wrong key or tampered)")]
    Open,
}

/// The 256-bit data key.
pub struct DataKey {
    key: LessSafeKey,
    /// HMAC-SHA256 key for [`DataKey::digest`], derived from the data key under its own label so
    /// the one key never serves two algorithms directly.
    mac: hmac::Key,
}

/// The label the digest key is derived under; a new scheme would take a new label.
const DIGEST_KEY_LABEL: &[u8] = b"assent keyed digest v1";

impl std::fmt::Debug for DataKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("DataKey(..)")
    }
}

impl DataKey {
    /// 32 fresh random bytes, to store once.
    pub fn generate_bytes() -> Result<[u8; 32], SealError> {
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| SealError::Random)?;
        Ok(bytes)
    }

    pub fn from_bytes(bytes: &[u8]) -> Result<Self, SealError> {
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).map_err(|_| SealError::KeyLength)?;
        let derived = hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, bytes), DIGEST_KEY_LABEL);
        Ok(DataKey {
            key: LessSafeKey::new(key),
            mac: hmac::Key::new(hmac::HMAC_SHA256, derived.as_ref()),
        })
    }

    /// The keyed digest (HMAC-SHA256) of `value` for `context` (what and whose it is, so a
    /// digest copied to another record does not match there).
    pub fn digest(&self, value: &[u8], context: &str) -> Vec<u8> {
        hmac::sign(&self.mac, &digest_input(value, context))
            .as_ref()
            .to_vec()
    }

    /// Whether `value` has the stored digest, in time independent of where they differ.
    pub fn digest_matches(&self, value: &[u8], context: &str, stored: &[u8]) -> bool {
        hmac::verify(&self.mac, &digest_input(value, context), stored).is_ok()
    }

    /// Encrypts `plaintext`, bound to `context` (what the value is for, so a sealed value
    /// cannot be moved to another record): `nonce || ciphertext || tag`.
    pub fn seal(&self, plaintext: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| SealError::Random)?;
        let mut sealed = plaintext.to_vec();
        self.key
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(context.as_bytes()),
                &mut sealed,
            )
            .map_err(|_| SealError::Random)?;
        let mut out = nonce.to_vec();
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Decrypts what [`DataKey::seal`] produced for the same `context`.
    pub fn open(&self, sealed: &[u8], context: &str) -> Result<Vec<u8>, SealError> {
        if sealed.len() < NONCE_LEN {
            return Err(SealError::Open);
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| SealError::Open)?;
        let mut body = body.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, Aad::from(context.as_bytes()), &mut body)
            .map_err(|_| SealError::Open)?;
        Ok(plain.to_vec())
    }
}

/// `context`, a zero byte, then `value`: contexts hold no zero byte, so no two pairs give the
/// same input.
fn digest_input(value: &[u8], context: &str) -> Vec<u8> {
    let mut input = Vec::with_capacity(context.len() + 1 + value.len());
    input.extend_from_slice(context.as_bytes());
    input.push(0);
    input.extend_from_slice(value);
    input
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seals_and_opens_only_with_the_same_key_and_context() {
        let key = DataKey::from_bytes(&DataKey::generate_bytes().unwrap()).unwrap();
        let sealed = key.seal(b"secret", "webhook:app1").unwrap();
        assert_eq!(key.open(&sealed, "webhook:app1").unwrap(), b"secret");
        assert_eq!(key.open(&sealed, "webhook:app2"), Err(SealError::Open));
        let other = DataKey::from_bytes(&DataKey::generate_bytes().unwrap()).unwrap();
        assert_eq!(other.open(&sealed, "webhook:app1"), Err(SealError::Open));
        let mut tampered = sealed.clone();
        tampered[20] ^= 1;
        assert_eq!(key.open(&tampered, "webhook:app1"), Err(SealError::Open));
        assert!(!sealed.windows(6).any(|w| w == b"secret"));
    }

    #[test]
    fn digests_match_only_the_same_value_key_and_context() {
        let key = DataKey::from_bytes(&DataKey::generate_bytes().unwrap()).unwrap();
        let digest = key.digest(b"123456", "display-code:a1");
        assert_eq!(digest.len(), 32);
        assert!(key.digest_matches(b"123456", "display-code:a1", &digest));
        assert!(!key.digest_matches(b"123457", "display-code:a1", &digest));
        assert!(!key.digest_matches(b"123456", "display-code:a2", &digest));
        assert!(!key.digest_matches(b"123456", "display-code:a1", &digest[..31]));
        assert!(!key.digest_matches(b"123456", "display-code:a1", b""));
        let other = DataKey::from_bytes(&DataKey::generate_bytes().unwrap()).unwrap();
        assert!(!other.digest_matches(b"123456", "display-code:a1", &digest));
        // Not the plain SHA-256 of the code, which anyone could recompute.
        assert_ne!(digest, crate::secrets::sha256(b"123456"));
    }
}

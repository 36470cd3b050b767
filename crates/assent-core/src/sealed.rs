//! Secrets Assent must be able to read back (webhook signing secrets, later TOTP seeds) are
//! sealed at rest with ChaCha20-Poly1305 under a data key that lives outside the database, so a
//! copy of the database alone reveals none of them.

use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
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
}

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
        Ok(DataKey {
            key: LessSafeKey::new(key),
        })
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
}

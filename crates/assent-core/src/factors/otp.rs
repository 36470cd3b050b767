//! The fallback factors' cryptography, kept free of storage so it can be checked against the
//! RFCs: TOTP (RFC 6238) seeds, codes and `otpauth://` URIs; recovery codes and their Argon2id
//! hashes; QR codes for links a phone should scan.

use super::hashing::HashMemory;
use crate::error::CoreError;
use argon2::password_hash::phc::{Output, ParamsString, PasswordHash, Salt};
use ring::rand::{SecureRandom, SystemRandom};
use totp_rs::{Algorithm, Secret, Totp};

/// TOTP parameters. The defaults (SHA-1, 6 digits, 30 s) are the only ones every authenticator
/// app honours; others are accepted for apps that do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TotpParams {
    pub algorithm: Algorithm,
    pub digits: u8,
    pub period: u32,
}

impl Default for TotpParams {
    fn default() -> Self {
        TotpParams {
            algorithm: Algorithm::SHA1,
            digits: 6,
            period: 30,
        }
    }
}

impl TotpParams {
    /// Reads parameters chosen by a caller, refusing what authenticator apps cannot do.
    pub fn parse(
        algorithm: Option<&str>,
        digits: Option<u8>,
        period: Option<u32>,
    ) -> Result<Self, String> {
        let algorithm = match algorithm {
            None => Algorithm::SHA1,
            Some(name) => algorithm_named(name)
                .ok_or_else(|| "algorithm is SHA1, SHA256 or SHA512".to_owned())?,
        };
        let digits = digits.unwrap_or(6);
        if !(6..=8).contains(&digits) {
            return Err("digits is 6 to 8".into());
        }
        let period = period.unwrap_or(30);
        if !(15..=120).contains(&period) {
            return Err("period is 15 to 120 seconds".into());
        }
        Ok(TotpParams {
            algorithm,
            digits,
            period,
        })
    }

    /// The algorithm's name as stored and as written in `otpauth://` URIs.
    pub fn algorithm_name(&self) -> &'static str {
        match self.algorithm {
            Algorithm::SHA1 => "SHA1",
            Algorithm::SHA256 => "SHA256",
            Algorithm::SHA512 => "SHA512",
            #[allow(unreachable_patterns)]
            _ => "SHA1",
        }
    }

    /// A fresh seed as long as the hash's output (RFC 4226 asks for at least 128 bits; 160 for
    /// SHA-1 is what apps expect).
    pub fn new_seed(&self) -> Result<Vec<u8>, CoreError> {
        let len = match self.algorithm {
            Algorithm::SHA256 => 32,
            Algorithm::SHA512 => 64,
            _ => 20,
        };
        let mut seed = vec![0u8; len];
        SystemRandom::new()
            .fill(&mut seed)
            .map_err(|_| CoreError::Crypto)?;
        Ok(seed)
    }

    /// The generator for `seed`, labelled for an authenticator app.
    pub fn totp(&self, seed: &[u8], issuer: &str, account: &str) -> Result<Totp, CoreError> {
        totp_rs::Builder::new()
            .with_algorithm(self.algorithm)
            .with_digits(self.digits)
            .with_step_duration(u64::from(self.period))
            .with_skew(1)
            .with_secret(Secret::new(seed.to_vec().into_boxed_slice()))
            .with_issuer(Some(issuer))
            .with_account_name(account)
            .build()
            .map_err(|e| CoreError::Internal(format!("TOTP parameters: {e}")))
    }
}

/// The algorithm with this name, as stored.
pub fn algorithm_named(name: &str) -> Option<Algorithm> {
    match name.to_ascii_uppercase().as_str() {
        "SHA1" => Some(Algorithm::SHA1),
        "SHA256" => Some(Algorithm::SHA256),
        "SHA512" => Some(Algorithm::SHA512),
        _ => None,
    }
}

/// The time step a code matches, trying one step either side of `unix_time` (clock drift of
/// a phone); `None` when it matches none. Comparison is constant-time.
pub fn matching_step(totp: &Totp, code: &str, unix_time: u64) -> Option<u64> {
    let code = code.trim();
    if code.len() != usize::from(totp.digits()) || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp.check(code, unix_time)
}

/// Alphabet of recovery codes: Crockford's base 32 in lower case (no i, l, o, u), so a code
/// read aloud or copied by hand survives.
const RECOVERY_ALPHABET: &[u8; 32] = b"0123456789abcdefghjkmnpqrstvwxyz";
/// Characters per recovery code: 12 × 5 = 60 bits, far beyond what the rate limit lets anyone
/// guess.
const RECOVERY_LEN: usize = 12;

/// A new recovery code, formatted for people: `xxxx-xxxx-xxxx`.
pub fn new_recovery_code() -> Result<String, CoreError> {
    let mut bytes = [0u8; RECOVERY_LEN];
    SystemRandom::new()
        .fill(&mut bytes)
        .map_err(|_| CoreError::Crypto)?;
    let chars: Vec<char> = bytes
        .iter()
        .map(|b| char::from(RECOVERY_ALPHABET[usize::from(b & 31)]))
        .collect();
    Ok(chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-"))
}

/// The canonical form of a typed recovery code (case, dashes and spaces ignored, look-alike
/// letters read as digits), or `None` when it cannot be one.
pub fn normalize_recovery_code(input: &str) -> Option<String> {
    let mut out = String::with_capacity(RECOVERY_LEN);
    for c in input.chars() {
        let c = match c.to_ascii_lowercase() {
            '-' | ' ' => continue,
            'o' => '0',
            'i' | 'l' => '1',
            c if c.is_ascii() && RECOVERY_ALPHABET.contains(&(c as u8)) => c,
            _ => return None,
        };
        out.push(c);
        if out.len() > RECOVERY_LEN {
            return None;
        }
    }
    (out.len() == RECOVERY_LEN).then_some(out)
}

/// Argon2id with OWASP's first recommended setting (19 MiB, 2 passes, 1 lane): recovery codes
/// already carry 60 bits, so the hash only has to make a stolen database expensive to search, not
/// save a weak secret.
pub fn recovery_params() -> Result<argon2::Params, CoreError> {
    argon2::Params::new(19 * 1024, 2, 1, None)
        .map_err(|e| CoreError::Internal(format!("argon2 parameters: {e}")))
}

/// The PHC string (`$argon2id$...`) of a normalized recovery code, with a fresh salt, hashed in
/// a hashing worker's `memory`.
pub fn hash_recovery_code(normalized: &str, memory: &mut HashMemory) -> Result<String, CoreError> {
    let mut salt = [0u8; 16];
    SystemRandom::new()
        .fill(&mut salt)
        .map_err(|_| CoreError::Crypto)?;
    let params = recovery_params()?;
    let mut out = [0u8; argon2::Params::DEFAULT_OUTPUT_LEN];
    let phc_params = ParamsString::try_from(&params)
        .map_err(|e| CoreError::Internal(format!("argon2 parameters: {e}")))?;
    memory.hash(
        argon2::Algorithm::Argon2id,
        argon2::Version::V0x13,
        params,
        normalized.as_bytes(),
        &salt,
        &mut out,
    )?;
    let phc = PasswordHash {
        algorithm: argon2::ARGON2ID_IDENT,
        version: Some(argon2::Version::V0x13.into()),
        params: phc_params,
        salt: Some(Salt::new(&salt).map_err(|e| CoreError::Internal(format!("salt: {e}")))?),
        hash: Some(Output::new(&out).map_err(|e| CoreError::Internal(format!("argon2: {e}")))?),
    };
    Ok(phc.to_string())
}

/// Whether a normalized code matches a stored PHC string, hashed in a hashing worker's `memory`
/// with the parameters the string names. `Output`'s comparison takes constant time.
pub fn recovery_code_matches(normalized: &str, phc: &str, memory: &mut HashMemory) -> bool {
    let Ok(stored) = PasswordHash::new(phc) else {
        return false;
    };
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let algorithm = argon2::Algorithm::try_from(stored.algorithm.as_str());
    let version = stored
        .version
        .map_or(Ok(argon2::Version::V0x13), argon2::Version::try_from);
    let params = argon2::Params::try_from(&stored);
    let (Ok(algorithm), Ok(version), Ok(params)) = (algorithm, version, params) else {
        return false;
    };
    let mut out = vec![0u8; expected.len()];
    memory
        .hash(
            algorithm,
            version,
            params,
            normalized.as_bytes(),
            salt.as_ref(),
            &mut out,
        )
        .is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
}

/// `text` as an SVG QR code.
pub fn qr_svg(text: &str) -> Result<String, CoreError> {
    let code = qrcode::QrCode::new(text.as_bytes())
        .map_err(|e| CoreError::Internal(format!("QR code: {e}")))?;
    Ok(code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .quiet_zone(true)
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B: the seed is "12345678901234567890" (SHA-1), 8 digits.
    #[test]
    fn rfc6238_vectors_verify_at_their_step_only() {
        let params = TotpParams::parse(None, Some(8), None).unwrap();
        let totp = params
            .totp(b"12345678901234567890", "Assent", "alice")
            .unwrap();
        for (time, code) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
        ] {
            assert_eq!(matching_step(&totp, code, time), Some(time / 30), "{time}");
            // One step of drift either way is accepted; two are not.
            assert_eq!(matching_step(&totp, code, time + 30), Some(time / 30));
            assert_eq!(matching_step(&totp, code, time + 60), None);
        }
        assert_eq!(matching_step(&totp, "9428708", 59), None);
        assert_eq!(matching_step(&totp, "9428708x", 59), None);
    }

    #[test]
    fn parameters_out_of_range_are_refused() {
        assert!(TotpParams::parse(Some("MD5"), None, None).is_err());
        assert!(TotpParams::parse(None, Some(4), None).is_err());
        assert!(TotpParams::parse(None, None, Some(5)).is_err());
        let p = TotpParams::parse(Some("sha256"), Some(8), Some(60)).unwrap();
        assert_eq!(p.algorithm_name(), "SHA256");
        assert_eq!(p.new_seed().unwrap().len(), 32);
    }

    #[test]
    fn otpauth_uri_names_issuer_account_and_parameters() {
        let totp = TotpParams::default()
            .totp(&[7u8; 20], "Assent", "alice")
            .unwrap();
        let uri = totp.to_url().unwrap();
        assert!(uri.starts_with("otpauth://totp/Assent:alice?"), "{uri}");
        assert!(uri.contains("secret="), "{uri}");
        assert!(uri.contains("issuer=Assent"), "{uri}");
    }

    #[test]
    fn hashes_in_reused_memory_agree_with_the_library() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let library = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            recovery_params().unwrap(),
        );
        let mut memory = HashMemory::default();
        // Several hashes in one memory area, each checked by the library, which allocates its own.
        for code in ["0123456789ab", "zzzzzzzzzzzz", "0123456789ab"] {
            let ours = hash_recovery_code(code, &mut memory).unwrap();
            assert!(
                library
                    .verify_password(code.as_bytes(), ours.as_str())
                    .is_ok()
            );
            assert!(
                library
                    .verify_password(b"0123456789ac", ours.as_str())
                    .is_err()
            );
        }
        // And a hash the library made, with other parameters, verifies here.
        let other = argon2::Argon2::new(
            argon2::Algorithm::Argon2id,
            argon2::Version::V0x13,
            argon2::Params::new(8 * 1024, 3, 1, None).unwrap(),
        );
        let theirs = other
            .hash_password_with_salt(b"0123456789ab", b"0123456789abcdef")
            .unwrap()
            .to_string();
        assert!(recovery_code_matches("0123456789ab", &theirs, &mut memory));
        assert!(!recovery_code_matches("0123456789ac", &theirs, &mut memory));
    }

    #[test]
    fn recovery_codes_normalize_and_hash() {
        let code = new_recovery_code().unwrap();
        assert_eq!(code.len(), 14);
        let normalized = normalize_recovery_code(&code).unwrap();
        assert_eq!(
            normalize_recovery_code(&code.to_uppercase().replace('-', " ")),
            Some(normalized.clone())
        );
        let mut memory = HashMemory::default();
        let hash = hash_recovery_code(&normalized, &mut memory).unwrap();
        assert!(
            hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"),
            "{hash}"
        );
        assert!(recovery_code_matches(&normalized, &hash, &mut memory));
        assert!(!recovery_code_matches("000000000000", &hash, &mut memory));
        assert!(!recovery_code_matches(
            &normalized,
            "$argon2id$v=19$",
            &mut memory
        ));
        assert_eq!(normalize_recovery_code("short"), None);
        assert_eq!(normalize_recovery_code("0000-0000-0000-0"), None);
        assert_eq!(normalize_recovery_code("uuuu-uuuu-uuuu"), None);
        assert_eq!(
            normalize_recovery_code("OOOO-IIII-LLLL").as_deref(),
            Some("000011111111")
        );
    }
}

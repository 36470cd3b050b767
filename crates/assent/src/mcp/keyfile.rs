//! The agent's key file: a P-256 private key in PKCS#8, PEM (`-----BEGIN PRIVATE KEY-----`, what
//! `assent mcp keygen` writes and `openssl genpkey -algorithm EC -pkeyopt
//! ec_paramgen_curve:P-256` makes) or DER; and `keygen`, which writes a new one with its public
//! JWK Set for `assent admin agent create --jwks`.

use assent_proto::jose::{JwkSet, SigningKey};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::fs;
use std::io::Write as _;
use std::path::Path;

/// Largest key file read: a PEM P-256 key is about 250 bytes.
const MAX_KEY_FILE: u64 = 16 * 1024;
const PEM_BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
const PEM_END: &str = "-----END PRIVATE KEY-----";

/// Why a key file was refused. Messages name the file and the defect, never the key's bytes.
#[derive(Debug, thiserror::Error)]
pub enum KeyFileError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{0}")]
    Refused(String),
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> KeyFileError + '_ {
    move |source| KeyFileError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Loads the agent's key. A file that other users may read is refused: whoever reads it can
/// ask the owner, and present the grants, as the agent.
pub fn load(path: &Path) -> Result<SigningKey, KeyFileError> {
    let metadata = fs::metadata(path).map_err(io(path))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if metadata.permissions().mode() & 0o077 != 0 {
            return Err(KeyFileError::Refused(format!(
                "{} is readable by other users; run chmod 600 on it",
                path.display()
            )));
        }
    }
    if metadata.len() > MAX_KEY_FILE {
        return Err(KeyFileError::Refused(format!(
            "{} is larger than {MAX_KEY_FILE} bytes: not a P-256 key",
            path.display()
        )));
    }
    let bytes = fs::read(path).map_err(io(path))?;
    parse(&bytes).map_err(|defect| KeyFileError::Refused(format!("{}: {defect}", path.display())))
}

/// A key from PKCS#8 PEM or DER bytes.
pub fn parse(bytes: &[u8]) -> Result<SigningKey, String> {
    let der = match std::str::from_utf8(bytes) {
        Ok(text) if text.contains("-----BEGIN") => pem_body(text)?,
        _ => bytes.to_vec(),
    };
    SigningKey::from_pkcs8(&der).map_err(|_| "not a PKCS#8 P-256 private key (ES256)".to_owned())
}

/// The DER inside a `PRIVATE KEY` PEM block. Other blocks are named in the refusal, with the
/// command that converts the usual one.
fn pem_body(text: &str) -> Result<Vec<u8>, String> {
    let Some(start) = text.find(PEM_BEGIN) else {
        if text.contains("-----BEGIN EC PRIVATE KEY-----") {
            return Err("a SEC1 key: convert it with `openssl pkcs8 -topk8 -nocrypt`".into());
        }
        if text.contains("ENCRYPTED PRIVATE KEY") {
            return Err(
                "an encrypted key: store it without a passphrase, readable by its owner only"
                    .into(),
            );
        }
        return Err(format!("no {PEM_BEGIN} block"));
    };
    let rest = &text[start + PEM_BEGIN.len()..];
    let end = rest
        .find(PEM_END)
        .ok_or_else(|| format!("no {PEM_END} line"))?;
    let body: String = rest[..end].split_whitespace().collect();
    STANDARD
        .decode(body)
        .map_err(|_| "the PEM body is not base64".to_owned())
}

/// The PEM text of a key.
pub fn to_pem(key: &SigningKey) -> String {
    let body = STANDARD.encode(key.pkcs8());
    let mut pem = String::from(PEM_BEGIN);
    pem.push('\n');
    for line in body.as_bytes().chunks(64) {
        pem.push_str(&String::from_utf8_lossy(line));
        pem.push('\n');
    }
    pem.push_str(PEM_END);
    pem.push('\n');
    pem
}

/// The public JWK Set of a key, its RFC 7638 thumbprint as `kid` (the `kid` of the agent's
/// assertions), for `assent admin agent create --jwks`.
pub fn public_jwks(key: &SigningKey) -> JwkSet {
    let jwk = key.jwk();
    JwkSet {
        keys: vec![jwk.public_with_kid(&jwk.thumbprint())],
    }
}

/// Writes a new key to `out` (PEM, mode 0600, never over an existing file: a key replaced by
/// mistake is an agent locked out) and its public JWK Set to `jwks`. Returns the thumbprint.
pub fn keygen(out: &Path, jwks: &Path) -> Result<String, KeyFileError> {
    let key = SigningKey::generate().map_err(|e| KeyFileError::Refused(e.to_string()))?;
    let public = serde_json::to_string_pretty(&public_jwks(&key))
        .map_err(|e| KeyFileError::Refused(e.to_string()))?;
    let mut options = fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(out).map_err(io(out))?;
    file.write_all(to_pem(&key).as_bytes()).map_err(io(out))?;
    file.sync_all().map_err(io(out))?;
    fs::write(jwks, format!("{public}\n")).map_err(io(jwks))?;
    Ok(key.jwk().thumbprint())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pem_and_der_give_the_same_key() {
        let key = SigningKey::generate().unwrap();
        let from_pem = parse(to_pem(&key).as_bytes()).unwrap();
        let from_der = parse(key.pkcs8()).unwrap();
        assert_eq!(from_pem.jwk(), key.jwk());
        assert_eq!(from_der.jwk(), key.jwk());
    }

    #[test]
    fn other_blocks_and_garbage_are_refused_by_name() {
        let sec1 = "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n";
        assert!(parse(sec1.as_bytes()).unwrap_err().contains("SEC1"));
        let cut = "-----BEGIN PRIVATE KEY-----\nAAAA\n";
        assert!(parse(cut.as_bytes()).unwrap_err().contains("END"));
        let bad = "-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----\n";
        assert!(parse(bad.as_bytes()).unwrap_err().contains("base64"));
        assert!(parse(b"\x30\x03\x02\x01\x00").is_err());
    }

    #[test]
    fn keygen_writes_an_owner_only_key_and_its_public_jwks_and_never_overwrites() {
        let dir = tempfile::tempdir().unwrap();
        let (out, jwks) = (
            dir.path().join("agent.pem"),
            dir.path().join("agent.jwks.json"),
        );
        let thumbprint = keygen(&out, &jwks).unwrap();
        let key = load(&out).unwrap();
        assert_eq!(key.jwk().thumbprint(), thumbprint);
        let public: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(&jwks).unwrap()).unwrap();
        assert_eq!(public["keys"][0]["kid"], thumbprint.as_str());
        assert!(public["keys"][0].get("d").is_none(), "no private member");
        assert_eq!(
            assent_proto::oauth::keys::ClientKeySet::parse(&public.to_string())
                .unwrap()
                .len(),
            1
        );
        assert!(matches!(keygen(&out, &jwks), Err(KeyFileError::Io { .. })));
        assert_eq!(load(&out).unwrap().jwk().thumbprint(), thumbprint);
    }

    #[cfg(unix)]
    #[test]
    fn a_key_others_can_read_is_refused() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let (out, jwks) = (dir.path().join("agent.pem"), dir.path().join("jwks.json"));
        keygen(&out, &jwks).unwrap();
        fs::set_permissions(&out, fs::Permissions::from_mode(0o644)).unwrap();
        let refused = load(&out).unwrap_err().to_string();
        assert!(refused.contains("chmod 600"), "{refused}");
        assert!(!refused.contains("BEGIN"), "no key material in {refused}");
    }

    #[test]
    fn an_oversized_file_is_refused_unread() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("big.pem");
        let mut options = fs::OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        options
            .open(&path)
            .unwrap()
            .write_all(&vec![b'A'; 20_000])
            .unwrap();
        assert!(load(&path).unwrap_err().to_string().contains("larger"));
    }
}

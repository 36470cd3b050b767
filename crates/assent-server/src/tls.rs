//! TLS on the listener, for clients that speak only HTTPS (Duo's among them): a certificate
//! chain and its private key from PEM files, HTTP/2 and HTTP/1.1 offered by ALPN, rustls with
//! the ring provider. The files are read at start (a start with files that do not load is
//! refused) and again on SIGHUP, when a pair that does not load is refused and the running one
//! stays; each new connection takes the configuration current when it arrives.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};
use tokio_rustls::TlsAcceptor;

/// Why a certificate and key could not be used. Messages name the file and the defect, never
/// key material.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("tls.cert_file {0}: {1}")]
    Certificate(PathBuf, String),
    #[error("tls.key_file {0}: {1}")]
    Key(PathBuf, String),
    #[error("tls.cert_file and tls.key_file do not make a TLS configuration: {0}")]
    Config(String),
}

/// Where the certificate chain and the key are.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// Reads both files into a server configuration.
pub fn load(files: &TlsFiles) -> Result<Arc<rustls::ServerConfig>, TlsError> {
    let chain = certificates(&files.cert)?;
    let key = private_key(&files.key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

fn certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let fail = |why: String| TlsError::Certificate(path.to_owned(), why);
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| fail(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| fail(e.to_string()))?;
    if chain.is_empty() {
        return Err(fail("no PEM CERTIFICATE in the file".into()));
    }
    Ok(chain)
}

fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    // The message of a parse error names the defect, not the bytes.
    let key = PrivateKeyDer::from_pem_file(path)
        .map_err(|e| TlsError::Key(path.to_owned(), e.to_string()))?;
    // Checked here, so that a key the provider cannot use is named as the key's fault.
    rustls::crypto::ring::sign::any_supported_type(&key).map_err(|_| {
        TlsError::Key(
            path.to_owned(),
            "not an RSA, ECDSA or Ed25519 private key".into(),
        )
    })?;
    Ok(key)
}

/// The TLS configuration in use, replaced whole on a reload.
#[derive(Debug)]
pub struct Tls {
    files: TlsFiles,
    current: RwLock<Arc<rustls::ServerConfig>>,
}

impl Tls {
    /// Loads the files; the start is refused when they do not load.
    pub fn new(files: TlsFiles) -> Result<Self, TlsError> {
        let current = RwLock::new(load(&files)?);
        Ok(Tls { files, current })
    }

    /// An acceptor with the configuration current now.
    pub fn acceptor(&self) -> TlsAcceptor {
        let config = match self.current.read() {
            Ok(current) => current.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        TlsAcceptor::from(config)
    }

    /// Reads the files again; on an error the running configuration stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = load(&self.files)?;
        match self.current.write() {
            Ok(mut current) => *current = fresh,
            Err(poisoned) => *poisoned.into_inner() = fresh,
        }
        Ok(())
    }
}

//! What the native senders (APNs, FCM) share: an HTTP client that goes only where it is told,
//! PKCS#8 keys read out of PEM files, and the wall clock their tokens are dated by.

use super::SetupError;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::path::Path;
use std::time::Duration;

/// A client for one push service. Redirects are not followed: a push goes to the service the
/// operator configured and nowhere else, bearer token included. Every request has `timeout`.
/// HTTP/2 is offered by ALPN (APNs requires it; FCM takes it), HTTP/1.1 remains for endpoints
/// that only speak that. `ca_file` adds roots to the system's, for a test or private endpoint.
pub(crate) fn http_client(
    timeout: Duration,
    ca_file: Option<&Path>,
) -> Result<reqwest::Client, SetupError> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .timeout(timeout)
        .connect_timeout(timeout)
        .redirect(reqwest::redirect::Policy::none());
    if let Some(path) = ca_file {
        let pem = std::fs::read(path).map_err(|e| unreadable(path, &e))?;
        let roots = reqwest::Certificate::from_pem_bundle(&pem)
            .map_err(|_| SetupError(format!("{} holds no PEM certificate", path.display())))?;
        if roots.is_empty() {
            return Err(SetupError(format!(
                "{} holds no PEM certificate",
                path.display()
            )));
        }
        builder = builder.tls_certs_merge(roots);
    }
    builder
        .build()
        .map_err(|e| SetupError(format!("the HTTP client cannot be built: {e}")))
}

/// The DER of the first `-----BEGIN PRIVATE KEY-----` block of `pem` (PKCS#8, as Apple's `.p8`
/// files and Google's service accounts hold them). Errors say what is wrong, never what is there.
pub(crate) fn pkcs8_from_pem(pem: &str) -> Result<Vec<u8>, &'static str> {
    const BEGIN: &str = "-----BEGIN PRIVATE KEY-----";
    const END: &str = "-----END PRIVATE KEY-----";
    let start = pem
        .find(BEGIN)
        .ok_or("no PKCS#8 PEM block (BEGIN PRIVATE KEY)")?
        + BEGIN.len();
    let length = pem[start..].find(END).ok_or("an unterminated PEM block")?;
    let base64: String = pem[start..start + length]
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(base64)
        .map_err(|_| "a PEM block that is not base64")
}

/// Reading a key or certificate file failed: name the file and the reason, not the content.
pub(crate) fn unreadable(path: &Path, error: &std::io::Error) -> SetupError {
    SetupError(format!("{} cannot be read: {error}", path.display()))
}

/// Seconds since the Unix epoch. Provider tokens and assertions are checked by the push service
/// against its own clock, so they are dated by the wall clock, not by a test clock.
pub(crate) fn unix_now() -> u64 {
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Why a request got no answer, without its URL (APNs puts the device token in the path).
pub(crate) fn unanswered(service: &str, error: &reqwest::Error) -> String {
    if error.is_timeout() {
        format!("{service} did not answer in time")
    } else if error.is_connect() {
        format!("{service} could not be reached")
    } else {
        format!("the exchange with {service} failed")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkcs8_is_read_out_of_its_pem_armor() {
        let pem = "junk\n-----BEGIN PRIVATE KEY-----\nAAEC\nAwQ=\n-----END PRIVATE KEY-----\n";
        assert_eq!(pkcs8_from_pem(pem).unwrap(), vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn other_pem_blocks_are_refused() {
        assert!(
            pkcs8_from_pem("-----BEGIN EC PRIVATE KEY-----\nAAEC\n-----END EC PRIVATE KEY-----")
                .is_err()
        );
        assert!(pkcs8_from_pem("-----BEGIN PRIVATE KEY-----\nAAEC\n").is_err());
        assert!(
            pkcs8_from_pem("-----BEGIN PRIVATE KEY-----\n%%%\n-----END PRIVATE KEY-----").is_err()
        );
    }
}

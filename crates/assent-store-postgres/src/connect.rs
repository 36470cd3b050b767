//! Connecting: the URL's own settings (host, credentials, `sslmode`, `sslrootcert`...), the
//! session settings Assent relies on, a bounded pool, and errors that never repeat the password.

use assent_core::StoreError;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use std::str::FromStr;
use std::time::Duration;

/// Connections one store keeps at most. A node's work is short transactions; sixteen keep two
/// cores busy while some wait on the chain lock or the disk, and ten nodes stay well under
/// PostgreSQL's default `max_connections` of 100.
pub(crate) const MAX_CONNECTIONS: u32 = 16;

/// Of those, how many may hold a user's prompt turn (a transaction holding an advisory lock
/// while the admission reads and writes through other connections) at once. Admissions wait in
/// this process beyond it; the rest of the pool stays free for the work each holder does.
pub(crate) const TURN_CONNECTIONS: usize = 4;

/// How long a caller waits for a free connection before the request fails.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(10);

/// Session settings, as `-c` startup options:
/// - `statement_timeout`: a stuck statement fails instead of holding a connection forever.
/// - `idle_in_transaction_session_timeout`: a node that stops in the middle of a transaction
///   (killed, cut off by the network) while it holds the audit chain lock would stall every
///   audited write of every node; PostgreSQL ends such a session, and its locks, after this.
///   Assent's transactions are a handful of statements sent back to back.
const SESSION_SETTINGS: [(&str, &str); 2] = [
    ("statement_timeout", "30s"),
    ("idle_in_transaction_session_timeout", "15s"),
];

/// Parses a `postgres://` URL; the error names what is wrong, never the password.
pub(crate) fn options_from_url(url: &str) -> Result<PgConnectOptions, StoreError> {
    PgConnectOptions::from_str(url).map_err(|e| {
        StoreError::Backend(format!(
            "the database URL is not valid: {}",
            redact(&e.to_string(), url)
        ))
    })
}

/// Adds Assent's session settings to `options`.
pub(crate) fn with_session_settings(options: PgConnectOptions) -> PgConnectOptions {
    let named = options.get_application_name().is_some();
    let options = options.options(SESSION_SETTINGS);
    if named {
        options
    } else {
        options.application_name("assent")
    }
}

/// Opens a pool of at most `max` connections and checks that the database answers.
///
/// Connections are not pinged before each use (`test_before_acquire`): that would add a round
/// trip to every query. A connection the server closed (a restart) fails the one statement that
/// finds out, and the pool replaces it.
pub(crate) async fn pool(
    options: PgConnectOptions,
    max: u32,
    url: Option<&str>,
) -> Result<PgPool, StoreError> {
    PgPoolOptions::new()
        .max_connections(max)
        .acquire_timeout(ACQUIRE_TIMEOUT)
        .idle_timeout(Duration::from_secs(600))
        .max_lifetime(Duration::from_secs(1800))
        .test_before_acquire(false)
        .connect_with(options)
        .await
        .map_err(|e| {
            let message = e.to_string();
            let message = url.map_or(message.clone(), |url| redact(&message, url));
            StoreError::Backend(format!("cannot connect to PostgreSQL: {message}"))
        })
}

/// Removes the password of `url`, in every form it may take there (as written, and
/// percent-decoded; in the user-info part or as a `password` query parameter), from `message`.
pub(crate) fn redact(message: &str, url: &str) -> String {
    let mut out = message.to_owned();
    for secret in secrets(url) {
        if !secret.is_empty() {
            out = out.replace(&secret, "***");
        }
    }
    out
}

fn secrets(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    // The user-info part: scheme://user:password@host...
    if let Some((_, rest)) = url.split_once("://") {
        let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let authority = &rest[..authority_end];
        if let Some((userinfo, _)) = authority.rsplit_once('@')
            && let Some((_, password)) = userinfo.split_once(':')
        {
            found.push(password.to_owned());
        }
    }
    // A `password=` query parameter.
    if let Some((_, query)) = url.split_once('?') {
        for pair in query.split('&') {
            if let Some(("password", value)) = pair.split_once('=') {
                found.push(value.to_owned());
            }
        }
    }
    let decoded: Vec<String> = found.iter().map(|s| percent_decode(s)).collect();
    found.extend(decoded);
    // Longest first, so a password that contains another secret is replaced whole.
    found.sort_by_key(|s| std::cmp::Reverse(s.len()));
    found
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_redacted_in_every_form() {
        let url = "postgres://assent:p%40ss:w0rd@db.example:5432/assent?sslmode=require";
        let message = "failed for postgres://assent:p%40ss:w0rd@db and p@ss:w0rd";
        let redacted = redact(message, url);
        assert!(!redacted.contains("w0rd"), "{redacted}");
        let url = "postgres://db.example/assent?user=a&password=hunter2";
        assert_eq!(redact("bad hunter2", url), "bad ***");
        assert_eq!(
            redact("no secret here", "postgres://db/a"),
            "no secret here"
        );
    }

    #[test]
    fn a_bad_url_is_refused_without_its_password() {
        let url = "postgres://assent:topsecret@db.example/assent?sslmode=sometimes";
        let err = options_from_url(url).err().map(|e| e.to_string());
        let err = err.unwrap_or_default();
        assert!(!err.is_empty());
        assert!(!err.contains("topsecret"), "{err}");
    }
}

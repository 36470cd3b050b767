//! The enrollment link: `<server>/app/enroll#code=<code>&fp=<fingerprint>`. The secret code sits
//! in the fragment, which browsers never send to a server, so it does not land in access logs;
//! the fingerprint lets the device check it talks to the server that issued the link.

/// Path of the enrollment page under the server's public URL.
pub const ENROLL_PATH: &str = "/app/enroll";

/// A parsed enrollment link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnrollmentLink {
    /// Server base URL, without a trailing slash.
    pub server: String,
    /// The one-time enrollment code.
    pub code: String,
    /// RFC 7638 thumbprint of the server's signing key.
    pub fingerprint: String,
}

/// Why a link was refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LinkError {
    #[error("not an enrollment link: expected <server>{ENROLL_PATH}#code=...&fp=...")]
    Shape,
    #[error("the enrollment link has no {0}")]
    Missing(&'static str),
}

impl EnrollmentLink {
    /// Formats the link.
    pub fn to_link(&self) -> String {
        format!(
            "{}{ENROLL_PATH}#code={}&fp={}",
            self.server, self.code, self.fingerprint
        )
    }

    /// Parses a link, accepting surrounding whitespace (pasted links often carry some).
    pub fn parse(link: &str) -> Result<Self, LinkError> {
        let link = link.trim();
        if link.len() > 2048 {
            return Err(LinkError::Shape);
        }
        let (before, fragment) = link.split_once('#').ok_or(LinkError::Shape)?;
        let server = before.strip_suffix(ENROLL_PATH).ok_or(LinkError::Shape)?;
        if !(server.starts_with("http://") || server.starts_with("https://")) {
            return Err(LinkError::Shape);
        }
        let mut code = None;
        let mut fingerprint = None;
        for pair in fragment.split('&') {
            match pair.split_once('=') {
                Some(("code", v)) if !v.is_empty() => code = Some(v.to_owned()),
                Some(("fp", v)) if !v.is_empty() => fingerprint = Some(v.to_owned()),
                _ => {}
            }
        }
        let is_token = |s: &str| {
            s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        let code = code
            .filter(|c| is_token(c))
            .ok_or(LinkError::Missing("code"))?;
        let fingerprint = fingerprint
            .filter(|f| is_token(f))
            .ok_or(LinkError::Missing("fp"))?;
        Ok(EnrollmentLink {
            server: server.to_owned(),
            code,
            fingerprint,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let link = EnrollmentLink {
            server: "https://assent.example.com".into(),
            code: "abc_DEF-123".into(),
            fingerprint: "fp-1".into(),
        };
        assert_eq!(
            EnrollmentLink::parse(&format!("  {}\n", link.to_link())),
            Ok(link)
        );
    }

    #[test]
    fn refuses_bad_links() {
        for bad in [
            "https://x/app/enroll",
            "https://x/other#code=a&fp=b",
            "ftp://x/app/enroll#code=a&fp=b",
            "https://x/app/enroll#code=a",
            "https://x/app/enroll#fp=b",
            "https://x/app/enroll#code=a%20b&fp=b",
        ] {
            assert!(EnrollmentLink::parse(bad).is_err(), "{bad}");
        }
    }

    proptest::proptest! {
        #[test]
        fn parse_never_panics(input in "\\PC{0,200}") {
            let _ = EnrollmentLink::parse(&input);
        }
    }
}

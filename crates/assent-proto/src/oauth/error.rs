//! OAuth error codes, the HTTP status each one takes at each endpoint, and the error body
//! (RFC 6749 §5.2, CIBA §13, RFC 9449 §5 and §7.1, RFC 6750 §3.1).

use serde::{Deserialize, Serialize};

/// Longest `error_description`: a sentence for a developer, not a document.
pub const MAX_ERROR_DESCRIPTION: usize = 300;

/// Every error code the OAuth endpoints answer with, spelled as on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OAuthErrorCode {
    InvalidRequest,
    InvalidScope,
    UnknownUserId,
    UnauthorizedClient,
    InvalidBindingMessage,
    InvalidClient,
    AccessDenied,
    MissingUserCode,
    InvalidUserCode,
    ExpiredLoginHintToken,
    AuthorizationPending,
    SlowDown,
    ExpiredToken,
    InvalidGrant,
    UnsupportedGrantType,
    InvalidAuthorizationDetails,
    InvalidDpopProof,
    InvalidToken,
    UnsupportedTokenType,
    ServerError,
    TemporarilyUnavailable,
    TransactionFailed,
}

/// The endpoint that answers: the same code takes another status at another endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// CIBA's backchannel authentication endpoint.
    Backchannel,
    /// The token endpoint.
    Token,
    /// RFC 7009 token revocation.
    Revocation,
    /// RFC 7662 token introspection.
    Introspection,
    /// A protected resource that takes an access token (RFC 6750, RFC 9449 §7).
    Resource,
}

impl OAuthErrorCode {
    /// All codes, for documentation and tests.
    pub const ALL: &'static [OAuthErrorCode] = &[
        OAuthErrorCode::InvalidRequest,
        OAuthErrorCode::InvalidScope,
        OAuthErrorCode::UnknownUserId,
        OAuthErrorCode::UnauthorizedClient,
        OAuthErrorCode::InvalidBindingMessage,
        OAuthErrorCode::InvalidClient,
        OAuthErrorCode::AccessDenied,
        OAuthErrorCode::MissingUserCode,
        OAuthErrorCode::InvalidUserCode,
        OAuthErrorCode::ExpiredLoginHintToken,
        OAuthErrorCode::AuthorizationPending,
        OAuthErrorCode::SlowDown,
        OAuthErrorCode::ExpiredToken,
        OAuthErrorCode::InvalidGrant,
        OAuthErrorCode::UnsupportedGrantType,
        OAuthErrorCode::InvalidAuthorizationDetails,
        OAuthErrorCode::InvalidDpopProof,
        OAuthErrorCode::InvalidToken,
        OAuthErrorCode::UnsupportedTokenType,
        OAuthErrorCode::ServerError,
        OAuthErrorCode::TemporarilyUnavailable,
        OAuthErrorCode::TransactionFailed,
    ];

    /// The code as it appears in the `error` member.
    pub fn as_str(self) -> &'static str {
        match self {
            OAuthErrorCode::InvalidRequest => "invalid_request",
            OAuthErrorCode::InvalidScope => "invalid_scope",
            OAuthErrorCode::UnknownUserId => "unknown_user_id",
            OAuthErrorCode::UnauthorizedClient => "unauthorized_client",
            OAuthErrorCode::InvalidBindingMessage => "invalid_binding_message",
            OAuthErrorCode::InvalidClient => "invalid_client",
            OAuthErrorCode::AccessDenied => "access_denied",
            OAuthErrorCode::MissingUserCode => "missing_user_code",
            OAuthErrorCode::InvalidUserCode => "invalid_user_code",
            OAuthErrorCode::ExpiredLoginHintToken => "expired_login_hint_token",
            OAuthErrorCode::AuthorizationPending => "authorization_pending",
            OAuthErrorCode::SlowDown => "slow_down",
            OAuthErrorCode::ExpiredToken => "expired_token",
            OAuthErrorCode::InvalidGrant => "invalid_grant",
            OAuthErrorCode::UnsupportedGrantType => "unsupported_grant_type",
            OAuthErrorCode::InvalidAuthorizationDetails => "invalid_authorization_details",
            OAuthErrorCode::InvalidDpopProof => "invalid_dpop_proof",
            OAuthErrorCode::InvalidToken => "invalid_token",
            OAuthErrorCode::UnsupportedTokenType => "unsupported_token_type",
            OAuthErrorCode::ServerError => "server_error",
            OAuthErrorCode::TemporarilyUnavailable => "temporarily_unavailable",
            OAuthErrorCode::TransactionFailed => "transaction_failed",
        }
    }

    /// The HTTP status of this error at `endpoint`.
    ///
    /// - The backchannel endpoint follows CIBA §13: 400, but 401 for `invalid_client` (the
    ///   client failed to authenticate) and 403 for `access_denied` (the user or the server's
    ///   policy refused).
    /// - The token, revocation and introspection endpoints follow RFC 6749 §5.2 (and CIBA §11
    ///   for the token endpoint): 400, but 401 for `invalid_client`. A refused DPoP proof at the
    ///   token endpoint is 400 as well: RFC 9449 §5 returns `invalid_dpop_proof` as a token
    ///   error response, which §5.2 of RFC 6749 carries with 400.
    /// - A protected resource answers 401 for `invalid_token` and `invalid_dpop_proof`
    ///   (RFC 6750 §3.1, RFC 9449 §7.1), so the client knows to present another token or proof.
    /// - `invalid_token` is 401 wherever it occurs; `server_error` is 500 and
    ///   `temporarily_unavailable` 503 everywhere, for clients and proxies that branch on status.
    pub fn status(self, endpoint: Endpoint) -> u16 {
        match self {
            OAuthErrorCode::ServerError => return 500,
            OAuthErrorCode::TemporarilyUnavailable => return 503,
            OAuthErrorCode::InvalidClient | OAuthErrorCode::InvalidToken => return 401,
            _ => {}
        }
        match (endpoint, self) {
            (Endpoint::Backchannel, OAuthErrorCode::AccessDenied) => 403,
            (Endpoint::Resource, OAuthErrorCode::InvalidDpopProof) => 401,
            (Endpoint::Resource, OAuthErrorCode::AccessDenied) => 403,
            _ => 400,
        }
    }
}

impl std::fmt::Display for OAuthErrorCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error body of every OAuth endpoint. The description is for a developer reading logs; it
/// names the defect and never carries a secret, a token or key material.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OAuthError {
    pub error: OAuthErrorCode,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_description: Option<String>,
}

impl OAuthError {
    /// An error with a description, reduced to the characters RFC 6749 §5.2 allows (`%x20-21 /
    /// %x23-5B / %x5D-7E`: printable ASCII but `"` and `\`) and to [`MAX_ERROR_DESCRIPTION`]
    /// characters, so a description built from a client's input cannot break a client's parser
    /// or a header (`WWW-Authenticate` carries it in a quoted string).
    pub fn new(code: OAuthErrorCode, description: impl Into<String>) -> Self {
        let description = sanitize(&description.into());
        OAuthError {
            error: code,
            error_description: (!description.is_empty()).then_some(description),
        }
    }

    /// An error without a description.
    pub fn bare(code: OAuthErrorCode) -> Self {
        OAuthError {
            error: code,
            error_description: None,
        }
    }

    /// The HTTP status of this error at `endpoint` (see [`OAuthErrorCode::status`]).
    pub fn status(&self, endpoint: Endpoint) -> u16 {
        self.error.status(endpoint)
    }
}

/// Keeps the allowed characters, turns the others into the nearest allowed one.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '"' => '\'',
            '\\' => '/',
            ' ' | '!' | '#'..='[' | ']'..='~' => c,
            c if c.is_whitespace() => ' ',
            _ => '?',
        })
        .take(MAX_ERROR_DESCRIPTION)
        .collect()
}

impl std::fmt::Display for OAuthError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.error_description {
            Some(description) => write!(f, "{}: {description}", self.error),
            None => write!(f, "{}", self.error),
        }
    }
}

impl std::error::Error for OAuthError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_serialize_as_their_wire_names() {
        for code in OAuthErrorCode::ALL {
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
            let back: OAuthErrorCode = serde_json::from_str(&json).unwrap();
            assert_eq!(back, *code);
        }
        assert_eq!(
            OAuthErrorCode::InvalidDpopProof.as_str(),
            "invalid_dpop_proof"
        );
        assert_eq!(
            OAuthErrorCode::ExpiredLoginHintToken.as_str(),
            "expired_login_hint_token"
        );
    }

    #[test]
    fn backchannel_statuses_follow_ciba_section_13() {
        use OAuthErrorCode::*;
        for code in [
            InvalidRequest,
            InvalidScope,
            ExpiredLoginHintToken,
            UnknownUserId,
            UnauthorizedClient,
            MissingUserCode,
            InvalidUserCode,
            InvalidBindingMessage,
            InvalidAuthorizationDetails,
        ] {
            assert_eq!(code.status(Endpoint::Backchannel), 400, "{code}");
        }
        assert_eq!(InvalidClient.status(Endpoint::Backchannel), 401);
        assert_eq!(AccessDenied.status(Endpoint::Backchannel), 403);
    }

    #[test]
    fn token_statuses_follow_rfc6749_and_rfc9449() {
        use OAuthErrorCode::*;
        for code in [
            InvalidRequest,
            AuthorizationPending,
            SlowDown,
            ExpiredToken,
            AccessDenied,
            InvalidGrant,
            UnsupportedGrantType,
            UnauthorizedClient,
            InvalidDpopProof,
            TransactionFailed,
        ] {
            assert_eq!(code.status(Endpoint::Token), 400, "{code}");
        }
        assert_eq!(InvalidClient.status(Endpoint::Token), 401);
        assert_eq!(InvalidClient.status(Endpoint::Introspection), 401);
        assert_eq!(UnsupportedTokenType.status(Endpoint::Revocation), 400);
    }

    #[test]
    fn token_and_proof_errors_at_a_resource_are_401() {
        for endpoint in [
            Endpoint::Resource,
            Endpoint::Token,
            Endpoint::Backchannel,
            Endpoint::Introspection,
        ] {
            assert_eq!(OAuthErrorCode::InvalidToken.status(endpoint), 401);
            assert_eq!(OAuthErrorCode::ServerError.status(endpoint), 500);
            assert_eq!(OAuthErrorCode::TemporarilyUnavailable.status(endpoint), 503);
        }
        assert_eq!(
            OAuthErrorCode::InvalidDpopProof.status(Endpoint::Resource),
            401
        );
        assert_eq!(
            OAuthErrorCode::InvalidRequest.status(Endpoint::Resource),
            400
        );
    }

    #[test]
    fn descriptions_keep_only_allowed_characters() {
        let error = OAuthError::new(
            OAuthErrorCode::InvalidRequest,
            "say \"hi\"\\ now\nor é\u{7f}",
        );
        let description = error.error_description.clone().unwrap();
        assert_eq!(description, "say 'hi'/ now or ??");
        assert!(
            description
                .chars()
                .all(|c| matches!(c, ' ' | '!' | '#'..='[' | ']'..='~'))
        );
        let json = serde_json::to_string(&error).unwrap();
        assert_eq!(
            json,
            r#"{"error":"invalid_request","error_description":"say 'hi'/ now or ??"}"#
        );
        assert_eq!(error.to_string(), "invalid_request: say 'hi'/ now or ??");
    }

    #[test]
    fn descriptions_are_cut_and_bare_errors_have_none() {
        let long = OAuthError::new(OAuthErrorCode::InvalidScope, "x".repeat(1000));
        assert_eq!(
            long.error_description.map(|d| d.len()),
            Some(MAX_ERROR_DESCRIPTION)
        );
        let bare = OAuthError::bare(OAuthErrorCode::SlowDown);
        assert_eq!(
            serde_json::to_string(&bare).unwrap(),
            r#"{"error":"slow_down"}"#
        );
        assert_eq!(bare.to_string(), "slow_down");
        assert_eq!(OAuthError::new(OAuthErrorCode::SlowDown, ""), bare);
    }

    proptest::proptest! {
        #[test]
        fn any_description_comes_out_allowed(text in "\\PC{0,400}") {
            let error = OAuthError::new(OAuthErrorCode::InvalidRequest, text);
            let description = error.error_description.unwrap_or_default();
            proptest::prop_assert!(description.chars().count() <= MAX_ERROR_DESCRIPTION);
            proptest::prop_assert!(description.chars().all(|c| matches!(c, ' ' | '!' | '#'..='[' | ']'..='~')));
        }
    }
}

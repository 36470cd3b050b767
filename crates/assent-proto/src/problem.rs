//! Stable error codes. Each becomes the `type` of an RFC 9457 problem document
//! (`urn:assent:problem:<code>`), so clients branch on a code that never changes, not on prose.

use serde::{Deserialize, Serialize};

/// Prefix of every problem `type` URI.
pub const PROBLEM_TYPE_PREFIX: &str = "urn:assent:problem:";

macro_rules! problem_codes {
    ($( $(#[$doc:meta])* $variant:ident => ($code:literal, $status:literal, $title:literal), )*) => {
        /// Every error Assent reports, with its HTTP status and a title.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[serde(rename_all = "snake_case")]
        pub enum ProblemCode { $( $(#[$doc])* $variant, )* }

        impl ProblemCode {
            /// All codes, for documentation and tests.
            pub const ALL: &'static [ProblemCode] = &[$(ProblemCode::$variant,)*];
            /// The stable code, as it appears at the end of the `type` URI.
            pub fn as_str(self) -> &'static str { match self { $(ProblemCode::$variant => $code,)* } }
            /// The HTTP status that carries this problem.
            pub fn status(self) -> u16 { match self { $(ProblemCode::$variant => $status,)* } }
            /// A short summary that does not change between occurrences.
            pub fn title(self) -> &'static str { match self { $(ProblemCode::$variant => $title,)* } }
            /// Parses the code back from its string form.
            pub fn parse(code: &str) -> Option<Self> {
                match code { $($code => Some(ProblemCode::$variant),)* _ => None }
            }
        }
    };
}

problem_codes! {
    MalformedJson => ("malformed_json", 400, "The body is not valid JSON"),
    InvalidRequest => ("invalid_request", 422, "The request is not valid"),
    BodyTooLarge => ("body_too_large", 413, "The body is larger than allowed"),
    UnsupportedMediaType => ("unsupported_media_type", 415, "The body must be application/json"),
    MalformedRequest => ("malformed_request", 400, "The request is not valid HTTP or its URL cannot be read"),
    UriTooLong => ("uri_too_long", 414, "The URL is longer than allowed"),
    HeadersTooLarge => ("headers_too_large", 431, "The request headers are larger than allowed"),
    BodyTimeout => ("body_timeout", 408, "The request body did not arrive in time"),
    Unauthorized => ("unauthorized", 401, "Missing or invalid credentials"),
    Forbidden => ("forbidden", 403, "These credentials may not do this"),
    NotFound => ("not_found", 404, "No such resource"),
    MethodNotAllowed => ("method_not_allowed", 405, "Method not allowed on this resource"),
    UnknownUser => ("unknown_user", 404, "No such user"),
    AlreadyExists => ("already_exists", 409, "It exists already"),
    NoActiveDevice => ("no_active_device", 409, "The user has no active device"),
    InvalidDeviceProof => ("invalid_device_proof", 401, "The device proof is missing or invalid"),
    ProofReplayed => ("proof_replayed", 401, "The device proof was already used"),
    InvalidSignature => ("invalid_signature", 401, "The signature does not verify"),
    InvalidStatement => ("invalid_statement", 400, "The signed statement is malformed"),
    StatementMismatch => ("statement_mismatch", 409, "The statement was made for another request"),
    DetailsMismatch => ("details_mismatch", 409, "The transaction details differ from what was signed"),
    StaleStatement => ("stale_statement", 400, "The statement's time is outside the accepted window"),
    DeviceNotAuthorized => ("device_not_authorized", 403, "This device may not answer this request"),
    DeviceRevoked => ("device_revoked", 403, "The device has been revoked"),
    Expired => ("expired", 410, "The request has expired"),
    AlreadyDecided => ("already_decided", 409, "The request already has a final state"),
    WrongCode => ("wrong_code", 422, "The code does not match; the request was denied"),
    CodeRequired => ("code_required", 422, "Approving this request needs the code shown to the user"),
    UserVerificationRequired => ("user_verification_required", 422, "Approving this request needs a passkey check with user verification"),
    UserVerificationFailed => ("user_verification_failed", 401, "The passkey check did not verify"),
    EnrollmentCodeInvalid => ("enrollment_code_invalid", 400, "The enrollment code is not valid"),
    EnrollmentCodeUsed => ("enrollment_code_used", 409, "The enrollment code was already used"),
    EnrollmentCodeExpired => ("enrollment_code_expired", 410, "The enrollment code has expired"),
    DeniedByPolicy => ("denied_by_policy", 403, "The policy refuses this request"),
    NumberMatchingUnavailable => ("number_matching_unavailable", 403, "The policy asks for number matching and the client cannot show a code"),
    InvalidPolicy => ("invalid_policy", 422, "The policy file is not valid; the running policy is unchanged"),
    DevicePendingActivation => ("device_pending_activation", 403, "The device waits for approval from another of the user's devices"),
    InvalidCode => ("invalid_code", 401, "The code is not valid"),
    CodeReused => ("code_reused", 401, "The code was already used"),
    RateLimited => ("rate_limited", 429, "Too many attempts; wait before trying again"),
    FactorNotEnrolled => ("factor_not_enrolled", 409, "The user has not enrolled this factor"),
    PasskeyRefused => ("passkey_refused", 401, "The passkey did not verify"),
    PasskeyRequired => ("passkey_required", 403, "The policy asks for a passkey authentication at the relying party's origin"),
    PushSuspended => ("push_suspended", 429, "Push is suspended for this user; use another factor"),
    Timeout => ("timeout", 503, "The request took too long"),
    Unavailable => ("unavailable", 503, "The server is shutting down, not ready, or cannot reach its database"),
    TooManyConnections => ("too_many_connections", 503, "The server holds too many open connections; try again later"),
    Internal => ("internal", 500, "Internal error"),
}

impl ProblemCode {
    /// The RFC 9457 `type` URI.
    pub fn type_uri(self) -> String {
        format!("{PROBLEM_TYPE_PREFIX}{}", self.as_str())
    }
}

/// An RFC 9457 problem details document, with Assent's extension members `code` and
/// `request_id` (the same id is in the server's log line for the request).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Problem {
    #[serde(rename = "type")]
    pub type_: String,
    pub title: String,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// Members particular to one problem type (`push_suspended`: `suspended_until`, `reason`,
    /// `retry_after`, `fallback_factors`).
    #[serde(flatten)]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub extensions: serde_json::Map<String, serde_json::Value>,
}

impl Problem {
    pub fn new(code: ProblemCode, detail: Option<String>, request_id: Option<String>) -> Self {
        Problem {
            type_: code.type_uri(),
            title: code.title().to_owned(),
            status: code.status(),
            detail,
            code: code.as_str().to_owned(),
            request_id,
            extensions: serde_json::Map::new(),
        }
    }

    /// The code, when it is one this version knows.
    pub fn problem_code(&self) -> Option<ProblemCode> {
        self.type_
            .strip_prefix(PROBLEM_TYPE_PREFIX)
            .and_then(ProblemCode::parse)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for code in ProblemCode::ALL {
            assert!(seen.insert(code.as_str()));
            assert_eq!(ProblemCode::parse(code.as_str()), Some(*code));
            let json = serde_json::to_string(code).unwrap();
            assert_eq!(json, format!("\"{}\"", code.as_str()));
        }
    }
}

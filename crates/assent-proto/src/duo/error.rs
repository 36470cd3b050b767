//! The one error type of the Duo signature layer.

/// Why a Duo request could not be read. No variant carries the presented signature, the
/// integration key or any secret: these messages may reach logs and clients, and a signature in
/// a log would help whoever probes for a valid one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DuoSigError {
    /// The `Authorization` header exceeds the length any Duo client produces.
    #[error("the Authorization header is too long")]
    AuthorizationTooLong,
    /// The header does not use the `Basic` scheme.
    #[error("the Authorization header does not use the Basic scheme")]
    NotBasic,
    /// The credentials are not standard base64 of UTF-8 text.
    #[error("the Authorization credentials are not valid base64 text")]
    BadBase64,
    /// The credentials lack the `ikey:signature` colon.
    #[error("the Authorization credentials have no ':' separator")]
    MissingColon,
    /// The integration key is empty, too long or holds characters Duo keys never have.
    #[error("the integration key is malformed")]
    BadIkey,
    /// The signature is not 40 or 128 lower-case hex digits.
    #[error("the signature is not a lower-case hex HMAC-SHA1 or HMAC-SHA512")]
    BadSignatureFormat,
    /// A form body or query string exceeds the size limit.
    #[error("the parameters exceed {limit} bytes")]
    ParamsTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
    /// More parameters than any Auth API call takes.
    #[error("more than {limit} parameters")]
    TooManyParams {
        /// The limit in parameters.
        limit: usize,
    },
    /// A `%` not followed by two hex digits.
    #[error("a '%' escape is not followed by two hex digits")]
    BadPercentEscape,
    /// A decoded name or value is not UTF-8.
    #[error("a decoded parameter is not UTF-8")]
    NotUtf8,
}

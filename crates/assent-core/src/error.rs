//! Errors of the domain and of the storage port. The server maps [`CoreError`] to problem
//! details once; storage failures stay distinct from "not found" all the way up.

use assent_proto::ProblemCode;

/// A storage backend failure.
#[derive(Debug, Clone, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness constraint refused the write (a username or name that exists).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database failed; the message is for logs, never for clients.
    #[error("storage backend: {0}")]
    Backend(String),
    /// Stored data does not parse; something wrote outside Assent.
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    /// The database cannot be reached right now (down, restarting, refusing connections): the
    /// caller may try again, unlike a [`StoreError::Backend`] failure. The message is for logs.
    #[error("the database is unavailable: {0}")]
    Unavailable(String),
}

/// Why the domain refused or failed an operation.
#[derive(Debug, thiserror::Error)]
pub enum CoreError {
    /// The caller's request was refused for a reason it can act on.
    #[error("{detail}")]
    Rejected { code: ProblemCode, detail: String },
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Push is suspended for the user until a time; the relying party should use a fallback.
    #[error(
        "push is suspended for this user until {} ({reason}); use another factor",
        crate::clock::rfc3339(*until)
    )]
    Suspended {
        until: time::OffsetDateTime,
        reason: String,
        /// Whole seconds until `until`, by the service's clock.
        retry_after: i64,
        /// The factors the user can use instead right now (`totp`, `recovery_code`).
        fallback_factors: Vec<String>,
    },
    /// Too many attempts at a factor for this user; wait `retry_after` seconds.
    #[error("{detail}")]
    RateLimited { detail: String, retry_after: i64 },
    /// An internal failure whose message is for the log only.
    #[error("internal: {0}")]
    Internal(String),
    /// Signing with the server key or reading randomness failed.
    #[error("cryptographic operation failed")]
    Crypto,
}

impl CoreError {
    /// A refusal with a code and a detail that helps the caller.
    pub fn rejected(code: ProblemCode, detail: impl Into<String>) -> Self {
        CoreError::Rejected {
            code,
            detail: detail.into(),
        }
    }

    /// The problem code clients see.
    pub fn code(&self) -> ProblemCode {
        match self {
            CoreError::Rejected { code, .. } => *code,
            CoreError::Suspended { .. } => ProblemCode::PushSuspended,
            CoreError::RateLimited { .. } => ProblemCode::RateLimited,
            CoreError::Internal(_) => ProblemCode::Internal,
            CoreError::Store(StoreError::Conflict(_)) => ProblemCode::AlreadyExists,
            CoreError::Store(StoreError::Unavailable(_)) => ProblemCode::Unavailable,
            CoreError::Store(_) | CoreError::Crypto => ProblemCode::Internal,
        }
    }
}

impl From<assent_proto::jose::JoseError> for CoreError {
    fn from(_: assent_proto::jose::JoseError) -> Self {
        CoreError::Crypto
    }
}

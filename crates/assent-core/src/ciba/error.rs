//! How the CIBA workflow refuses: with the OAuth error code the specification names, which the
//! server renders as an OAuth error body, never a problem document; or with a failure of the
//! core below it, which the server renders as `server_error` and logs.

use crate::error::{CoreError, StoreError};
use assent_proto::oauth::error::{OAuthError, OAuthErrorCode};

#[derive(Debug, thiserror::Error)]
pub enum CibaError {
    /// A refusal the client can act on, with its OAuth code.
    #[error("{0}")]
    OAuth(OAuthError),
    /// A failure of the core or the database; its message is for the log only.
    #[error(transparent)]
    Core(#[from] CoreError),
}

impl From<StoreError> for CibaError {
    fn from(e: StoreError) -> Self {
        CibaError::Core(e.into())
    }
}

impl From<OAuthError> for CibaError {
    fn from(e: OAuthError) -> Self {
        CibaError::OAuth(e)
    }
}

/// A refusal with `code` and a description for the client's developer.
pub(crate) fn refuse(code: OAuthErrorCode, description: impl Into<String>) -> CibaError {
    CibaError::OAuth(OAuthError::new(code, description))
}

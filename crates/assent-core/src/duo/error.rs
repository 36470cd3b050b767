//! The one error type of the Duo adapter: a refusal with Duo's code, or a failure inside Assent.

use crate::error::{CoreError, StoreError};
use assent_proto::duo::api::DuoErrorCode;
use assent_proto::duo::request::ParamError;

/// Why an Auth API call was not answered with its response.
#[derive(Debug, thiserror::Error)]
pub enum DuoError {
    /// Refused with one of Duo's error codes; `detail` becomes `message_detail`.
    #[error("{code:?}: {detail:?}")]
    Refused {
        code: DuoErrorCode,
        detail: Option<String>,
        /// Seconds to wait before retrying (`Retry-After`), for a 429.
        retry_after: Option<i64>,
    },
    /// A failure inside Assent, answered as Duo's internal error without its message.
    #[error(transparent)]
    Core(CoreError),
}

/// A refusal of the core in Duo's terms: the caller's fault is a 4xx with the detail, only a
/// failure inside Assent is the internal error.
impl From<CoreError> for DuoError {
    fn from(e: CoreError) -> Self {
        use assent_proto::ProblemCode;
        match e {
            CoreError::Rejected { code, detail } => {
                let duo = match code {
                    ProblemCode::NotFound => DuoErrorCode::NotFound,
                    ProblemCode::Forbidden | ProblemCode::NumberMatchingUnavailable => {
                        DuoErrorCode::Forbidden
                    }
                    _ => DuoErrorCode::InvalidParameters,
                };
                refuse(duo, detail)
            }
            CoreError::RateLimited {
                detail,
                retry_after,
            } => DuoError::Refused {
                code: DuoErrorCode::TooManyRequests,
                detail: Some(detail),
                retry_after: Some(retry_after.max(1)),
            },
            CoreError::Suspended { retry_after, .. } => DuoError::Refused {
                code: DuoErrorCode::TooManyRequests,
                detail: Some(e.to_string()),
                retry_after: Some(retry_after.max(1)),
            },
            other => DuoError::Core(other),
        }
    }
}

impl From<StoreError> for DuoError {
    fn from(e: StoreError) -> Self {
        DuoError::Core(CoreError::Store(e))
    }
}

impl From<ParamError> for DuoError {
    fn from(e: ParamError) -> Self {
        refuse(
            DuoErrorCode::InvalidParameters,
            format!("{}: {}", e.param, e.reason),
        )
    }
}

/// A refusal with a detail.
pub(crate) fn refuse(code: DuoErrorCode, detail: impl Into<String>) -> DuoError {
    DuoError::Refused {
        code,
        detail: Some(detail.into()),
        retry_after: None,
    }
}

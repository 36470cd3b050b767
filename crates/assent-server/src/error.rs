//! The error every handler and extractor returns, whatever the protocol: a stable problem code,
//! a detail and extensions. It does not choose its format: each protocol surface renders it (see
//! [`ApiError`]'s `IntoResponse`), and the request id that is also in the log line goes with it.

use assent_core::CoreError;
use assent_proto::ProblemCode;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

tokio::task_local! {
    /// The id of the request being served, set by the request middleware.
    pub(crate) static REQUEST_ID: String;
}

/// The current request's id, if called while serving one.
pub(crate) fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// Marks an error response that a protocol rendered in its own format (an OAuth error body):
/// the layer that turns bare error statuses into problem documents leaves it as it is.
#[derive(Debug, Clone, Copy)]
pub(crate) struct RenderedByProtocol;

/// An error on its way to becoming a problem response.
#[derive(Debug, Clone)]
pub struct ApiError {
    code: ProblemCode,
    detail: String,
    extensions: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn new(code: ProblemCode, detail: impl Into<String>) -> Self {
        ApiError {
            code,
            detail: detail.into(),
            extensions: serde_json::Map::new(),
        }
    }

    pub fn code(&self) -> ProblemCode {
        self.code
    }

    /// Adds an extension member, for a problem that says more than its detail (`pointer`).
    pub(crate) fn with(mut self, name: &str, value: impl Into<serde_json::Value>) -> Self {
        self.extensions.insert(name.into(), value.into());
        self
    }
}

impl From<CoreError> for ApiError {
    fn from(e: CoreError) -> Self {
        let mut error = ApiError::new(e.code(), e.to_string());
        if let CoreError::RateLimited { retry_after, .. } = &e {
            error
                .extensions
                .insert("retry_after".into(), (*retry_after).max(1).into());
        }
        if let CoreError::Suspended {
            until,
            reason,
            retry_after,
            fallback_factors,
        } = &e
        {
            let ext = &mut error.extensions;
            ext.insert(
                "suspended_until".into(),
                assent_core::clock::rfc3339(*until).into(),
            );
            ext.insert("reason".into(), reason.clone().into());
            ext.insert("retry_after".into(), (*retry_after).max(1).into());
            // What a relying party can offer instead, as `GET /v1/users/{u}/factors` would say.
            ext.insert(
                "fallback_factors".into(),
                serde_json::Value::from(fallback_factors.clone()),
            );
        }
        error
    }
}

impl ApiError {
    pub(crate) fn detail(&self) -> &str {
        &self.detail
    }

    pub(crate) fn into_extensions(self) -> serde_json::Map<String, serde_json::Value> {
        self.extensions
    }

    /// The HTTP status of the error's code.
    pub(crate) fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// An error leaves its handler unrendered: the status, with the error itself in the response's
/// extensions. The protocol surface that served the request renders it in its own format (the
/// v1 API as a problem document, [`crate::http::v1::problem`]); whatever no surface rendered is
/// rendered as a problem at the top of the router.
impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = self.status().into_response();
        response.extensions_mut().insert(self);
        response
    }
}

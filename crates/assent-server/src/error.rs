//! The one place errors become responses: RFC 9457 problem details with a stable `type` and the
//! request id that is also in the log line. Server faults are logged in full and reported
//! without their detail.

use assent_core::CoreError;
use assent_proto::ProblemCode;
use assent_proto::problem::Problem;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

tokio::task_local! {
    /// The id of the request being served, set by the request middleware.
    pub(crate) static REQUEST_ID: String;
}

/// The current request's id, if called while serving one.
pub(crate) fn current_request_id() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}

/// An error on its way to becoming a problem response.
#[derive(Debug)]
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

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let request_id = current_request_id();
        let status =
            StatusCode::from_u16(self.code.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let detail = if status.is_server_error() {
            tracing::error!(code = self.code.as_str(), error = %self.detail, "request failed");
            "the server could not complete the request; the request id identifies it in the server log".to_owned()
        } else {
            tracing::info!(code = self.code.as_str(), detail = %self.detail, "request refused");
            self.detail
        };
        let mut problem = Problem::new(self.code, Some(detail), request_id);
        problem.extensions = self.extensions;
        let body = serde_json::to_vec(&problem).unwrap_or_default();
        let mut response = (status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/problem+json"),
        );
        response
    }
}

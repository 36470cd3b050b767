//! The v1 API's error format: RFC 9457 problem details with a stable `type` and the request id
//! that is also in the log line. Server faults are logged in full and reported without their
//! detail. This is also the format of errors outside any protocol surface (unknown paths,
//! timeouts).

use crate::error::{ApiError, current_request_id};
use assent_proto::problem::Problem;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// Renders the error a handler, an extractor or a fallback left in the response, if any.
pub(crate) fn render_problems(mut response: Response) -> Response {
    match response.extensions_mut().remove::<ApiError>() {
        Some(error) => problem_response(error),
        None => response,
    }
}

/// One error as a problem document.
fn problem_response(error: ApiError) -> Response {
    let request_id = current_request_id();
    let status = error.status();
    let code = error.code();
    let detail = if status.is_server_error() {
        tracing::error!(code = code.as_str(), error = %error.detail(), "request failed");
        "the server could not complete the request; the request id identifies it in the server log"
            .to_owned()
    } else {
        tracing::info!(code = code.as_str(), detail = %error.detail(), "request refused");
        error.detail().to_owned()
    };
    let mut problem = Problem::new(code, Some(detail), request_id);
    problem.extensions = error.into_extensions();
    let body = serde_json::to_vec(&problem).unwrap_or_default();
    let mut response = (status, body).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/problem+json"),
    );
    response
}

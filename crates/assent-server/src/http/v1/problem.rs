//! The v1 API's error format: RFC 9457 problem details with a stable `type` and the request id
//! that is also in the log line. Server faults are logged in full and reported without their
//! detail. This is also the format of errors outside any protocol surface (unknown paths,
//! timeouts).

use crate::error::{ApiError, current_request_id};
use assent_proto::ProblemCode;
use assent_proto::problem::Problem;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// Renders the error a handler, an extractor or a fallback left in the response, if any; an
/// error status that arrived without one (a rejection of a library extractor or layer that no
/// wrapper turned into an [`ApiError`]) becomes the problem of its status, its body dropped, so
/// no answer leaves in another format.
pub(crate) fn render_problems(mut response: Response) -> Response {
    match response.extensions_mut().remove::<ApiError>() {
        Some(error) => problem_response(error),
        None if is_unrendered_error(&response) => {
            let status = response.status();
            let code = code_for_status(status);
            problem_response(ApiError::new(
                code,
                format!("the request was refused with status {}", status.as_u16()),
            ))
        }
        None => response,
    }
}

fn is_unrendered_error(response: &Response) -> bool {
    if response
        .extensions()
        .get::<crate::error::RenderedByProtocol>()
        .is_some()
    {
        return false;
    }
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/problem+json"));
    (status.is_client_error() || status.is_server_error()) && !is_problem
}

/// The code that carries a bare error status.
fn code_for_status(status: StatusCode) -> ProblemCode {
    [
        ProblemCode::MalformedRequest,
        ProblemCode::NotFound,
        ProblemCode::MethodNotAllowed,
        ProblemCode::BodyTimeout,
        ProblemCode::BodyTooLarge,
        ProblemCode::UriTooLong,
        ProblemCode::UnsupportedMediaType,
        ProblemCode::InvalidRequest,
        ProblemCode::RateLimited,
        ProblemCode::HeadersTooLarge,
        ProblemCode::Unavailable,
    ]
    .into_iter()
    .find(|code| code.status() == status.as_u16())
    .unwrap_or(if status.is_client_error() {
        ProblemCode::MalformedRequest
    } else {
        ProblemCode::Internal
    })
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bare_error_statuses_keep_their_status_as_problems() {
        for status in [400, 404, 405, 408, 413, 414, 415, 422, 429, 431, 500, 503] {
            let status = StatusCode::from_u16(status).unwrap();
            assert_eq!(code_for_status(status).status(), status.as_u16());
        }
        let teapot = StatusCode::IM_A_TEAPOT;
        assert_eq!(code_for_status(teapot), ProblemCode::MalformedRequest);
        let bad_gateway = StatusCode::BAD_GATEWAY;
        assert_eq!(code_for_status(bad_gateway), ProblemCode::Internal);
    }
}

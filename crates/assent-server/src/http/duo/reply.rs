//! How the Auth API answers: Duo's envelope, `{"stat": "OK", "response": ...}`, and its errors,
//! `{"stat": "FAIL", "code": 40002, "message": ..., "message_detail": ...}` with the status the
//! code's first three digits name, never problem documents. A failure below the protocol is
//! Duo's internal error, logged with the request id and not shown to the client.

use assent_core::duo::DuoError;
use assent_core::{CoreError, StoreError};
use assent_proto::duo::api::{DuoErrorCode, Fail, Ok};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// A JSON answer that must not be cached.
fn no_store<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let mut response = (status, Json(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `{"stat": "OK", "response": body}`.
pub(crate) fn ok<T: Serialize>(body: T) -> Response {
    no_store(StatusCode::OK, &Ok::new(body))
}

/// A Duo error with its status; `Retry-After` on a 429.
pub(crate) fn fail(
    code: DuoErrorCode,
    detail: Option<String>,
    retry_after: Option<i64>,
) -> Response {
    let status = StatusCode::from_u16(code.status()).unwrap_or(StatusCode::BAD_REQUEST);
    let mut response = no_store(status, &Fail::new(code, detail));
    response
        .extensions_mut()
        .insert(crate::error::RenderedByProtocol);
    if let Some(seconds) = retry_after
        && let Ok(value) = HeaderValue::from_str(&seconds.max(1).to_string())
    {
        response.headers_mut().insert(header::RETRY_AFTER, value);
    }
    response
}

/// The answer to a call that failed.
pub(crate) fn refused(e: DuoError) -> Response {
    match e {
        DuoError::Refused {
            code,
            detail,
            retry_after,
        } => fail(code, detail, retry_after),
        DuoError::Core(core) => internal(&core),
    }
}

fn internal(e: &CoreError) -> Response {
    if let CoreError::Store(StoreError::Unavailable(_)) = e {
        tracing::warn!(error = %e, "Duo endpoint: the database is unavailable");
    } else {
        tracing::error!(error = %e, "Duo endpoint failed");
    }
    fail(
        DuoErrorCode::Internal,
        Some(format!(
            "request id {}",
            crate::error::current_request_id().unwrap_or_default()
        )),
        None,
    )
}

/// The answer of a handler: its body in the envelope, or its error.
pub(crate) fn answer<T: Serialize>(result: Result<T, DuoError>) -> Response {
    match result {
        Result::Ok(body) => ok(body),
        Err(e) => refused(e),
    }
}

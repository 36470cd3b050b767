//! How the OAuth endpoints answer: JSON bodies that must not be cached (RFC 6749, 5.1), and
//! errors as OAuth error bodies (`error`, `error_description`) with the status the
//! specification gives each code, never problem documents. A failure below the protocol
//! becomes `server_error` (or `temporarily_unavailable` while the database is away), logged with
//! the request id and not shown to the client.

use assent_core::ciba::CibaError;
use assent_core::{CoreError, StoreError};
use assent_proto::oauth::error::{Endpoint, OAuthError, OAuthErrorCode};
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An OAuth error on its way out of one endpoint.
#[derive(Debug)]
pub(crate) struct OAuthReply {
    pub error: OAuthError,
    pub endpoint: Endpoint,
    /// The client tried HTTP Basic: a 401 then names the scheme (RFC 6749, 5.2).
    pub basic: bool,
}

impl OAuthReply {
    pub fn new(endpoint: Endpoint, code: OAuthErrorCode, description: impl Into<String>) -> Self {
        OAuthReply {
            error: OAuthError::new(code, description),
            endpoint,
            basic: false,
        }
    }

    pub fn from_ciba(endpoint: Endpoint, e: CibaError) -> Self {
        let error = match e {
            CibaError::OAuth(error) => error,
            CibaError::Core(core) => internal(&core),
        };
        OAuthReply {
            error,
            endpoint,
            basic: false,
        }
    }

    pub fn oauth(endpoint: Endpoint, error: OAuthError) -> Self {
        OAuthReply {
            error,
            endpoint,
            basic: false,
        }
    }
}

fn internal(e: &CoreError) -> OAuthError {
    if matches!(e, CoreError::Store(StoreError::Unavailable(_))) {
        tracing::warn!(error = %e, "OAuth endpoint: the database is unavailable");
        return OAuthError::new(
            OAuthErrorCode::TemporarilyUnavailable,
            "the database is unavailable; try again shortly",
        );
    }
    tracing::error!(error = %e, "OAuth endpoint failed");
    OAuthError::new(
        OAuthErrorCode::ServerError,
        format!(
            "internal error; request id {}",
            crate::error::current_request_id().unwrap_or_default()
        ),
    )
}

impl IntoResponse for OAuthReply {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.error.error.status(self.endpoint))
            .unwrap_or(StatusCode::BAD_REQUEST);
        let mut response = no_store(status, &self.error);
        response
            .extensions_mut()
            .insert(crate::error::RenderedByProtocol);
        if status == StatusCode::UNAUTHORIZED && self.basic {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"assent\""),
            );
        }
        if status == StatusCode::SERVICE_UNAVAILABLE {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        }
        response
    }
}

/// A JSON answer with `Cache-Control: no-store`, as every OAuth endpoint answer is.
pub(crate) fn no_store<T: Serialize>(status: StatusCode, body: &T) -> Response {
    let mut response = (status, Json(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    response
}

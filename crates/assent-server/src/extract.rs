//! Extractors that authenticate callers and parse bodies, so no handler can forget to.

use crate::error::ApiError;
use crate::http::AppState;
use assent_core::Principal;
use assent_core::model::App;
use assent_core::{AuthenticatedDevice, UnspentProof};
use assent_proto::ProblemCode;
use axum::body::{Body, Bytes};
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

/// A JSON body whose every failure is a problem document: malformed, too large, wrong type.
#[derive(Debug)]
pub(crate) struct ApiJson<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(ApiJson(value)),
            Err(rejection) => Err(json_problem(&rejection)),
        }
    }
}

/// An [`ApiJson`] body with the bytes it was read from, for a check that needs the text as the
/// caller wrote it: a parsed number has already been rounded to a double.
#[derive(Debug)]
pub(crate) struct ApiJsonText<T>(pub T, pub Bytes);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJsonText<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let (parts, body) = req.into_parts();
        let bytes = Bytes::from_request(Request::from_parts(parts.clone(), body), state)
            .await
            .map_err(|rejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError::new(
                        ProblemCode::BodyTooLarge,
                        "the body is larger than the server accepts",
                    )
                } else {
                    ApiError::new(ProblemCode::MalformedJson, rejection.body_text())
                }
            })?;
        // The same parse and refusals as ApiJson, content type included, on the bytes kept.
        let again = Request::from_parts(parts, Body::from(bytes.clone()));
        let ApiJson(value) = ApiJson::<T>::from_request(again, state).await?;
        Ok(ApiJsonText(value, bytes))
    }
}

fn json_problem(rejection: &JsonRejection) -> ApiError {
    match rejection {
        JsonRejection::JsonSyntaxError(e) => {
            ApiError::new(ProblemCode::MalformedJson, e.body_text())
        }
        JsonRejection::JsonDataError(e) => {
            ApiError::new(ProblemCode::InvalidRequest, e.body_text())
        }
        JsonRejection::MissingJsonContentType(_) => ApiError::new(
            ProblemCode::UnsupportedMediaType,
            "send the body with Content-Type: application/json",
        ),
        other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
            ProblemCode::BodyTooLarge,
            "the body is larger than the server accepts",
        ),
        other => ApiError::new(ProblemCode::MalformedJson, other.body_text()),
    }
}

/// Path parameters whose failure (an escape that is not UTF-8, say) is a problem document, not
/// axum's plain-text rejection.
#[derive(Debug)]
pub(crate) struct ApiPath<T>(pub T);

impl<T: DeserializeOwned + Send, S: Send + Sync> FromRequestParts<S> for ApiPath<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(ApiPath(value)),
            Err(rejection) => Err(path_problem(&rejection)),
        }
    }
}

fn path_problem(rejection: &PathRejection) -> ApiError {
    if rejection.status().is_server_error() {
        // A route whose parameters do not fit its handler: the server's fault, logged in full.
        ApiError::new(ProblemCode::Internal, rejection.body_text())
    } else {
        ApiError::new(ProblemCode::MalformedRequest, rejection.body_text())
    }
}

/// A query string whose failure (an unknown parameter, a value of the wrong type) is a problem
/// document.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(ApiQuery(value)),
            Err(rejection) => Err(query_problem(&rejection)),
        }
    }
}

fn query_problem(rejection: &QueryRejection) -> ApiError {
    ApiError::new(ProblemCode::InvalidRequest, rejection.body_text())
}

fn bearer(parts: &Parts) -> Result<&str, ApiError> {
    let missing = || {
        ApiError::new(
            ProblemCode::Unauthorized,
            "send an API key as Authorization: Bearer <key>",
        )
    };
    let value = parts
        .headers
        .get(header::AUTHORIZATION)
        .ok_or_else(missing)?;
    let value = value.to_str().map_err(|_| missing())?;
    let (scheme, token) = value.split_once(' ').ok_or_else(missing)?;
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Err(missing());
    }
    Ok(token.trim())
}

/// A relying party authenticated by its API key.
#[derive(Debug)]
pub(crate) struct AppAuth(pub App);

impl FromRequestParts<AppState> for AppAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match state.assent.authenticate_api_key(bearer(parts)?).await? {
            Principal::App(app) => Ok(AppAuth(app)),
            Principal::Admin { .. } | Principal::Console { .. } => Err(ApiError::new(
                ProblemCode::Forbidden,
                "this endpoint takes an application's API key, not an admin key",
            )),
        }
    }
}

/// An administrator authenticated by an admin API key.
#[derive(Debug)]
pub(crate) struct AdminAuth(pub Principal);

impl FromRequestParts<AppState> for AdminAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        match state.assent.authenticate_api_key(bearer(parts)?).await? {
            admin @ Principal::Admin { .. } => Ok(AdminAuth(admin)),
            Principal::App(_) | Principal::Console { .. } => Err(ApiError::new(
                ProblemCode::Forbidden,
                "this endpoint needs an admin API key",
            )),
        }
    }
}

/// The `DPoP` header, and the method and path the proof must name.
fn proof_and_target(parts: &Parts) -> (Option<&str>, &str, &str) {
    let proof = parts.headers.get("dpop").and_then(|v| v.to_str().ok());
    (proof, parts.method.as_str(), parts.uri.path())
}

/// A device authenticated by a fresh proof in the `DPoP` header, bound to this method and URL.
#[derive(Debug)]
pub(crate) struct DeviceAuth(pub AuthenticatedDevice);

impl FromRequestParts<AppState> for DeviceAuth {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (proof, method, path) = proof_and_target(parts);
        Ok(DeviceAuth(
            state
                .assent
                .authenticate_device(proof, method, path)
                .await?,
        ))
    }
}

/// A device authenticated like [`DeviceAuth`], but with its proof's id not yet recorded as used:
/// for an endpoint whose service call records it in the same transaction as its own write.
#[derive(Debug)]
pub(crate) struct DeviceAuthDeferred(pub AuthenticatedDevice, pub UnspentProof);

impl FromRequestParts<AppState> for DeviceAuthDeferred {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let (proof, method, path) = proof_and_target(parts);
        let (device, unspent) = state
            .assent
            .authenticate_device_deferred(proof, method, path)
            .await?;
        Ok(DeviceAuthDeferred(device, unspent))
    }
}

/// The TCP peer's address, when the server was started with connection info.
#[derive(Debug)]
pub(crate) struct PeerIp(pub Option<std::net::IpAddr>);

impl<S: Send + Sync> FromRequestParts<S> for PeerIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>();
        Ok(PeerIp(peer.map(|c| c.0.ip())))
    }
}

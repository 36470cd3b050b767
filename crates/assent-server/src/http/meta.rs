//! Health, the server's public keys and the API description.

use super::AppState;
use crate::error::ApiError;
use assent_proto::ProblemCode;
use assent_proto::jose::JwkSet;
use axum::Json;
use axum::extract::State;
use axum::response::IntoResponse;
use serde_json::{Value, json};
use std::sync::Arc;

/// Liveness: the process serves HTTP.
#[utoipa::path(get, path = "/health/live", tag = "meta", responses((status = 200, description = "alive")))]
pub(crate) async fn live() -> Json<Value> {
    Json(json!({"status": "ok"}))
}

/// Readiness: the database answers and the server is not shutting down.
#[utoipa::path(get, path = "/health/ready", tag = "meta",
    responses((status = 200, description = "ready"), (status = 503, body = assent_proto::problem::Problem)))]
pub(crate) async fn ready(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if *state.shutdown.borrow() {
        return Err(ApiError::new(
            ProblemCode::Unavailable,
            "the server is shutting down",
        ));
    }
    state.assent.store().has_admin_key().await.map_err(|e| {
        tracing::error!(error = %e, "readiness check failed");
        ApiError::new(ProblemCode::Unavailable, "the database does not answer")
    })?;
    Ok(Json(json!({"status": "ready"})))
}

/// The server's signing keys (JWK Set), to verify receipts and registrations.
#[utoipa::path(get, path = "/.well-known/jwks.json", tag = "meta", responses((status = 200, body = JwkSet)))]
pub(crate) async fn jwks(State(state): State<AppState>) -> Json<JwkSet> {
    Json(state.assent.jwks())
}

pub(crate) async fn openapi_json(api: Arc<utoipa::openapi::OpenApi>) -> impl IntoResponse {
    Json(api.as_ref().clone())
}

/// The VAPID public key to pass to `pushManager.subscribe` as `applicationServerKey`.
#[utoipa::path(get, path = "/v1/push/vapid-public-key", tag = "meta",
    responses((status = 200, body = assent_proto::api::VapidPublicKey)))]
pub(crate) async fn vapid_public_key(
    State(state): State<AppState>,
) -> Json<assent_proto::api::VapidPublicKey> {
    Json(assent_proto::api::VapidPublicKey {
        public_key: state.vapid_public_key.clone(),
    })
}

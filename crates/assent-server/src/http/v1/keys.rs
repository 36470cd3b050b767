//! Applications' API keys for admins: list them, rotate one application's key, revoke a key.
//! A key is checked against the store on every call, so a rotation or revocation holds on every
//! node from its commit.

use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiPath};
use crate::http::AppState;
use assent_core::clock::rfc3339;
use assent_core::model::ApiKeyRecord;
use assent_proto::api::{ApiKeyView, AppKeysView, AppList, KeyRotated};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

fn key_view(key: &ApiKeyRecord) -> ApiKeyView {
    ApiKeyView {
        id: key.id.clone(),
        created_at: rfc3339(key.created_at),
        revoked_at: key.revoked_at.map(rfc3339),
    }
}

/// List the applications with their API keys (never a secret).
#[utoipa::path(get, path = "/v1/admin/apps", tag = "admin", security(("api_key" = [])),
    responses((status = 200, body = AppList), (status = "4XX", body = Problem)))]
pub(crate) async fn list_apps(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<AppList>, ApiError> {
    let apps = state.assent.apps_with_keys().await?;
    Ok(Json(AppList {
        apps: apps
            .into_iter()
            .map(|a| AppKeysView {
                id: a.app.id.to_string(),
                name: a.app.name,
                created_at: rfc3339(a.app.created_at),
                keys: a.keys.iter().map(key_view).collect(),
            })
            .collect(),
    }))
}

/// Give an application a new API key and revoke its earlier keys at the same moment. The new
/// key is in the answer, once.
#[utoipa::path(post, path = "/v1/admin/apps/{id}/keys", tag = "admin", params(("id" = String, Path)),
    security(("api_key" = [])),
    responses((status = 201, body = KeyRotated), (status = "4XX", body = Problem)))]
pub(crate) async fn rotate_key(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<(StatusCode, Json<KeyRotated>), ApiError> {
    let rotated = state.assent.rotate_app_key(&admin, &id).await?;
    Ok((
        StatusCode::CREATED,
        Json(KeyRotated {
            app_id: id,
            key_id: rotated.key_id,
            api_key: rotated.api_key,
            revoked_key_ids: rotated.revoked,
        }),
    ))
}

/// Revoke an application's API key: refused from this moment on, on every node.
#[utoipa::path(post, path = "/v1/admin/keys/{id}/revoke", tag = "admin", params(("id" = String, Path)),
    security(("api_key" = [])),
    responses((status = 200, body = ApiKeyView), (status = "4XX", body = Problem)))]
pub(crate) async fn revoke_key(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ApiKeyView>, ApiError> {
    let key = state.assent.revoke_app_key(&admin, &id).await?;
    Ok(Json(key_view(&key)))
}

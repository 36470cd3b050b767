//! Creating Duo integrations: admin API, problem documents like the rest of it.

use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiJson, ApiPath};
use crate::http::AppState;
use assent_core::duo::NewDuoIntegration;
use assent_proto::api::{CreateDuoIntegration, DuoIntegrationCreated};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// Create a Duo Auth API integration for an application: its integration key, secret key
/// (in the answer, once) and the host name clients use.
#[utoipa::path(post, path = "/v1/admin/apps/{id}/duo-integrations", tag = "admin", request_body = CreateDuoIntegration,
    params(("id" = String, Path, format = Uuid, description = "the application's id")), security(("api_key" = [])),
    responses((status = 201, body = DuoIntegrationCreated), (status = "4XX", body = Problem)))]
pub(crate) async fn create_duo_integration(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(request): ApiJson<CreateDuoIntegration>,
) -> Result<(StatusCode, Json<DuoIntegrationCreated>), ApiError> {
    let new = NewDuoIntegration {
        app_id,
        api_host: request.api_host,
        allow_unmatched_push: request.allow_unmatched_push,
        allow_legacy_v1: request.allow_legacy_v1,
    };
    let created = state.assent.create_duo_integration(&admin, new).await?;
    let integration = created.integration;
    Ok((
        StatusCode::CREATED,
        Json(DuoIntegrationCreated {
            ikey: integration.ikey,
            skey: created.skey,
            api_host: integration.api_host,
            app_id: integration.app_id.to_string(),
            allow_unmatched_push: integration.allow_unmatched_push,
            allow_legacy_v1: integration.allow_legacy_v1,
        }),
    ))
}

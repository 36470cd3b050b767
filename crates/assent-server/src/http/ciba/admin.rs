//! Registering CIBA clients and agents: admin API, problem documents like the rest of it.

use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiJson, ApiPath};
use crate::http::AppState;
use assent_core::ciba::records::{ClientAuth, DeliveryMode};
use assent_core::ciba::{NewAgent, NewCibaClient, RegisteredClient};
use assent_proto::ProblemCode;
use assent_proto::api::{CibaClientCreated, CreateAgent, CreateCibaClient};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

fn mode(text: &str) -> Result<DeliveryMode, ApiError> {
    DeliveryMode::parse(text)
        .ok_or_else(|| ApiError::new(ProblemCode::InvalidRequest, "mode is poll, ping or push"))
}

fn created(registered: RegisteredClient, owner: Option<String>) -> CibaClientCreated {
    let client = registered.client;
    CibaClientCreated {
        client_id: client.client_id,
        client_secret: registered.client_secret,
        app_id: client.app_id.to_string(),
        mode: client.mode.as_str().into(),
        token_endpoint_auth_method: match client.auth {
            ClientAuth::Secret { .. } => "client_secret_basic".into(),
            ClientAuth::PrivateKeyJwt { .. } => "private_key_jwt".into(),
        },
        owner,
    }
}

/// Register an OpenID CIBA client for an application; its secret (if it has no keys) is in the
/// answer, once.
#[utoipa::path(post, path = "/v1/admin/apps/{id}/ciba-clients", tag = "admin", request_body = CreateCibaClient,
    params(("id" = String, Path, format = Uuid, description = "the application's id")), security(("api_key" = [])),
    responses((status = 201, body = CibaClientCreated), (status = "4XX", body = Problem)))]
pub(crate) async fn create_ciba_client(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(request): ApiJson<CreateCibaClient>,
) -> Result<(StatusCode, Json<CibaClientCreated>), ApiError> {
    let new = NewCibaClient {
        app_id,
        mode: mode(&request.mode)?,
        notification_endpoint: request.notification_endpoint,
        jwks: request.jwks.map(|j| j.to_string()),
        requires_user_code: request.requires_user_code,
    };
    let registered = state.assent.register_ciba_client(&admin, new).await?;
    Ok((StatusCode::CREATED, Json(created(registered, None))))
}

/// Register an agent: a non-human identity acting for its owner, with its own application and
/// a `private_key_jwt` CIBA client.
#[utoipa::path(post, path = "/v1/admin/agents", tag = "admin", request_body = CreateAgent,
    security(("api_key" = [])),
    responses((status = 201, body = CibaClientCreated), (status = "4XX", body = Problem)))]
pub(crate) async fn create_agent(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(request): ApiJson<CreateAgent>,
) -> Result<(StatusCode, Json<CibaClientCreated>), ApiError> {
    let owner = request.owner.to_ascii_lowercase();
    let new = NewAgent {
        name: request.name,
        owner: request.owner,
        jwks: request.jwks.to_string(),
        allowed_types: request.authorization_details_types,
        mode: mode(request.mode.as_deref().unwrap_or("poll"))?,
        notification_endpoint: request.notification_endpoint,
    };
    let registered = state.assent.register_agent(&admin, new).await?;
    Ok((StatusCode::CREATED, Json(created(registered, Some(owner)))))
}

//! The admin API, driven by `assent admin`.

use super::render::{self, device_view};
use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiJson, ApiPath, ApiQuery};
use crate::http::AppState;
use assent_core::clock::rfc3339;
use assent_proto::api::{
    AppCreated, AuditReport, CreateApp, CreateEnrollment, CreateUser, DeviceList, DeviceView,
    EnrollmentCreated, SetWebhook, UserEmail, UserList, UserView, WebhookCreated, WebhookStatus,
};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;

/// Create a relying party; its API key is in the answer, once.
#[utoipa::path(post, path = "/v1/admin/apps", tag = "admin", request_body = CreateApp, security(("api_key" = [])),
    responses((status = 201, body = AppCreated), (status = "4XX", body = Problem)))]
pub(crate) async fn create_app(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(request): ApiJson<CreateApp>,
) -> Result<(StatusCode, Json<AppCreated>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json({
            let created = state.assent.create_app(&admin, &request.name).await?;
            AppCreated {
                app_id: created.app.id.to_string(),
                name: created.app.name,
                api_key: created.api_key,
            }
        }),
    ))
}

/// Create a user.
#[utoipa::path(post, path = "/v1/admin/users", tag = "admin", request_body = CreateUser, security(("api_key" = [])),
    responses((status = 201, body = UserView), (status = "4XX", body = Problem)))]
pub(crate) async fn create_user(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(request): ApiJson<CreateUser>,
) -> Result<(StatusCode, Json<UserView>), ApiError> {
    let user = state.assent.create_user(&admin, &request.username).await?;
    Ok((
        StatusCode::CREATED,
        Json(UserView {
            id: user.id.to_string(),
            username: user.username.to_string(),
            created_at: rfc3339(user.created_at),
        }),
    ))
}

/// List users.
#[utoipa::path(get, path = "/v1/admin/users", tag = "admin", security(("api_key" = [])),
    responses((status = 200, body = UserList), (status = "4XX", body = Problem)))]
pub(crate) async fn list_users(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<UserList>, ApiError> {
    let users = state.assent.list_users().await?;
    let users = users
        .into_iter()
        .map(|u| UserView {
            id: u.id.to_string(),
            username: u.username.to_string(),
            created_at: rfc3339(u.created_at),
        })
        .collect();
    Ok(Json(UserList { users }))
}

/// Set or remove the e-mail address where a user's security alerts go.
#[utoipa::path(put, path = "/v1/admin/users/{username}/email", tag = "admin", request_body = UserEmail,
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@+-]{1,64}$", description = "1 to 64 letters, digits and . _ - @ +")), security(("api_key" = [])),
    responses((status = 204, description = "stored"), (status = "4XX", body = Problem)))]
pub(crate) async fn set_user_email(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(username): ApiPath<String>,
    ApiJson(request): ApiJson<UserEmail>,
) -> Result<StatusCode, ApiError> {
    state
        .assent
        .set_user_email(&admin, &username, request.email.as_deref())
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Create an enrollment link for a user.
#[utoipa::path(post, path = "/v1/admin/enrollments", tag = "admin", request_body = assent_proto::api::AdminCreateEnrollment,
    security(("api_key" = [])),
    responses((status = 201, body = EnrollmentCreated), (status = "4XX", body = Problem)))]
pub(crate) async fn create_enrollment(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(request): ApiJson<CreateEnrollment>,
) -> Result<(StatusCode, Json<EnrollmentCreated>), ApiError> {
    let created = state
        .assent
        .create_enrollment(&admin, &request.user, request.recovery_code.as_deref())
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(render::enrollment_created(created)),
    ))
}

#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub(crate) struct DeviceFilter {
    /// Only this user's devices.
    user: Option<String>,
}

/// List devices.
#[utoipa::path(get, path = "/v1/admin/devices", tag = "admin", params(DeviceFilter), security(("api_key" = [])),
    responses((status = 200, body = DeviceList), (status = "4XX", body = Problem)))]
pub(crate) async fn list_devices(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiQuery(filter): ApiQuery<DeviceFilter>,
) -> Result<Json<DeviceList>, ApiError> {
    let devices = state.assent.list_devices(filter.user.as_deref()).await?;
    let devices = devices
        .iter()
        .map(|(d, name)| device_view(d, name.as_str()))
        .collect();
    Ok(Json(DeviceList { devices }))
}

/// Revoke a device: from now on it can answer nothing.
#[utoipa::path(post, path = "/v1/admin/devices/{id}/revoke", tag = "admin", params(("id" = String, Path)),
    security(("api_key" = [])),
    responses((status = 200, body = DeviceView), (status = "4XX", body = Problem)))]
pub(crate) async fn revoke_device(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeviceView>, ApiError> {
    let device = state.assent.revoke_device(admin.actor(), &id).await?;
    let user = state
        .assent
        .store()
        .user(&device.user_id)
        .await
        .map_err(assent_core::CoreError::from)?;
    let name = user.map(|u| u.username.to_string()).unwrap_or_default();
    Ok(Json(device_view(&device, &name)))
}

/// Check the audit chain from the first row to the last.
#[utoipa::path(get, path = "/v1/audit/verify", tag = "admin", security(("api_key" = [])),
    responses((status = 200, body = AuditReport), (status = "4XX", body = Problem)))]
pub(crate) async fn verify_audit(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<AuditReport>, ApiError> {
    Ok(Json(render::audit_report(
        state.assent.verify_audit().await?,
    )))
}

/// Configure an application's webhook; the signing secret is in the answer, once.
#[utoipa::path(post, path = "/v1/admin/apps/{id}/webhook", tag = "admin", params(("id" = String, Path)),
    request_body = SetWebhook, security(("api_key" = [])),
    responses((status = 200, body = WebhookCreated), (status = "4XX", body = Problem)))]
pub(crate) async fn set_webhook(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<SetWebhook>,
) -> Result<Json<WebhookCreated>, ApiError> {
    let secret = state
        .assent
        .set_webhook(&admin, &id, &request.url, &request.events)
        .await?;
    Ok(Json(WebhookCreated {
        url: request.url,
        events: request.events,
        secret,
    }))
}

/// How an application's webhook deliveries are doing.
#[utoipa::path(get, path = "/v1/admin/apps/{id}/webhook", tag = "admin", params(("id" = String, Path)),
    security(("api_key" = [])),
    responses((status = 200, body = WebhookStatus), (status = "4XX", body = Problem)))]
pub(crate) async fn webhook_status(
    State(state): State<AppState>,
    _admin: AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<WebhookStatus>, ApiError> {
    let not_found = || {
        ApiError::new(
            assent_proto::ProblemCode::NotFound,
            "no webhook for this application",
        )
    };
    let targets = state.assent.webhook_targets().await?;
    let target = targets
        .into_iter()
        .find(|t| t.app_id.as_str() == id)
        .ok_or_else(not_found)?;
    let progress = state.assent.webhook_progress(&target.app_id).await?;
    Ok(Json(WebhookStatus {
        url: target.url,
        events: target.events,
        cursor: progress.cursor,
        failed: progress.failed,
        last_error: progress.last_error,
    }))
}

/// The running policy's rules, in order.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PolicyView {
    rules: Vec<PolicyRuleView>,
}

#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct PolicyRuleView {
    name: String,
    when: String,
    line: usize,
}

fn policy_view(state: &AppState) -> PolicyView {
    let rules = state.assent.policy().rules();
    PolicyView {
        rules: rules
            .into_iter()
            .map(|(name, when, line)| PolicyRuleView { name, when, line })
            .collect(),
    }
}

/// The running policy.
#[utoipa::path(get, path = "/v1/admin/policy", tag = "admin", security(("api_key" = [])),
    responses((status = 200, body = PolicyView), (status = "4XX", body = Problem)))]
pub(crate) async fn policy_rules(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Json<PolicyView> {
    Json(policy_view(&state))
}

/// Reload the policy and risk lists from their files (as SIGHUP does). A file that does not
/// parse is refused with its line and reason; the running policy stays.
#[utoipa::path(post, path = "/v1/admin/policy/reload", tag = "admin", security(("api_key" = [])),
    responses((status = 200, body = PolicyView), (status = "4XX", body = Problem)))]
pub(crate) async fn reload_policy(
    State(state): State<AppState>,
    _admin: AdminAuth,
) -> Result<Json<PolicyView>, ApiError> {
    state
        .policy_sources
        .apply(&state.assent)
        .map_err(|e| ApiError::new(assent_proto::ProblemCode::InvalidPolicy, e.to_string()))?;
    Ok(Json(policy_view(&state)))
}

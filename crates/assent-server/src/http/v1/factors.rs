//! Fallback factors for relying parties and admins: TOTP enrollment and checks, recovery
//! codes, and what a user can use right now.

use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiJson, AppAuth};
use crate::http::AppState;
use assent_core::Principal;
use assent_proto::api::{
    CodeVerified, EnrollTotp, RecoveryCodes, TotpEnrolled, UserFactors, VerifyCode,
};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;

/// Enroll TOTP for a user: the seed is in the answer's URI and QR code, shown this once.
#[utoipa::path(post, path = "/v1/users/{username}/totp", tag = "factors",
    params(("username" = String, Path)), request_body = EnrollTotp, security(("api_key" = [])),
    responses((status = 201, body = TotpEnrolled), (status = "4XX", body = Problem)))]
pub(crate) async fn enroll_totp(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    Path(username): Path<String>,
    ApiJson(request): ApiJson<EnrollTotp>,
) -> Result<(StatusCode, Json<TotpEnrolled>), ApiError> {
    let enrolled = state
        .assent
        .enroll_totp(&Principal::App(app), &username, &request)
        .await?;
    Ok((StatusCode::CREATED, Json(enrolled)))
}

/// Check a TOTP code: one step of clock drift either way, each code once, attempts limited
/// per user (`invalid_code`, `code_reused`, `rate_limited`).
#[utoipa::path(post, path = "/v1/verify/totp", tag = "factors", request_body = VerifyCode,
    security(("api_key" = [])),
    responses((status = 200, body = CodeVerified), (status = "4XX", body = Problem)))]
pub(crate) async fn verify_totp(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJson(request): ApiJson<VerifyCode>,
) -> Result<Json<CodeVerified>, ApiError> {
    Ok(Json(
        state
            .assent
            .verify_totp(&Principal::App(app), &request)
            .await?,
    ))
}

/// Check and consume a recovery code; the answer says how many are left.
#[utoipa::path(post, path = "/v1/verify/recovery-code", tag = "factors", request_body = VerifyCode,
    security(("api_key" = [])),
    responses((status = 200, body = CodeVerified), (status = "4XX", body = Problem)))]
pub(crate) async fn verify_recovery_code(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJson(request): ApiJson<VerifyCode>,
) -> Result<Json<CodeVerified>, ApiError> {
    Ok(Json(
        state
            .assent
            .verify_recovery_code(&Principal::App(app), &request)
            .await?,
    ))
}

/// Generate a user's first set of recovery codes, shown once. Only for a user without a device
/// or codes: later sets come from the user's device or an admin, since a recovery code lets a
/// new device in.
#[utoipa::path(post, path = "/v1/users/{username}/recovery-codes", tag = "factors",
    params(("username" = String, Path)), security(("api_key" = [])),
    responses((status = 201, body = RecoveryCodes), (status = "4XX", body = Problem)))]
pub(crate) async fn recovery_codes(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    Path(username): Path<String>,
) -> Result<(StatusCode, Json<RecoveryCodes>), ApiError> {
    let codes = state
        .assent
        .recovery_codes_for(&Principal::App(app), &username)
        .await?;
    Ok((StatusCode::CREATED, Json(codes)))
}

/// What the user can use right now: push devices and whether push is suspended, TOTP,
/// recovery codes left. A login page reads it to offer the right way in.
#[utoipa::path(get, path = "/v1/users/{username}/factors", tag = "factors",
    params(("username" = String, Path)), security(("api_key" = [])),
    responses((status = 200, body = UserFactors), (status = "4XX", body = Problem)))]
pub(crate) async fn factors(
    State(state): State<AppState>,
    AppAuth(_app): AppAuth,
    Path(username): Path<String>,
) -> Result<Json<UserFactors>, ApiError> {
    Ok(Json(state.assent.user_factors(&username).await?))
}

/// Generate a new set of recovery codes for a user, as an admin (for example after a lost
/// phone, when the user has no device to do it from).
#[utoipa::path(post, path = "/v1/admin/users/{username}/recovery-codes", tag = "admin",
    params(("username" = String, Path)), security(("api_key" = [])),
    responses((status = 201, body = RecoveryCodes), (status = "4XX", body = Problem)))]
pub(crate) async fn admin_recovery_codes(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(username): Path<String>,
) -> Result<(StatusCode, Json<RecoveryCodes>), ApiError> {
    let codes = state.assent.recovery_codes_for(&admin, &username).await?;
    Ok((StatusCode::CREATED, Json(codes)))
}

/// A user's factors, for an admin.
#[utoipa::path(get, path = "/v1/admin/users/{username}/factors", tag = "admin",
    params(("username" = String, Path)), security(("api_key" = [])),
    responses((status = 200, body = UserFactors), (status = "4XX", body = Problem)))]
pub(crate) async fn admin_factors(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    Path(username): Path<String>,
) -> Result<Json<UserFactors>, ApiError> {
    Ok(Json(state.assent.user_factors(&username).await?))
}

/// Remove a user's TOTP factor (a lost authenticator app), so a new one can be enrolled.
#[utoipa::path(delete, path = "/v1/admin/users/{username}/totp", tag = "admin",
    params(("username" = String, Path)), security(("api_key" = [])),
    responses((status = 204, description = "removed"), (status = "4XX", body = Problem)))]
pub(crate) async fn remove_totp(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    Path(username): Path<String>,
) -> Result<StatusCode, ApiError> {
    state.assent.remove_totp(&admin, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

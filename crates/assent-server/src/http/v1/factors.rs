//! Fallback factors for relying parties and admins: TOTP enrollment and checks, recovery
//! codes, and what a user can use right now.

use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiJson, ApiPath, AppAuth};
use crate::http::AppState;
use assent_core::Principal;
use assent_core::clock::rfc3339;
use assent_core::factors::{FactorSummary, TotpChoice};
use assent_proto::api::{
    CodeVerified, EnrollTotp, FactorDevice, PushFactor, RecoveryCodes, RecoveryFactor,
    TotpEnrolled, TotpFactor, UserFactors, VerifyCode,
};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// Enroll TOTP for a user: the seed is in the answer's URI and QR code, shown this once.
#[utoipa::path(post, path = "/v1/users/{username}/totp", tag = "factors",
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@+-]{1,64}$", description = "1 to 64 letters, digits and . _ - @ +")), request_body = EnrollTotp, security(("api_key" = [])),
    responses((status = 201, body = TotpEnrolled), (status = "4XX", body = Problem)))]
pub(crate) async fn enroll_totp(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(username): ApiPath<String>,
    ApiJson(request): ApiJson<EnrollTotp>,
) -> Result<(StatusCode, Json<TotpEnrolled>), ApiError> {
    let choice = TotpChoice {
        algorithm: request.algorithm,
        digits: request.digits,
        period: request.period,
    };
    let enrolled = state
        .assent
        .enroll_totp(&Principal::App(app), &username, &choice)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(TotpEnrolled {
            otpauth_uri: enrolled.otpauth_uri,
            qr_svg: enrolled.qr_svg,
            algorithm: enrolled.algorithm,
            digits: enrolled.digits,
            period: enrolled.period,
        }),
    ))
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
    state
        .assent
        .verify_totp(&Principal::App(app), &request.user, &request.code)
        .await?;
    Ok(Json(CodeVerified {
        valid: true,
        remaining: None,
    }))
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
    let remaining = state
        .assent
        .verify_recovery_code(&Principal::App(app), &request.user, &request.code)
        .await?;
    Ok(Json(CodeVerified {
        valid: true,
        remaining: Some(remaining),
    }))
}

/// Generate a user's first set of recovery codes, shown once. Only for a user without a device
/// or codes: later sets come from the user's device or an admin, since a recovery code lets a
/// new device in.
#[utoipa::path(post, path = "/v1/users/{username}/recovery-codes", tag = "factors",
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@+-]{1,64}$", description = "1 to 64 letters, digits and . _ - @ +")), security(("api_key" = [])),
    responses((status = 201, body = RecoveryCodes), (status = "4XX", body = Problem)))]
pub(crate) async fn recovery_codes(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(username): ApiPath<String>,
) -> Result<(StatusCode, Json<RecoveryCodes>), ApiError> {
    let codes = state
        .assent
        .recovery_codes_for(&Principal::App(app), &username)
        .await?;
    Ok((StatusCode::CREATED, Json(RecoveryCodes { codes })))
}

/// What the user can use right now: push devices and whether push is suspended, TOTP,
/// recovery codes left. A login page reads it to offer the right way in.
#[utoipa::path(get, path = "/v1/users/{username}/factors", tag = "factors",
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@+-]{1,64}$", description = "1 to 64 letters, digits and . _ - @ +")), security(("api_key" = [])),
    responses((status = 200, body = UserFactors), (status = "4XX", body = Problem)))]
pub(crate) async fn factors(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<UserFactors>, ApiError> {
    Ok(Json(user_factors(
        state
            .assent
            .user_factors(&Principal::App(app), &username)
            .await?,
    )))
}

/// Generate a new set of recovery codes for a user, as an admin (for example after a lost
/// phone, when the user has no device to do it from).
#[utoipa::path(post, path = "/v1/admin/users/{username}/recovery-codes", tag = "admin",
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@+-]{1,64}$", description = "1 to 64 letters, digits and . _ - @ +")), security(("api_key" = [])),
    responses((status = 201, body = RecoveryCodes), (status = "4XX", body = Problem)))]
pub(crate) async fn admin_recovery_codes(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(username): ApiPath<String>,
) -> Result<(StatusCode, Json<RecoveryCodes>), ApiError> {
    let codes = state.assent.recovery_codes_for(&admin, &username).await?;
    Ok((StatusCode::CREATED, Json(RecoveryCodes { codes })))
}

/// A user's factors, for an admin.
#[utoipa::path(get, path = "/v1/admin/users/{username}/factors", tag = "admin",
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@+-]{1,64}$", description = "1 to 64 letters, digits and . _ - @ +")), security(("api_key" = [])),
    responses((status = 200, body = UserFactors), (status = "4XX", body = Problem)))]
pub(crate) async fn admin_factors(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(username): ApiPath<String>,
) -> Result<Json<UserFactors>, ApiError> {
    Ok(Json(user_factors(
        state.assent.user_factors(&admin, &username).await?,
    )))
}

/// Remove a user's TOTP factor (a lost authenticator app), so a new one can be enrolled.
#[utoipa::path(delete, path = "/v1/admin/users/{username}/totp", tag = "admin",
    params(("username" = String, Path, pattern = r"^[A-Za-z0-9._@+-]{1,64}$", description = "1 to 64 letters, digits and . _ - @ +")), security(("api_key" = [])),
    responses((status = 204, description = "removed"), (status = "4XX", body = Problem)))]
pub(crate) async fn remove_totp(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(username): ApiPath<String>,
) -> Result<StatusCode, ApiError> {
    state.assent.remove_totp(&admin, &username).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The v1 body of a user's factors.
fn user_factors(summary: FactorSummary) -> UserFactors {
    UserFactors {
        user: summary.user.username.to_string(),
        available: summary
            .available
            .iter()
            .map(|f| f.as_str().to_owned())
            .collect(),
        push: PushFactor {
            available: summary.push_available,
            devices: summary
                .devices
                .into_iter()
                .map(|d| FactorDevice {
                    id: d.id.to_string(),
                    name: d.name,
                    platform: d.platform,
                    state: d.state,
                    last_seen_at: d.last_seen_at.map(rfc3339),
                })
                .collect(),
            suspended: summary.suspended_until.is_some(),
            suspended_until: summary.suspended_until.map(rfc3339),
        },
        totp: TotpFactor {
            enrolled: summary.totp_enrolled,
            locked_until: summary.totp_locked_until.map(rfc3339),
        },
        recovery_codes: RecoveryFactor {
            remaining: summary.recovery_codes_left,
            locked_until: summary.recovery_locked_until.map(rfc3339),
        },
    }
}

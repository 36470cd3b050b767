//! Passkeys at a relying party's origin: an admin sets an application's WebAuthn identity; the
//! application runs registration and authentication ceremonies for its users.

use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiJson, ApiPath, AppAuth};
use crate::http::AppState;
use assent_proto::api::{
    FinishPasskeyCeremony, PasskeyCeremony, PasskeyRegistered, PasskeyVerified, RpWebauthnInfo,
    SetRpWebauthn, StartPasskeyCeremony,
};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

/// Set an application's WebAuthn identity: the relying-party id its passkeys are bound to, the
/// name shown, and the origin its pages are served from (assertions from any other origin are
/// refused).
#[utoipa::path(put, path = "/v1/admin/apps/{id}/webauthn", tag = "admin",
    params(("id" = String, Path, format = Uuid, description = "the application's id")),
    request_body = SetRpWebauthn, security(("api_key" = [])),
    responses((status = 200, body = RpWebauthnInfo), (status = "4XX", body = Problem)))]
pub(crate) async fn set_webauthn(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiPath(app_id): ApiPath<String>,
    ApiJson(body): ApiJson<SetRpWebauthn>,
) -> Result<Json<RpWebauthnInfo>, ApiError> {
    let config = state
        .assent
        .set_app_webauthn(&admin, &app_id, &body.rp_id, &body.rp_name, &body.origin)
        .await?;
    Ok(Json(RpWebauthnInfo {
        app_id: config.app_id.to_string(),
        rp_id: config.rp_id,
        rp_name: config.rp_name,
        origin: config.origin,
    }))
}

/// Start registering a passkey for a user at the application's origin.
#[utoipa::path(post, path = "/v1/passkeys/registrations", tag = "relying party",
    request_body = StartPasskeyCeremony, security(("api_key" = [])),
    responses((status = 201, body = PasskeyCeremony), (status = "4XX", body = Problem)))]
pub(crate) async fn start_registration(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJson(body): ApiJson<StartPasskeyCeremony>,
) -> Result<(StatusCode, Json<PasskeyCeremony>), ApiError> {
    let (ceremony_id, options) = state
        .assent
        .start_rp_passkey_registration(&app, &body.user)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PasskeyCeremony {
            ceremony_id,
            options,
        }),
    ))
}

/// Finish a registration with the browser's new credential.
#[utoipa::path(post, path = "/v1/passkeys/registrations/{ceremony_id}", tag = "relying party",
    params(("ceremony_id" = String, Path)), request_body = FinishPasskeyCeremony,
    security(("api_key" = [])),
    responses((status = 201, body = PasskeyRegistered), (status = "4XX", body = Problem)))]
pub(crate) async fn finish_registration(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(ceremony): ApiPath<String>,
    ApiJson(body): ApiJson<FinishPasskeyCeremony>,
) -> Result<(StatusCode, Json<PasskeyRegistered>), ApiError> {
    let passkey = state
        .assent
        .finish_rp_passkey_registration(&app, &ceremony, body.credential)
        .await?;
    let user = state
        .assent
        .username_for_id(&passkey.user_id)
        .await?
        .to_string();
    Ok((
        StatusCode::CREATED,
        Json(PasskeyRegistered {
            user,
            credential_id: passkey.id,
        }),
    ))
}

/// Start authenticating a user with one of their passkeys at the application's origin.
#[utoipa::path(post, path = "/v1/passkeys/authentications", tag = "relying party",
    request_body = StartPasskeyCeremony, security(("api_key" = [])),
    responses((status = 201, body = PasskeyCeremony), (status = "4XX", body = Problem)))]
pub(crate) async fn start_authentication(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiJson(body): ApiJson<StartPasskeyCeremony>,
) -> Result<(StatusCode, Json<PasskeyCeremony>), ApiError> {
    let (ceremony_id, options) = state
        .assent
        .start_rp_passkey_authentication(&app, &body.user)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(PasskeyCeremony {
            ceremony_id,
            options,
        }),
    ))
}

/// Finish an authentication with the browser's assertion.
#[utoipa::path(post, path = "/v1/passkeys/authentications/{ceremony_id}", tag = "relying party",
    params(("ceremony_id" = String, Path)), request_body = FinishPasskeyCeremony,
    security(("api_key" = [])),
    responses((status = 200, body = PasskeyVerified), (status = "4XX", body = Problem)))]
pub(crate) async fn finish_authentication(
    State(state): State<AppState>,
    AppAuth(app): AppAuth,
    ApiPath(ceremony): ApiPath<String>,
    ApiJson(body): ApiJson<FinishPasskeyCeremony>,
) -> Result<Json<PasskeyVerified>, ApiError> {
    let check = state
        .assent
        .finish_rp_passkey_authentication(&app, &ceremony, body.credential)
        .await?;
    Ok(Json(PasskeyVerified {
        user: check.user.to_string(),
        credential_id: check.credential_id,
        counter: check.counter,
        user_verified: check.user_verified,
        authentication_id: check.authentication_id,
        authentication_expires_at: check.proof_expires_at.unix_timestamp(),
    }))
}

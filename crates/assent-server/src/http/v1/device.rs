//! The device API: enroll, see requests with their full context, answer with a signed statement.

use super::render::{self, device_approval_of, device_view};
use super::sse;
use crate::error::ApiError;
use crate::extract::{ApiJson, ApiPath, DeviceAuth, DeviceAuthDeferred, PeerIp};
use crate::http::AppState;
use assent_core::AuthenticatedDevice;
use assent_core::clock::rfc3339;
use assent_core::outbox::pushes::PushAddress;
use assent_proto::ProblemCode;
use assent_proto::api::{
    ActivateDevice, AlertList, AlertView, DecisionAccepted, DeviceApproval, DeviceApprovalList,
    DeviceEnrolled, DeviceList, DeviceSelf, DeviceView, EnrollDevice, PushSubscriptionBody,
    PushTokenBody, RecoveryCodeCount, RecoveryCodes, RegisterPasskey, RenameDevice, SubmitDecision,
};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// Register a device with an enrollment proof.
#[utoipa::path(post, path = "/v1/device/enroll", tag = "device", request_body = EnrollDevice,
    responses((status = 201, body = DeviceEnrolled), (status = "4XX", body = Problem)))]
pub(crate) async fn enroll(
    State(state): State<AppState>,
    ApiJson(request): ApiJson<EnrollDevice>,
) -> Result<(StatusCode, Json<DeviceEnrolled>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(render::device_enrolled(
            state.assent.enroll_device(&request.proof).await?,
        )),
    ))
}

/// The pending requests of the device's user, with their full context.
#[utoipa::path(get, path = "/v1/device/approvals", tag = "device", security(("device_proof" = [])),
    responses((status = 200, body = DeviceApprovalList), (status = "4XX", body = Problem)))]
pub(crate) async fn list_pending(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> Result<Json<DeviceApprovalList>, ApiError> {
    let pending = state.assent.pending_for_device(&device).await?;
    let mut approvals = Vec::with_capacity(pending.len());
    for approval in pending {
        approvals.push(device_approval_of(&state.assent, approval).await?);
    }
    Ok(Json(DeviceApprovalList { approvals }))
}

/// One request with its full context.
#[utoipa::path(get, path = "/v1/device/approvals/{id}", tag = "device", params(("id" = String, Path)),
    security(("device_proof" = [])),
    responses((status = 200, body = DeviceApproval), (status = "4XX", body = Problem)))]
pub(crate) async fn get_approval(
    State(state): State<AppState>,
    DeviceAuthDeferred(device, proof): DeviceAuthDeferred,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeviceApproval>, ApiError> {
    let approval = state.assent.fetch_for_device(&device, proof, &id).await?;
    Ok(Json(device_approval_of(&state.assent, approval).await?))
}

/// Answer a request. The signed statement authenticates the answer; no device proof is needed.
#[utoipa::path(post, path = "/v1/device/approvals/{id}/decision", tag = "device", params(("id" = String, Path)),
    request_body = SubmitDecision,
    responses((status = 200, body = DecisionAccepted), (status = "4XX", body = Problem)))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    PeerIp(from): PeerIp,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<SubmitDecision>,
) -> Result<Json<DecisionAccepted>, ApiError> {
    let assertion = request.user_verification.as_ref();
    // Where the answer comes from is where the device is (for the far-from-requester detector).
    let answered = state
        .assent
        .decide_from(&id, &request.statement, assertion, from)
        .await?;
    Ok(Json(DecisionAccepted {
        id,
        state: answered.approval.state,
        decision: answered.decision,
        awaiting_approvals: answered.awaiting_approvals,
    }))
}

/// Server-sent events for an online device: `approval` when a request arrives, `resolved` when
/// one ends, `revoked` (then the stream ends) when the device is revoked.
#[utoipa::path(get, path = "/v1/device/stream", tag = "device", security(("device_proof" = [])),
    responses((status = 200, content_type = "text/event-stream", description = "approval / resolved / revoked events"),
        (status = "4XX", body = Problem)))]
pub(crate) async fn stream(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> impl IntoResponse {
    sse::device_stream(state, device)
}

async fn username(state: &AppState, device: &AuthenticatedDevice) -> Result<String, ApiError> {
    let store = state.assent.store();
    let user = store
        .user(&device.device().user_id)
        .await
        .map_err(assent_core::CoreError::from)?;
    Ok(user.map(|u| u.username.to_string()).unwrap_or_default())
}

/// Who this device is.
#[utoipa::path(get, path = "/v1/device/me", tag = "device", security(("device_proof" = [])),
    responses((status = 200, body = DeviceSelf), (status = "4XX", body = Problem)))]
pub(crate) async fn me(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> Result<Json<DeviceSelf>, ApiError> {
    let d = device.device();
    Ok(Json(DeviceSelf {
        device_id: d.id.to_string(),
        user: username(&state, &device).await?,
        name: d.name.clone(),
        platform: d.platform.clone(),
        has_passkey: state.assent.has_passkey(&device).await?,
        state: d.state,
    }))
}

/// Approve or deny a device of the same user that waits for activation. Approving needs the
/// code shown on the new device; a wrong code removes it, like a denial.
#[utoipa::path(post, path = "/v1/device/devices/{id}/activation", tag = "device",
    params(("id" = String, Path)), request_body = ActivateDevice, security(("device_proof" = [])),
    responses((status = 200, body = DeviceView, description = "activated"),
        (status = 204, description = "denied: the device was removed"),
        (status = "4XX", body = Problem)))]
pub(crate) async fn activate_device(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<ActivateDevice>,
) -> Result<axum::response::Response, ApiError> {
    let user = username(&state, &device).await?;
    Ok(
        match state
            .assent
            .decide_activation(&device, &id, request.decision, request.code.as_deref())
            .await?
        {
            Some(activated) => Json(device_view(&activated, &user)).into_response(),
            None => StatusCode::NO_CONTENT.into_response(),
        },
    )
}

/// How many unused recovery codes the user has.
#[utoipa::path(get, path = "/v1/device/recovery-codes", tag = "device", security(("device_proof" = [])),
    responses((status = 200, body = RecoveryCodeCount), (status = "4XX", body = Problem)))]
pub(crate) async fn recovery_count(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> Result<Json<RecoveryCodeCount>, ApiError> {
    Ok(Json(RecoveryCodeCount {
        remaining: state.assent.device_recovery_count(&device).await?,
    }))
}

/// Generate a new set of recovery codes for the user, shown once; earlier codes stop working.
#[utoipa::path(post, path = "/v1/device/recovery-codes", tag = "device", security(("device_proof" = [])),
    responses((status = 201, body = RecoveryCodes), (status = "4XX", body = Problem)))]
pub(crate) async fn regenerate_recovery_codes(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> Result<(StatusCode, Json<RecoveryCodes>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(RecoveryCodes {
            codes: state.assent.device_recovery_codes(&device).await?,
        }),
    ))
}

/// The devices of this device's user.
#[utoipa::path(get, path = "/v1/device/devices", tag = "device", security(("device_proof" = [])),
    responses((status = 200, body = DeviceList), (status = "4XX", body = Problem)))]
pub(crate) async fn devices(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> Result<Json<DeviceList>, ApiError> {
    let user = username(&state, &device).await?;
    let devices = state.assent.user_devices(&device).await?;
    Ok(Json(DeviceList {
        devices: devices.iter().map(|d| device_view(d, &user)).collect(),
    }))
}

/// Rename one of the user's devices.
#[utoipa::path(post, path = "/v1/device/devices/{id}/rename", tag = "device",
    params(("id" = String, Path)), request_body = RenameDevice, security(("device_proof" = [])),
    responses((status = 200, body = DeviceView), (status = "4XX", body = Problem)))]
pub(crate) async fn rename_device(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<RenameDevice>,
) -> Result<Json<DeviceView>, ApiError> {
    let renamed = state
        .assent
        .rename_device(&device, &id, &request.name)
        .await?;
    Ok(Json(device_view(
        &renamed,
        &username(&state, &device).await?,
    )))
}

/// Revoke one of the user's devices, for example a lost phone, from another device.
#[utoipa::path(post, path = "/v1/device/devices/{id}/revoke", tag = "device",
    params(("id" = String, Path)), security(("device_proof" = [])),
    responses((status = 200, body = DeviceView), (status = "4XX", body = Problem)))]
pub(crate) async fn revoke_device(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<DeviceView>, ApiError> {
    let user = username(&state, &device).await?;
    let revoked = state.assent.revoke_sibling(&device, &id).await?;
    Ok(Json(device_view(&revoked, &user)))
}

/// Register the passkey this device uses for user verification.
#[utoipa::path(post, path = "/v1/device/passkey", tag = "device", request_body = RegisterPasskey,
    security(("device_proof" = [])),
    responses((status = 204, description = "registered"), (status = "4XX", body = Problem)))]
pub(crate) async fn register_passkey(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiJson(request): ApiJson<RegisterPasskey>,
) -> Result<StatusCode, ApiError> {
    state
        .assent
        .register_passkey(&device, &request.credential_id, &request.public_key)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The user's recent alerts, newest first.
#[utoipa::path(get, path = "/v1/device/alerts", tag = "device", security(("device_proof" = [])),
    responses((status = 200, body = AlertList), (status = "4XX", body = Problem)))]
pub(crate) async fn alerts(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> Result<Json<AlertList>, ApiError> {
    let alerts = state.assent.alerts(&device).await?;
    let alerts = alerts
        .into_iter()
        .map(|a| AlertView {
            id: a.id.to_string(),
            kind: a.kind,
            message: a.message,
            created_at: rfc3339(a.created_at),
            device_id: a.device_id.map(|d| d.to_string()),
        })
        .collect();
    Ok(Json(AlertList { alerts }))
}

/// Store this device's Web Push subscription.
#[utoipa::path(post, path = "/v1/device/push-subscription", tag = "device",
    request_body = PushSubscriptionBody, security(("device_proof" = [])),
    responses((status = 204, description = "stored"), (status = "4XX", body = Problem)))]
pub(crate) async fn push_subscription(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiJson(request): ApiJson<PushSubscriptionBody>,
) -> Result<StatusCode, ApiError> {
    let address = PushAddress::WebPush {
        endpoint: request.endpoint,
        p256dh: request.keys.p256dh,
        auth: request.keys.auth,
    };
    state.assent.register_push_target(&device, address).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Store this device's native push token (an iOS app's APNs token, an Android app's FCM
/// token); it replaces any earlier target of the device.
#[utoipa::path(post, path = "/v1/device/push-token", tag = "device",
    request_body = PushTokenBody, security(("device_proof" = [])),
    responses((status = 204, description = "stored"), (status = "4XX", body = Problem)))]
pub(crate) async fn push_token(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiJson(request): ApiJson<PushTokenBody>,
) -> Result<StatusCode, ApiError> {
    let address = match request.channel.as_str() {
        "apns" => PushAddress::Apns {
            token: request.token,
        },
        "fcm" => PushAddress::Fcm {
            token: request.token,
        },
        _ => {
            return Err(ApiError::new(
                ProblemCode::InvalidRequest,
                "channel is apns or fcm (a Web Push subscription goes to /v1/device/push-subscription)",
            ));
        }
    };
    state.assent.register_push_target(&device, address).await?;
    Ok(StatusCode::NO_CONTENT)
}

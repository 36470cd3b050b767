//! The device API: enroll, see requests with their full context, answer with a signed statement.

use super::AppState;
use super::sse;
use crate::error::ApiError;
use crate::extract::{ApiJson, DeviceAuth};
use assent_proto::api::{
    DecisionAccepted, DeviceApproval, DeviceApprovalList, DeviceEnrolled, EnrollDevice,
    SubmitDecision,
};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::{Path, State};
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
        Json(state.assent.enroll_device(&request.proof).await?),
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
    for approval in &pending {
        approvals.push(state.assent.device_view(approval).await?);
    }
    Ok(Json(DeviceApprovalList { approvals }))
}

/// One request with its full context.
#[utoipa::path(get, path = "/v1/device/approvals/{id}", tag = "device", params(("id" = String, Path)),
    security(("device_proof" = [])),
    responses((status = 200, body = DeviceApproval), (status = "4XX", body = Problem)))]
pub(crate) async fn get_approval(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    Path(id): Path<String>,
) -> Result<Json<DeviceApproval>, ApiError> {
    let approval = state.assent.approval_for_device(&device, &id).await?;
    Ok(Json(state.assent.device_view(&approval).await?))
}

/// Answer a request. The signed statement authenticates the answer; no device proof is needed.
#[utoipa::path(post, path = "/v1/device/approvals/{id}/decision", tag = "device", params(("id" = String, Path)),
    request_body = SubmitDecision,
    responses((status = 200, body = DecisionAccepted), (status = "4XX", body = Problem)))]
pub(crate) async fn decide(
    State(state): State<AppState>,
    Path(id): Path<String>,
    ApiJson(request): ApiJson<SubmitDecision>,
) -> Result<Json<DecisionAccepted>, ApiError> {
    Ok(Json(state.assent.decide(&id, &request.statement).await?))
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

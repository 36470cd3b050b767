//! The account's recent activity, for the user's authenticators, and the report of an approval
//! the user did not make.

use super::render::device_view;
use crate::error::ApiError;
use crate::extract::{ApiPath, DeviceAuth};
use crate::http::AppState;
use assent_core::clock::rfc3339;
use assent_proto::api::{ActivityReported, ActivityRequestView, ApplicationRef, DeviceActivity};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;

/// The account's requests that ended (newest first, at most 50) and its devices.
#[utoipa::path(get, path = "/v1/device/activity", tag = "device", security(("device_proof" = [])),
    responses((status = 200, body = DeviceActivity), (status = "4XX", body = Problem)))]
pub(crate) async fn activity(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> Result<Json<DeviceActivity>, ApiError> {
    let requests = state.assent.activity(&device).await?;
    let user = state
        .assent
        .store()
        .user(&device.device().user_id)
        .await
        .map_err(assent_core::CoreError::from)?
        .map(|u| u.username.to_string())
        .unwrap_or_default();
    let devices = state.assent.user_devices(&device).await?;
    Ok(Json(DeviceActivity {
        requests: requests
            .into_iter()
            .map(|r| {
                let a = r.approval;
                ActivityRequestView {
                    id: a.id.to_string(),
                    state: a.state,
                    reason: a.reason.map(|r| r.as_str().to_owned()),
                    kind: a.kind,
                    application: ApplicationRef {
                        id: a.app_id.to_string(),
                        name: r.app_name,
                    },
                    binding_message: a.binding_message,
                    authorization_details: a.authorization_details,
                    context: a.context,
                    created_at: rfc3339(a.created_at),
                    decided_at: a.decided_at.map(rfc3339),
                    answered_by: r.answered_by,
                }
            })
            .collect(),
        devices: devices.iter().map(|d| device_view(d, &user)).collect(),
    }))
}

/// Report an approval of the activity as not the user's: push is suspended for the account,
/// the network it came from is reported, and the admins are alerted.
#[utoipa::path(post, path = "/v1/device/activity/{id}/report", tag = "device",
    params(("id" = String, Path)), security(("device_proof" = [])),
    responses((status = 200, body = ActivityReported), (status = "4XX", body = Problem)))]
pub(crate) async fn report(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<ActivityReported>, ApiError> {
    let suspension = state.assent.report_activity(&device, &id).await?;
    Ok(Json(ActivityReported {
        push_suspended_until: rfc3339(suspension.until),
    }))
}

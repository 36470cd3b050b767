//! Incident broadcasts: the admin sends one and reads who acknowledged it; the recipient's
//! device lists its user's broadcasts and acknowledges one with a signed statement.

use crate::error::ApiError;
use crate::extract::{AdminAuth, ApiJson, ApiPath, DeviceAuth};
use crate::http::AppState;
use assent_core::broadcasts::device::UserBroadcast;
use assent_core::broadcasts::records::{Audience, BroadcastSummary};
use assent_core::clock::rfc3339;
use assent_proto::api::{
    AcknowledgeBroadcast, BroadcastAcknowledged, BroadcastCreated, BroadcastDetail, BroadcastInfo,
    BroadcastList, BroadcastRecipientInfo, CreateBroadcast, DeviceBroadcast, DeviceBroadcastList,
};
use assent_proto::problem::Problem;
use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;

fn info(summary: BroadcastSummary) -> BroadcastInfo {
    let b = summary.broadcast;
    BroadcastInfo {
        id: b.id.to_string(),
        message: b.message,
        group: match b.audience {
            Audience::Everyone => None,
            Audience::Group(name) => Some(name),
        },
        created_by: b.created_by,
        created_at: rfc3339(b.created_at),
        reminder_interval_seconds: u32::try_from(b.reminder_interval.whole_seconds())
            .unwrap_or(u32::MAX),
        recipients: summary.recipients,
        acknowledged: summary.acknowledged,
    }
}

fn device_broadcast(b: UserBroadcast, user: &str) -> DeviceBroadcast {
    DeviceBroadcast {
        message_hash: b.message_hash(),
        id: b.broadcast.id.to_string(),
        message: b.broadcast.message,
        user: user.to_owned(),
        created_at: rfc3339(b.broadcast.created_at),
        acknowledged_at: b.recipient.acknowledgement.map(|a| rfc3339(a.at)),
    }
}

/// Send a message to every user, or to the members of a group (as it is now), that each must
/// acknowledge on a device; those who have not are reminded every reminder interval.
#[utoipa::path(post, path = "/v1/admin/broadcasts", tag = "admin", request_body = CreateBroadcast,
    security(("api_key" = [])),
    responses((status = 201, body = BroadcastCreated), (status = "4XX", body = Problem)))]
pub(crate) async fn create_broadcast(
    State(state): State<AppState>,
    AdminAuth(admin): AdminAuth,
    ApiJson(request): ApiJson<CreateBroadcast>,
) -> Result<(StatusCode, Json<BroadcastCreated>), ApiError> {
    let audience = match (request.group, request.everyone) {
        (Some(group), false) => Audience::Group(group),
        (None, true) => Audience::Everyone,
        (Some(_), true) => {
            return Err(ApiError::new(
                assent_proto::ProblemCode::InvalidRequest,
                "send either to a group or to everyone, not both",
            ));
        }
        (None, false) => {
            return Err(ApiError::new(
                assent_proto::ProblemCode::InvalidRequest,
                "name the group, or send \"everyone\": true to send it to every user",
            ));
        }
    };
    let interval = request
        .reminder_interval_seconds
        .map(|s| time::Duration::seconds(i64::from(s)));
    let created = state
        .assent
        .create_broadcast(&admin.actor(), &request.message, audience, interval)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(BroadcastCreated {
            id: created.broadcast.id.to_string(),
            recipients: created.recipients,
        }),
    ))
}

/// The most recent broadcasts (at most 100), newest first, with how many acknowledged each.
#[utoipa::path(get, path = "/v1/admin/broadcasts", tag = "admin", security(("api_key" = [])),
    responses((status = 200, body = BroadcastList), (status = "4XX", body = Problem)))]
pub(crate) async fn list_broadcasts(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
) -> Result<Json<BroadcastList>, ApiError> {
    let broadcasts = state.assent.broadcasts().await?;
    Ok(Json(BroadcastList {
        broadcasts: broadcasts.into_iter().map(info).collect(),
    }))
}

/// One broadcast with each recipient: acknowledged or not, when, on which device (with the
/// device's signed statement), and how many reminders they were sent.
#[utoipa::path(get, path = "/v1/admin/broadcasts/{id}", tag = "admin",
    params(("id" = String, Path)), security(("api_key" = [])),
    responses((status = 200, body = BroadcastDetail), (status = "4XX", body = Problem)))]
pub(crate) async fn get_broadcast(
    State(state): State<AppState>,
    AdminAuth(_admin): AdminAuth,
    ApiPath(id): ApiPath<String>,
) -> Result<Json<BroadcastDetail>, ApiError> {
    let detail = state.assent.broadcast(&id).await?;
    Ok(Json(BroadcastDetail {
        broadcast: info(detail.summary),
        recipients: detail
            .recipients
            .into_iter()
            .map(|r| {
                let ack = r.recipient.acknowledgement;
                BroadcastRecipientInfo {
                    user: r.username.to_string(),
                    acknowledged: ack.is_some(),
                    acknowledged_at: ack.as_ref().map(|a| rfc3339(a.at)),
                    device_id: ack.as_ref().map(|a| a.device_id.to_string()),
                    device_name: r.device_name,
                    statement: ack.map(|a| a.statement),
                    reminders: r.recipient.reminders,
                }
            })
            .collect(),
    }))
}

/// The user's broadcasts: those waiting for an acknowledgement (oldest first) and the recently
/// acknowledged ones.
#[utoipa::path(get, path = "/v1/device/broadcasts", tag = "device", security(("device_proof" = [])),
    responses((status = 200, body = DeviceBroadcastList), (status = "4XX", body = Problem)))]
pub(crate) async fn device_broadcasts(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
) -> Result<Json<DeviceBroadcastList>, ApiError> {
    let list = state.assent.device_broadcasts(&device).await?;
    let user = list.username.as_str();
    Ok(Json(DeviceBroadcastList {
        pending: list
            .pending
            .into_iter()
            .map(|b| device_broadcast(b, user))
            .collect(),
        acknowledged: list
            .acknowledged
            .into_iter()
            .map(|b| device_broadcast(b, user))
            .collect(),
    }))
}

/// Acknowledge a broadcast with a statement signed by this device's key (once per user).
#[utoipa::path(post, path = "/v1/device/broadcasts/{id}/ack", tag = "device",
    params(("id" = String, Path)), request_body = AcknowledgeBroadcast,
    security(("device_proof" = [])),
    responses((status = 200, body = BroadcastAcknowledged), (status = "4XX", body = Problem)))]
pub(crate) async fn acknowledge(
    State(state): State<AppState>,
    DeviceAuth(device): DeviceAuth,
    ApiPath(id): ApiPath<String>,
    ApiJson(request): ApiJson<AcknowledgeBroadcast>,
) -> Result<Json<BroadcastAcknowledged>, ApiError> {
    let acknowledged = state
        .assent
        .acknowledge_broadcast(&device, &id, &request.statement)
        .await?;
    let at = acknowledged
        .recipient
        .acknowledgement
        .map(|a| rfc3339(a.at))
        .unwrap_or_default();
    Ok(Json(BroadcastAcknowledged {
        id: acknowledged.broadcast.id.to_string(),
        acknowledged_at: at,
    }))
}

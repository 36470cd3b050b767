//! Bodies of the device's side: a request as the device sees it, the answer it signs and the
//! server's acknowledgement, and enrollment.

use super::AccessProgress;
use crate::context::RequestContext;
use crate::statement::Decision;
use crate::states::{ApprovalKind, ApprovalState, DeviceState};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// The application that asks, as shown on the device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApplicationRef {
    pub id: String,
    pub name: String,
}

/// A request as the device sees it: everything the user needs to judge it, and what to sign.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceApproval {
    pub id: String,
    pub state: ApprovalState,
    pub application: ApplicationRef,
    pub kind: ApprovalKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_message: Option<String>,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub authorization_details: Vec<Value>,
    pub context: RequestContext,
    /// Server nonce the statement must carry.
    pub nonce: String,
    /// The digest the statement must carry; the device should recompute it from the fields above.
    pub details_hash: String,
    /// Whether approving needs the code shown on the relying party's screen.
    pub code_required: bool,
    /// Number of characters of that code, so the prompt can size its input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code_length: Option<u8>,
    /// Whether approving needs a passkey assertion with user verification, whose challenge is
    /// the SHA-256 of the signed statement.
    #[serde(default)]
    pub user_verification_required: bool,
    pub created_at: String,
    pub expires_at: String,
    /// For an approver's prompt of an access request: the request as it stands now, with who
    /// has approved so far. Shown, not signed (it changes as others answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_request: Option<AccessProgress>,
}

/// `GET /v1/device/approvals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceApprovalList {
    pub approvals: Vec<DeviceApproval>,
}

/// `POST /v1/device/approvals/{id}/decision`: the signed statement is the whole authentication.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SubmitDecision {
    /// Compact JWS (ES256) of a decision statement, `kid` = device id.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
    )]
    pub statement: String,
    /// The passkey assertion over the statement, when the request needs user verification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_verification: Option<crate::webauthn::Assertion>,
}

/// Answer to a decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DecisionAccepted {
    pub id: String,
    pub state: ApprovalState,
    pub decision: Decision,
    /// When the policy asked for a quorum (four eyes): the approval is held, and the request
    /// stays `pending` until this many co-approvers approve it too.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub awaiting_approvals: Option<u32>,
}

/// `POST /v1/device/enroll`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct EnrollDevice {
    /// Compact JWS (ES256) of an enrollment proof, with the device's public key in the `jwk`
    /// header member.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
    )]
    pub proof: String,
}

/// Answer to an enrollment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceEnrolled {
    pub device_id: String,
    pub user: String,
    /// Server-signed registration JWS; verify it with the key the link's fingerprint names.
    pub registration: String,
    /// `active`, or `pending_activation` when one of the user's active devices must approve
    /// this one first (trusted registration).
    pub state: DeviceState,
    /// While pending activation: the code to show on this device's screen, which the user types
    /// on the existing device that approves it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub activation_code: Option<String>,
}

/// One request of the account's recent activity, with its context.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityRequestView {
    pub id: String,
    pub state: ApprovalState,
    /// Why it ended that way (`denied_by_user`, `expired`, `allowed_by_policy`, …); absent for
    /// an approval by a device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub kind: ApprovalKind,
    pub application: ApplicationRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_message: Option<String>,
    pub authorization_details: Vec<Value>,
    pub context: RequestContext,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    /// The name of the device that answered, when one did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub answered_by: Option<String>,
}

/// `GET /v1/device/activity`: the account's requests that ended, newest first (at most 50),
/// and its devices (enrolled, revoked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceActivity {
    pub requests: Vec<ActivityRequestView>,
    pub devices: Vec<super::DeviceView>,
}

/// Answer to `POST /v1/device/activity/{id}/report`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ActivityReported {
    /// Push requests to the account are refused until then (RFC 3339).
    pub push_suspended_until: String,
}

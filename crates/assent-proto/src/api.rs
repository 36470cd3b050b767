//! Request and response bodies of the HTTP API. Timestamps are RFC 3339 strings on the wire;
//! signed payloads (in [`crate::statement`]) use Unix seconds as JOSE does.

use crate::jose::Jwk;
use serde::{Deserialize, Serialize};
use serde_json::Value;

mod access;
mod audit;
mod broadcasts;
mod ciba;
mod device;
mod duo;
mod factors;
mod groups;
mod keys;
mod passkeys;
#[cfg(feature = "openapi")]
mod schema_docs;
#[cfg(feature = "openapi")]
pub use schema_docs::AdminCreateEnrollment;
mod push;
mod whole;

pub use crate::context::{Geo, RequestContext};
pub use crate::states::{Activation, ApprovalKind, ApprovalState, DeviceState};
pub use access::{
    AccessApproverStatus, AccessApprovers, AccessGrantInfo, AccessProgress, AccessRequestCreated,
    AccessRequestList, AccessRequestStatus, BreakGlassCode, BreakGlassInfo, CreateAccessRequest,
    GrantIntrospection, IntrospectGrant, InvokeBreakGlass, PromptedApproverInfo, ReviewBreakGlass,
};
pub use audit::{AuditCheckpoint, AuditEventView, AuditPage};
pub use broadcasts::{
    AcknowledgeBroadcast, BroadcastAcknowledged, BroadcastCreated, BroadcastDetail, BroadcastInfo,
    BroadcastList, BroadcastRecipientInfo, CreateBroadcast, DeviceBroadcast, DeviceBroadcastList,
};
pub use ciba::{CibaClientCreated, CreateAgent, CreateCibaClient};
pub use device::{
    ActivityReported, ActivityRequestView, ApplicationRef, DecisionAccepted, DeviceActivity,
    DeviceApproval, DeviceApprovalList, DeviceEnrolled, EnrollDevice, SubmitDecision,
};
pub use duo::{CreateDuoIntegration, DuoIntegrationCreated};
pub use factors::{
    CodeVerified, EnrollTotp, FactorDevice, PushFactor, RecoveryCodeCount, RecoveryCodes,
    RecoveryFactor, TotpEnrolled, TotpFactor, UserFactors, VerifyCode,
};
pub use groups::{AppScope, AppScopeInfo, CreateGroup, GroupInfo, GroupList};
pub use keys::{ApiKeyView, AppKeysView, AppList, KeyRotated};
pub use passkeys::{
    FinishPasskeyCeremony, PasskeyCeremony, PasskeyRegistered, PasskeyVerified, RpWebauthnInfo,
    SetRpWebauthn, StartPasskeyCeremony,
};
pub use push::{PushKeys, PushSubscriptionBody, PushTokenBody, UserEmail, VapidPublicKey};

/// `POST /v1/approvals`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApproval {
    /// Username of the person whose approval is asked.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[A-Za-z0-9._@+-]{1,64}$", min_length = 1, max_length = 64)
    )]
    pub user: String,
    #[serde(default)]
    pub kind: ApprovalKind,
    /// A short sentence shown on the device, for example "Sign in to Acme": at most 500
    /// characters, none of them control characters but line breaks.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u0009\u000b-\u001f\u007f-\u009f]*$",
            max_length = 500
        )
    )]
    pub binding_message: Option<String>,
    /// RFC 9396 authorization details: objects with a `type` and any other members (amount,
    /// currency, recipient, resource, role...). They are shown on the device and signed, so
    /// each number must keep its value through the canonical form (finite, at most 2^53 - 1 in
    /// magnitude, no more digits than a double holds) and each member name appear once per
    /// object; amounts are best sent as strings. At most 16.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<schema_docs::AuthorizationDetail>, max_items = 16))]
    pub authorization_details: Vec<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<RequestContext>,
    /// Seconds until the request expires: 1 to the server's `approval.max_ttl_secs` (600 at
    /// most, and by default).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 600))]
    #[serde(deserialize_with = "whole::optional")]
    pub expires_in: Option<u32>,
    /// Require a passkey check with user verification (biometric or PIN) on the device to
    /// approve, for sensitive actions.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub user_verification: bool,
    /// The `authentication_id` of a passkey authentication of the same user at this
    /// application's own origin (`POST /v1/passkeys/authentications/{ceremony_id}`), finished
    /// within the last 5 minutes and used by no other request. Needed where the policy asks for
    /// the passkey (`relying_party_passkey`); a proof that is unknown, used, expired or another
    /// user's is refused (`passkey_refused`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[A-Za-z0-9_-]{1,64}$", min_length = 1, max_length = 64)
    )]
    pub passkey_authentication: Option<String>,
}

/// Answer to `POST /v1/approvals`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalCreated {
    pub id: String,
    pub state: ApprovalState,
    /// The code the relying party shows to the user, who types it on the device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_code: Option<String>,
    pub expires_at: String,
    /// Whether approving needs a passkey check on the device (policy or request).
    #[serde(default)]
    pub user_verification: bool,
    /// What the risk engine saw.
    #[serde(default)]
    pub risk: RiskView,
    /// The policy rule that decided what this request needs ("why was I asked?").
    #[serde(default)]
    pub policy_rule: String,
}

/// A request's risk: a score from 0 to 100 and the signals behind it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskView {
    pub score: u8,
    pub reasons: Vec<RiskReasonView>,
}

/// One signal of a risk assessment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RiskReasonView {
    /// `new_network`, `new_country`, `impossible_travel`, `new_rp_device`, `unusual_hour`,
    /// `deny_listed_ip`, `tor_exit`, `reported_network`, `recent_denials`, `recent_unanswered`,
    /// `recent_fraud`, `prompt_rate`.
    pub signal: String,
    pub points: u8,
    pub detail: String,
}

/// The device that answered, as the relying party sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AnsweringDevice {
    pub id: String,
    pub name: String,
}

/// `GET /v1/approvals/{id}`: the relying party's view of a request.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApprovalStatus {
    pub id: String,
    pub state: ApprovalState,
    pub kind: ApprovalKind,
    pub user: String,
    /// Why it ended: `wrong_code`, `denied_by_user`, `reported_as_fraud`,
    /// `cancelled_by_relying_party`, `superseded`, `expired` or `allowed_by_policy` (absent for
    /// a plain approval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub created_at: String,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device: Option<AnsweringDevice>,
    /// Server-signed JWS over the outcome, embedding the device's signed statement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub receipt: Option<String>,
    #[serde(default)]
    pub user_verification: bool,
    #[serde(default)]
    pub risk: RiskView,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_rule: Option<String>,
    /// When the policy asked for a quorum (four eyes): the device-signed approvals the request
    /// needs in all, the user's own first. Absent for one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approvals_required: Option<u32>,
    /// Once the user approved a request with a quorum: the co-approval (an access request,
    /// `GET /v1/access-requests/{id}`) that asks the co-approvers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co_approval: Option<String>,
    /// The pushes that announced the request to the user's devices, oldest first.
    #[serde(default)]
    pub deliveries: Vec<Delivery>,
}

/// One push of a request to one device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Delivery {
    pub device_id: String,
    /// `web_push`, `apns` or `fcm`.
    pub channel: String,
    /// `queued` (waiting, or waiting to be retried), `sent` (on its way), `accepted` (the push
    /// service took it), `failed` (given up) or `skipped` (the request ended before it was sent).
    pub state: String,
    /// Sends started so far.
    pub attempts: u32,
    /// When the state last changed.
    pub at: String,
    /// Why the last attempt failed or the push was skipped.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `POST /v1/admin/apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateApp {
    /// 1 to 100 characters, no control characters; surrounding spaces are dropped.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$",
            min_length = 1,
            max_length = 100
        )
    )]
    pub name: String,
}

/// Answer to creating an application: the API key is shown here once and stored hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppCreated {
    pub app_id: String,
    pub name: String,
    pub api_key: String,
}

/// An application.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppView {
    pub id: String,
    pub name: String,
    pub created_at: String,
}

/// `POST /v1/admin/users`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateUser {
    /// 1 to 64 letters, digits and `.`, `_`, `-`, `@`, `+`; compared case-insensitively.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[A-Za-z0-9._@+-]{1,64}$", min_length = 1, max_length = 64)
    )]
    pub username: String,
}

/// A user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserView {
    pub id: String,
    pub username: String,
    pub created_at: String,
}

/// A list of users.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UserList {
    pub users: Vec<UserView>,
}

/// `POST /v1/enrollments` (relying party) and `POST /v1/admin/enrollments`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateEnrollment {
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[A-Za-z0-9._@+-]{1,64}$", min_length = 1, max_length = 64)
    )]
    pub user: String,
    /// One of the user's recovery codes: proves the user, so the new device is active at once
    /// even when the user already has devices (relying parties only; the code is consumed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub recovery_code: Option<String>,
}

/// A one-time enrollment link; the code in it is shown here once and stored hashed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EnrollmentCreated {
    pub link: String,
    pub expires_at: String,
    /// `immediate`: the device is active once enrolled; `device_approval`: it is held as
    /// `pending_activation` until one of the user's active devices approves it.
    pub activation: Activation,
    /// The link as a QR code (SVG), for a phone to scan.
    pub qr_svg: String,
}

/// A device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceView {
    pub id: String,
    pub user: String,
    pub name: String,
    pub platform: String,
    pub state: DeviceState,
    pub jwk: Jwk,
    pub created_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// When the device last proved itself (a request signed by its key, or an answer).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen_at: Option<String>,
    /// How the device hears of new requests while the authenticator is closed: `web_push`,
    /// `apns` or `fcm` (a registered push target), or `stream` (none: it hears of them on its
    /// event stream or by polling while open).
    pub push_channel: String,
    /// Whether that push target works: `false` once its push service refused it for good
    /// (the user uninstalled the app or revoked the permission) until the device registers a
    /// target again; always `false` for `stream`.
    #[serde(default)]
    pub push_working: bool,
}

/// A list of devices.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceList {
    pub devices: Vec<DeviceView>,
}

/// Result of checking the audit chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditReport {
    pub intact: bool,
    /// Rows checked.
    pub rows: u64,
    /// Sequence number and hash of the last row; record them elsewhere to detect truncation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_hash: Option<String>,
    /// The first damaged row, when the chain is broken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_bad_seq: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
}

/// An event on a relying party's approval stream, or a device's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct StreamEvent {
    /// Approval id.
    pub id: String,
    pub state: ApprovalState,
}

/// `POST /v1/device/devices/{id}/rename`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RenameDevice {
    /// 1 to 64 characters, no control characters; surrounding spaces are dropped.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$",
            min_length = 1,
            max_length = 64
        )
    )]
    pub name: String,
}

/// `POST /v1/device/passkey`: the device registers the passkey it will use for user verification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct RegisterPasskey {
    /// WebAuthn credential id, base64url.
    pub credential_id: String,
    /// The credential's public key as a DER SubjectPublicKeyInfo (P-256), base64url: what
    /// `AuthenticatorAttestationResponse.getPublicKey()` returns.
    pub public_key: String,
}

/// An informational alert.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertView {
    pub id: String,
    pub kind: String,
    pub message: String,
    pub created_at: String,
    /// The device the alert is about: for `device_enrolled`, "this wasn't me" revokes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<String>,
}

/// `GET /v1/device/alerts`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AlertList {
    pub alerts: Vec<AlertView>,
}

/// `POST /v1/admin/apps/{id}/webhook`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetWebhook {
    /// An `http://` or `https://` URL of at most 2,048 characters.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^https?://", max_length = 2048)
    )]
    pub url: String,
    /// `approval.final` (outcomes of this application's requests), `alert` (security alerts of
    /// every user: meant for the organisation's notification service), `access_request.final`
    /// and `access_grant.revoked` (this application's access requests).
    #[serde(default = "default_webhook_events")]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<schema_docs::WebhookEvent>, min_items = 1))]
    pub events: Vec<String>,
}

fn default_webhook_events() -> Vec<String> {
    vec!["approval.final".into(), "alert".into()]
}

/// A webhook just configured: its Standard Webhooks secret is shown here once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookCreated {
    pub url: String,
    pub events: Vec<String>,
    /// `whsec_<base64>`; stored sealed with the data key.
    pub secret: String,
}

/// How an application's webhook deliveries are doing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct WebhookStatus {
    pub url: String,
    pub events: Vec<String>,
    /// The last audit row handled.
    pub cursor: u64,
    /// Events given up on after every retry.
    pub failed: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_error: Option<String>,
}

/// `POST /v1/events`: an account event the relying party reports, alerted to the user.
/// Its OpenAPI schema is written by hand (`schema_docs.rs`): a `custom` event needs a message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportEvent {
    pub user: String,
    /// `password_changed`, `email_changed`, `mfa_reset`, or `custom` (with a message).
    #[serde(rename = "type")]
    pub type_: String,
    /// At most 300 characters, no control characters; surrounding spaces are dropped, and a
    /// `custom` event needs one that is not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `POST /v1/device/devices/{id}/activation`: an active device's verdict on a device of the
/// same user that waits for activation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ActivateDevice {
    /// `approve`, `deny`, or `fraud` ("this wasn't me": a denial that is also reported).
    pub decision: crate::statement::Decision,
    /// The activation code shown on the new device's screen; needed to approve. A wrong code
    /// counts as a denial: the new device is removed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
}

/// `GET /v1/device/me`: the device's own identity and state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeviceSelf {
    pub device_id: String,
    pub user: String,
    pub name: String,
    pub platform: String,
    /// Whether a passkey is registered, so requests needing user verification can be approved.
    pub has_passkey: bool,
    /// `pending_activation` until another of the user's devices approves this one.
    pub state: DeviceState,
}

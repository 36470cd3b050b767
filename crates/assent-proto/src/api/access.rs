//! Bodies of access requests: a privilege asked for with a justification, decided by a quorum
//! of approvers, and the grant issued when the quorum is reached.

use super::whole;
use crate::context::RequestContext;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Who may approve: users by name and the members of groups (the requester never counts).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AccessApprovers {
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<super::schema_docs::UsernameText>, max_items = 50))]
    pub users: Vec<String>,
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<super::schema_docs::GroupName>, max_items = 32))]
    pub groups: Vec<String>,
}

/// `POST /v1/access-requests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAccessRequest {
    /// Username of the person asking for the privilege.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[A-Za-z0-9._@+-]{1,64}$", min_length = 1, max_length = 64)
    )]
    pub requester: String,
    /// The privilege, as RFC 9396 authorization details (role, resource, ...): 1 to 15
    /// objects, shown to every approver and signed by each, under the same rules as a
    /// request's details.
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<super::schema_docs::AuthorizationDetail>, min_items = 1, max_items = 15))]
    pub authorization_details: Vec<Value>,
    /// Why: 1 to 400 printable characters, shown to every approver.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
            min_length = 1,
            max_length = 400
        )
    )]
    pub justification: String,
    pub approvers: AccessApprovers,
    /// M: approvals that grant it (at most 10: the grant carries each one's receipt).
    #[serde(deserialize_with = "whole::required")]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 10))]
    pub approvals_required: u32,
    /// K: denials that reject it (1 by default).
    #[serde(
        default,
        deserialize_with = "whole::optional",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 50))]
    pub denials_required: Option<u32>,
    /// How long the grant lasts once issued: 60 s to 7 days (3600 by default).
    #[serde(
        default,
        deserialize_with = "whole::optional",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 60, maximum = 604800))]
    pub grant_seconds: Option<u32>,
    /// Seconds the approvers have to answer, as a request's `expires_in`.
    #[serde(
        default,
        deserialize_with = "whole::optional",
        skip_serializing_if = "Option::is_none"
    )]
    #[cfg_attr(feature = "openapi", schema(minimum = 1, maximum = 600))]
    pub expires_in: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context: Option<RequestContext>,
    /// The `authentication_id` of a passkey authentication of the requester at this
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

/// An approver as the application learns it at creation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PromptedApproverInfo {
    pub user: String,
    /// Their prompt (an approval request of kind `access`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// The code to show this approver where they review the request; they type it on their
    /// device (number matching). Given once, here.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_code: Option<String>,
    /// Why no prompt reached them (a problem code: `no_active_device`, `push_suspended`...).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<String>,
}

/// An approver and where their prompt stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessApproverStatus {
    pub user: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub approval_id: Option<String>,
    /// Their prompt's state (`pending`, `approved`, `denied`, `fraud`, `expired`, `cancelled`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unreachable: Option<String>,
}

/// The grant of a request whose quorum was reached.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessGrantInfo {
    /// The token's `jti`.
    pub id: String,
    /// ES256 JWT (`typ` `assent-grant+jwt`), verifiable against `/.well-known/jwks.json`.
    /// Given to the application and admins; never to an approver's device.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<String>,
    pub not_before: String,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
    /// `admin:KEY_ID`, or `user:USER_ID` for an approver.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_by: Option<String>,
}

/// An access request as it stands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessRequestStatus {
    pub id: String,
    /// `pending`, `granted`, `rejected`, `expired` or `cancelled`.
    pub state: String,
    /// `quorum_reached`, `denied`, `quorum_unreachable`, `expired` or `cancelled_by_requester`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    pub requester: String,
    #[cfg_attr(feature = "openapi", schema(value_type = Vec<Object>))]
    pub authorization_details: Vec<Value>,
    pub justification: String,
    pub approvals_required: u32,
    pub denials_required: u32,
    pub grant_seconds: u32,
    pub approvers: Vec<AccessApproverStatus>,
    /// Usernames, in the order stored.
    pub approved_by: Vec<String>,
    pub denied_by: Vec<String>,
    pub created_at: String,
    pub expires_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decided_at: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub grant: Option<AccessGrantInfo>,
    /// Set when the grant came from break-glass.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<BreakGlassInfo>,
    /// The policy rule that decided its approvers and quorum.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_rule: Option<String>,
    /// For a co-approval (a request whose policy asked for a quorum, approved by its user and
    /// held for the co-approvers): the id of that request.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co_approval_of: Option<String>,
}

/// A break-glass grant's reason and review.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BreakGlassInfo {
    pub reason: String,
    /// `unreviewed` until an admin records a review, then `reviewed`.
    pub review: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_at: Option<String>,
    /// `admin:KEY_ID`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub review_note: Option<String>,
}

/// `POST /v1/access-requests/{id}/break-glass`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct InvokeBreakGlass {
    /// Why the approvers could not be waited for: 1 to 400 printable characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
            min_length = 1,
            max_length = 400
        )
    )]
    pub reason: String,
    /// The break-glass code the security team holds.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 64))]
    pub code: String,
}

/// `POST /v1/admin/break-glass-code`: the new code, shown once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct BreakGlassCode {
    pub code: String,
}

/// `POST /v1/admin/access-requests/{id}/review`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct ReviewBreakGlass {
    /// What the review found: 1 to 1000 printable characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
            min_length = 1,
            max_length = 1000
        )
    )]
    pub note: String,
}

/// `GET /v1/admin/break-glass`: the break-glass grants no admin has reviewed, oldest first.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessRequestList {
    pub access_requests: Vec<AccessRequestStatus>,
}

/// Answer to `POST /v1/access-requests`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessRequestCreated {
    pub access_request: AccessRequestStatus,
    pub approvers: Vec<PromptedApproverInfo>,
}

/// `POST /v1/access-grants/introspect`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct IntrospectGrant {
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 32768))]
    pub token: String,
}

/// What introspection says of a grant: `active` only when this server signed it, for the
/// calling application, it is within its time and it was not revoked. Nothing else is said of
/// a token that is not this application's grant.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GrantIntrospection {
    pub active: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// The approvers' usernames.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvers: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// For an approver's prompt: the access request as it stands (shown, not signed).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AccessProgress {
    pub id: String,
    pub state: String,
    pub requester: String,
    pub approvals_required: u32,
    pub denials_required: u32,
    /// Who has approved so far.
    pub approved_by: Vec<String>,
    pub denied_by: Vec<String>,
    /// For a co-approval: the request the requester approved and asks the approvers to
    /// co-approve (its kind, and the application's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub co_approval_of: Option<String>,
}

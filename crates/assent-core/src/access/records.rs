//! What an access request is once stored: who asked for what, who may decide, the quorum, and
//! the grant issued when the quorum is reached.

use crate::ids::{AccessRequestId, AppId, ApprovalId, DeviceId, UserId};
use serde_json::Value;
use time::OffsetDateTime;

/// Where an access request is in its life. `Pending` is the only state that changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessState {
    Pending,
    /// The quorum of approvals was reached: a grant was issued.
    Granted,
    /// Enough approvers denied it, or too few can still approve it.
    Rejected,
    /// Its time ran out before a quorum.
    Expired,
    /// The requester (through its application) withdrew it.
    Cancelled,
}

impl AccessState {
    pub const ALL: [AccessState; 5] = [
        Self::Pending,
        Self::Granted,
        Self::Rejected,
        Self::Expired,
        Self::Cancelled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Granted => "granted",
            Self::Rejected => "rejected",
            Self::Expired => "expired",
            Self::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// Why an access request ended, beside its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccessReason {
    /// `approvals_required` approvers approved.
    QuorumReached,
    /// `denials_required` approvers denied (or reported it).
    Denied,
    /// The approvers who can still answer are too few to reach the quorum.
    QuorumUnreachable,
    Expired,
    CancelledByRequester,
    /// The requester invoked break-glass with the sealed break-glass code.
    BreakGlass,
    /// A co-approval's request ended first (cancelled, superseded, expired).
    RequestEnded,
}

impl AccessReason {
    pub const ALL: [AccessReason; 7] = [
        Self::QuorumReached,
        Self::Denied,
        Self::QuorumUnreachable,
        Self::Expired,
        Self::CancelledByRequester,
        Self::BreakGlass,
        Self::RequestEnded,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::QuorumReached => "quorum_reached",
            Self::Denied => "denied",
            Self::QuorumUnreachable => "quorum_unreachable",
            Self::Expired => "expired",
            Self::CancelledByRequester => "cancelled_by_requester",
            Self::BreakGlass => "break_glass",
            Self::RequestEnded => "request_ended",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The state an access request ending for this reason is in.
    pub fn state(self) -> AccessState {
        match self {
            Self::QuorumReached | Self::BreakGlass => AccessState::Granted,
            Self::Denied | Self::QuorumUnreachable => AccessState::Rejected,
            Self::Expired => AccessState::Expired,
            Self::CancelledByRequester | Self::RequestEnded => AccessState::Cancelled,
        }
    }
}

/// A stored access request.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessRequest {
    pub id: AccessRequestId,
    /// The application that asked on the requester's behalf.
    pub app_id: AppId,
    pub requester: UserId,
    /// The privilege, as RFC 9396 authorization details (role, resource, ...).
    pub privilege: Vec<Value>,
    pub justification: String,
    /// How long the grant lasts once issued, in seconds.
    pub grant_seconds: u32,
    /// M: approvals that grant it.
    pub approvals_required: u32,
    /// K: denials that reject it.
    pub denials_required: u32,
    pub state: AccessState,
    pub reason: Option<AccessReason>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    pub grant: Option<Grant>,
    /// Set when the grant came from break-glass, not from the approvers.
    pub break_glass: Option<BreakGlass>,
    /// The policy rule that decided what the request needs (approvers, quorum, passkey).
    pub policy_rule: Option<String>,
    /// Set for a co-approval: the user's own approval of an ordinary request whose policy asked
    /// for a quorum, held until this request's approvers reach it.
    pub holds: Option<HeldApproval>,
}

/// The user's approval a co-approval holds: the request, and the device's signed answer with
/// the passkey evidence checked with it, written as the request's outcome once the
/// co-approvers' quorum is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldApproval {
    pub approval_id: ApprovalId,
    pub device_id: DeviceId,
    pub statement: String,
    /// The passkey evidence (a `ReceiptUserVerification`, JSON), when the request needed one.
    pub user_verification: Option<String>,
}

/// A break-glass grant's reason and its review by an admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlass {
    pub reason: String,
    pub reviewed_at: Option<OffsetDateTime>,
    /// `admin:KEY_ID`.
    pub reviewed_by: Option<String>,
    pub review_note: Option<String>,
}

/// One eligible approver: the prompt they were sent, or why none could be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Approver {
    pub user_id: UserId,
    /// The approval request that asks them; `None` when they could not be asked.
    pub approval_id: Option<ApprovalId>,
    /// Why no prompt reached them (no active device, push suspended, refused by policy...).
    pub unreachable: Option<String>,
}

/// The grant issued when the quorum was reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Grant {
    /// The token's `jti`.
    pub id: String,
    /// The signed grant (an ES256 JWT), sealed with the data key (base64url) so the requester
    /// can fetch it again; [`Assent::grant_token`](crate::Assent::grant_token) opens it.
    pub token: String,
    pub not_before: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    /// Who revoked it: `admin:KEY_ID` or `user:USER_ID` (an approver, from a device).
    pub revoked_by: Option<String>,
}

/// How an access request ended, as the store writes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessEnding {
    pub reason: AccessReason,
    pub at: OffsetDateTime,
    pub grant: Option<Grant>,
    /// With break-glass: the code spent (it must still be the stored one, and is removed in the
    /// same transaction, so a code opens one grant) and the requester's reason.
    pub break_glass: Option<BreakGlassUse>,
}

/// The break-glass code an ending spends, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BreakGlassUse {
    pub code_hash: String,
    pub reason: String,
}

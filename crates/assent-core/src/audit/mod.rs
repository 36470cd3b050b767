//! The audit log: typed events, appended in the same transaction as the change they describe,
//! each row hashed together with its predecessor's hash, so editing, inserting or deleting a row
//! breaks the chain at that row.

mod chain;
pub mod check;
pub mod checkpoint;
pub mod export;
mod names;

pub use chain::{ChainBreak, ChainVerifier, GENESIS_HASH, row_hash};

use crate::ids::{AppId, ApprovalId, DeviceId, EnrollmentId, UserId};
use crate::model::AuditRecord;
use assent_proto::canonical::to_canonical_string;
use serde::Serialize;
use time::OffsetDateTime;

/// Who caused an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// The server itself (start-up, expiry).
    System,
    /// An admin API key, by key id.
    Admin(String),
    /// A relying party.
    App(AppId),
    /// An enrolled device.
    Device(DeviceId),
    /// An admin signed in to the console, by username.
    Console(crate::ids::Username),
}

impl Actor {
    pub fn label(&self) -> String {
        match self {
            Actor::System => "system".into(),
            Actor::Admin(key) => format!("admin:{key}"),
            Actor::App(id) => format!("app:{id}"),
            Actor::Device(id) => format!("device:{id}"),
            Actor::Console(user) => format!("console:{user}"),
        }
    }
}

/// Every security event Assent records.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum AuditEvent {
    ServerKeyCreated {
        kid: String,
    },
    AdminKeyCreated {
        key_id: String,
    },
    AppCreated {
        app_id: String,
        name: String,
        key_id: String,
    },
    UserCreated {
        user_id: String,
        username: String,
    },
    EnrollmentCreated {
        enrollment_id: String,
        user_id: String,
        expires_at: i64,
    },
    DeviceEnrolled {
        device_id: String,
        user_id: String,
        enrollment_id: String,
        name: String,
        platform: String,
        jkt: String,
    },
    DeviceRevoked {
        device_id: String,
        user_id: String,
    },
    DeviceRenamed {
        device_id: String,
        name: String,
    },
    PasskeyRegistered {
        device_id: String,
        credential_id: String,
    },
    /// A device registered (or replaced) its push target.
    PushSubscribed {
        device_id: String,
        channel: String,
    },
    /// A push service (or the mail server) took a push; written once per push.
    PushAccepted {
        push_id: String,
        channel: String,
        device_id: Option<String>,
        approval_id: Option<String>,
        attempts: u32,
    },
    /// A push was given up; written once per push.
    PushFailed {
        push_id: String,
        channel: String,
        device_id: Option<String>,
        approval_id: Option<String>,
        attempts: u32,
        error: String,
    },
    /// A push service refused a device's target for good; nothing is sent there any more.
    PushTargetDisabled {
        device_id: String,
        channel: String,
        reason: String,
    },
    /// A user's e-mail address for security alerts was set or removed (the address itself is
    /// not in the log).
    UserEmailSet {
        user_id: String,
        set: bool,
    },
    ApprovalCreated {
        approval_id: String,
        app_id: String,
        user_id: String,
        kind: String,
        expires_at: i64,
        number_matching: bool,
        /// The policy asked for number matching and the operator's integration setting let the
        /// request go without it (a Duo client that cannot show a code).
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        number_matching_waived: bool,
        user_verification: bool,
        details_hash: String,
        risk_score: u8,
        risk_signals: Vec<String>,
        policy_rule: String,
    },
    /// The policy refused a request without prompting anyone.
    ApprovalRefused {
        app_id: String,
        user_id: String,
        kind: String,
        policy_rule: String,
        risk_score: u8,
        risk_signals: Vec<String>,
    },
    WebhookConfigured {
        app_id: String,
        url: String,
        events: Vec<String>,
    },
    /// A relying party reported an account event (password changed...), alerted to the user.
    UserEventReported {
        user_id: String,
        app_id: String,
        event_type: String,
        message: String,
    },
    /// An admin alert raised by a detector, with its evidence.
    AdminAlert {
        detector: String,
        user_id: String,
        approval_id: Option<String>,
        evidence: String,
    },
    /// An admin alert: push suspended for a user (prompt budget spent, or fraud reported).
    PushSuspended {
        user_id: String,
        until: i64,
        reason: String,
        recent_prompts: u64,
    },
    ApprovalDelivered {
        approval_id: String,
        device_id: String,
        channel: String,
    },
    ApprovalDecided {
        approval_id: String,
        state: String,
        reason: Option<String>,
        device_id: Option<String>,
        /// The network a fraud report marked, written with the outcome (absent otherwise).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reported_network: Option<String>,
    },
    /// An active device approved a new device of the same user (trusted registration).
    DeviceActivated {
        device_id: String,
        user_id: String,
        approved_by: String,
    },
    /// A device waiting for activation was refused and removed.
    DeviceActivationRefused {
        device_id: String,
        user_id: String,
        refused_by: String,
        /// `denied`, `fraud` or `wrong_code`.
        reason: String,
    },
    TotpEnrolled {
        user_id: String,
        algorithm: String,
        digits: u8,
        period: u32,
    },
    TotpRemoved {
        user_id: String,
    },
    RecoveryCodesGenerated {
        user_id: String,
        count: u32,
    },
    /// A passkey assertion showed a signature counter that did not grow (WebAuthn's sign of a
    /// cloned authenticator); the answer was refused.
    PasskeyCloneSuspected {
        device_id: String,
        user_id: String,
        stored_sign_count: u32,
        presented_sign_count: u32,
    },
    /// A fallback factor verified: `totp` (with its time step) or `recovery_code` (its slot).
    FactorUsed {
        user_id: String,
        factor: String,
        /// `verify` (a relying party's check) or `enrollment` (a recovery code that let a new
        /// device in).
        purpose: String,
        counter: u64,
    },
    /// A fallback factor was refused: `invalid_code` or `code_reused`.
    FactorRefused {
        user_id: String,
        factor: String,
        reason: String,
    },
    /// A check of a fallback factor was refused by the per-user rate limit, unexamined: one
    /// row per refusal, so an administrator sees how hard the factor is being guessed.
    FactorRateLimited {
        user_id: String,
        factor: String,
        /// When checks are admitted again (Unix seconds).
        until: i64,
    },
    /// An admin registered an OpenID CIBA client (an agent when `agent_owner` is set).
    CibaClientRegistered {
        client_id: String,
        app_id: String,
        mode: String,
        auth_method: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        agent_owner: Option<String>,
    },
    /// An admin created a group of users.
    GroupCreated {
        name: String,
    },
    /// An admin added a user to a group.
    GroupMemberAdded {
        group: String,
        user_id: String,
    },
    /// An admin removed a user from a group.
    GroupMemberRemoved {
        group: String,
        user_id: String,
    },
    /// An admin set the groups an application may ask the members of (none: any user).
    AppScopeSet {
        app_id: String,
        groups: Vec<String>,
    },
    /// An admin created a Duo Auth API integration for an application.
    DuoIntegrationCreated {
        ikey: String,
        app_id: String,
        api_host: String,
        allow_unmatched_push: bool,
        /// Whether legacy Auth API v1 requests (dateless signatures) are accepted.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        allow_legacy_v1: bool,
    },
    /// The tokens of an approved backchannel request were issued (once), with the access
    /// token's id and expiry.
    CibaTokensIssued {
        approval_id: String,
        client_id: String,
        token_id: String,
        expires_at: i64,
    },
    /// An access token was revoked before its expiry.
    AccessTokenRevoked {
        token_id: String,
        client_id: String,
    },
    /// An application asked for a privilege on a user's behalf; `approvers` are the user ids
    /// prompted (the requester never among them).
    AccessRequestCreated {
        request_id: String,
        app_id: String,
        requester_id: String,
        approvers: Vec<String>,
        approvals_required: u32,
        denials_required: u32,
        expires_at: i64,
    },
    /// An access request ended; a grant was issued when `state` is `granted`.
    AccessRequestEnded {
        request_id: String,
        app_id: String,
        requester_id: String,
        state: String,
        reason: String,
        approved_by: Vec<String>,
        denied_by: Vec<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        grant_id: Option<String>,
        #[serde(skip_serializing_if = "Option::is_none")]
        grant_expires_at: Option<i64>,
        /// Break-glass: the requester's reason; the grant stays unreviewed until an admin
        /// records a review (`break_glass_reviewed`).
        #[serde(skip_serializing_if = "Option::is_none")]
        break_glass_reason: Option<String>,
        #[serde(skip_serializing_if = "std::ops::Not::not", default)]
        review_required: bool,
    },
    /// An admin set a new break-glass code (replacing any earlier one).
    BreakGlassCodeSet {},
    /// Break-glass was invoked with a wrong code, or with none set.
    BreakGlassRefused {
        request_id: String,
        app_id: String,
        requester_id: String,
    },
    /// An admin reviewed a break-glass grant.
    BreakGlassReviewed {
        request_id: String,
        note: String,
    },
    /// An admin set an application's WebAuthn identity (relying-party id, name and origin).
    RpWebauthnSet {
        app_id: String,
        rp_id: String,
        origin: String,
    },
    /// A user registered a passkey at an application's origin.
    RpPasskeyRegistered {
        app_id: String,
        user_id: String,
        credential_id: String,
    },
    /// A passkey verified at an application's origin.
    RpPasskeyUsed {
        app_id: String,
        user_id: String,
        credential_id: String,
        counter: u32,
        user_verified: bool,
    },
    /// A passkey ceremony at an application's origin did not verify.
    RpPasskeyRefused {
        app_id: String,
        user_id: String,
        reason: String,
    },
    /// A passkey's signature counter did not move forward: the authenticator may have been
    /// cloned. The assertion was refused.
    RpPasskeyCloneSuspected {
        app_id: String,
        user_id: String,
        credential_id: String,
        counter: u32,
        stored_counter: u32,
    },
    /// A grant was revoked before its end, by an admin or one of its approvers.
    AccessGrantRevoked {
        request_id: String,
        app_id: String,
        grant_id: String,
        by: String,
    },
    /// An application's new API key, and the earlier keys it replaced (revoked at once).
    ApiKeyRotated {
        app_id: String,
        key_id: String,
        revoked_key_ids: Vec<String>,
    },
    ApiKeyRevoked {
        app_id: String,
        key_id: String,
    },
    /// An admin signed in to the console: `method` is `push`, `totp` or `recovery_code`.
    ConsoleSignedIn {
        user_id: String,
        method: String,
        approval_id: Option<String>,
    },
    /// A console session ended before its time: `signed_out` by the admin, or `not_admin` when
    /// its user left the admin group.
    ConsoleSignedOut {
        user_id: String,
        reason: String,
    },
    /// An admin ended a user's push suspension before its time.
    PushSuspensionLifted {
        user_id: String,
    },
    /// Incident broadcasts: sent, acknowledged by a device, reminded.
    BroadcastCreated(crate::broadcasts::audit::Created),
    BroadcastAcknowledged(crate::broadcasts::audit::Acknowledged),
    BroadcastReminded(crate::broadcasts::audit::Reminded),
}

impl AuditEvent {
    pub fn enrollment_created(
        id: &EnrollmentId,
        user: &UserId,
        expires_at: OffsetDateTime,
    ) -> Self {
        AuditEvent::EnrollmentCreated {
            enrollment_id: id.to_string(),
            user_id: user.to_string(),
            expires_at: expires_at.unix_timestamp(),
        }
    }

    pub fn decided(
        id: &ApprovalId,
        state: &str,
        reason: Option<&str>,
        device: Option<&DeviceId>,
    ) -> Self {
        AuditEvent::ApprovalDecided {
            approval_id: id.to_string(),
            state: state.to_owned(),
            reason: reason.map(str::to_owned),
            device_id: device.map(DeviceId::to_string),
            reported_network: None,
        }
    }

    /// A decision event that also names the network its fraud report marked.
    pub fn reporting(self, network: Option<&str>) -> Self {
        match self {
            AuditEvent::ApprovalDecided {
                approval_id,
                state,
                reason,
                device_id,
                ..
            } => AuditEvent::ApprovalDecided {
                approval_id,
                state,
                reason,
                device_id,
                reported_network: network.map(str::to_owned),
            },
            other => other,
        }
    }
}

/// An event about to be appended: what a store needs to write one row.
#[derive(Debug, Clone)]
pub struct PendingAudit {
    pub at: OffsetDateTime,
    pub actor: Actor,
    pub event: AuditEvent,
}

impl PendingAudit {
    pub fn new(at: OffsetDateTime, actor: Actor, event: AuditEvent) -> Self {
        PendingAudit { at, actor, event }
    }

    /// Builds the row that follows `prev_hash` at position `seq`.
    pub fn seal(&self, seq: u64, prev_hash: &[u8]) -> AuditRecord {
        let data = serde_json::to_value(&self.event)
            .ok()
            .and_then(|v| to_canonical_string(&v).ok())
            .unwrap_or_else(|| "{}".to_owned());
        let mut record = AuditRecord {
            seq,
            at: crate::clock::truncate_to_millis(self.at),
            kind: self.event.kind().to_owned(),
            actor: self.actor.label(),
            subject: self.event.subject(),
            data,
            prev_hash: prev_hash.to_vec(),
            hash: Vec::new(),
        };
        record.hash = row_hash(&record);
        record
    }
}

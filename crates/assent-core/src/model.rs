//! The records Assent keeps. Plain data: the rules that change them live in [`crate::service`].

use crate::ids::{AlertId, AppId, ApprovalId, DeviceId, EnrollmentId, UserId, Username};
use assent_proto::context::RequestContext;
use assent_proto::jose::Jwk;
use assent_proto::states::{ApprovalKind, ApprovalState, DeviceState};
use serde_json::Value;
use time::OffsetDateTime;

/// How far apart a device's recorded last-seen times are at least. Every answer and most
/// device requests prove the device anew; writing each of them would rewrite the device's row
/// (a page of its own in the database) on every sign-in, for a time the device list shows to
/// the minute.
pub const LAST_SEEN_RESOLUTION: time::Duration = time::Duration::minutes(1);

/// A relying party.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct App {
    pub id: AppId,
    pub name: String,
    pub created_at: OffsetDateTime,
}

/// What an API key may do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyRole {
    /// Everything under `/v1/admin` and the audit endpoints.
    Admin,
    /// The relying-party API, limited to this application's own requests.
    App(AppId),
}

/// An API key as stored: its public id and the SHA-256 of its secret, never the secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiKeyRecord {
    pub id: String,
    pub secret_hash: Vec<u8>,
    pub role: KeyRole,
    pub created_at: OffsetDateTime,
    /// When the key stopped working: revoked by an admin, or replaced by a rotation.
    pub revoked_at: Option<OffsetDateTime>,
}

/// A signed-in admin console session. The cookie holds the token; only its SHA-256 is stored,
/// so a copy of the database signs no one in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub id_hash: Vec<u8>,
    pub user_id: UserId,
    pub created_at: OffsetDateTime,
    /// The last request made with it: past the idle timeout after it, the session is over.
    pub last_seen_at: OffsetDateTime,
    /// The absolute end, however active the session.
    pub expires_at: OffsetDateTime,
    /// The approved push request it was opened with; each opens one session at most.
    pub approval_id: Option<ApprovalId>,
    /// When it was signed out.
    pub ended_at: Option<OffsetDateTime>,
}

/// A person or non-human identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct User {
    pub id: UserId,
    pub username: Username,
    pub created_at: OffsetDateTime,
}

/// A one-time enrollment; only the hash of its code is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enrollment {
    pub id: EnrollmentId,
    pub user_id: UserId,
    pub code_hash: Vec<u8>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub used_at: Option<OffsetDateTime>,
    /// Whether the device it creates is active at once or waits for another device's approval.
    pub activation: assent_proto::states::Activation,
}

/// An enrolled device and its public key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    pub id: DeviceId,
    pub user_id: UserId,
    pub name: String,
    pub platform: String,
    pub jwk: Jwk,
    /// RFC 7638 thumbprint of `jwk`, how device proofs find their device.
    pub jkt: String,
    pub state: DeviceState,
    pub created_at: OffsetDateTime,
    pub revoked_at: Option<OffsetDateTime>,
    /// When the device last proved itself; updated at most once per [`LAST_SEEN_RESOLUTION`].
    pub last_seen_at: Option<OffsetDateTime>,
    /// While the device waits for activation: the code shown on its screen, sealed with the
    /// data key.
    pub activation_code_sealed: Option<Vec<u8>>,
    /// How the device is pushed to, if it registered a target (read-only: derived by the store).
    pub push_channel: Option<crate::outbox::pushes::PushChannel>,
    /// Whether that target works: registered and not refused for good by its push service
    /// (read-only: derived by the store).
    pub push_working: bool,
}

/// A number-matching code as Assent keeps it: how many digits the device asks for, and a keyed
/// digest ([`crate::sealed::DataKey::digest`]) that the typed code is compared against, so a copy
/// of the database does not show the code a pending request waits for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchingCode {
    pub length: u8,
    pub digest: Vec<u8>,
}

/// An approval request and, once final, how it ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Approval {
    pub id: ApprovalId,
    pub app_id: AppId,
    pub user_id: UserId,
    pub kind: ApprovalKind,
    pub binding_message: Option<String>,
    pub authorization_details: Vec<Value>,
    pub context: RequestContext,
    /// Server nonce that the device's statement must repeat.
    pub nonce: String,
    /// The number-matching code as kept, when number matching applies: never the code itself
    /// (only creation sees that, to hand it to the relying party).
    pub code: Option<MatchingCode>,
    /// Whether approving needs a passkey check with user verification on the device.
    pub user_verification: bool,
    /// The risk assessment (score and reasons) when the request was made.
    pub risk: crate::risk::RiskAssessment,
    /// The policy rule that decided what the request needs.
    pub policy_rule: Option<String>,
    pub state: ApprovalState,
    pub reason: Option<EndReason>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    pub device_id: Option<DeviceId>,
    pub statement: Option<String>,
    pub receipt: Option<String>,
    /// When the policy asked for more than the user's own approval (four eyes): how many, and
    /// from which groups the others come.
    pub quorum: Option<Quorum>,
}

/// A quorum the policy set on a request: `approvals` device-signed approvals in all, the user's
/// own first, then `approvals - 1` from members of `approver_groups` other than the user.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Quorum {
    pub approvals: u32,
    pub approver_groups: Vec<String>,
}

impl Approval {
    /// The record as the store holds it once `outcome` was written: the stores' `finalize`
    /// changes exactly these fields (the store contract checks it).
    pub fn decided(self, outcome: &Outcome) -> Approval {
        Approval {
            state: outcome.state,
            reason: outcome.reason,
            decided_at: Some(outcome.decided_at),
            device_id: outcome.device_id.clone(),
            statement: outcome.statement.clone(),
            receipt: Some(outcome.receipt.clone()),
            ..self
        }
    }

    /// The hash of what the device shows and the user approves: the kind, the binding message
    /// and the authorization details (`assent_proto::statement::details_hash`).
    pub fn details_hash(&self) -> Result<String, assent_proto::canonical::CanonicalError> {
        assent_proto::statement::details_hash(
            self.kind.as_str(),
            self.binding_message.as_deref(),
            &self.authorization_details,
        )
    }

    /// About the memory the request's free-form parts hold: the authorization details, the
    /// context, the risk reasons, the binding message, the statement, the receipt and the rule;
    /// the fixed parts take a few hundred bytes more. A relying party chooses how
    /// large these are, up to `http.body_limit_bytes`, so a memory that keeps requests bounds
    /// what it keeps by this ([`MAX_KEPT_APPROVAL_BYTES`]), not only by their number. Details
    /// count as they are held, a node per JSON value: `[0,0,…]` takes 16 times its text.
    pub fn free_form_bytes(&self) -> usize {
        let text = |s: &Option<String>| s.as_ref().map_or(0, String::len);
        self.authorization_details
            .iter()
            .map(value_bytes)
            .chain([
                json_len(&self.context),
                json_len(&self.risk),
                text(&self.binding_message),
                text(&self.statement),
                text(&self.receipt),
                text(&self.policy_rule),
            ])
            .fold(0, usize::saturating_add)
    }
}

/// The largest request, by [`Approval::free_form_bytes`], that a memory of requests keeps (the
/// core's decided requests, the SQLite store's rows); a larger one is read from the store each
/// time. A sign-in's request, decided, is 3–4 KB.
pub const MAX_KEPT_APPROVAL_BYTES: usize = 8 * 1024;

/// About the memory a JSON value holds: a node for it and for each value inside it, and the
/// text of its strings and keys.
fn value_bytes(value: &Value) -> usize {
    const NODE: usize = std::mem::size_of::<Value>();
    match value {
        Value::String(text) => NODE.saturating_add(text.len()),
        Value::Array(items) => items
            .iter()
            .map(value_bytes)
            .fold(NODE, usize::saturating_add),
        Value::Object(members) => members
            .iter()
            .map(|(key, value)| {
                NODE.saturating_add(key.len())
                    .saturating_add(value_bytes(value))
            })
            .fold(NODE, usize::saturating_add),
        Value::Null | Value::Bool(_) | Value::Number(_) => NODE,
    }
}

/// The length of a small fixed-shape record's JSON, counted as it is written, without keeping
/// it; one that cannot be written counts as too large to keep.
fn json_len(value: &impl serde::Serialize) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0 = self.0.saturating_add(bytes.len());
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut counter = Counter(0);
    match serde_json::to_writer(&mut counter, value) {
        Ok(()) => counter.0,
        Err(_) => usize::MAX,
    }
}

/// What the risk engine reads of one of a user's past requests: when it was made, how it ended
/// and where it came from; not the details, statement or receipt, which it never looks at.
#[derive(Debug, Clone, PartialEq)]
pub struct PastApproval {
    pub state: ApprovalState,
    pub created_at: OffsetDateTime,
    pub decided_at: Option<OffsetDateTime>,
    /// Where the request came from: its context without the user agent ([`origin_of`]).
    pub origin: RequestContext,
}

/// The part of a request's context the risk engine compares with the past: address, the relying
/// party's device identifier, place. The user agent, free text of any length, is left out, so a
/// store can keep every past request's origin in one compact index and read a user's whole
/// history without touching the requests themselves.
pub fn origin_of(context: &RequestContext) -> RequestContext {
    RequestContext {
        user_agent: None,
        ..context.clone()
    }
}

/// The final state of an approval, written once by a conditional update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub state: ApprovalState,
    pub reason: Option<EndReason>,
    pub decided_at: OffsetDateTime,
    pub device_id: Option<DeviceId>,
    pub statement: Option<String>,
    pub receipt: String,
    /// The network (`/24` or `/48`) a fraud report names, recorded for the risk engine in the
    /// same transaction as the outcome, and named in its audit row.
    pub reported_network: Option<String>,
}

/// Why a request ended, recorded with its final state. Each reason implies the state it ends
/// in, so a state and a reason that disagree cannot be written; an approval by the user's own
/// device is the one ending without a reason. The names are those of the wire and the stores.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The policy allowed the request without a prompt.
    AllowedByPolicy,
    /// The user typed a code other than the one the relying party showed.
    WrongCode,
    /// The user denied it.
    DeniedByUser,
    /// The user denied it and reported it as not theirs.
    ReportedAsFraud,
    /// The relying party withdrew it.
    CancelledByRelyingParty,
    /// A newer request of the same application for the same user replaced it.
    Superseded,
    /// One of the user's devices was revoked while it waited.
    DeviceRevoked,
    /// Nobody answered in time.
    Expired,
    /// The access request it asked about ended (granted, rejected, expired or cancelled) before
    /// this approver answered.
    AccessRequestEnded,
    /// The user approved, and a co-approver the policy's quorum asks denied it.
    DeniedByCoApprover,
    /// The user approved, and too few co-approvers could still approve it.
    CoApproversUnreachable,
}

impl EndReason {
    pub const ALL: [EndReason; 11] = [
        Self::AllowedByPolicy,
        Self::WrongCode,
        Self::DeniedByUser,
        Self::ReportedAsFraud,
        Self::CancelledByRelyingParty,
        Self::Superseded,
        Self::DeviceRevoked,
        Self::Expired,
        Self::AccessRequestEnded,
        Self::DeniedByCoApprover,
        Self::CoApproversUnreachable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::AllowedByPolicy => "allowed_by_policy",
            Self::WrongCode => "wrong_code",
            Self::DeniedByUser => "denied_by_user",
            Self::ReportedAsFraud => "reported_as_fraud",
            Self::CancelledByRelyingParty => "cancelled_by_relying_party",
            Self::Superseded => "superseded",
            Self::DeviceRevoked => "device_revoked",
            Self::Expired => "expired",
            Self::AccessRequestEnded => "access_request_ended",
            Self::DeniedByCoApprover => "denied_by_co_approver",
            Self::CoApproversUnreachable => "co_approvers_unreachable",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.as_str() == s)
    }

    /// The final state a request ending for this reason is in.
    pub fn state(self) -> ApprovalState {
        match self {
            Self::AllowedByPolicy => ApprovalState::Approved,
            Self::WrongCode
            | Self::DeniedByUser
            | Self::DeniedByCoApprover
            | Self::CoApproversUnreachable => ApprovalState::Denied,
            Self::ReportedAsFraud => ApprovalState::Fraud,
            Self::CancelledByRelyingParty
            | Self::Superseded
            | Self::DeviceRevoked
            | Self::AccessRequestEnded => ApprovalState::Cancelled,
            Self::Expired => ApprovalState::Expired,
        }
    }
}

/// Why push was suspended for a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SuspensionReason {
    /// Too many prompts since the last approval.
    PromptBudget,
    /// The user reported a request as fraud.
    FraudReported,
    /// An admin paused push for the user (from the console).
    Admin,
}

impl SuspensionReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::PromptBudget => "prompt_budget",
            Self::FraudReported => "fraud_reported",
            Self::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::PromptBudget, Self::FraudReported, Self::Admin]
            .into_iter()
            .find(|r| r.as_str() == s)
    }
}

/// A verified device proof's id, not yet recorded as used: a store records it in the same
/// transaction as the write the proof authorizes (see `Store::record_delivery_with_proof`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProofUse {
    /// Thumbprint of the key that signed the proof.
    pub jkt: String,
    pub jti: String,
    /// After this the proof's time check refuses it anyway, so its id may be forgotten.
    pub forget_after: OffsetDateTime,
}

/// How a request reached a device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryChannel {
    /// The device fetched it (after a stream event, a push, or polling).
    Fetch,
}

impl DeliveryChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryChannel::Fetch => "fetch",
        }
    }
}

/// The stored row of one audit event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditRecord {
    pub seq: u64,
    pub at: OffsetDateTime,
    pub kind: String,
    pub actor: String,
    pub subject: String,
    /// The event's JSON, in canonical form.
    pub data: String,
    pub prev_hash: Vec<u8>,
    pub hash: Vec<u8>,
}

/// Where an application receives its webhooks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Webhook {
    pub app_id: AppId,
    pub url: String,
    /// The signing secret, sealed with the data key.
    pub secret_sealed: Vec<u8>,
    /// Event types delivered: `approval.final`, `alert`.
    pub events: Vec<String>,
    pub created_at: OffsetDateTime,
}

/// How far an application's webhook deliveries have got.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebhookProgress {
    /// The last audit row handled (delivered, or given up on).
    pub cursor: u64,
    pub last_error: Option<String>,
    /// Events given up on after every retry.
    pub failed: u64,
}

/// Push suspended for a user: no prompt is sent until `until`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspension {
    pub user_id: UserId,
    pub until: OffsetDateTime,
    pub reason: SuspensionReason,
    pub created_at: OffsetDateTime,
}

/// A device's passkey, its user-verification factor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Passkey {
    pub device_id: DeviceId,
    /// WebAuthn credential id, base64url.
    pub credential_id: String,
    /// Uncompressed P-256 point.
    pub public_key: Vec<u8>,
    pub created_at: OffsetDateTime,
    /// The signature counter of the last accepted assertion (0 until the authenticator reports
    /// one): a later one must be larger, or the passkey may have been cloned.
    pub sign_count: u32,
}

/// An informational notice for a user's devices.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Alert {
    pub id: AlertId,
    pub user_id: UserId,
    /// `device_enrolled`, `device_revoked`...
    pub kind: String,
    pub message: String,
    /// The device the alert is about (a new device: "this wasn't me" revokes it).
    pub device_id: Option<DeviceId>,
    pub created_at: OffsetDateTime,
}

/// A user's TOTP factor (RFC 6238). The seed is sealed with the data key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TotpSecret {
    pub user_id: UserId,
    pub seed_sealed: Vec<u8>,
    /// `SHA1`, `SHA256` or `SHA512`.
    pub algorithm: String,
    pub digits: u8,
    pub period: u32,
    /// The last time step a code was accepted for: a code of this step or an earlier one is
    /// refused, so a code works once.
    pub last_step: Option<u64>,
    pub created_at: OffsetDateTime,
}

/// One recovery code of a user's set, stored as an Argon2id hash (PHC string).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecoveryCode {
    pub user_id: UserId,
    pub slot: u32,
    pub hash: String,
    pub created_at: OffsetDateTime,
}

/// Whether a verification attempt may go ahead under the per-user rate limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admission {
    Admitted,
    /// Too many recent attempts; the oldest one counted leaves the window at `oldest + window`.
    Refused {
        oldest: OffsetDateTime,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::{approved, transfer};

    #[test]
    fn free_form_bytes_counts_every_part_a_caller_or_device_chooses() {
        let small = transfer(serde_json::json!({"amount": "10.00"}));
        assert!(small.free_form_bytes() < 400, "a small request is small");
        // Each part, set to 5,000 characters against none: the size grows by exactly that.
        let counts = |what: &str, set: &dyn Fn(&mut Approval, String)| {
            let size = |text: String| {
                let mut changed = small.clone();
                set(&mut changed, text);
                changed.free_form_bytes()
            };
            let grown = size("x".repeat(5_000)) - size(String::new());
            assert_eq!(grown, 5_000, "{what}");
        };
        counts("message", &|a, t| a.binding_message = Some(t));
        counts("statement", &|a, t| a.statement = Some(t));
        counts("receipt", &|a, t| a.receipt = Some(t));
        counts("rule", &|a, t| a.policy_rule = Some(t));
        counts("user agent", &|a, t| a.context.user_agent = Some(t));
        counts("place", &|a, t| {
            a.context.geo = Some(assent_proto::context::Geo {
                city: Some(t),
                ..Default::default()
            })
        });
        counts("risk reasons", &|a, t| {
            a.risk.reasons.push(crate::risk::RiskReason {
                signal: "new_country".into(),
                points: 10,
                detail: t,
            })
        });
        counts("details", &|a, t| {
            a.authorization_details = vec![serde_json::json!({ "note": t })]
        });
        let decided = approved(small.clone(), 1_000);
        assert_eq!(
            decided.free_form_bytes(),
            small.free_form_bytes() + 2_000,
            "statement and receipt of an outcome"
        );
    }

    #[test]
    fn details_count_as_held_in_memory_not_as_their_text() {
        let zeros = serde_json::json!(vec![0; 2_000]);
        let text = serde_json::to_vec(&zeros).map(|j| j.len()).unwrap_or(0);
        let request = transfer(zeros);
        assert!(text < 4_100, "about 4 KB of JSON");
        assert!(
            request.free_form_bytes() > 2_000 * std::mem::size_of::<Value>(),
            "each of the 2,000 values is a node in memory"
        );
        assert!(
            request.free_form_bytes() > MAX_KEPT_APPROVAL_BYTES,
            "too large to keep"
        );
    }
}

//! What the prompt-fatigue defense and the risk engine read about a user and a network: prompt
//! counts, the last approval, push suspensions, request history, network reports and a
//! request's first delivery. Only a suspension is security state, written with its audit event.
//!
//! Two of them decide between nodes that share the database: a user's prompt turn (admission
//! reads the budget and the pending requests, then writes the new one; two admissions for one
//! user must not both read before either writes) and a pattern alert's claim (one alert per user,
//! pattern and quiet period, whichever node sees the pattern).

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::{ApprovalId, UserId};
use crate::model::{PastApproval, Suspension};
use crate::store::Turn;
use async_trait::async_trait;
use time::OffsetDateTime;

/// The fatigue defense's and the risk engine's records.
#[async_trait]
pub trait SignalStore: Send + Sync {
    // --- fatigue defense
    /// How many approval requests were created for a user strictly after `since`.
    async fn prompts_since(&self, user: &UserId, since: OffsetDateTime) -> Result<u64, StoreError>;
    /// When the user last approved a request.
    async fn last_approved_at(&self, user: &UserId) -> Result<Option<OffsetDateTime>, StoreError>;
    /// The user's push suspension, if one was ever recorded (it may have ended).
    async fn suspension(&self, user: &UserId) -> Result<Option<Suspension>, StoreError>;
    /// Records (or replaces) a push suspension, with its audit event.
    async fn suspend(&self, suspension: &Suspension, audit: PendingAudit)
    -> Result<(), StoreError>;

    /// Waits for the user's prompt turn and holds it until the returned [`Turn`] is dropped:
    /// while it is held, no other caller, on this node or any other sharing the database, gets
    /// a turn for the same user.
    async fn prompt_turn(&self, user: &UserId) -> Result<Turn, StoreError>;
    /// Claims the alert for `detector` and `user` at `at`, unless it was claimed after
    /// `quiet_since`: `true` for exactly one of any number of callers racing for it, on any node.
    async fn claim_pattern_alert(
        &self,
        detector: &str,
        user: &UserId,
        at: OffsetDateTime,
        quiet_since: OffsetDateTime,
    ) -> Result<bool, StoreError>;

    // --- risk
    /// A user's requests created at or after `since`, newest first, at most `limit`.
    async fn request_history(
        &self,
        user: &UserId,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<PastApproval>, StoreError>;
    /// Records a fraud report from a network.
    async fn record_network_report(
        &self,
        network: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError>;
    /// Fraud reports from a network at or after `since`.
    async fn network_reports_since(
        &self,
        network: &str,
        since: OffsetDateTime,
    ) -> Result<u64, StoreError>;

    /// When a device first received a request.
    async fn first_delivery_at(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<OffsetDateTime>, StoreError>;
}

//! What the prompt-fatigue defense and the risk engine read about a user and a network: prompt
//! counts, the last approval, push suspensions, request history, network reports and a
//! request's first delivery. Only a suspension is security state, written with its audit event.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::{ApprovalId, UserId};
use crate::model::{PastApproval, Suspension};
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

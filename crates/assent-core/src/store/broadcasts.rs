//! Incident broadcasts: a broadcast is written with its recipients and its audit event in one
//! transaction; an acknowledgement and a reminder are conditional writes ("only if still not
//! acknowledged", "only if still due at the time it was found"), so of two devices
//! acknowledging at once, or two nodes reminding at once, exactly one writes.

use crate::audit::PendingAudit;
use crate::broadcasts::records::{
    Acknowledgement, Broadcast, BroadcastSummary, DueReminder, Recipient,
};
use crate::error::StoreError;
use crate::ids::{BroadcastId, UserId};
use async_trait::async_trait;
use time::OffsetDateTime;

/// Incident broadcasts and their recipients.
#[async_trait]
pub trait BroadcastStore: Send + Sync {
    /// Stores a broadcast, one recipient row per user (each first due for a reminder at
    /// `first_reminder_at`, none acknowledged) and the audit event, all or nothing.
    async fn insert_broadcast(
        &self,
        broadcast: &Broadcast,
        recipients: &[UserId],
        first_reminder_at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn broadcast(&self, id: &BroadcastId) -> Result<Option<Broadcast>, StoreError>;
    /// The most recent `limit` broadcasts, newest first, with their counts.
    async fn list_broadcasts(&self, limit: u32) -> Result<Vec<BroadcastSummary>, StoreError>;
    /// Every recipient of a broadcast, by user id.
    async fn broadcast_recipients(&self, id: &BroadcastId) -> Result<Vec<Recipient>, StoreError>;
    /// One user's row of a broadcast; `None` when the broadcast did not go to them.
    async fn broadcast_recipient(
        &self,
        id: &BroadcastId,
        user: &UserId,
    ) -> Result<Option<Recipient>, StoreError>;
    /// A user's broadcasts with their rows: those `acknowledged` (newest acknowledgement
    /// first) or those not (oldest broadcast first), at most `limit`.
    async fn user_broadcasts(
        &self,
        user: &UserId,
        acknowledged: bool,
        limit: u32,
    ) -> Result<Vec<(Broadcast, Recipient)>, StoreError>;
    /// Records the user's acknowledgement with its audit event, only if the row exists and is
    /// not acknowledged yet; `false` (nothing written) otherwise.
    async fn acknowledge_broadcast(
        &self,
        id: &BroadcastId,
        user: &UserId,
        acknowledgement: &Acknowledgement,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Unacknowledged recipients whose reminder is due at `now` and who had fewer than
    /// `max_reminders`, earliest due first, at most `limit`.
    async fn due_reminders(
        &self,
        now: OffsetDateTime,
        max_reminders: u32,
        limit: u32,
    ) -> Result<Vec<DueReminder>, StoreError>;
    /// Claims a due reminder: counts it and moves the next one to `next_at`, with the audit
    /// event, only if the row is still unacknowledged and still due at the time `due` found it
    /// with; `false` (nothing written) when another node claimed it or it was acknowledged.
    async fn claim_reminder(
        &self,
        due: &DueReminder,
        next_at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
}

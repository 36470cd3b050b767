//! Approval requests, their final write and their deliveries. The final state is a conditional
//! write that only a pending request accepts, and a delivery is audited only the first time per
//! device and channel; the loser of a race gets `false` (or `None`) and writes nothing.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::{ApprovalId, DeviceId, UserId};
use crate::model::{Approval, DeliveryChannel, Outcome, ProofUse};
use crate::outbox::pushes::PushJob;
use async_trait::async_trait;
use time::OffsetDateTime;

/// Approval requests from creation to their final state.
#[async_trait]
pub trait ApprovalStore: Send + Sync {
    /// Stores a new request with the pushes that announce it and its audit event, in one
    /// transaction.
    async fn insert_approval(
        &self,
        approval: &Approval,
        pushes: &[PushJob],
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn approval(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError>;
    /// The request as the database holds it at this moment, past any copy the store keeps in
    /// memory: a decision checks the signed details against it, so that details changed in the
    /// database after the device showed them are caught.
    async fn approval_as_stored(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError> {
        self.approval(id).await
    }
    /// A user's pending requests that have not expired at `now`, oldest first.
    async fn pending_for_user(
        &self,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Approval>, StoreError>;
    /// A user's requests that have ended, newest first, at most `limit`: what the user's
    /// authenticators show as the account's recent activity.
    async fn ended_for_user(&self, user: &UserId, limit: u32) -> Result<Vec<Approval>, StoreError>;
    /// How many requests are pending and not expired at `now`, for the metrics.
    async fn pending_count(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
    /// Pending requests whose expiry is at or before `now`, at most `limit`.
    async fn due_for_expiry(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError>;
    /// Writes the final state only if the request is still pending; `false` when it was not
    /// (another answer, a cancel or the expiry won), in which case nothing is written. An
    /// outcome with a device also counts as that device being seen at `decided_at`, under the
    /// rule of [`DeviceStore::touch_device`](super::DeviceStore::touch_device).
    async fn finalize(
        &self,
        id: &ApprovalId,
        outcome: &Outcome,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Records that a device received a request; the audit event is written only the first time
    /// per device and channel. Returns whether it was the first time.
    async fn record_delivery(
        &self,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// [`DeviceStore::consume_proof`](super::DeviceStore::consume_proof) and
    /// [`ApprovalStore::record_delivery`] in one transaction: a device's fetch of a request then
    /// waits for one commit, not two. `None` when the proof id was already used (a replay), and
    /// then nothing is written; otherwise whether the delivery was the first for this device and
    /// channel (the proof id is recorded either way).
    async fn record_delivery_with_proof(
        &self,
        proof: &ProofUse,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<Option<bool>, StoreError>;
}

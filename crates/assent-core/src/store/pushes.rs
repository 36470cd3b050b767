//! Push targets, the push outbox and users' e-mail addresses. A claim is a conditional write:
//! each due push goes to one claimer, and a finish only lands for the claim it belongs to (the
//! attempt number), so a sender whose lease ran out cannot overwrite its successor's result.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::{ApprovalId, DeviceId, UserId};
use crate::outbox::pushes::{PushJob, PushResult, PushTarget};
use async_trait::async_trait;
use time::OffsetDateTime;

/// Where devices and people are reached, and what is owed to them.
#[async_trait]
pub trait PushStore: Send + Sync {
    /// Stores (or replaces) a device's push target, enabled, with its audit event.
    async fn set_push_target(
        &self,
        target: &PushTarget,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn push_target(&self, device: &DeviceId) -> Result<Option<PushTarget>, StoreError>;
    /// Disables a device's target if it is still the one given (same address) and enabled;
    /// `false` (and nothing written) otherwise.
    async fn disable_push_target(
        &self,
        target: &PushTarget,
        at: OffsetDateTime,
        reason: &str,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Queues pushes (informational alerts; a request's pushes are written with it by
    /// [`ApprovalStore::insert_approval`](super::ApprovalStore::insert_approval)).
    async fn enqueue_pushes(&self, jobs: &[PushJob]) -> Result<(), StoreError>;
    /// Claims up to `limit` pushes due at `now` (queued, or sent with an expired lease), oldest
    /// first: each becomes `sent`, its attempts grow by one and it is due again at
    /// `lease_until`. Rows another node is claiming at the same moment are skipped.
    async fn claim_pushes(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<PushJob>, StoreError>;
    /// Records what became of claim number `attempt` of a push; `false` (and nothing written,
    /// not even the audit event) when the push is no longer in that claim.
    async fn finish_push(
        &self,
        id: &str,
        attempt: u32,
        result: &PushResult,
        now: OffsetDateTime,
        audit: Option<PendingAudit>,
    ) -> Result<bool, StoreError>;
    /// A request's pushes, oldest first.
    async fn pushes_for_approval(&self, approval: &ApprovalId) -> Result<Vec<PushJob>, StoreError>;
    /// Sets (or with `None` removes) a user's e-mail address, with its audit event.
    async fn set_user_email(
        &self,
        user: &UserId,
        email: Option<&str>,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn user_email(&self, user: &UserId) -> Result<Option<String>, StoreError>;
}

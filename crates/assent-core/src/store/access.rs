//! Access requests, their approvers and their grants. A request ends by one conditional write
//! that only a pending request accepts, and a grant is revoked by one that only an unrevoked
//! grant accepts: of racing writers exactly one wins, so a quorum issues one grant, never two.

use crate::access::records::{AccessEnding, AccessRequest, Approver};
use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::{AccessRequestId, ApprovalId};
use async_trait::async_trait;
use time::OffsetDateTime;

/// Access requests with several approvers.
#[async_trait]
pub trait AccessStore: Send + Sync {
    /// Stores a new access request with its approvers (whose prompts exist already) and its
    /// audit event, in one transaction. [`StoreError::Conflict`] when it holds an approval
    /// another co-approval holds already.
    async fn insert_access_request(
        &self,
        request: &AccessRequest,
        approvers: &[Approver],
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn access_request(
        &self,
        id: &AccessRequestId,
    ) -> Result<Option<AccessRequest>, StoreError>;
    /// Its approvers, in the order they were stored.
    async fn access_approvers(&self, id: &AccessRequestId) -> Result<Vec<Approver>, StoreError>;
    /// The access request an approval request asks about, if any.
    async fn access_request_of_approval(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<AccessRequestId>, StoreError>;
    /// The co-approval that holds the user's own approval of `approval`, if any.
    async fn access_request_holding(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<AccessRequestId>, StoreError>;
    /// Ends a request (and stores its grant, if any) with the audit event, only if it is still
    /// pending; `false` (nothing written) when another writer ended it first. An ending by
    /// break-glass also removes the break-glass code it names, only if that is still the stored
    /// code: when it is not (spent or replaced), nothing is written and the answer is `false`.
    async fn end_access_request(
        &self,
        id: &AccessRequestId,
        ending: &AccessEnding,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Marks the request's grant revoked with the audit event, only if it has one that is not
    /// revoked yet; `false` (nothing written) otherwise.
    async fn revoke_access_grant(
        &self,
        id: &AccessRequestId,
        at: OffsetDateTime,
        by: &str,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// The access request whose grant has this `jti`.
    async fn access_request_by_grant(
        &self,
        grant_id: &str,
    ) -> Result<Option<AccessRequest>, StoreError>;
    /// Pending requests whose expiry is at or before `now`, at most `limit`, oldest first.
    async fn access_requests_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError>;
    /// Replaces the break-glass code (its Argon2id hash) with the audit event.
    async fn set_break_glass_code(
        &self,
        hash: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    /// The stored break-glass code's hash, if one is set and unspent.
    async fn break_glass_code(&self) -> Result<Option<String>, StoreError>;
    /// Records an admin's review of a break-glass grant with the audit event, only if it is a
    /// break-glass grant not reviewed yet; `false` (nothing written) otherwise.
    async fn review_break_glass(
        &self,
        id: &AccessRequestId,
        at: OffsetDateTime,
        by: &str,
        note: &str,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Break-glass grants no admin has reviewed yet, oldest first, at most `limit`.
    async fn unreviewed_break_glass(&self, limit: u32) -> Result<Vec<AccessRequest>, StoreError>;
}

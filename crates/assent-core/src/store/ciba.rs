//! CIBA clients, backchannel requests and revoked access tokens. A client is inserted once with
//! its audit event and never changed; a request's poll turn and its token issuance are
//! conditional writes with exactly one winner.

use crate::audit::PendingAudit;
use crate::ciba::records::{CibaClient, CibaRequest, NotificationDone};
use crate::error::StoreError;
use async_trait::async_trait;
use time::OffsetDateTime;

/// OpenID CIBA's persistent state.
#[async_trait]
pub trait CibaStore: Send + Sync {
    /// Registers a client with its audit event; [`StoreError::Conflict`] when the client id
    /// exists.
    async fn insert_ciba_client(
        &self,
        client: &CibaClient,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn ciba_client(&self, client_id: &str) -> Result<Option<CibaClient>, StoreError>;
    /// Every client, oldest first.
    async fn list_ciba_clients(&self) -> Result<Vec<CibaClient>, StoreError>;

    /// Stores a backchannel request, whose approval is stored already.
    async fn insert_ciba_request(&self, request: &CibaRequest) -> Result<(), StoreError>;
    async fn ciba_request(&self, id_hash: &[u8]) -> Result<Option<CibaRequest>, StoreError>;
    /// The backchannel request an approval came from, if any.
    async fn ciba_request_for_approval(
        &self,
        approval: &crate::ids::ApprovalId,
    ) -> Result<Option<CibaRequest>, StoreError>;
    /// Moves a request's poll turn: writes `next_poll_at` and `interval` only if the stored
    /// `next_poll_at` is still `seen` (compare and set); `false` when another poll moved it
    /// first, and then nothing is written.
    async fn move_ciba_poll(
        &self,
        id_hash: &[u8],
        seen: OffsetDateTime,
        next_poll_at: OffsetDateTime,
        interval: u32,
    ) -> Result<bool, StoreError>;
    /// Records that the request's tokens were issued at `at`, with the audit event, only if
    /// they were not issued before; `false` (nothing written) otherwise.
    async fn issue_ciba_tokens(
        &self,
        id_hash: &[u8],
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;

    /// Revokes an access token by its `jti` until `expires_at` (after which it is refused for
    /// its age anyway), with the audit event; `false` when it was revoked already (nothing
    /// written).
    async fn revoke_token(
        &self,
        jti: &str,
        expires_at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    async fn token_revoked(&self, jti: &str) -> Result<bool, StoreError>;
    // --- notifications (ping and push modes), a durable outbox
    /// Requests whose notification is due at `now`: a notification token was stored with the
    /// request (ping and push clients; the store keeps a notification row for each from
    /// [`CibaStore::insert_ciba_request`] on), its approval is final, it was neither delivered
    /// nor given up, its next attempt is due and no claim on it runs. Oldest first, at most
    /// `limit`.
    async fn due_ciba_notifications(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<CibaRequest>, StoreError>;
    /// Claims a due notification until `lease_until`: `true` for exactly one of simultaneous
    /// claimers, on any node; `false` (nothing written) when another claim runs or it is no
    /// longer due. Returns the attempts made so far with the claim.
    async fn claim_ciba_notification(
        &self,
        id_hash: &[u8],
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<u32>, StoreError>;
    /// Records how an attempt ended, counts it and ends the claim.
    async fn finish_ciba_notification(
        &self,
        id_hash: &[u8],
        done: &NotificationDone,
    ) -> Result<(), StoreError>;

    /// Forgets requests and revocations that expired before `now`; how many rows went.
    async fn purge_ciba(&self, now: OffsetDateTime) -> Result<u64, StoreError>;
}

//! The fallback factors: TOTP secrets and their last accepted step, recovery codes, and the
//! attempts limit. Steps move forward only, a code is used once, and an attempt is checked and
//! counted in one atomic step; attempts take no audit event.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::UserId;
use crate::model::{Admission, RecoveryCode, TotpSecret};
use async_trait::async_trait;
use time::OffsetDateTime;

/// TOTP, recovery codes and factor attempts.
#[async_trait]
pub trait FactorStore: Send + Sync {
    /// Stores a user's TOTP factor; `false` (nothing written) when the user has one.
    async fn insert_totp(&self, totp: &TotpSecret, audit: PendingAudit)
    -> Result<bool, StoreError>;
    async fn totp(&self, user: &UserId) -> Result<Option<TotpSecret>, StoreError>;
    /// Removes a user's TOTP factor; `false` when there was none.
    async fn delete_totp(&self, user: &UserId, audit: PendingAudit) -> Result<bool, StoreError>;
    /// Accepts a code of time step `step` only if no code of this or a later step was accepted
    /// before; `false` (nothing written) otherwise.
    async fn use_totp_step(
        &self,
        user: &UserId,
        step: u64,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Replaces the user's whole set of recovery codes.
    async fn replace_recovery_codes(
        &self,
        user: &UserId,
        codes: &[RecoveryCode],
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    /// The user's unused recovery codes.
    async fn recovery_codes(&self, user: &UserId) -> Result<Vec<RecoveryCode>, StoreError>;
    /// Marks one code used; `false` (nothing written) when it was used already or replaced.
    async fn use_recovery_code(
        &self,
        user: &UserId,
        slot: u32,
        hash: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Counts an attempt at `factor` for the user, unless `max` attempts were counted since
    /// `since` already; check and count are one atomic step, so parallel guesses cannot exceed
    /// the limit.
    async fn admit_attempt(
        &self,
        user: &UserId,
        factor: &str,
        at: OffsetDateTime,
        since: OffsetDateTime,
        max: u32,
    ) -> Result<Admission, StoreError>;
    /// Attempts counted since `since`, and the oldest of them.
    async fn attempts_since(
        &self,
        user: &UserId,
        factor: &str,
        since: OffsetDateTime,
    ) -> Result<(u32, Option<OffsetDateTime>), StoreError>;
    /// Forgets the user's attempts at `factor` (after a success).
    async fn clear_attempts(&self, user: &UserId, factor: &str) -> Result<(), StoreError>;
}

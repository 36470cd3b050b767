//! Enrolled devices and what hangs off one: proof ids, last seen, activation, its passkey and
//! its push subscription. Revocation, activation, removal and proof ids are conditional writes
//! that report whether they won; a device has at most one passkey and one push subscription.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::{DeviceId, UserId};
use crate::model::{Device, Passkey};
use async_trait::async_trait;
use time::OffsetDateTime;

/// Devices, their proofs and their authenticator records.
#[async_trait]
pub trait DeviceStore: Send + Sync {
    async fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError>;
    async fn device_by_jkt(&self, jkt: &str) -> Result<Option<Device>, StoreError>;
    /// Devices of one user, or of everyone.
    async fn list_devices(&self, user: Option<&UserId>) -> Result<Vec<Device>, StoreError>;
    /// Revokes an active device; `false` when it was already revoked.
    async fn revoke_device(
        &self,
        id: &DeviceId,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Records a device proof's id; `false` when the same key already used it (a replay).
    /// Entries may be forgotten after `expires_at`, when the proof's time check refuses it anyway.
    async fn consume_proof(
        &self,
        jkt: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Forgets proof ids that expired before `now`.
    async fn purge_proofs(&self, now: OffsetDateTime) -> Result<u64, StoreError>;

    /// Records when a device last proved itself: moves `last_seen_at` to `at` only if it is
    /// unset or at least [`crate::model::LAST_SEEN_RESOLUTION`] older.
    async fn touch_device(&self, id: &DeviceId, at: OffsetDateTime) -> Result<(), StoreError>;
    /// Makes a device that waits for activation active; `false` when it no longer waits.
    async fn activate_device(&self, id: &DeviceId, audit: PendingAudit)
    -> Result<bool, StoreError>;
    /// Deletes a device that waits for activation (refused); `false` when it no longer waits.
    async fn remove_pending_device(
        &self,
        id: &DeviceId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;

    /// Devices still waiting for activation that were enrolled before `before`, oldest first,
    /// at most `limit`.
    async fn pending_devices_created_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Device>, StoreError>;

    /// Renames a device.
    async fn rename_device(
        &self,
        id: &DeviceId,
        name: &str,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    /// Registers (or replaces) a device's passkey.
    async fn set_passkey(&self, passkey: &Passkey, audit: PendingAudit) -> Result<(), StoreError>;
    async fn passkey(&self, device: &DeviceId) -> Result<Option<Passkey>, StoreError>;
    /// Moves the passkey's signature counter to `to` if `credential_id` is still its passkey and
    /// its counter is lower: a conditional write, so of two assertions with one counter only one
    /// is accepted. Returns whether it moved.
    async fn advance_sign_count(
        &self,
        device: &DeviceId,
        credential_id: &str,
        to: u32,
    ) -> Result<bool, StoreError>;
}

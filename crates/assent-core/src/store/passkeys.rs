//! Passkeys at relying parties' origins: the relying parties' WebAuthn identities, the users'
//! passkeys, and ceremonies, each taken once. A passkey's counter moves by a conditional write,
//! so two assertions racing with one counter value cannot both move it.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::{AppId, UserId};
use crate::passkeys::records::{Ceremony, PasskeyProof, RpPasskey, RpWebauthn};
use async_trait::async_trait;
use time::OffsetDateTime;

/// Passkeys at relying parties.
#[async_trait]
pub trait RpPasskeyStore: Send + Sync {
    /// Sets (or replaces) an application's WebAuthn identity with the audit event.
    async fn set_app_webauthn(
        &self,
        config: &RpWebauthn,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn app_webauthn(&self, app: &AppId) -> Result<Option<RpWebauthn>, StoreError>;
    async fn insert_ceremony(&self, ceremony: &Ceremony) -> Result<(), StoreError>;
    /// Removes and returns the application's ceremony `id` if it has not expired at `now`;
    /// `None` when it is unknown, another application's, used already or expired. Expired
    /// ceremonies are removed on the way.
    async fn take_ceremony(
        &self,
        id: &str,
        app: &AppId,
        now: OffsetDateTime,
    ) -> Result<Option<Ceremony>, StoreError>;
    /// Stores a new passkey with the audit event; [`StoreError::Conflict`] when its credential
    /// id is registered already.
    async fn insert_rp_passkey(
        &self,
        passkey: &RpPasskey,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    /// A user's passkeys at an application, oldest first.
    async fn rp_passkeys(&self, app: &AppId, user: &UserId) -> Result<Vec<RpPasskey>, StoreError>;
    /// Keeps a finished authentication for one request to show.
    async fn insert_passkey_proof(&self, proof: &PasskeyProof) -> Result<(), StoreError>;
    /// Removes and returns `user`'s proof `id` at the application if it has not expired at
    /// `now`; `None` (and nothing removed) when it is unknown, another application's or user's,
    /// used already or expired. Expired proofs are removed on the way.
    async fn take_passkey_proof(
        &self,
        id: &str,
        app: &AppId,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<Option<PasskeyProof>, StoreError>;
    /// Records a use: the new state and counter, only if the stored counter is still `seen`;
    /// `false` (nothing written) when another use moved it first.
    async fn use_rp_passkey(
        &self,
        passkey: &RpPasskey,
        seen: u32,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
}

//! API keys, applications and users: inserted once with their audit event. Applications and
//! users are never changed or removed, which is what lets the service keep copies of them; an
//! API key can be revoked, so it is read from the store on every use.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::{AppId, UserId, Username};
use crate::model::{ApiKeyRecord, App, User};
use async_trait::async_trait;
use time::OffsetDateTime;

/// Who may call Assent (API keys and applications) and on whose behalf (users).
#[async_trait]
pub trait IdentityStore: Send + Sync {
    // --- keys and applications
    /// Stores an API key (admin or application) with its audit event. Applications and users
    /// are never changed or removed once stored: the service keeps the copies it reads
    /// (`service::records`), so a method that changed them would also have to make the service
    /// forget them.
    async fn insert_api_key(
        &self,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    /// Whether an admin key that is not revoked exists.
    async fn has_admin_key(&self) -> Result<bool, StoreError>;
    /// The keys of an application, revoked ones included, newest first.
    async fn app_keys(&self, app: &AppId) -> Result<Vec<ApiKeyRecord>, StoreError>;
    /// Stores an application's new key and revokes, at its creation time, the keys of
    /// `replaced`, all in one transaction with the audit event: only when `replaced` are exactly
    /// the application's unrevoked keys at that moment. Otherwise (a rotation or revocation ran
    /// in between) fails with [`StoreError::Conflict`] and writes nothing, so the audit event
    /// names exactly what was revoked and one key is left working.
    async fn rotate_api_key(
        &self,
        key: &ApiKeyRecord,
        replaced: &[String],
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    /// Revokes a key if it is not revoked yet; `false`, with nothing written, if it was.
    async fn revoke_api_key(
        &self,
        id: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Creates an application together with its first API key.
    async fn insert_app(
        &self,
        app: &App,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn app(&self, id: &AppId) -> Result<Option<App>, StoreError>;
    /// Every application, by name.
    async fn list_apps(&self) -> Result<Vec<App>, StoreError>;

    // --- users
    /// Fails with [`StoreError::Conflict`] when the username is taken.
    async fn insert_user(&self, user: &User, audit: PendingAudit) -> Result<(), StoreError>;
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    async fn user_by_name(&self, name: &Username) -> Result<Option<User>, StoreError>;
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
}

//! API keys, applications and users: inserted once with their audit event, then only read.
//! None of them is ever changed or removed, which is what lets the service keep copies.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::{AppId, UserId, Username};
use crate::model::{ApiKeyRecord, App, User};
use async_trait::async_trait;

/// Who may call Assent (API keys and applications) and on whose behalf (users).
#[async_trait]
pub trait IdentityStore: Send + Sync {
    // --- keys and applications
    /// Stores an API key (admin or application) with its audit event. API keys, applications
    /// and users are never changed or removed once stored: the service keeps the copies it
    /// reads (`service::records`), so a method that changed them would also have to make the
    /// service forget them.
    async fn insert_api_key(
        &self,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError>;
    async fn has_admin_key(&self) -> Result<bool, StoreError>;
    /// Creates an application together with its first API key.
    async fn insert_app(
        &self,
        app: &App,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn app(&self, id: &AppId) -> Result<Option<App>, StoreError>;

    // --- users
    /// Fails with [`StoreError::Conflict`] when the username is taken.
    async fn insert_user(&self, user: &User, audit: PendingAudit) -> Result<(), StoreError>;
    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError>;
    async fn user_by_name(&self, name: &Username) -> Result<Option<User>, StoreError>;
    async fn list_users(&self) -> Result<Vec<User>, StoreError>;
}

//! Duo Auth API integrations. An integration is inserted once with its audit event and never
//! changed. (Replayed signatures are refused through
//! [`DeviceStore::consume_proof`](super::DeviceStore::consume_proof).)

use crate::audit::PendingAudit;
use crate::duo::records::DuoIntegration;
use crate::error::StoreError;
use async_trait::async_trait;

/// The Duo adapter's persistent state.
#[async_trait]
pub trait DuoStore: Send + Sync {
    /// Stores an integration with its audit event; [`StoreError::Conflict`] when the
    /// integration key exists.
    async fn insert_duo_integration(
        &self,
        integration: &DuoIntegration,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    async fn duo_integration(&self, ikey: &str) -> Result<Option<DuoIntegration>, StoreError>;
    /// Every integration, oldest first.
    async fn list_duo_integrations(&self) -> Result<Vec<DuoIntegration>, StoreError>;
}

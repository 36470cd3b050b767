//! Each application's webhook and its delivery progress. Configuring one is audited and starts
//! its cursor at the current end of the audit log, only the first time; progress is not audited.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::AppId;
use crate::model::{Webhook, WebhookProgress};
use async_trait::async_trait;

/// Webhooks and how far each has delivered.
#[async_trait]
pub trait WebhookStore: Send + Sync {
    /// Configures (or replaces) an application's webhook, with its audit event.
    async fn set_webhook(&self, webhook: &Webhook, audit: PendingAudit) -> Result<(), StoreError>;
    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError>;
    async fn webhook_progress(&self, app: &AppId) -> Result<WebhookProgress, StoreError>;
    async fn set_webhook_progress(
        &self,
        app: &AppId,
        progress: &WebhookProgress,
    ) -> Result<(), StoreError>;
}

//! Each application's webhook and its delivery progress. Configuring one is audited and starts
//! its cursor at the current end of the audit log, only the first time; progress is not audited.
//!
//! Nodes that share the database take turns at an application's deliveries with a claim: a lease
//! on the application's progress row held by one dispatcher at a time, renewed while it delivers.
//! Progress written under a claim lands only while the claim is still held, so a dispatcher whose
//! lease ran out cannot move the cursor back under the one that took over.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::ids::AppId;
use crate::model::{Webhook, WebhookProgress};
use async_trait::async_trait;
use time::OffsetDateTime;

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
    /// Claims (or renews) `app`'s deliveries for `holder` until `lease_until`: `true` when no
    /// one held them, the previous lease ended at or before `now`, or `holder` held them
    /// already; `false` (nothing written) while another holder's lease runs. Of simultaneous
    /// claimers, on any node, one wins.
    async fn claim_webhook(
        &self,
        app: &AppId,
        holder: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<bool, StoreError>;
    /// Writes progress only while `holder` holds the claim; `false` (nothing written) otherwise.
    async fn advance_webhook(
        &self,
        app: &AppId,
        holder: &str,
        progress: &WebhookProgress,
    ) -> Result<bool, StoreError>;
    /// Ends `holder`'s claim, if it still holds it, so another node may deliver at once.
    async fn release_webhook(&self, app: &AppId, holder: &str) -> Result<(), StoreError>;
}

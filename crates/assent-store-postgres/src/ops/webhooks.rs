//! Each application's webhook and its delivery progress.

use super::{execute, write_audited};
use crate::error::{backend, to_i64};
use crate::rows::{self, to_json};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::AppId;
use assent_core::model::{Webhook, WebhookProgress};
use assent_core::store::WebhookStore;
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
impl WebhookStore for PostgresStore {
    /// A new webhook starts with the events from now on, not the whole history: its cursor starts
    /// at the chain head as committed when it is configured.
    async fn set_webhook(&self, w: &Webhook, audit: PendingAudit) -> Result<(), StoreError> {
        let upsert = sqlx::query(
            "INSERT INTO webhooks (app_id, url, secret_sealed, events, created_at) VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (app_id) DO UPDATE SET url = excluded.url, secret_sealed = excluded.secret_sealed,
                events = excluded.events, created_at = excluded.created_at",
        )
        .bind(w.app_id.to_string())
        .bind(w.url.clone())
        .bind(w.secret_sealed.clone())
        .bind(to_json(&w.events)?)
        .bind(to_millis(w.created_at));
        let progress = sqlx::query(
            "INSERT INTO webhook_progress (app_id, cursor)
             VALUES ($1, COALESCE((SELECT seq FROM audit_head WHERE id = 1), 0))
             ON CONFLICT (app_id) DO NOTHING",
        )
        .bind(w.app_id.to_string());
        write_audited(&self.pool, vec![upsert, progress], &audit).await
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        sqlx::query(
            "SELECT app_id, url, secret_sealed, events, created_at FROM webhooks ORDER BY app_id",
        )
        .try_map(rows::webhook)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn webhook_progress(&self, app: &AppId) -> Result<WebhookProgress, StoreError> {
        let found = sqlx::query(
            "SELECT cursor, last_error, failed FROM webhook_progress WHERE app_id = $1",
        )
        .bind(app.as_str())
        .try_map(rows::webhook_progress)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(found.unwrap_or_default())
    }

    async fn set_webhook_progress(
        &self,
        app: &AppId,
        p: &WebhookProgress,
    ) -> Result<(), StoreError> {
        let upsert = sqlx::query(
            "INSERT INTO webhook_progress (app_id, cursor, last_error, failed) VALUES ($1, $2, $3, $4)
             ON CONFLICT (app_id) DO UPDATE SET cursor = excluded.cursor,
                last_error = excluded.last_error, failed = excluded.failed",
        )
        .bind(app.to_string())
        .bind(to_i64(p.cursor, "webhook cursor")?)
        .bind(p.last_error.clone())
        .bind(to_i64(p.failed, "webhook failures")?);
        execute(&self.pool, upsert).await.map(drop)
    }

    /// The claim is one conditional `UPDATE` of the application's progress row: simultaneous
    /// claimers queue on the row lock, and after the first commits the others find a live lease
    /// that is not theirs.
    async fn claim_webhook(
        &self,
        app: &AppId,
        holder: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let claim = sqlx::query(
            "UPDATE webhook_progress SET lease_holder = $2, lease_until = $3
             WHERE app_id = $1 AND (lease_holder IS NULL OR lease_holder = $2 OR lease_until <= $4)",
        )
        .bind(app.to_string())
        .bind(holder.to_owned())
        .bind(to_millis(lease_until))
        .bind(to_millis(now));
        Ok(execute(&self.pool, claim).await? == 1)
    }

    async fn advance_webhook(
        &self,
        app: &AppId,
        holder: &str,
        p: &WebhookProgress,
    ) -> Result<bool, StoreError> {
        let advance = sqlx::query(
            "UPDATE webhook_progress SET cursor = $3, last_error = $4, failed = $5
             WHERE app_id = $1 AND lease_holder = $2",
        )
        .bind(app.to_string())
        .bind(holder.to_owned())
        .bind(to_i64(p.cursor, "webhook cursor")?)
        .bind(p.last_error.clone())
        .bind(to_i64(p.failed, "webhook failures")?);
        Ok(execute(&self.pool, advance).await? == 1)
    }

    async fn release_webhook(&self, app: &AppId, holder: &str) -> Result<(), StoreError> {
        let release = sqlx::query(
            "UPDATE webhook_progress SET lease_holder = NULL, lease_until = NULL
             WHERE app_id = $1 AND lease_holder = $2",
        )
        .bind(app.to_string())
        .bind(holder.to_owned());
        execute(&self.pool, release).await.map(drop)
    }
}

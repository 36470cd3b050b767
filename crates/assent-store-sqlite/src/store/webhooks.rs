//! Each application's webhook and its delivery progress.

use super::SqliteStore;
use super::audit::append_audit;
use crate::connection::backend;
use crate::rows::to_json;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::AppId;
use assent_core::model::{Webhook, WebhookProgress};
use assent_core::store::WebhookStore;
use async_trait::async_trait;
use rusqlite::params;
use time::OffsetDateTime;

#[async_trait]
impl WebhookStore for SqliteStore {
    async fn set_webhook(&self, w: &Webhook, audit: PendingAudit) -> Result<(), StoreError> {
        let w = w.clone();
        let events = to_json(&w.events)?;
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO webhooks (app_id, url, secret_sealed, events, created_at) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (app_id) DO UPDATE SET url = excluded.url, secret_sealed = excluded.secret_sealed,
                    events = excluded.events, created_at = excluded.created_at",
            )
            .and_then(|mut s| s.execute(params![w.app_id.as_str(), w.url, w.secret_sealed, events, to_millis(w.created_at)]))
            .map_err(backend)?;
            // A new webhook starts with events from now on, not the whole history.
            c.prepare_cached(
                "INSERT INTO webhook_progress (app_id, cursor) VALUES (?1, COALESCE((SELECT MAX(seq) FROM audit), 0))
                 ON CONFLICT (app_id) DO NOTHING",
            )
            .and_then(|mut s| s.execute([w.app_id.as_str()]))
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn webhooks(&self) -> Result<Vec<Webhook>, StoreError> {
        self.read_heavy(|c| {
            c.prepare_cached("SELECT app_id, url, secret_sealed, events, created_at FROM webhooks ORDER BY app_id")?
                .query_map([], |r| {
                    let events: String = r.get(3)?;
                    Ok(Webhook {
                        app_id: AppId::from_stored(r.get(0)?),
                        url: r.get(1)?,
                        secret_sealed: r.get(2)?,
                        events: serde_json::from_str(&events).unwrap_or_default(),
                        created_at: assent_core::clock::from_millis(r.get(4)?),
                    })
                })?
                .collect()
        })
        .await
    }

    async fn webhook_progress(&self, app: &AppId) -> Result<WebhookProgress, StoreError> {
        let sql =
            "SELECT cursor, last_error, failed FROM webhook_progress WHERE app_id = ?1".to_owned();
        let found = self
            .one(sql, app.to_string(), |r| {
                Ok(WebhookProgress {
                    cursor: u64::try_from(r.get::<_, i64>(0)?).unwrap_or(0),
                    last_error: r.get(1)?,
                    failed: u64::try_from(r.get::<_, i64>(2)?).unwrap_or(0),
                })
            })
            .await?;
        Ok(found.unwrap_or_default())
    }

    async fn set_webhook_progress(
        &self,
        app: &AppId,
        p: &WebhookProgress,
    ) -> Result<(), StoreError> {
        let (app, p) = (app.clone(), p.clone());
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO webhook_progress (app_id, cursor, last_error, failed) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (app_id) DO UPDATE SET cursor = excluded.cursor, last_error = excluded.last_error,
                    failed = excluded.failed",
            )
            .and_then(|mut s| {
                s.execute(params![
                    app.as_str(),
                    i64::try_from(p.cursor).unwrap_or(i64::MAX),
                    p.last_error,
                    i64::try_from(p.failed).unwrap_or(i64::MAX)
                ])
            })
            .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn claim_webhook(
        &self,
        app: &AppId,
        holder: &str,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (app, holder) = (app.to_string(), holder.to_owned());
        self.write(move |c| {
            let changed = c
                .prepare_cached(
                    "UPDATE webhook_progress SET lease_holder = ?2, lease_until = ?3
                     WHERE app_id = ?1
                       AND (lease_holder IS NULL OR lease_holder = ?2 OR lease_until <= ?4)",
                )
                .and_then(|mut s| {
                    s.execute(params![app, holder, to_millis(lease_until), to_millis(now)])
                })
                .map_err(backend)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn advance_webhook(
        &self,
        app: &AppId,
        holder: &str,
        p: &WebhookProgress,
    ) -> Result<bool, StoreError> {
        let (app, holder, p) = (app.to_string(), holder.to_owned(), p.clone());
        self.write(move |c| {
            let changed = c
                .prepare_cached(
                    "UPDATE webhook_progress SET cursor = ?3, last_error = ?4, failed = ?5
                     WHERE app_id = ?1 AND lease_holder = ?2",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        app,
                        holder,
                        i64::try_from(p.cursor).unwrap_or(i64::MAX),
                        p.last_error,
                        i64::try_from(p.failed).unwrap_or(i64::MAX)
                    ])
                })
                .map_err(backend)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn release_webhook(&self, app: &AppId, holder: &str) -> Result<(), StoreError> {
        let (app, holder) = (app.to_string(), holder.to_owned());
        self.write(move |c| {
            c.prepare_cached(
                "UPDATE webhook_progress SET lease_holder = NULL, lease_until = NULL
                 WHERE app_id = ?1 AND lease_holder = ?2",
            )
            .and_then(|mut s| s.execute(params![app, holder]))
            .map_err(backend)?;
            Ok(())
        })
        .await
    }
}

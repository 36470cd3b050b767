//! What the fatigue defense, the risk engine, webhooks and alerts keep.

use super::{execute, write_audited};
use crate::error::{backend, to_i64};
use crate::rows::{self, alert_columns, to_json};
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::{from_millis, to_millis};
use assent_core::ids::{AppId, DeviceId, UserId};
use assent_core::model::{Alert, PastApproval, Suspension, Webhook, WebhookProgress};
use sqlx::postgres::PgPool;
use time::OffsetDateTime;

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

pub(crate) async fn prompts_since(
    pool: &PgPool,
    user: &UserId,
    since: OffsetDateTime,
) -> Result<u64, StoreError> {
    let n: i64 =
        sqlx::query_scalar("SELECT count(*) FROM approvals WHERE user_id = $1 AND created_at > $2")
            .bind(user.as_str())
            .bind(to_millis(since))
            .fetch_one(pool)
            .await
            .map_err(backend)?;
    Ok(count(n))
}

pub(crate) async fn last_approved_at(
    pool: &PgPool,
    user: &UserId,
) -> Result<Option<OffsetDateTime>, StoreError> {
    let at: Option<i64> = sqlx::query_scalar(
        "SELECT max(decided_at) FROM approvals WHERE user_id = $1 AND state = 'approved'",
    )
    .bind(user.as_str())
    .fetch_one(pool)
    .await
    .map_err(backend)?;
    Ok(at.map(from_millis))
}

pub(crate) async fn suspension(
    pool: &PgPool,
    user: &UserId,
) -> Result<Option<Suspension>, StoreError> {
    sqlx::query(
        "SELECT user_id, until, reason, created_at FROM push_suspensions WHERE user_id = $1",
    )
    .bind(user.as_str())
    .try_map(rows::suspension)
    .fetch_optional(pool)
    .await
    .map_err(backend)
}

pub(crate) async fn suspend(
    pool: &PgPool,
    s: &Suspension,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
    let upsert = sqlx::query(
        "INSERT INTO push_suspensions (user_id, until, reason, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (user_id) DO UPDATE SET until = excluded.until, reason = excluded.reason,
            created_at = excluded.created_at",
    )
    .bind(s.user_id.to_string())
    .bind(to_millis(s.until))
    .bind(s.reason.as_str())
    .bind(to_millis(s.created_at));
    write_audited(pool, vec![upsert], audit).await
}

pub(crate) async fn request_history(
    pool: &PgPool,
    user: &UserId,
    since: OffsetDateTime,
    limit: u32,
) -> Result<Vec<PastApproval>, StoreError> {
    sqlx::query(
        "SELECT state, created_at, decided_at, context FROM approvals
         WHERE user_id = $1 AND created_at >= $2 ORDER BY created_at DESC, id DESC LIMIT $3",
    )
    .bind(user.as_str())
    .bind(to_millis(since))
    .bind(i64::from(limit))
    .try_map(rows::past_approval)
    .fetch_all(pool)
    .await
    .map_err(backend)
}

pub(crate) async fn record_network_report(
    pool: &PgPool,
    network: &str,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    let insert = sqlx::query("INSERT INTO network_reports (network, reported_at) VALUES ($1, $2)")
        .bind(network.to_owned())
        .bind(to_millis(at));
    execute(pool, insert).await.map(drop)
}

pub(crate) async fn network_reports_since(
    pool: &PgPool,
    network: &str,
    since: OffsetDateTime,
) -> Result<u64, StoreError> {
    let n: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM network_reports WHERE network = $1 AND reported_at >= $2",
    )
    .bind(network)
    .bind(to_millis(since))
    .fetch_one(pool)
    .await
    .map_err(backend)?;
    Ok(count(n))
}

/// A new webhook starts with the events from now on, not the whole history: its cursor starts
/// at the chain head as committed when it is configured.
pub(crate) async fn set_webhook(
    pool: &PgPool,
    w: &Webhook,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
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
    write_audited(pool, vec![upsert, progress], audit).await
}

pub(crate) async fn webhooks(pool: &PgPool) -> Result<Vec<Webhook>, StoreError> {
    sqlx::query(
        "SELECT app_id, url, secret_sealed, events, created_at FROM webhooks ORDER BY app_id",
    )
    .try_map(rows::webhook)
    .fetch_all(pool)
    .await
    .map_err(backend)
}

pub(crate) async fn webhook_progress(
    pool: &PgPool,
    app: &AppId,
) -> Result<WebhookProgress, StoreError> {
    let found =
        sqlx::query("SELECT cursor, last_error, failed FROM webhook_progress WHERE app_id = $1")
            .bind(app.as_str())
            .try_map(rows::webhook_progress)
            .fetch_optional(pool)
            .await
            .map_err(backend)?;
    Ok(found.unwrap_or_default())
}

pub(crate) async fn set_webhook_progress(
    pool: &PgPool,
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
    execute(pool, upsert).await.map(drop)
}

pub(crate) async fn insert_alert(pool: &PgPool, a: &Alert) -> Result<(), StoreError> {
    let insert = sqlx::query(
        "INSERT INTO alerts (id, user_id, kind, message, created_at, device_id)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(a.id.to_string())
    .bind(a.user_id.to_string())
    .bind(a.kind.clone())
    .bind(a.message.clone())
    .bind(to_millis(a.created_at))
    .bind(a.device_id.as_ref().map(DeviceId::to_string));
    execute(pool, insert).await.map(drop)
}

pub(crate) async fn alerts_for_user(
    pool: &PgPool,
    user: &UserId,
    limit: u32,
) -> Result<Vec<Alert>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        alert_columns!(),
        " FROM alerts WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    ))
    .bind(user.as_str())
    .bind(i64::from(limit))
    .try_map(rows::alert)
    .fetch_all(pool)
    .await
    .map_err(backend)
}

//! Push targets, the push outbox and users' e-mail addresses. Several nodes claim at once: the
//! claim locks the due rows it takes and skips rows another node holds (`FOR UPDATE SKIP
//! LOCKED`), so each push goes to one node; a finish lands only for its own claim.

use super::{begin, change_once, execute, run, write_audited};
use crate::error::backend;
use crate::rows::{self, push_job_columns, push_target_columns};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{ApprovalId, DeviceId, UserId};
use assent_core::outbox::pushes::{PushJob, PushResult, PushTarget};
use assent_core::store::PushStore;
use async_trait::async_trait;
use time::OffsetDateTime;

/// The insert of one push, to run in the caller's transaction (a new request and its pushes
/// commit together).
pub(crate) fn insert_push(j: &PushJob) -> super::Query {
    sqlx::query(
        "INSERT INTO push_jobs (id, channel, device_id, user_id, approval_id, urgency, topic, payload,
            state, attempts, due_at, expires_at, last_error, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(j.id.clone())
    .bind(j.channel.as_str())
    .bind(j.device_id.as_ref().map(ToString::to_string))
    .bind(j.user_id.as_ref().map(ToString::to_string))
    .bind(j.approval_id.as_ref().map(ToString::to_string))
    .bind(j.urgency.as_str())
    .bind(j.topic.clone())
    .bind(j.payload.clone())
    .bind(j.state.as_str())
    .bind(i32::try_from(j.attempts).unwrap_or(i32::MAX))
    .bind(to_millis(j.due_at))
    .bind(to_millis(j.expires_at))
    .bind(j.last_error.clone())
    .bind(to_millis(j.created_at))
    .bind(to_millis(j.updated_at))
}

#[async_trait]
impl PushStore for PostgresStore {
    async fn set_push_target(
        &self,
        target: &PushTarget,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (channel, endpoint, p256dh, auth) = rows::push_address(&target.address);
        let upsert = sqlx::query(
            "INSERT INTO push_subscriptions (device_id, channel, endpoint, p256dh, auth, created_at,
                disabled_at, disabled_reason)
             VALUES ($1, $2, $3, $4, $5, $6, NULL, NULL)
             ON CONFLICT (device_id) DO UPDATE SET channel = excluded.channel,
                endpoint = excluded.endpoint, p256dh = excluded.p256dh, auth = excluded.auth,
                created_at = excluded.created_at, disabled_at = NULL, disabled_reason = NULL",
        )
        .bind(target.device_id.to_string())
        .bind(channel)
        .bind(endpoint)
        .bind(p256dh)
        .bind(auth)
        .bind(to_millis(target.created_at));
        write_audited(&self.pool, vec![upsert], &audit).await
    }

    async fn push_target(&self, device: &DeviceId) -> Result<Option<PushTarget>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            push_target_columns!(),
            " FROM push_subscriptions WHERE device_id = $1"
        ))
        .bind(device.as_str())
        .try_map(rows::push_target)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn disable_push_target(
        &self,
        target: &PushTarget,
        at: OffsetDateTime,
        reason: &str,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (channel, endpoint, ..) = rows::push_address(&target.address);
        let update = sqlx::query(
            "UPDATE push_subscriptions SET disabled_at = $4, disabled_reason = $5
             WHERE device_id = $1 AND channel = $2 AND endpoint = $3 AND disabled_at IS NULL",
        )
        .bind(target.device_id.to_string())
        .bind(channel)
        .bind(endpoint)
        .bind(to_millis(at))
        .bind(reason.to_owned());
        change_once(&self.pool, update, &audit).await
    }

    async fn enqueue_pushes(&self, jobs: &[PushJob]) -> Result<(), StoreError> {
        let mut tx = begin(&self.pool).await?;
        for job in jobs {
            run(&mut tx, insert_push(job)).await?;
        }
        tx.commit().await.map_err(backend)
    }

    async fn claim_pushes(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<PushJob>, StoreError> {
        let mut claimed = sqlx::query(concat!(
            "UPDATE push_jobs SET state = 'sent', attempts = attempts + 1, due_at = $2, updated_at = $1
             WHERE id IN (SELECT id FROM push_jobs WHERE state IN ('queued', 'sent') AND due_at <= $1
                          ORDER BY due_at LIMIT $3 FOR UPDATE SKIP LOCKED)
             RETURNING ",
            push_job_columns!()
        ))
        .bind(to_millis(now))
        .bind(to_millis(lease_until))
        .bind(i64::from(limit))
        .try_map(rows::push_job)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        claimed.sort_by_key(|j| j.created_at);
        Ok(claimed)
    }

    async fn finish_push(
        &self,
        id: &str,
        attempt: u32,
        result: &PushResult,
        now: OffsetDateTime,
        audit: Option<PendingAudit>,
    ) -> Result<bool, StoreError> {
        let due = match result {
            PushResult::Retry { at, .. } => *at,
            _ => now,
        };
        let update = sqlx::query(
            "UPDATE push_jobs SET state = $3, due_at = $4, last_error = $5, updated_at = $6
             WHERE id = $1 AND attempts = $2 AND state = 'sent'",
        )
        .bind(id.to_owned())
        .bind(i32::try_from(attempt).unwrap_or(i32::MAX))
        .bind(result.state().as_str())
        .bind(to_millis(due))
        .bind(result.error().map(str::to_owned))
        .bind(to_millis(now));
        match audit {
            Some(audit) => change_once(&self.pool, update, &audit).await,
            None => Ok(execute(&self.pool, update).await? == 1),
        }
    }

    async fn pushes_for_approval(&self, approval: &ApprovalId) -> Result<Vec<PushJob>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            push_job_columns!(),
            " FROM push_jobs WHERE approval_id = $1 ORDER BY created_at, id"
        ))
        .bind(approval.as_str())
        .try_map(rows::push_job)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn set_user_email(
        &self,
        user: &UserId,
        email: Option<&str>,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let query = match email {
            Some(email) => sqlx::query(
                "INSERT INTO user_emails (user_id, email, updated_at) VALUES ($1, $2, $3)
                 ON CONFLICT (user_id) DO UPDATE SET email = excluded.email,
                    updated_at = excluded.updated_at",
            )
            .bind(user.to_string())
            .bind(email.to_owned())
            .bind(to_millis(audit.at)),
            None => {
                sqlx::query("DELETE FROM user_emails WHERE user_id = $1").bind(user.to_string())
            }
        };
        write_audited(&self.pool, vec![query], &audit).await
    }

    async fn user_email(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT email FROM user_emails WHERE user_id = $1")
            .bind(user.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }
}

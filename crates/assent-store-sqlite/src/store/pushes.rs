//! Push targets, the push outbox and users' e-mail addresses. There is one writer, so a claim
//! is one `UPDATE ... RETURNING` over the due rows; a finish lands only for its own claim.

use super::SqliteStore;
use super::audit::append_audit;
use crate::connection::backend;
use crate::rows;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{ApprovalId, DeviceId, UserId};
use assent_core::outbox::pushes::{PushJob, PushResult, PushTarget};
use assent_core::store::PushStore;
use async_trait::async_trait;
use rusqlite::{Connection, params};
use time::OffsetDateTime;

/// Writes pushes inside the caller's transaction (a new request and its pushes commit together).
pub(crate) fn insert_pushes(c: &Connection, jobs: &[PushJob]) -> Result<(), StoreError> {
    let mut insert = c
        .prepare_cached(
            "INSERT INTO push_jobs (id, channel, device_id, user_id, approval_id, urgency, topic, payload,
                state, attempts, due_at, expires_at, last_error, created_at, updated_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15)",
        )
        .map_err(backend)?;
    for j in jobs {
        insert
            .execute(params![
                j.id,
                j.channel.as_str(),
                j.device_id.as_ref().map(DeviceId::as_str),
                j.user_id.as_ref().map(UserId::as_str),
                j.approval_id.as_ref().map(ApprovalId::as_str),
                j.urgency.as_str(),
                j.topic,
                j.payload,
                j.state.as_str(),
                j.attempts,
                to_millis(j.due_at),
                to_millis(j.expires_at),
                j.last_error,
                to_millis(j.created_at),
                to_millis(j.updated_at),
            ])
            .map_err(backend)?;
    }
    Ok(())
}

#[async_trait]
impl PushStore for SqliteStore {
    async fn set_push_target(
        &self,
        target: &PushTarget,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let t = target.clone();
        // The device's push channel is read with the device: forget the remembered copy.
        self.write_device(t.device_id.clone(), move |c| {
            let (channel, endpoint, p256dh, auth) = rows::push_address(&t.address);
            c.prepare_cached(
                "INSERT INTO push_subscriptions (device_id, channel, endpoint, p256dh, auth, created_at, disabled_at, disabled_reason)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, NULL, NULL)
                 ON CONFLICT (device_id) DO UPDATE SET channel = excluded.channel, endpoint = excluded.endpoint,
                    p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at,
                    disabled_at = NULL, disabled_reason = NULL",
            )
            .and_then(|mut s| {
                s.execute(params![t.device_id.as_str(), channel, endpoint, p256dh, auth, to_millis(t.created_at)])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn push_target(&self, device: &DeviceId) -> Result<Option<PushTarget>, StoreError> {
        let sql = format!(
            "SELECT {} FROM push_subscriptions WHERE device_id = ?1",
            rows::PUSH_TARGET_COLUMNS
        );
        self.one(sql, device.to_string(), rows::push_target).await
    }

    async fn disable_push_target(
        &self,
        target: &PushTarget,
        at: OffsetDateTime,
        reason: &str,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let t = target.clone();
        let reason = reason.to_owned();
        self.write_device(t.device_id.clone(), move |c| {
            let (channel, endpoint, ..) = rows::push_address(&t.address);
            let changed = c
                .prepare_cached(
                    "UPDATE push_subscriptions SET disabled_at = ?4, disabled_reason = ?5
                     WHERE device_id = ?1 AND channel = ?2 AND endpoint = ?3 AND disabled_at IS NULL",
                )
                .and_then(|mut s| {
                    s.execute(params![t.device_id.as_str(), channel, endpoint, to_millis(at), reason])
                })
                .map_err(backend)?;
            if changed == 0 {
                return Ok(false);
            }
            append_audit(c, &audit)?;
            Ok(true)
        })
        .await
    }

    async fn enqueue_pushes(&self, jobs: &[PushJob]) -> Result<(), StoreError> {
        let jobs = jobs.to_vec();
        self.write(move |c| insert_pushes(c, &jobs)).await
    }

    async fn claim_pushes(
        &self,
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<PushJob>, StoreError> {
        let sql = format!(
            "UPDATE push_jobs SET state = 'sent', attempts = attempts + 1, due_at = ?2, updated_at = ?1
             WHERE id IN (SELECT id FROM push_jobs WHERE state IN ('queued', 'sent') AND due_at <= ?1
                          ORDER BY due_at LIMIT ?3)
             RETURNING {}",
            rows::PUSH_JOB_COLUMNS
        );
        self.write(move |c| {
            let mut claimed = c
                .prepare_cached(&sql)
                .and_then(|mut s| {
                    s.query_map(
                        params![to_millis(now), to_millis(lease_until), limit],
                        rows::push_job,
                    )?
                    .collect::<rusqlite::Result<Vec<_>>>()
                })
                .map_err(backend)?;
            claimed.sort_by_key(|j| j.created_at);
            Ok(claimed)
        })
        .await
    }

    async fn finish_push(
        &self,
        id: &str,
        attempt: u32,
        result: &PushResult,
        now: OffsetDateTime,
        audit: Option<PendingAudit>,
    ) -> Result<bool, StoreError> {
        let id = id.to_owned();
        let state = result.state().as_str();
        let error = result.error().map(str::to_owned);
        let due = match result {
            PushResult::Retry { at, .. } => *at,
            _ => now,
        };
        self.write(move |c| {
            let changed = c
                .prepare_cached(
                    "UPDATE push_jobs SET state = ?3, due_at = ?4, last_error = ?5, updated_at = ?6
                     WHERE id = ?1 AND attempts = ?2 AND state = 'sent'",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        id,
                        attempt,
                        state,
                        to_millis(due),
                        error,
                        to_millis(now)
                    ])
                })
                .map_err(backend)?;
            if changed == 0 {
                return Ok(false);
            }
            if let Some(audit) = &audit {
                append_audit(c, audit)?;
            }
            Ok(true)
        })
        .await
    }

    async fn pushes_for_approval(&self, approval: &ApprovalId) -> Result<Vec<PushJob>, StoreError> {
        let sql = format!(
            "SELECT {} FROM push_jobs WHERE approval_id = ?1 ORDER BY created_at, id",
            rows::PUSH_JOB_COLUMNS
        );
        let approval = approval.to_string();
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_map([approval], rows::push_job)?
                .collect()
        })
        .await
    }

    async fn set_user_email(
        &self,
        user: &UserId,
        email: Option<&str>,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (user, email, now) = (user.to_string(), email.map(str::to_owned), audit.at);
        self.write(move |c| {
            match &email {
                Some(email) => c
                    .prepare_cached(
                        "INSERT INTO user_emails (user_id, email, updated_at) VALUES (?1, ?2, ?3)
                         ON CONFLICT (user_id) DO UPDATE SET email = excluded.email, updated_at = excluded.updated_at",
                    )
                    .and_then(|mut s| s.execute(params![user, email, to_millis(now)])),
                None => c
                    .prepare_cached("DELETE FROM user_emails WHERE user_id = ?1")
                    .and_then(|mut s| s.execute([&user])),
            }
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn user_email(&self, user: &UserId) -> Result<Option<String>, StoreError> {
        self.one(
            "SELECT email FROM user_emails WHERE user_id = ?1".to_owned(),
            user.to_string(),
            |r| r.get(0),
        )
        .await
    }
}

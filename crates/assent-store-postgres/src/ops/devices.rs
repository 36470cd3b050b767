//! Devices and what hangs off one: proof ids, last seen, activation and passkeys.

use super::{begin, change_once, execute, run, settle, write_audited};
use crate::error::backend;
use crate::rows::{self, device_columns, passkey_columns};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{DeviceId, UserId};
use assent_core::model::{Device, LAST_SEEN_RESOLUTION, Passkey};
use assent_core::store::DeviceStore;
use async_trait::async_trait;
use time::OffsetDateTime;

/// Records a proof id unless the key already used it.
pub(crate) fn proof_id(jkt: &str, jti: &str, expires_at: OffsetDateTime) -> super::Query {
    sqlx::query(
        "INSERT INTO proof_ids (jkt, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(jkt.to_owned())
    .bind(jti.to_owned())
    .bind(to_millis(expires_at))
}

/// The statement that moves a device's last-seen time forward, unless it is already within
/// [`LAST_SEEN_RESOLUTION`] of `at`.
pub(crate) fn touch(id: &DeviceId, at: OffsetDateTime) -> super::Query {
    sqlx::query(
        "UPDATE devices SET last_seen_at = $2
         WHERE id = $1 AND (last_seen_at IS NULL OR last_seen_at <= $2 - $3)",
    )
    .bind(id.to_string())
    .bind(to_millis(at))
    .bind(LAST_SEEN_RESOLUTION.whole_milliseconds() as i64)
}

#[async_trait]
impl DeviceStore for PostgresStore {
    async fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices WHERE id = $1"
        ))
        .bind(id.as_str())
        .try_map(rows::device)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn device_by_jkt(&self, jkt: &str) -> Result<Option<Device>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices WHERE jkt = $1"
        ))
        .bind(jkt)
        .try_map(rows::device)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn list_devices(&self, user: Option<&UserId>) -> Result<Vec<Device>, StoreError> {
        let query = match user {
            Some(user) => sqlx::query(concat!(
                "SELECT ",
                device_columns!(),
                " FROM devices WHERE user_id = $1 ORDER BY created_at, id"
            ))
            .bind(user.as_str()),
            None => sqlx::query(concat!(
                "SELECT ",
                device_columns!(),
                " FROM devices ORDER BY created_at, id"
            )),
        };
        query
            .try_map(rows::device)
            .fetch_all(&self.pool)
            .await
            .map_err(backend)
    }

    /// A device waiting for activation can be revoked too, as on SQLite.
    async fn revoke_device(
        &self,
        id: &DeviceId,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let update = sqlx::query(
            "UPDATE devices SET state = 'revoked', revoked_at = $2, activation_code_sealed = NULL
             WHERE id = $1 AND state IN ('active', 'pending_activation')",
        )
        .bind(id.to_string())
        .bind(to_millis(at));
        change_once(&self.pool, update, &audit).await
    }

    async fn consume_proof(
        &self,
        jkt: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        Ok(execute(&self.pool, proof_id(jkt, jti, expires_at)).await? == 1)
    }

    async fn purge_proofs(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let delete =
            sqlx::query("DELETE FROM proof_ids WHERE expires_at < $1").bind(to_millis(now));
        execute(&self.pool, delete).await
    }

    async fn touch_device(&self, id: &DeviceId, at: OffsetDateTime) -> Result<(), StoreError> {
        execute(&self.pool, touch(id, at)).await.map(drop)
    }

    async fn activate_device(
        &self,
        id: &DeviceId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let update = sqlx::query(
            "UPDATE devices SET state = 'active', activation_code_sealed = NULL
             WHERE id = $1 AND state = 'pending_activation'",
        )
        .bind(id.to_string());
        change_once(&self.pool, update, &audit).await
    }

    /// Locks the device row first (`FOR UPDATE`), so an activation racing with the removal either
    /// finishes before (and the removal finds the device no longer waiting) or waits until the
    /// device is gone (and changes nothing).
    async fn remove_pending_device(
        &self,
        id: &DeviceId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = begin(&self.pool).await?;
        let pending = sqlx::query(
            "SELECT 1 FROM devices WHERE id = $1 AND state = 'pending_activation' FOR UPDATE",
        )
        .bind(id.as_str())
        .fetch_optional(&mut *tx)
        .await
        .map_err(backend)?;
        if pending.is_none() {
            return settle(tx, false, &audit).await;
        }
        // Everything that may name the device goes with it; a pending device never answered.
        for sql in [
            "DELETE FROM passkeys WHERE device_id = $1",
            "DELETE FROM push_subscriptions WHERE device_id = $1",
            "DELETE FROM push_jobs WHERE device_id = $1",
            "DELETE FROM deliveries WHERE device_id = $1",
            "UPDATE enrollments SET device_id = NULL WHERE device_id = $1",
            "UPDATE alerts SET device_id = NULL WHERE device_id = $1",
            "DELETE FROM devices WHERE id = $1",
        ] {
            run(&mut tx, sqlx::query(sql).bind(id.to_string())).await?;
        }
        settle(tx, true, &audit).await
    }

    async fn pending_devices_created_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Device>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            device_columns!(),
            " FROM devices WHERE state = 'pending_activation' AND created_at < $1
              ORDER BY created_at LIMIT $2"
        ))
        .bind(to_millis(before))
        .bind(i64::from(limit))
        .try_map(rows::device)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn rename_device(
        &self,
        id: &DeviceId,
        name: &str,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let update = sqlx::query("UPDATE devices SET name = $2 WHERE id = $1")
            .bind(id.to_string())
            .bind(name.to_owned());
        write_audited(&self.pool, vec![update], &audit).await
    }

    async fn set_passkey(&self, p: &Passkey, audit: PendingAudit) -> Result<(), StoreError> {
        let upsert = sqlx::query(
            "INSERT INTO passkeys (device_id, credential_id, public_key, created_at, sign_count)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (device_id) DO UPDATE SET credential_id = excluded.credential_id,
                public_key = excluded.public_key, created_at = excluded.created_at,
                sign_count = excluded.sign_count",
        )
        .bind(p.device_id.to_string())
        .bind(p.credential_id.clone())
        .bind(p.public_key.clone())
        .bind(to_millis(p.created_at))
        .bind(i64::from(p.sign_count));
        write_audited(&self.pool, vec![upsert], &audit).await
    }

    async fn passkey(&self, device: &DeviceId) -> Result<Option<Passkey>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            passkey_columns!(),
            " FROM passkeys WHERE device_id = $1"
        ))
        .bind(device.as_str())
        .try_map(rows::passkey)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn advance_sign_count(
        &self,
        device: &DeviceId,
        credential_id: &str,
        to: u32,
    ) -> Result<bool, StoreError> {
        let update = sqlx::query(
            "UPDATE passkeys SET sign_count = $3
             WHERE device_id = $1 AND credential_id = $2 AND sign_count < $3",
        )
        .bind(device.as_str())
        .bind(credential_id.to_owned())
        .bind(i64::from(to));
        Ok(execute(&self.pool, update).await? == 1)
    }
}

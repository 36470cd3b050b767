//! Devices and what hangs off one: proof ids, last seen, activation, passkeys and push
//! subscriptions.

use super::audit::append_audit;
use super::{SqliteStore, change_once};
use crate::connection::backend;
use crate::rows;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{DeviceId, UserId};
use assent_core::model::{Device, LAST_SEEN_RESOLUTION, Passkey};
use assent_core::store::DeviceStore;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};
use time::OffsetDateTime;

/// Deliveries to a device, found among its user's requests: deliveries have no index by device
/// (each sign-in would write a page of it), and a device only ever receives its user's requests.
pub(crate) const DELETE_DEVICE_DELIVERIES: &str = "DELETE FROM deliveries
     WHERE device_id = ?1 AND approval_id IN (
        SELECT a.id FROM devices d JOIN approvals a ON a.user_id = d.user_id WHERE d.id = ?1)";

/// Records a proof id; `false` when the key already used it.
pub(super) fn insert_proof_id(
    c: &Connection,
    jkt: &str,
    jti: &str,
    expires_at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO proof_ids (jkt, jti, expires_at) VALUES (?1, ?2, ?3) ON CONFLICT DO NOTHING",
        )
        .and_then(|mut s| s.execute(params![jkt, jti, to_millis(expires_at)]))
        .map_err(backend)?;
    Ok(inserted == 1)
}

/// Moves a device's last-seen time forward to `at`, unless it is already within
/// [`LAST_SEEN_RESOLUTION`] of it.
pub(super) fn touch(
    c: &Connection,
    device: &DeviceId,
    at: OffsetDateTime,
) -> Result<bool, StoreError> {
    let changed = c
        .prepare_cached(
            "UPDATE devices SET last_seen_at = ?2
         WHERE id = ?1 AND (last_seen_at IS NULL OR last_seen_at <= ?2 - ?3)",
        )
        .and_then(|mut s| {
            s.execute(params![
                device.as_str(),
                to_millis(at),
                LAST_SEEN_RESOLUTION.whole_milliseconds() as i64
            ])
        })
        .map_err(backend)?;
    Ok(changed == 1)
}

#[async_trait]
impl DeviceStore for SqliteStore {
    async fn device(&self, id: &DeviceId) -> Result<Option<Device>, StoreError> {
        let remembered = self.memo.device(id);
        self.device_where("id", id.to_string(), remembered).await
    }

    async fn device_by_jkt(&self, jkt: &str) -> Result<Option<Device>, StoreError> {
        let remembered = self.memo.device_by_jkt(jkt);
        self.device_where("jkt", jkt.to_owned(), remembered).await
    }

    async fn list_devices(&self, user: Option<&UserId>) -> Result<Vec<Device>, StoreError> {
        // Two statements, not one with `?1 IS NULL OR user_id = ?1`: with the query planner
        // stability guarantee a plan cannot depend on the bound value, so that form scans every
        // device, on every approval request, to find one user's.
        match user {
            Some(user) => {
                let user = user.to_string();
                let sql = format!(
                    "SELECT {} FROM devices WHERE user_id = ?1 ORDER BY created_at, id",
                    rows::DEVICE_COLUMNS
                );
                self.read(move |c| {
                    c.prepare_cached(&sql)?
                        .query_map([user], rows::device)?
                        .collect()
                })
                .await
            }
            None => {
                let sql = format!(
                    "SELECT {} FROM devices ORDER BY created_at, id",
                    rows::DEVICE_COLUMNS
                );
                self.read_heavy(move |c| {
                    c.prepare_cached(&sql)?
                        .query_map([], rows::device)?
                        .collect()
                })
                .await
            }
        }
    }

    async fn revoke_device(
        &self,
        id: &DeviceId,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write_device(id.clone(), move |c| {
            change_once(
                c,
                "UPDATE devices SET state = 'revoked', revoked_at = ?2, activation_pending = 0, activation_code_sealed = NULL WHERE id = ?1 AND state = 'active'",
                params![id.as_str(), to_millis(at)],
                &audit,
            )
        })
        .await
    }

    async fn consume_proof(
        &self,
        jkt: &str,
        jti: &str,
        expires_at: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (jkt, jti) = (jkt.to_owned(), jti.to_owned());
        self.write(move |c| insert_proof_id(c, &jkt, &jti, expires_at))
            .await
    }

    async fn purge_proofs(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.write(move |c| {
            let n = c
                .prepare_cached("DELETE FROM proof_ids WHERE expires_at < ?1")
                .and_then(|mut s| s.execute([to_millis(now)]))
                .map_err(backend)?;
            Ok(n as u64)
        })
        .await
    }

    async fn touch_device(&self, id: &DeviceId, at: OffsetDateTime) -> Result<(), StoreError> {
        let id = id.clone();
        self.write_device(id.clone(), move |c| touch(c, &id, at).map(drop))
            .await
    }

    async fn activate_device(
        &self,
        id: &DeviceId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write_device(id.clone(), move |c| {
            change_once(
                c,
                "UPDATE devices SET activation_pending = 0, activation_code_sealed = NULL WHERE id = ?1 AND state = 'active' AND activation_pending = 1",
                [id.as_str()],
                &audit,
            )
        })
        .await
    }

    async fn remove_pending_device(
        &self,
        id: &DeviceId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let id = id.clone();
        self.write_device(id.clone(), move |c| {
            let pending = c
                .prepare_cached("SELECT 1 FROM devices WHERE id = ?1 AND state = 'active' AND activation_pending = 1")
                .and_then(|mut s| s.query_row([id.as_str()], |_| Ok(())).optional())
                .map_err(backend)?;
            if pending.is_none() {
                return Ok(false);
            }
            // Everything that may name the device goes with it; a pending device never answered.
            for sql in [
                "DELETE FROM passkeys WHERE device_id = ?1",
                "DELETE FROM push_subscriptions WHERE device_id = ?1",
                "DELETE FROM push_jobs WHERE device_id = ?1",
                DELETE_DEVICE_DELIVERIES,
                "UPDATE enrollments SET device_id = NULL WHERE device_id = ?1",
                "UPDATE alerts SET device_id = NULL WHERE device_id = ?1",
                "DELETE FROM devices WHERE id = ?1",
            ] {
                c.prepare_cached(sql)
                    .and_then(|mut s| s.execute([id.as_str()]))
                    .map_err(backend)?;
            }
            append_audit(c, &audit)?;
            Ok(true)
        })
        .await
    }

    async fn pending_devices_created_before(
        &self,
        before: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Device>, StoreError> {
        let sql = format!(
            "SELECT {} FROM devices WHERE state = 'active' AND activation_pending = 1 AND created_at < ?1 ORDER BY created_at LIMIT ?2",
            rows::DEVICE_COLUMNS
        );
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![to_millis(before), limit], rows::device)?
                .collect()
        })
        .await
    }

    async fn rename_device(
        &self,
        id: &DeviceId,
        name: &str,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (id, name) = (id.clone(), name.to_owned());
        self.write_device(id.clone(), move |c| {
            c.prepare_cached("UPDATE devices SET name = ?2 WHERE id = ?1")
                .and_then(|mut s| s.execute(params![id.as_str(), name]))
                .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn set_passkey(&self, p: &Passkey, audit: PendingAudit) -> Result<(), StoreError> {
        let p = p.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO passkeys (device_id, credential_id, public_key, created_at, sign_count) VALUES (?1, ?2, ?3, ?4, ?5)
                 ON CONFLICT (device_id) DO UPDATE SET credential_id = excluded.credential_id,
                    public_key = excluded.public_key, created_at = excluded.created_at,
                    sign_count = excluded.sign_count",
            )
            .and_then(|mut s| s.execute(params![p.device_id.as_str(), p.credential_id, p.public_key, to_millis(p.created_at), p.sign_count]))
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn passkey(&self, device: &DeviceId) -> Result<Option<Passkey>, StoreError> {
        let sql = format!(
            "SELECT {} FROM passkeys WHERE device_id = ?1",
            rows::PASSKEY_COLUMNS
        );
        self.one(sql, device.to_string(), rows::passkey).await
    }

    async fn advance_sign_count(
        &self,
        device: &DeviceId,
        credential_id: &str,
        to: u32,
    ) -> Result<bool, StoreError> {
        let (device, credential_id) = (device.clone(), credential_id.to_owned());
        self.write(move |c| {
            let moved = c
                .prepare_cached(
                    "UPDATE passkeys SET sign_count = ?3
                     WHERE device_id = ?1 AND credential_id = ?2 AND sign_count < ?3",
                )
                .and_then(|mut s| s.execute(params![device.as_str(), credential_id, to]))
                .map_err(backend)?;
            Ok(moved == 1)
        })
        .await
    }
}

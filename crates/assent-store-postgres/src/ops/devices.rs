//! Enrollments, devices and what hangs off a device: passkeys, push subscriptions, proof ids.

use super::{begin, change_once, execute, run, settle, write_audited};
use crate::error::backend;
use crate::rows::{
    self, device_columns, enrollment_columns, passkey_columns, push_columns, to_json,
};
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{DeviceId, EnrollmentId, UserId};
use assent_core::model::{Device, Enrollment, LAST_SEEN_RESOLUTION, Passkey, PushSubscription};
use sqlx::postgres::PgPool;
use time::OffsetDateTime;

pub(crate) async fn insert_enrollment(
    pool: &PgPool,
    e: &Enrollment,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
    let insert = sqlx::query(
        "INSERT INTO enrollments (id, user_id, code_hash, created_at, expires_at, activation)
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(e.id.to_string())
    .bind(e.user_id.to_string())
    .bind(e.code_hash.clone())
    .bind(to_millis(e.created_at))
    .bind(to_millis(e.expires_at))
    .bind(e.activation.as_str());
    write_audited(pool, vec![insert], audit).await
}

pub(crate) async fn enrollment_by_code_hash(
    pool: &PgPool,
    hash: &[u8],
) -> Result<Option<Enrollment>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        enrollment_columns!(),
        " FROM enrollments WHERE code_hash = $1"
    ))
    .bind(hash)
    .try_map(rows::enrollment)
    .fetch_optional(pool)
    .await
    .map_err(backend)
}

/// Claims the enrollment with a conditional update first: of two uses racing, the second waits
/// on the row lock and then finds `used_at` set. A device whose key is enrolled already fails
/// on the unique `jkt` and rolls the claim back with it.
pub(crate) async fn complete_enrollment(
    pool: &PgPool,
    enrollment: &EnrollmentId,
    d: &Device,
    audit: &PendingAudit,
) -> Result<bool, StoreError> {
    let jwk = to_json(&d.jwk)?;
    let mut tx = begin(pool).await?;
    let claim = sqlx::query(
        "UPDATE enrollments SET used_at = $2, device_id = $3 WHERE id = $1 AND used_at IS NULL",
    )
    .bind(enrollment.to_string())
    .bind(to_millis(d.created_at))
    .bind(d.id.to_string());
    if run(&mut tx, claim).await? != 1 {
        return settle(tx, false, audit).await;
    }
    let insert = sqlx::query(
        "INSERT INTO devices (id, user_id, name, platform, jwk, jkt, state, created_at, revoked_at,
            last_seen_at, activation_code_sealed)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9, $10)",
    )
    .bind(d.id.to_string())
    .bind(d.user_id.to_string())
    .bind(d.name.clone())
    .bind(d.platform.clone())
    .bind(jwk)
    .bind(d.jkt.clone())
    .bind(d.state.as_str())
    .bind(to_millis(d.created_at))
    .bind(d.last_seen_at.map(to_millis))
    .bind(d.activation_code_sealed.clone());
    run(&mut tx, insert).await?;
    settle(tx, true, audit).await
}

pub(crate) async fn device(pool: &PgPool, id: &DeviceId) -> Result<Option<Device>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        device_columns!(),
        " FROM devices WHERE id = $1"
    ))
    .bind(id.as_str())
    .try_map(rows::device)
    .fetch_optional(pool)
    .await
    .map_err(backend)
}

pub(crate) async fn device_by_jkt(pool: &PgPool, jkt: &str) -> Result<Option<Device>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        device_columns!(),
        " FROM devices WHERE jkt = $1"
    ))
    .bind(jkt)
    .try_map(rows::device)
    .fetch_optional(pool)
    .await
    .map_err(backend)
}

pub(crate) async fn list_devices(
    pool: &PgPool,
    user: Option<&UserId>,
) -> Result<Vec<Device>, StoreError> {
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
        .fetch_all(pool)
        .await
        .map_err(backend)
}

/// A device waiting for activation can be revoked too, as on SQLite.
pub(crate) async fn revoke_device(
    pool: &PgPool,
    id: &DeviceId,
    at: OffsetDateTime,
    audit: &PendingAudit,
) -> Result<bool, StoreError> {
    let update = sqlx::query(
        "UPDATE devices SET state = 'revoked', revoked_at = $2, activation_code_sealed = NULL
         WHERE id = $1 AND state IN ('active', 'pending_activation')",
    )
    .bind(id.to_string())
    .bind(to_millis(at));
    change_once(pool, update, audit).await
}

pub(crate) async fn consume_proof(
    pool: &PgPool,
    jkt: &str,
    jti: &str,
    expires_at: OffsetDateTime,
) -> Result<bool, StoreError> {
    Ok(execute(pool, proof_id(jkt, jti, expires_at)).await? == 1)
}

/// Records a proof id unless the key already used it.
pub(crate) fn proof_id(jkt: &str, jti: &str, expires_at: OffsetDateTime) -> super::Query {
    sqlx::query(
        "INSERT INTO proof_ids (jkt, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
    )
    .bind(jkt.to_owned())
    .bind(jti.to_owned())
    .bind(to_millis(expires_at))
}

pub(crate) async fn purge_proofs(pool: &PgPool, now: OffsetDateTime) -> Result<u64, StoreError> {
    let delete = sqlx::query("DELETE FROM proof_ids WHERE expires_at < $1").bind(to_millis(now));
    execute(pool, delete).await
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

pub(crate) async fn touch_device(
    pool: &PgPool,
    id: &DeviceId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    execute(pool, touch(id, at)).await.map(drop)
}

pub(crate) async fn activate_device(
    pool: &PgPool,
    id: &DeviceId,
    audit: &PendingAudit,
) -> Result<bool, StoreError> {
    let update = sqlx::query(
        "UPDATE devices SET state = 'active', activation_code_sealed = NULL
         WHERE id = $1 AND state = 'pending_activation'",
    )
    .bind(id.to_string());
    change_once(pool, update, audit).await
}

/// Locks the device row first (`FOR UPDATE`), so an activation racing with the removal either
/// finishes before (and the removal finds the device no longer waiting) or waits until the
/// device is gone (and changes nothing).
pub(crate) async fn remove_pending_device(
    pool: &PgPool,
    id: &DeviceId,
    audit: &PendingAudit,
) -> Result<bool, StoreError> {
    let mut tx = begin(pool).await?;
    let pending = sqlx::query(
        "SELECT 1 FROM devices WHERE id = $1 AND state = 'pending_activation' FOR UPDATE",
    )
    .bind(id.as_str())
    .fetch_optional(&mut *tx)
    .await
    .map_err(backend)?;
    if pending.is_none() {
        return settle(tx, false, audit).await;
    }
    // Everything that may name the device goes with it; a pending device never answered.
    for sql in [
        "DELETE FROM passkeys WHERE device_id = $1",
        "DELETE FROM push_subscriptions WHERE device_id = $1",
        "DELETE FROM deliveries WHERE device_id = $1",
        "UPDATE enrollments SET device_id = NULL WHERE device_id = $1",
        "UPDATE alerts SET device_id = NULL WHERE device_id = $1",
        "DELETE FROM devices WHERE id = $1",
    ] {
        run(&mut tx, sqlx::query(sql).bind(id.to_string())).await?;
    }
    settle(tx, true, audit).await
}

pub(crate) async fn pending_devices_created_before(
    pool: &PgPool,
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
    .fetch_all(pool)
    .await
    .map_err(backend)
}

pub(crate) async fn rename_device(
    pool: &PgPool,
    id: &DeviceId,
    name: &str,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
    let update = sqlx::query("UPDATE devices SET name = $2 WHERE id = $1")
        .bind(id.to_string())
        .bind(name.to_owned());
    write_audited(pool, vec![update], audit).await
}

pub(crate) async fn set_passkey(
    pool: &PgPool,
    p: &Passkey,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
    let upsert = sqlx::query(
        "INSERT INTO passkeys (device_id, credential_id, public_key, created_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (device_id) DO UPDATE SET credential_id = excluded.credential_id,
            public_key = excluded.public_key, created_at = excluded.created_at",
    )
    .bind(p.device_id.to_string())
    .bind(p.credential_id.clone())
    .bind(p.public_key.clone())
    .bind(to_millis(p.created_at));
    write_audited(pool, vec![upsert], audit).await
}

pub(crate) async fn passkey(
    pool: &PgPool,
    device: &DeviceId,
) -> Result<Option<Passkey>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        passkey_columns!(),
        " FROM passkeys WHERE device_id = $1"
    ))
    .bind(device.as_str())
    .try_map(rows::passkey)
    .fetch_optional(pool)
    .await
    .map_err(backend)
}

pub(crate) async fn set_push_subscription(
    pool: &PgPool,
    p: &PushSubscription,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
    let upsert = sqlx::query(
        "INSERT INTO push_subscriptions (device_id, endpoint, p256dh, auth, created_at)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (device_id) DO UPDATE SET endpoint = excluded.endpoint,
            p256dh = excluded.p256dh, auth = excluded.auth, created_at = excluded.created_at",
    )
    .bind(p.device_id.to_string())
    .bind(p.endpoint.clone())
    .bind(p.p256dh.clone())
    .bind(p.auth.clone())
    .bind(to_millis(p.created_at));
    write_audited(pool, vec![upsert], audit).await
}

pub(crate) async fn push_subscription(
    pool: &PgPool,
    device: &DeviceId,
) -> Result<Option<PushSubscription>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        push_columns!(),
        " FROM push_subscriptions WHERE device_id = $1"
    ))
    .bind(device.as_str())
    .try_map(rows::push_subscription)
    .fetch_optional(pool)
    .await
    .map_err(backend)
}

//! Enrollments, and the single use that turns one into a device.

use super::{begin, run, settle, write_audited};
use crate::error::backend;
use crate::rows::{self, enrollment_columns, to_json};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::EnrollmentId;
use assent_core::model::{Device, Enrollment};
use assent_core::store::EnrollmentStore;
use async_trait::async_trait;

#[async_trait]
impl EnrollmentStore for PostgresStore {
    async fn insert_enrollment(
        &self,
        e: &Enrollment,
        audit: PendingAudit,
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
        write_audited(&self.pool, vec![insert], &audit).await
    }

    async fn enrollment_by_code_hash(&self, hash: &[u8]) -> Result<Option<Enrollment>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            enrollment_columns!(),
            " FROM enrollments WHERE code_hash = $1"
        ))
        .bind(hash)
        .try_map(rows::enrollment)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    /// Claims the enrollment with a conditional update first: of two uses racing, the second waits
    /// on the row lock and then finds `used_at` set. A device whose key is enrolled already fails
    /// on the unique `jkt` and rolls the claim back with it.
    async fn complete_enrollment(
        &self,
        enrollment: &EnrollmentId,
        d: &Device,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let jwk = to_json(&d.jwk)?;
        let mut tx = begin(&self.pool).await?;
        let claim = sqlx::query(
            "UPDATE enrollments SET used_at = $2, device_id = $3 WHERE id = $1 AND used_at IS NULL",
        )
        .bind(enrollment.to_string())
        .bind(to_millis(d.created_at))
        .bind(d.id.to_string());
        if run(&mut tx, claim).await? != 1 {
            return settle(tx, false, &audit).await;
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
        settle(tx, true, &audit).await
    }
}

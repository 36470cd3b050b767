//! Enrollments, and the single use that turns one into a device.

use super::SqliteStore;
use super::audit::append_audit;
use crate::connection::backend;
use crate::rows::{self, to_json};
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::EnrollmentId;
use assent_core::model::{Device, Enrollment};
use assent_core::store::EnrollmentStore;
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};

#[async_trait]
impl EnrollmentStore for SqliteStore {
    async fn insert_enrollment(
        &self,
        e: &Enrollment,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let e = e.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO enrollments (id, user_id, code_hash, created_at, expires_at, activation) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    e.id.as_str(),
                    e.user_id.as_str(),
                    e.code_hash,
                    to_millis(e.created_at),
                    to_millis(e.expires_at),
                    rows::activation(e.activation)
                ])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn enrollment_by_code_hash(&self, hash: &[u8]) -> Result<Option<Enrollment>, StoreError> {
        let sql = format!(
            "SELECT {} FROM enrollments WHERE code_hash = ?1",
            rows::ENROLLMENT_COLUMNS
        );
        let hash = hash.to_vec();
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_row([hash], rows::enrollment)
                .optional()
        })
        .await
    }

    async fn complete_enrollment(
        &self,
        enrollment: &EnrollmentId,
        device: &Device,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (enrollment, d) = (enrollment.clone(), device.clone());
        let jwk = to_json(&d.jwk)?;
        self.write(move |c| {
            let claimed = c
                .prepare_cached("UPDATE enrollments SET used_at = ?2, device_id = ?3 WHERE id = ?1 AND used_at IS NULL")
                .and_then(|mut s| s.execute(params![enrollment.as_str(), to_millis(d.created_at), d.id.as_str()]))
                .map_err(backend)?;
            if claimed != 1 {
                return Ok(false);
            }
            c.prepare_cached(
                "INSERT INTO devices (id, user_id, name, platform, jwk, jkt, state, created_at, revoked_at,
                    activation_pending, activation_code_sealed, last_seen_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9, ?10, ?11)",
            )
            .and_then(|mut s| {
                let (state, pending) = rows::device_state(d.state);
                s.execute(params![
                    d.id.as_str(),
                    d.user_id.as_str(),
                    d.name,
                    d.platform,
                    jwk,
                    d.jkt,
                    state,
                    to_millis(d.created_at),
                    pending,
                    d.activation_code_sealed,
                    d.last_seen_at.map(to_millis)
                ])
            })
            .map_err(backend)?;
            append_audit(c, &audit)?;
            Ok(true)
        })
        .await
    }
}

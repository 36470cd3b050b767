//! Reading the audit log, and appending an event that accompanies no other change.

use super::{begin, commit_audited};
use crate::error::backend;
use crate::rows::{self, audit_columns};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::audit::export::AuditFilter;
use assent_core::clock::to_millis;
use assent_core::model::AuditRecord;
use assent_core::store::AuditStore;
use async_trait::async_trait;

#[async_trait]
impl AuditStore for PostgresStore {
    async fn audit_page(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit WHERE seq > $1 ORDER BY seq LIMIT $2"
        ))
        .bind(i64::try_from(after).unwrap_or(i64::MAX))
        .bind(i64::from(limit))
        .try_map(rows::audit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn audit_search(
        &self,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        // Each condition is off when its parameter is NULL; the subject and the event's own
        // members name who and what a row is about.
        sqlx::query(concat!(
            "SELECT ",
            audit_columns!(),
            " FROM audit WHERE seq > $1 \
             AND ($2::bigint IS NULL OR at >= $2) AND ($3::bigint IS NULL OR at < $3) \
             AND ($4::text IS NULL OR kind = $4) \
             AND ($5::text IS NULL OR subject = 'user:' || $5 OR data::jsonb ->> 'user_id' = $5 \
                  OR data::jsonb ->> 'requester_id' = $5 \
                  OR subject IN (SELECT 'approval:' || id FROM approvals WHERE user_id = $5)) \
             AND ($6::text IS NULL OR subject = 'device:' || $6 OR data::jsonb ->> 'device_id' = $6) \
             AND ($7::text IS NULL OR subject = 'app:' || $7 OR data::jsonb ->> 'app_id' = $7 \
                  OR subject IN (SELECT 'approval:' || id FROM approvals WHERE app_id = $7)) \
             ORDER BY seq LIMIT $8"
        ))
        .bind(i64::try_from(filter.after).unwrap_or(i64::MAX))
        .bind(filter.since.map(to_millis))
        .bind(filter.until.map(to_millis))
        .bind(filter.kind.clone())
        .bind(filter.user.as_ref().map(ToString::to_string))
        .bind(filter.device.as_ref().map(ToString::to_string))
        .bind(filter.app.as_ref().map(ToString::to_string))
        .bind(i64::from(limit))
        .try_map(rows::audit)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    /// `None` for an empty chain, as SQLite answers before its first append.
    async fn audit_head(&self) -> Result<Option<u64>, StoreError> {
        let seq: Option<i64> = sqlx::query_scalar("SELECT seq FROM audit_head WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)?;
        Ok(seq.filter(|s| *s > 0).and_then(|s| u64::try_from(s).ok()))
    }

    async fn append_audit(&self, audit: PendingAudit) -> Result<(), StoreError> {
        commit_audited(begin(&self.pool).await?, &audit).await
    }
}

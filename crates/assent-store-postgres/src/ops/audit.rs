//! Reading the audit log, and appending an event that accompanies no other change.

use super::{begin, commit_audited};
use crate::error::backend;
use crate::rows::{self, audit_columns};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
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

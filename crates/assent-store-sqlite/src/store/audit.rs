//! The audit chain: appending a row after the last one, and reading pages of it.

use super::SqliteStore;
use crate::connection::backend;
use crate::rows;
use assent_core::StoreError;
use assent_core::audit::export::AuditFilter;
use assent_core::audit::{GENESIS_HASH, PendingAudit};
use assent_core::clock::to_millis;
use assent_core::model::AuditRecord;
use assent_core::store::AuditStore;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, params};

/// Appends one audit row after the current last row, and moves the recorded head.
pub(super) fn append_audit(conn: &Connection, audit: &PendingAudit) -> Result<(), StoreError> {
    let last: Option<(i64, Vec<u8>)> = conn
        .prepare_cached("SELECT seq, hash FROM audit ORDER BY seq DESC LIMIT 1")
        .and_then(|mut s| s.query_row([], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(backend)?;
    let (seq, prev) = match last {
        Some((seq, hash)) => (u64::try_from(seq).unwrap_or(0) + 1, hash),
        None => (1, GENESIS_HASH.to_vec()),
    };
    let record = audit.seal(seq, &prev);
    let seq =
        i64::try_from(record.seq).map_err(|_| StoreError::Corrupt("audit seq overflow".into()))?;
    conn.prepare_cached(
        "INSERT INTO audit (seq, at, kind, actor, subject, data, prev_hash, hash)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
    )
    .and_then(|mut s| {
        s.execute(params![
            seq,
            to_millis(record.at),
            record.kind,
            record.actor,
            record.subject,
            record.data,
            record.prev_hash,
            record.hash
        ])
    })
    .map_err(backend)?;
    conn.prepare_cached(
        "INSERT INTO audit_head (id, seq) VALUES (1, ?1) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq",
    )
    .and_then(|mut s| s.execute([seq]))
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl AuditStore for SqliteStore {
    async fn audit_page(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM audit WHERE seq > ?1 ORDER BY seq LIMIT ?2",
            rows::AUDIT_COLUMNS
        );
        let after = i64::try_from(after).unwrap_or(i64::MAX);
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![after, limit], rows::audit)?
                .collect()
        })
        .await
    }

    async fn audit_search(
        &self,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError> {
        // Each condition is off when its parameter is NULL; the subject and the event's own
        // members name who and what a row is about.
        let sql = format!(
            "SELECT {} FROM audit WHERE seq > ?1 \
             AND (?2 IS NULL OR at >= ?2) AND (?3 IS NULL OR at < ?3) \
             AND (?4 IS NULL OR kind = ?4) \
             AND (?5 IS NULL OR subject = 'user:' || ?5 OR json_extract(data, '$.user_id') = ?5 \
                  OR json_extract(data, '$.requester_id') = ?5 \
                  OR subject IN (SELECT 'approval:' || id FROM approvals WHERE user_id = ?5)) \
             AND (?6 IS NULL OR subject = 'device:' || ?6 OR json_extract(data, '$.device_id') = ?6) \
             AND (?7 IS NULL OR subject = 'app:' || ?7 OR json_extract(data, '$.app_id') = ?7 \
                  OR subject IN (SELECT 'approval:' || id FROM approvals WHERE app_id = ?7)) \
             ORDER BY seq LIMIT ?8",
            rows::AUDIT_COLUMNS
        );
        let f = filter.clone();
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map(
                    params![
                        i64::try_from(f.after).unwrap_or(i64::MAX),
                        f.since.map(to_millis),
                        f.until.map(to_millis),
                        f.kind,
                        f.user.as_ref().map(|u| u.as_str()),
                        f.device.as_ref().map(|d| d.as_str()),
                        f.app.as_ref().map(|a| a.as_str()),
                        limit
                    ],
                    rows::audit,
                )?
                .collect()
        })
        .await
    }

    async fn audit_head(&self) -> Result<Option<u64>, StoreError> {
        let head: Option<i64> = self
            .read(|c| {
                c.query_row("SELECT seq FROM audit_head WHERE id = 1", [], |r| r.get(0))
                    .optional()
            })
            .await?;
        Ok(head.and_then(|h| u64::try_from(h).ok()))
    }

    async fn append_audit(&self, audit: PendingAudit) -> Result<(), StoreError> {
        self.write(move |c| append_audit(c, &audit)).await
    }
}

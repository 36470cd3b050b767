//! The admin console's sessions.

use super::audit::append_audit;
use super::{SqliteStore, change_once};
use crate::connection::backend;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::{from_millis, to_millis};
use assent_core::ids::{ApprovalId, UserId};
use assent_core::model::ConsoleSession;
use assent_core::store::ConsoleStore;
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use time::{Duration, OffsetDateTime};

/// How long a session row is kept after its absolute end: long enough to say why a cookie no
/// longer works, short enough that the table stays the size of the admin team.
const KEPT_AFTER_END: Duration = Duration::days(1);

const COLUMNS: &str =
    "id_hash, user_id, created_at, last_seen_at, expires_at, approval_id, ended_at";

fn session(r: &rusqlite::Row<'_>) -> rusqlite::Result<ConsoleSession> {
    Ok(ConsoleSession {
        id_hash: r.get(0)?,
        user_id: UserId::from_stored(r.get(1)?),
        created_at: from_millis(r.get(2)?),
        last_seen_at: from_millis(r.get(3)?),
        expires_at: from_millis(r.get(4)?),
        approval_id: r.get::<_, Option<String>>(5)?.map(ApprovalId::from_stored),
        ended_at: r.get::<_, Option<i64>>(6)?.map(from_millis),
    })
}

#[async_trait]
impl ConsoleStore for SqliteStore {
    async fn insert_console_session(
        &self,
        session: &ConsoleSession,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let s = session.clone();
        self.write(move |c| {
            c.prepare_cached("DELETE FROM console_sessions WHERE expires_at < ?1")
                .and_then(|mut q| q.execute([to_millis(s.created_at - KEPT_AFTER_END)]))
                .map_err(backend)?;
            c.prepare_cached(
                "INSERT INTO console_sessions (id_hash, user_id, created_at, last_seen_at, expires_at, approval_id, ended_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut q| {
                q.execute(params![
                    s.id_hash,
                    s.user_id.as_str(),
                    to_millis(s.created_at),
                    to_millis(s.last_seen_at),
                    to_millis(s.expires_at),
                    s.approval_id.as_ref().map(|a| a.to_string()),
                    s.ended_at.map(to_millis),
                ])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn touch_console_session(
        &self,
        id_hash: &[u8],
        now: OffsetDateTime,
        idle: Duration,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let id_hash = id_hash.to_vec();
        self.write(move |c| {
            c.prepare_cached(
                "UPDATE console_sessions SET last_seen_at = ?2 \
                 WHERE id_hash = ?1 AND ended_at IS NULL AND expires_at > ?2 AND last_seen_at > ?3 \
                 RETURNING id_hash, user_id, created_at, last_seen_at, expires_at, approval_id, ended_at",
            )
            .and_then(|mut q| {
                q.query_row(
                    params![id_hash, to_millis(now), to_millis(now - idle)],
                    session,
                )
                .optional()
            })
            .map_err(backend)
        })
        .await
    }

    async fn console_session(&self, id_hash: &[u8]) -> Result<Option<ConsoleSession>, StoreError> {
        let id_hash = id_hash.to_vec();
        self.read(move |c| {
            c.prepare_cached(&format!(
                "SELECT {COLUMNS} FROM console_sessions WHERE id_hash = ?1"
            ))?
            .query_row([id_hash], session)
            .optional()
        })
        .await
    }

    async fn end_console_session(
        &self,
        id_hash: &[u8],
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let id_hash = id_hash.to_vec();
        self.write(move |c| {
            change_once(
                c,
                "UPDATE console_sessions SET ended_at = ?2 WHERE id_hash = ?1 AND ended_at IS NULL",
                params![id_hash, to_millis(at)],
                &audit,
            )
        })
        .await
    }
}

//! The admin console's sessions.

use super::{change_once, write_audited};
use crate::error::backend;
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::{from_millis, to_millis};
use assent_core::ids::{ApprovalId, UserId};
use assent_core::model::ConsoleSession;
use assent_core::store::ConsoleStore;
use async_trait::async_trait;
use sqlx::Row;
use time::{Duration, OffsetDateTime};

/// How long a session row is kept after its absolute end: long enough to say why a cookie no
/// longer works, short enough that the table stays the size of the admin team.
const KEPT_AFTER_END: Duration = Duration::days(1);

fn session(row: sqlx::postgres::PgRow) -> Result<ConsoleSession, sqlx::Error> {
    Ok(ConsoleSession {
        id_hash: row.try_get(0)?,
        user_id: UserId::from_stored(row.try_get(1)?),
        created_at: from_millis(row.try_get(2)?),
        last_seen_at: from_millis(row.try_get(3)?),
        expires_at: from_millis(row.try_get(4)?),
        approval_id: row
            .try_get::<Option<String>, _>(5)?
            .map(ApprovalId::from_stored),
        ended_at: row.try_get::<Option<i64>, _>(6)?.map(from_millis),
    })
}

#[async_trait]
impl ConsoleStore for PostgresStore {
    async fn insert_console_session(
        &self,
        session: &ConsoleSession,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let purge = sqlx::query("DELETE FROM console_sessions WHERE expires_at < $1")
            .bind(to_millis(session.created_at - KEPT_AFTER_END));
        let insert = sqlx::query(
            "INSERT INTO console_sessions (id_hash, user_id, created_at, last_seen_at, expires_at, approval_id, ended_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(session.id_hash.clone())
        .bind(session.user_id.to_string())
        .bind(to_millis(session.created_at))
        .bind(to_millis(session.last_seen_at))
        .bind(to_millis(session.expires_at))
        .bind(session.approval_id.as_ref().map(|a| a.to_string()))
        .bind(session.ended_at.map(to_millis));
        write_audited(&self.pool, vec![purge, insert], &audit).await
    }

    async fn touch_console_session(
        &self,
        id_hash: &[u8],
        now: OffsetDateTime,
        idle: Duration,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        sqlx::query(
            "UPDATE console_sessions SET last_seen_at = $2 \
             WHERE id_hash = $1 AND ended_at IS NULL AND expires_at > $2 AND last_seen_at > $3 \
             RETURNING id_hash, user_id, created_at, last_seen_at, expires_at, approval_id, ended_at",
        )
        .bind(id_hash.to_vec())
        .bind(to_millis(now))
        .bind(to_millis(now - idle))
        .try_map(session)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn console_session(&self, id_hash: &[u8]) -> Result<Option<ConsoleSession>, StoreError> {
        sqlx::query(
            "SELECT id_hash, user_id, created_at, last_seen_at, expires_at, approval_id, ended_at \
             FROM console_sessions WHERE id_hash = $1",
        )
        .bind(id_hash.to_vec())
        .try_map(session)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn end_console_session(
        &self,
        id_hash: &[u8],
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let query = sqlx::query(
            "UPDATE console_sessions SET ended_at = $2 WHERE id_hash = $1 AND ended_at IS NULL",
        )
        .bind(id_hash.to_vec())
        .bind(to_millis(at));
        change_once(&self.pool, query, &audit).await
    }
}

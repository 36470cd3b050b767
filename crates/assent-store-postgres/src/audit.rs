//! Appending to the audit chain from many nodes at once.
//!
//! Each row carries its sequence number and the previous row's hash, so two transactions that
//! both read "the last row is 41" and both write row 42 would fork the chain (or one would fail
//! on the primary key after doing all its work). Appends are therefore serialized by a row
//! lock on the one row of `audit_head`, which holds the last sequence number and hash:
//!
//! - The lock is taken `FOR UPDATE` inside the transaction of the change being audited, so the
//!   change and its row commit together or not at all, and a transaction that waits for the lock
//!   reads the head its predecessor committed (READ COMMITTED re-reads a locked row once the
//!   lock is released).
//! - It is taken last, after the change's own statements, and released by the commit: the
//!   critical section is the lock, one statement that inserts the row and moves the head, and
//!   the commit. Everything else in the transaction runs in parallel with other nodes' appends.
//!   Because no transaction waits for anything else while it holds the lock, it cannot take
//!   part in a deadlock.
//! - Rows therefore commit in sequence order: a reader that pages the log by `seq` (the
//!   verifier, webhook delivery) never sees row 43 before row 42 exists, and cannot skip a row
//!   that commits later.
//! - Taking the previous hash from the head rather than from the last row means a row deleted
//!   from the end of the log stays detectable after later appends: the next row links to the
//!   deleted row's hash.
//!
//! The price is that audited writes, across all nodes, commit one at a time: their rate is
//! bounded by one commit (a WAL flush) plus two round trips. Unaudited writes are not affected.

use crate::error::{backend, to_i64};
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use sqlx::PgConnection;

/// Appends `audit` after the current head, inside the caller's transaction. Call it as the
/// transaction's last statement before the commit: it holds the chain lock until then.
pub(crate) async fn append(
    conn: &mut PgConnection,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
    let (seq, prev): (i64, Vec<u8>) =
        sqlx::query_as("SELECT seq, hash FROM audit_head WHERE id = 1 FOR UPDATE")
            .fetch_optional(&mut *conn)
            .await
            .map_err(backend)?
            .ok_or_else(|| StoreError::Corrupt("the audit chain head row is missing".into()))?;
    let next = u64::try_from(seq)
        .map_err(|_| StoreError::Corrupt("negative audit head".into()))?
        .checked_add(1)
        .ok_or_else(|| StoreError::Corrupt("audit sequence overflow".into()))?;
    let record = audit.seal(next, &prev);
    sqlx::query(
        "WITH row AS (
            INSERT INTO audit (seq, at, kind, actor, subject, data, prev_hash, hash)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         )
         UPDATE audit_head SET seq = $1, hash = $8 WHERE id = 1",
    )
    .bind(to_i64(record.seq, "audit seq")?)
    .bind(to_millis(record.at))
    .bind(&record.kind)
    .bind(&record.actor)
    .bind(&record.subject)
    .bind(&record.data)
    .bind(&record.prev_hash)
    .bind(&record.hash)
    .execute(&mut *conn)
    .await
    .map_err(backend)?;
    Ok(())
}

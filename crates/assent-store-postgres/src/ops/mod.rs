//! The store's operations: one file per capability of the port, each implementing its trait for
//! [`PostgresStore`](crate::store::PostgresStore), and the transaction helpers they share.
//!
//! Reads and unaudited single-statement writes run on the pool directly (one round trip, in
//! autocommit). Every write that is audited runs in a transaction that ends with the audit
//! append (which takes the chain lock, see [`crate::audit`]) and the commit.

mod access;
mod alerts;
mod approvals;
mod audit;
mod broadcasts;
mod ciba;
mod console;
mod devices;
mod duo;
mod enrollments;
mod factors;
mod groups;
mod identity;
mod passkeys;
mod pushes;
mod signals;
mod turns;
mod webhooks;

use crate::error::backend;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use sqlx::postgres::{PgArguments, PgPool};
use sqlx::{Postgres, Transaction};

pub(crate) type Tx = Transaction<'static, Postgres>;
pub(crate) type Query = sqlx::query::Query<'static, Postgres, PgArguments>;

pub(crate) async fn begin(pool: &PgPool) -> Result<Tx, StoreError> {
    pool.begin().await.map_err(backend)
}

/// Appends the audit row (taking the chain lock) and commits.
pub(crate) async fn commit_audited(mut tx: Tx, audit: &PendingAudit) -> Result<(), StoreError> {
    // The audit row under the chain lock and the commit: what every audited write waits for.
    let started = std::time::Instant::now();
    crate::audit::append(&mut tx, audit).await?;
    let committed = tx.commit().await.map_err(backend);
    metrics::histogram!(assent_core::measures::STORE_COMMIT_SECONDS, "backend" => "postgres")
        .record(started.elapsed().as_secs_f64());
    committed
}

/// Runs `query` in `tx` and returns how many rows it changed.
pub(crate) async fn run(tx: &mut Tx, query: Query) -> Result<u64, StoreError> {
    Ok(query
        .execute(&mut **tx)
        .await
        .map_err(backend)?
        .rows_affected())
}

/// Commits an audited change when `changed` says it happened; otherwise rolls back (there is
/// nothing to keep) and appends nothing. Returns `changed`.
pub(crate) async fn settle(
    tx: Tx,
    changed: bool,
    audit: &PendingAudit,
) -> Result<bool, StoreError> {
    if changed {
        commit_audited(tx, audit).await?;
    } else {
        tx.rollback().await.map_err(backend)?;
    }
    Ok(changed)
}

/// One conditional write ("only if still ...") with its audit row, written only when the
/// statement changed exactly one row. The condition is decided by PostgreSQL in the statement
/// itself: a concurrent writer of the same row waits for the first to commit and then finds
/// the condition false, so exactly one wins.
pub(crate) async fn change_once(
    pool: &PgPool,
    query: Query,
    audit: &PendingAudit,
) -> Result<bool, StoreError> {
    let mut tx = begin(pool).await?;
    let changed = run(&mut tx, query).await? == 1;
    settle(tx, changed, audit).await
}

/// One audited write that always applies.
pub(crate) async fn write_audited(
    pool: &PgPool,
    queries: Vec<Query>,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
    let mut tx = begin(pool).await?;
    for query in queries {
        run(&mut tx, query).await?;
    }
    commit_audited(tx, audit).await
}

/// One unaudited statement, in autocommit.
pub(crate) async fn execute(pool: &PgPool, query: Query) -> Result<u64, StoreError> {
    Ok(query.execute(pool).await.map_err(backend)?.rows_affected())
}

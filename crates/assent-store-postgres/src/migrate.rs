//! The schema migrations, applied at start-up.
//!
//! A small runner rather than `sqlx::migrate!`: sqlx's `migrate` feature names its SQLite driver
//! as a weak dependency, and Cargo then resolves that driver's `libsqlite3-sys` against the one
//! rusqlite links, which no sqlx 0.9 release accepts; the workspace would not build. What the
//! runner needs is small: every node may start at once, so the whole check-and-apply runs in one
//! transaction under an advisory lock, and PostgreSQL's transactional DDL means a failed
//! migration leaves nothing half done.

use crate::error::backend;
use assent_core::StoreError;
use sqlx::postgres::PgPool;

/// Migrations, applied in order; `assent_schema` records which ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_push_outbox.sql"),
    include_str!("../migrations/0003_display_code_digest.sql"),
    include_str!("../migrations/0004_passkey_sign_count.sql"),
    include_str!("../migrations/0005_cross_node.sql"),
    include_str!("../migrations/0006_ciba.sql"),
    include_str!("../migrations/0007_duo.sql"),
    include_str!("../migrations/0008_groups.sql"),
    include_str!("../migrations/0009_access.sql"),
    include_str!("../migrations/0010_rp_passkeys.sql"),
    include_str!("../migrations/0011_policy_quorum.sql"),
    include_str!("../migrations/0012_broadcasts.sql"),
    include_str!("../migrations/0013_console.sql"),
];

/// The advisory lock class of Assent ("As" in ASCII), and the key of the migration lock in it.
pub(crate) const LOCK_CLASS: i32 = 0x4173;
const MIGRATION_LOCK: i32 = 0;
/// The advisory lock class of users' prompt turns ("At"); the key in it is a hash of the user id.
pub(crate) const PROMPT_TURN_CLASS: i32 = 0x4174;

/// Brings the schema (in the first schema of the search path) up to date.
pub(crate) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    let mut tx = pool.begin().await.map_err(backend)?;
    sqlx::query("SELECT pg_advisory_xact_lock($1, $2)")
        .bind(LOCK_CLASS)
        .bind(MIGRATION_LOCK)
        .execute(&mut *tx)
        .await
        .map_err(backend)?;
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS assent_schema (
            version     integer PRIMARY KEY,
            applied_at  timestamptz NOT NULL DEFAULT now()
        )",
    )
    .execute(&mut *tx)
    .await
    .map_err(backend)?;
    let applied: i32 = sqlx::query_scalar("SELECT COALESCE(MAX(version), 0) FROM assent_schema")
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
    let applied = usize::try_from(applied)
        .map_err(|_| StoreError::Corrupt("negative schema version".into()))?;
    if applied > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {applied}, newer than this Assent ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied) {
        sqlx::raw_sql(*sql)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        let version = i32::try_from(i + 1).unwrap_or(i32::MAX);
        sqlx::query("INSERT INTO assent_schema (version) VALUES ($1)")
            .bind(version)
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
    }
    tx.commit().await.map_err(backend)
}

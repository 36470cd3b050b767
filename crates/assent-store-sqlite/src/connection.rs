//! Opening connections with the settings Assent relies on, and the schema migrations.

use assent_core::StoreError;
use rusqlite::Connection;
use std::path::Path;

/// Migrations, applied in order; `PRAGMA user_version` records how many ran.
const MIGRATIONS: &[&str] = &[
    include_str!("../migrations/0001_init.sql"),
    include_str!("../migrations/0002_authenticator.sql"),
    include_str!("../migrations/0003_fatigue.sql"),
    include_str!("../migrations/0004_webhooks.sql"),
    include_str!("../migrations/0005_risk.sql"),
    include_str!("../migrations/0006_alert_devices.sql"),
    include_str!("../migrations/0007_factors.sql"),
    include_str!("../migrations/0008_device_indexes.sql"),
    include_str!("../migrations/0009_approved_index.sql"),
];

pub(crate) fn backend(e: rusqlite::Error) -> StoreError {
    if let rusqlite::Error::SqliteFailure(f, ref msg) = e
        && f.code == rusqlite::ErrorCode::ConstraintViolation
    {
        return StoreError::Conflict(msg.clone().unwrap_or_else(|| "constraint".into()));
    }
    StoreError::Backend(e.to_string())
}

/// Opens a connection with durable settings: WAL so readers never block the writer,
/// `synchronous = FULL` so each commit is on disk before it is acknowledged. (Memory-mapped
/// reads were measured and made flows slower: remapping after the file grows costs more than
/// the `pread` calls it saves.)
pub(crate) fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;",
    )
    .map_err(backend)?;
    // The query planner stability guarantee: plans never depend on bound values. Without it,
    // SQLite marks a statement whose plan looked at a bound value (an unindexed `col = ?`, a
    // `LIMIT ?`) to be compiled again whenever its bindings are cleared, which the statement
    // cache does after every use: about a tenth of the server's CPU went to re-preparing such
    // statements. Assent's queries are keyed lookups whose plans need no bound values.
    conn.set_db_config(
        rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG,
        true,
    )
    .map_err(backend)?;
    conn.set_prepared_statement_cache_capacity(64);
    Ok(conn)
}

/// Brings the schema up to date.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version: usize = conn
        .query_row("PRAGMA user_version", [], |r| r.get::<_, i64>(0))
        .map_err(backend)?
        .try_into()
        .map_err(|_| StoreError::Corrupt("negative schema version".into()))?;
    if version > MIGRATIONS.len() {
        return Err(StoreError::Corrupt(format!(
            "the database has schema version {version}, newer than this Assent ({})",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version) {
        let tx = conn.transaction().map_err(backend)?;
        tx.execute_batch(sql).map_err(backend)?;
        tx.pragma_update(
            None,
            "user_version",
            i64::try_from(i + 1).unwrap_or(i64::MAX),
        )
        .map_err(backend)?;
        tx.commit().map_err(backend)?;
    }
    Ok(())
}

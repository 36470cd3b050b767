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
    include_str!("../migrations/0010_history_index.sql"),
    include_str!("../migrations/0011_no_device_delivery_index.sql"),
    include_str!("../migrations/0012_approvals_device_index.sql"),
    include_str!("../migrations/0013_push_outbox.sql"),
    include_str!("../migrations/0014_display_code_digest.sql"),
    include_str!("../migrations/0015_passkey_sign_count.sql"),
    include_str!("../migrations/0016_cross_node.sql"),
    include_str!("../migrations/0017_ciba.sql"),
    include_str!("../migrations/0018_duo.sql"),
    include_str!("../migrations/0019_groups.sql"),
    include_str!("../migrations/0020_access.sql"),
    include_str!("../migrations/0021_rp_passkeys.sql"),
    include_str!("../migrations/0022_policy_quorum.sql"),
    include_str!("../migrations/0023_broadcasts.sql"),
    include_str!("../migrations/0024_console.sql"),
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
///
/// `temp_store = MEMORY` keeps the statement journal in memory. The writer runs each job of a
/// group in a savepoint, and a savepoint copies every page it first changes into that journal
/// so it can roll back alone; past 64 KiB SQLite spilled it to a temporary file, created for
/// the purpose: under load that was more `pwrite` calls than the WAL itself received, and a
/// file created and deleted several hundred times a second. The journal only ever serves a
/// rollback inside a live transaction, never crash recovery (the WAL does that), so keeping it
/// in memory costs no durability.
pub(crate) fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA busy_timeout = 5000;
         PRAGMA temp_store = MEMORY;",
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

/// The schema version of the database; a database newer than this binary is refused.
pub(crate) fn schema_version(conn: &Connection) -> Result<usize, StoreError> {
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
    Ok(version)
}

/// Brings the schema up to date.
pub(crate) fn migrate(conn: &mut Connection) -> Result<(), StoreError> {
    let version = schema_version(conn)?;
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

#[cfg(test)]
mod tests {
    use super::*;

    /// A database made before the history index keeps its requests' history: migration 10 fills
    /// the new `origin` column from each request's context, without the user agent.
    #[test]
    fn requests_made_before_the_history_index_keep_their_origin() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("old.db")).unwrap();
        for sql in &MIGRATIONS[..9] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 9).unwrap();
        conn.execute_batch(
            r#"INSERT INTO apps (id, name, created_at) VALUES ('app_1', 'acme', 0);
               INSERT INTO users (id, username, created_at) VALUES ('usr_1', 'alice', 0);
               INSERT INTO approvals (id, app_id, user_id, kind, authorization_details, context,
                   nonce, state, created_at, expires_at, decided_at)
               VALUES ('apr_1', 'app_1', 'usr_1', 'login', '[]',
                   '{"ip":"203.0.113.7","user_agent":"Firefox","geo":{"country":"FR"}}',
                   'n', 'approved', 1000, 2000, 1500);"#,
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        let (state, decided_at, origin): (String, i64, String) = conn
            .query_row(
                crate::store::signals::REQUEST_HISTORY,
                rusqlite::params!["usr_1", 0, 10],
                |r| Ok((r.get(0)?, r.get(2)?, r.get(3)?)),
            )
            .unwrap();
        assert_eq!((state.as_str(), decided_at), ("approved", 1500));
        let origin: serde_json::Value = serde_json::from_str(&origin).unwrap();
        assert_eq!(
            origin,
            serde_json::json!({"ip": "203.0.113.7", "geo": {"country": "FR"}})
        );
    }

    /// A request made before codes were kept as digests loses its clear code: migration 14
    /// keeps the length and an empty digest that no typed code matches.
    #[test]
    fn clear_display_codes_are_gone_after_the_digest_migration() {
        let dir = tempfile::tempdir().unwrap();
        let mut conn = open(&dir.path().join("old.db")).unwrap();
        for sql in &MIGRATIONS[..13] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 13).unwrap();
        conn.execute_batch(
            r#"INSERT INTO apps (id, name, created_at) VALUES ('app_1', 'acme', 0);
               INSERT INTO users (id, username, created_at) VALUES ('usr_1', 'alice', 0);
               INSERT INTO approvals (id, app_id, user_id, kind, authorization_details, context,
                   nonce, display_code, state, created_at, expires_at)
               VALUES ('apr_1', 'app_1', 'usr_1', 'login', '[]', '{}', 'n', '493817', 'pending',
                   1000, 2000);"#,
        )
        .unwrap();

        migrate(&mut conn).unwrap();

        let (length, digest): (i64, Vec<u8>) = conn
            .query_row(
                "SELECT code_length, code_digest FROM approvals WHERE id = 'apr_1'",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((length, digest.len()), (6, 0));
        let columns: Vec<String> = conn
            .prepare("SELECT name FROM pragma_table_info('approvals')")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .map(Result::unwrap)
            .collect();
        assert!(!columns.iter().any(|c| c == "display_code"));
    }
}

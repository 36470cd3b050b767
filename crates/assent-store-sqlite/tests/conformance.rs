//! The SQLite store against the shared store contract: one test per check, each on a fresh
//! database file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_store_sqlite::SqliteStore;
use assent_store_tests::Check;
use std::sync::Arc;

/// Runs `check` on a new database in a temporary directory.
async fn on_fresh_database(check: Check) {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(&dir.path().join("assent.db")).unwrap();
    check(Arc::new(store)).await;
}

assent_store_tests::store_contract!(on_fresh_database);

//! The SQLite store against the shared store contract, each check on a fresh database file.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_store_sqlite::SqliteStore;
use std::sync::Arc;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_store_passes_the_store_contract() {
    for (name, check) in assent_store_tests::CHECKS {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("assent.db")).unwrap();
        println!("check {name}");
        check(Arc::new(store)).await;
    }
}

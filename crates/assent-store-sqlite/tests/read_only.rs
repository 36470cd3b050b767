//! A database opened read-only (how `assent audit verify` reads beside a running server): no
//! lock taken, reads work, every write is refused, and a newer schema is refused as on opening.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use assent_core::store::{DeviceStore, IdentityStore};
use assent_store_sqlite::SqliteStore;

#[tokio::test]
async fn a_read_only_store_reads_beside_the_owner_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("assent.db");
    assert!(
        SqliteStore::open_read_only(&path).is_err(),
        "no database to read yet"
    );
    let owner = SqliteStore::open(&path).unwrap();
    let reader = SqliteStore::open_read_only(&path).expect("beside the owner");
    assert!(!reader.has_admin_key().await.unwrap());
    let refused = reader
        .purge_proofs(time::OffsetDateTime::UNIX_EPOCH)
        .await
        .unwrap_err()
        .to_string();
    assert!(refused.contains("read-only"), "{refused}");
    drop(owner);

    // A database from a later Assent: read-only opening refuses it as opening does.
    let newer = rusqlite::Connection::open(&path).unwrap();
    newer.pragma_update(None, "user_version", 10_000).unwrap();
    drop(newer);
    let refused = SqliteStore::open_read_only(&path).unwrap_err().to_string();
    assert!(refused.contains("newer than this Assent"), "{refused}");
}

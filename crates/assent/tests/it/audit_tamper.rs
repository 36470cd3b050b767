//! Editing, deleting or inserting one audit row in the SQLite file breaks `audit verify`, which
//! names the row and exits non-zero.

use crate::support::{assent_bin, run};
use assent_testkit::{TestServer, approved, login};
use rusqlite::Connection;

/// A server with some history, stopped, and a copy of its data directory per tampering.
async fn history() -> (tempfile::TempDir, std::path::PathBuf) {
    let server = TestServer::spawn().await;
    let app = server.app("Acme").await;
    let device = server.user_with_device("alice").await;
    for _ in 0..3 {
        approved(&app.client, &device, &login("alice")).await;
    }
    let data = server.data_dir();
    let dir = server.stop_and_keep().await;
    (dir, data)
}

fn verify(data: &std::path::Path) -> (i32, String) {
    let mut cmd = assent_bin();
    cmd.args(["audit", "verify", "--data"]).arg(data);
    let (code, out, err) = run(cmd);
    (code, format!("{out}{err}"))
}

fn rows(data: &std::path::Path) -> i64 {
    let db = Connection::open(data.join("assent.db")).unwrap();
    db.query_row("SELECT COUNT(*) FROM audit", [], |r| r.get(0))
        .unwrap()
}

#[tokio::test]
async fn untouched_chain_verifies() {
    let (_keep, data) = history().await;
    let (code, out) = verify(&data);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("intact"), "{out}");
}

#[tokio::test]
async fn an_edited_row_is_named() {
    let (_keep, data) = history().await;
    let db = Connection::open(data.join("assent.db")).unwrap();
    // The second approval's outcome, rewritten from approved to denied.
    let seq: i64 = db
        .query_row(
            "SELECT seq FROM audit WHERE kind = 'approval_decided' ORDER BY seq LIMIT 1 OFFSET 1",
            [],
            |r| r.get(0),
        )
        .unwrap();
    let changed = db
        .execute(
            "UPDATE audit SET data = replace(data, 'approved', 'denied') WHERE seq = ?1",
            [seq],
        )
        .unwrap();
    assert_eq!(changed, 1);
    let (code, out) = verify(&data);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains(&format!("BROKEN at row {seq}")), "{out}");
}

#[tokio::test]
async fn an_edited_actor_is_named() {
    let (_keep, data) = history().await;
    let db = Connection::open(data.join("assent.db")).unwrap();
    db.execute("UPDATE audit SET actor = 'system' WHERE seq = 7", [])
        .unwrap();
    let (code, out) = verify(&data);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("BROKEN at row 7"), "{out}");
}

#[tokio::test]
async fn a_deleted_row_is_named() {
    let (_keep, data) = history().await;
    let db = Connection::open(data.join("assent.db")).unwrap();
    db.execute("DELETE FROM audit WHERE seq = 5", []).unwrap();
    let (code, out) = verify(&data);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("BROKEN at row 5"), "{out}");
}

#[tokio::test]
async fn a_deleted_last_row_is_named() {
    let (_keep, data) = history().await;
    let last = rows(&data);
    let db = Connection::open(data.join("assent.db")).unwrap();
    db.execute("DELETE FROM audit WHERE seq = ?1", [last])
        .unwrap();
    let (code, out) = verify(&data);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains(&format!("BROKEN at row {last}")), "{out}");
}

#[tokio::test]
async fn an_inserted_row_is_named() {
    let (_keep, data) = history().await;
    let db = Connection::open(data.join("assent.db")).unwrap();
    // Make room in the middle, then insert a plausible row linked to its predecessor.
    db.execute_batch(
        "UPDATE audit SET seq = seq + 1000 WHERE seq >= 6;
         UPDATE audit SET seq = seq - 999 WHERE seq >= 1006;",
    )
    .unwrap();
    db.execute(
        "INSERT INTO audit (seq, at, kind, actor, subject, data, prev_hash, hash)
         SELECT 6, at, 'device_revoked', actor, subject, data, hash, hash FROM audit WHERE seq = 5",
        [],
    )
    .unwrap();
    let (code, out) = verify(&data);
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("BROKEN at row 6"), "{out}");

    // Appending after the head is caught too.
    let (_keep2, data2) = history().await;
    let last = rows(&data2);
    let db = Connection::open(data2.join("assent.db")).unwrap();
    db.execute(
        "INSERT INTO audit (seq, at, kind, actor, subject, data, prev_hash, hash)
         SELECT seq + 1, at, kind, actor, subject, data, hash, hash FROM audit WHERE seq = ?1",
        [last],
    )
    .unwrap();
    let (code, out) = verify(&data2);
    assert_ne!(code, 0, "{out}");
    assert!(
        out.contains(&format!("BROKEN at row {}", last + 1)),
        "{out}"
    );
}

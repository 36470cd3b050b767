//! Number-matching codes at rest: the database keeps each code's length and a keyed digest,
//! never the code, while the request waits and after it ends.

use crate::support::database_bytes;
use assent_proto::ProblemCode;
use assent_proto::api::ApprovalState;
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, login};

#[tokio::test]
async fn display_codes_are_stored_as_keyed_digests_never_in_clear() {
    // Ten digits: a code found by chance among the file's other digits would be a false alarm.
    let server = TestServer::spawn_with(|c| c.approvals.code_length = 10).await;
    let acme = server.app("Acme").await;
    let globex = server.app("Globex").await;
    let device = server.user_with_device("alice").await;

    // One approved with its code, one denied for a wrong code, one left pending.
    let approved = acme.client.create_approval(&login("alice")).await.unwrap();
    let code = approved.display_code.clone().unwrap();
    assert_eq!(code.len(), 10);
    assert_eq!(
        device.approval(&approved.id).await.unwrap().code_length,
        Some(10),
        "the device still learns how many digits to ask for"
    );
    let answer = device
        .decide(&approved.id, Decision::Approve, Some(&code))
        .await
        .unwrap();
    assert_eq!(answer.state, ApprovalState::Approved);
    let wrong = globex
        .client
        .create_approval(&login("alice"))
        .await
        .unwrap();
    let wrong_code = wrong.display_code.clone().unwrap();
    let typed = if wrong_code == "0123456789" {
        "9876543210"
    } else {
        "0123456789"
    };
    let refused = device
        .decide(&wrong.id, Decision::Approve, Some(typed))
        .await
        .expect_err("a wrong code");
    assert_eq!(refused.problem_code(), Some(ProblemCode::WrongCode));
    let pending = acme.client.create_approval(&login("alice")).await.unwrap();
    let pending_code = pending.display_code.clone().unwrap();

    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let stored: Vec<(i64, Vec<u8>)> = db
        .prepare("SELECT code_length, code_digest FROM approvals ORDER BY created_at")
        .unwrap()
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert_eq!(stored.len(), 3);
    for (length, digest) in &stored {
        assert_eq!((*length, digest.len()), (10, 32), "length and HMAC-SHA256");
    }
    let columns: Vec<String> = db
        .prepare("SELECT name FROM pragma_table_info('approvals')")
        .unwrap()
        .query_map([], |r| r.get(0))
        .unwrap()
        .map(Result::unwrap)
        .collect();
    assert!(!columns.iter().any(|c| c == "display_code"), "{columns:?}");
    drop(db);

    let path = server.db_path();
    let dir = server.stop_and_keep().await;
    let bytes = database_bytes(&path);
    assert!(
        bytes.windows(9).any(|w| w == b"approvals"),
        "the table is there"
    );
    for code in [&code, &wrong_code, &pending_code] {
        assert!(
            !bytes.windows(code.len()).any(|w| w == code.as_bytes()),
            "a display code is readable in the database files"
        );
    }
    drop(dir);
}

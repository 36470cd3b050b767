//! Two devices of the same user answer the same request at the same instant, many times:
//! exactly one answer wins every time, and the loser is told the request is already decided.

use assent_proto::ProblemCode;
use assent_proto::api::ApprovalState;
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, login};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_one_of_two_concurrent_answers_wins() {
    // Forty prompts in a row: this test is about races, not about the prompt budget.
    let server = TestServer::spawn_with(|c| c.fatigue.prompt_budget = 1000).await;
    let app = server.app("Acme").await;
    let phone = server.user_with_device("alice").await;
    let laptop = server.device("alice", "laptop").await;
    let rounds = 40;
    let (mut phone_wins, mut laptop_wins) = (0, 0);
    for round in 0..rounds {
        let created = app.client.create_approval(&login("alice")).await.unwrap();
        let code = created.display_code.clone();
        let view_a = phone.approval(&created.id).await.unwrap();
        let view_b = laptop.approval(&created.id).await.unwrap();
        // Opposite decisions, so the final state tells which one won.
        let a = phone
            .sign_decision(&view_a, Decision::Approve, code.as_deref())
            .unwrap();
        let b = laptop.sign_decision(&view_b, Decision::Deny, None).unwrap();
        let (ra, rb) = tokio::join!(phone.submit(&created.id, a), laptop.submit(&created.id, b));
        let status = app.client.approval(&created.id, None).await.unwrap();
        match (ra, rb) {
            (Ok(won), Err(lost)) => {
                assert_eq!(won.state, ApprovalState::Approved);
                assert_eq!(
                    lost.problem_code(),
                    Some(ProblemCode::AlreadyDecided),
                    "round {round}: {lost}"
                );
                assert_eq!(status.state, ApprovalState::Approved);
                assert_eq!(status.device.unwrap().id, phone.profile().device_id);
                phone_wins += 1;
            }
            (Err(lost), Ok(won)) => {
                assert_eq!(won.state, ApprovalState::Denied);
                assert_eq!(
                    lost.problem_code(),
                    Some(ProblemCode::AlreadyDecided),
                    "round {round}: {lost}"
                );
                assert_eq!(status.state, ApprovalState::Denied);
                assert_eq!(status.device.unwrap().id, laptop.profile().device_id);
                laptop_wins += 1;
            }
            (a, b) => panic!("round {round}: expected exactly one winner, got {a:?} and {b:?}"),
        }
    }
    assert_eq!(phone_wins + laptop_wins, rounds);
    // One decided event per request in the audit log, and the chain holds.
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let decided: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE kind = 'approval_decided'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(decided, rounds);
    assert!(server.admin.verify_audit().await.unwrap().intact);
    server.stop().await;
}

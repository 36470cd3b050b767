//! Property test of the approval state machine: random sequences of answers from two devices,
//! right and wrong codes, cancels and the passing of time, checked against a model. Whatever
//! the order, exactly one transition leaves `pending`, it is the first one that was allowed,
//! and afterwards nothing changes: not the state, not the receipt, not the audit trail.

use assent_client::DeviceClient;
use assent_core::CoreError;
use assent_proto::ProblemCode;
use assent_proto::api::ApprovalState;
use assent_proto::statement::Decision;
use assent_testkit::{TestServer, login};
use proptest::prelude::*;

#[derive(Debug, Clone)]
enum Op {
    Approve { device: usize, right_code: bool },
    Deny { device: usize },
    Fraud { device: usize },
    Cancel,
    Advance { seconds: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (0..2usize, any::<bool>())
            .prop_map(|(device, right_code)| Op::Approve { device, right_code }),
        (0..2usize).prop_map(|device| Op::Deny { device }),
        (0..2usize).prop_map(|device| Op::Fraud { device }),
        Just(Op::Cancel),
        (1..50i64).prop_map(|seconds| Op::Advance { seconds }),
    ]
}

/// What the model expects an operation to do to a pending, unexpired request.
fn expected(op: &Op) -> Option<(ApprovalState, Option<&'static str>)> {
    match op {
        Op::Approve {
            right_code: true, ..
        } => Some((ApprovalState::Approved, None)),
        Op::Approve {
            right_code: false, ..
        } => Some((ApprovalState::Denied, Some("wrong_code"))),
        Op::Deny { .. } => Some((ApprovalState::Denied, Some("denied_by_user"))),
        Op::Fraud { .. } => Some((ApprovalState::Fraud, Some("reported_as_fraud"))),
        Op::Cancel => Some((ApprovalState::Cancelled, Some("cancelled_by_relying_party"))),
        Op::Advance { .. } => None,
    }
}

async fn run_case(ops: Vec<Op>) {
    let server = TestServer::spawn_with(|c| c.devices.max_clock_skew_secs = 3600).await;
    let app = server.app("Acme").await;
    let devices: Vec<DeviceClient> = vec![
        server.user_with_device("alice").await,
        server.device("alice", "laptop").await,
    ];
    let mut request = login("alice");
    request.expires_in = Some(60);
    let created = app.client.create_approval(&request).await.unwrap();
    let code = created.display_code.clone().unwrap();
    let wrong = if code == "000000" {
        "111111".to_owned()
    } else {
        "000000".to_owned()
    };
    // Views (nonce, details) are fetched while pending, as a real device would have them.
    let mut views = Vec::new();
    for device in &devices {
        views.push(device.approval(&created.id).await.unwrap());
    }
    let ttl = 60;
    let mut elapsed = 0;
    let mut model: Option<(ApprovalState, Option<&'static str>)> = None;
    let mut receipt: Option<String> = None;

    for op in &ops {
        let expired_now = elapsed >= ttl;
        let result: Result<(), CoreError> = match op {
            Op::Advance { seconds } => {
                server.clock.advance(time::Duration::seconds(*seconds));
                elapsed += seconds;
                Ok(())
            }
            Op::Cancel => server
                .assent
                .cancel_approval(&app_model(&server, &app.id).await, &created.id)
                .await
                .map(|_| ()),
            Op::Approve { device, right_code } => {
                let typed = if *right_code {
                    code.as_str()
                } else {
                    wrong.as_str()
                };
                let statement = devices[*device]
                    .sign_decision(&views[*device], Decision::Approve, Some(typed))
                    .unwrap();
                server
                    .assent
                    .decide(&created.id, &statement, None)
                    .await
                    .map(|_| ())
            }
            Op::Deny { device } | Op::Fraud { device } => {
                let decision = if matches!(op, Op::Deny { .. }) {
                    Decision::Deny
                } else {
                    Decision::Fraud
                };
                let statement = devices[*device]
                    .sign_decision(&views[*device], decision, None)
                    .unwrap();
                server
                    .assent
                    .decide(&created.id, &statement, None)
                    .await
                    .map(|_| ())
            }
        };
        if let Some(transition) = expected(op) {
            match model {
                None if expired_now => {
                    model = Some((ApprovalState::Expired, Some("expired")));
                    let code = result.unwrap_err().code();
                    assert!(
                        matches!(code, ProblemCode::Expired | ProblemCode::AlreadyDecided),
                        "{op:?}: {code:?}"
                    );
                }
                None => {
                    model = Some(transition);
                    match (op, result) {
                        (
                            Op::Approve {
                                right_code: false, ..
                            },
                            Err(e),
                        ) => assert_eq!(e.code(), ProblemCode::WrongCode),
                        (_, r) => assert!(r.is_ok(), "{op:?} on a pending request: {r:?}"),
                    }
                }
                Some(_) => {
                    let code = result.unwrap_err().code();
                    assert!(
                        matches!(code, ProblemCode::AlreadyDecided | ProblemCode::Expired),
                        "{op:?}: {code:?}"
                    );
                }
            }
        } else if model.is_none() && elapsed >= ttl {
            // Time passing alone ends it (read below settles it, as the sweeper would).
            model = Some((ApprovalState::Expired, Some("expired")));
        }

        let status = app.client.approval(&created.id, None).await.unwrap();
        match model {
            None => assert_eq!(status.state, ApprovalState::Pending),
            Some((state, reason)) => {
                assert_eq!(status.state, state, "after {op:?}");
                assert_eq!(status.reason.as_deref(), reason);
                let now = status.receipt.clone().expect("a final state has a receipt");
                match &receipt {
                    None => receipt = Some(now),
                    Some(first) => assert_eq!(first, &now, "the receipt never changes"),
                }
            }
        }
    }
    let db = rusqlite::Connection::open(server.db_path()).unwrap();
    let decided: i64 = db
        .query_row(
            "SELECT COUNT(*) FROM audit WHERE kind = 'approval_decided' AND subject = ?1",
            [format!("approval:{}", created.id)],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(decided, i64::from(model.is_some()));
    assert!(server.assent.verify_audit().await.unwrap().intact);
    server.stop().await;
}

async fn app_model(server: &TestServer, id: &str) -> assent_core::model::App {
    let id = assent_core::ids::AppId::parse(id).unwrap();
    server.assent.store().app(&id).await.unwrap().unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 48, ..ProptestConfig::default() })]

    #[test]
    fn exactly_one_final_state_and_it_never_changes(ops in proptest::collection::vec(op(), 1..8)) {
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
        runtime.block_on(run_case(ops));
    }
}

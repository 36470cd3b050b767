//! Several Assent nodes on one database: two stores (two pools, as two processes would have)
//! on the same schema, racing where the contract promises one winner, and appending to the audit
//! chain at the same time.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_core::audit::check::verify_chain;
use assent_core::audit::{Actor, AuditEvent, PendingAudit};
use assent_core::clock::{Clock, SystemClock, truncate_to_millis};
use assent_core::ids::{AppId, ApprovalId, EnrollmentId, UserId, Username};
use assent_core::model::{Admission, ApiKeyRecord, App, Approval, KeyRole, Outcome, User};
use assent_core::{Store, StoreError};
use assent_proto::states::{ApprovalKind, ApprovalState};
use assent_store_postgres::{PgConnectOptions, PostgresStore};
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

fn now() -> OffsetDateTime {
    truncate_to_millis(SystemClock.now())
}

fn audit(kid: String) -> PendingAudit {
    PendingAudit::new(now(), Actor::System, AuditEvent::ServerKeyCreated { kid })
}

async fn nodes(options: &PgConnectOptions, n: usize) -> Vec<Arc<dyn Store>> {
    let mut nodes: Vec<Arc<dyn Store>> = Vec::new();
    for _ in 0..n {
        let store = PostgresStore::connect_with(options.clone()).await.unwrap();
        nodes.push(Arc::new(store));
    }
    nodes
}

async fn user_and_app(store: &Arc<dyn Store>) -> (User, App) {
    let user = User {
        id: UserId::generate(),
        username: Username::parse("alice").unwrap(),
        created_at: now(),
    };
    store
        .insert_user(&user, audit("user".into()))
        .await
        .unwrap();
    let app = App {
        id: AppId::generate(),
        name: "Acme".into(),
        created_at: now(),
    };
    let key = ApiKeyRecord {
        id: "k-acme".into(),
        secret_hash: vec![1; 32],
        role: KeyRole::App(app.id.clone()),
        created_at: now(),
        revoked_at: None,
    };
    store
        .insert_app(&app, &key, audit("app".into()))
        .await
        .unwrap();
    (user, app)
}

fn approval(app: &App, user: &User) -> Approval {
    Approval {
        id: ApprovalId::generate(),
        app_id: app.id.clone(),
        user_id: user.id.clone(),
        kind: ApprovalKind::Transaction,
        binding_message: None,
        authorization_details: Vec::new(),
        context: Default::default(),
        nonce: "nonce".into(),
        code: None,
        user_verification: false,
        risk: Default::default(),
        policy_rule: None,
        state: ApprovalState::Pending,
        reason: None,
        created_at: now(),
        expires_at: now() + Duration::minutes(2),
        decided_at: None,
        device_id: None,
        statement: None,
        receipt: None,
        quorum: None,
    }
}

async fn assert_one_chain(store: &Arc<dyn Store>, rows: u64) {
    let report = verify_chain(store.as_ref()).await.unwrap();
    assert!(report.intact, "{report:?}");
    assert_eq!(report.rows, rows);
    assert_eq!(store.audit_head().await.unwrap(), Some(rows));
}

/// Nodes started together: one applies the migrations, the others find them applied.
async fn nodes_starting_together_migrate_once(options: PgConnectOptions) {
    let started = futures_util::future::join_all(
        (0..4).map(|_| PostgresStore::connect_with(options.clone())),
    )
    .await;
    for store in started {
        store.unwrap();
    }
}

/// Answers, cancels and expiries arriving on two nodes at once: one final state per request.
async fn finalize_across_nodes_has_one_winner(options: PgConnectOptions) {
    let nodes = nodes(&options, 2).await;
    let (user, app) = user_and_app(&nodes[0]).await;
    for _ in 0..10 {
        let a = approval(&app, &user);
        nodes[0]
            .insert_approval(&a, &[], audit("a".into()))
            .await
            .unwrap();
        let racers: Vec<_> = (0..16)
            .map(|i| {
                let (node, id) = (nodes[i % 2].clone(), a.id.clone());
                tokio::spawn(async move {
                    let outcome = Outcome {
                        state: if i % 2 == 0 {
                            ApprovalState::Approved
                        } else {
                            ApprovalState::Cancelled
                        },
                        reason: None,
                        decided_at: now(),
                        device_id: None,
                        statement: None,
                        receipt: format!("receipt-{i}"),
                        reported_network: None,
                    };
                    node.finalize(&id, &outcome, audit(format!("final-{i}")))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut winners = 0;
        for racer in racers {
            winners += usize::from(racer.await.unwrap());
        }
        assert_eq!(winners, 1);
    }
    // user, app, then per round the request and its one final state.
    assert_one_chain(&nodes[1], 2 + 10 * 2).await;
}

/// Guesses at a factor spread over two nodes: exactly the limit is admitted.
async fn attempts_across_nodes_are_limited(options: PgConnectOptions) {
    let nodes = nodes(&options, 2).await;
    let (user, _) = user_and_app(&nodes[0]).await;
    let start = now();
    let racers: Vec<_> = (0..24)
        .map(|i| {
            let (node, id) = (nodes[i % 2].clone(), user.id.clone());
            tokio::spawn(async move {
                let at = start + Duration::milliseconds(i64::try_from(i).unwrap());
                node.admit_attempt(&id, "totp", at, start - Duration::minutes(15), 5)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut admitted = 0;
    for racer in racers {
        admitted += usize::from(racer.await.unwrap() == Admission::Admitted);
    }
    assert_eq!(admitted, 5);
    let (count, _) = nodes[1]
        .attempts_since(&user.id, "totp", start - Duration::minutes(15))
        .await
        .unwrap();
    assert_eq!(count, 5);
}

/// Audited writes from two nodes at once form one chain: no fork, no gap, no duplicate.
async fn appends_across_nodes_form_one_chain(options: PgConnectOptions) {
    let nodes = nodes(&options, 2).await;
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let node = nodes[task % 2].clone();
            tokio::spawn(async move {
                for i in 0..25 {
                    if i % 5 == 0 {
                        let user = User {
                            id: UserId::generate(),
                            username: Username::parse(&format!("u{task}-{i}")).unwrap(),
                            created_at: now(),
                        };
                        node.insert_user(&user, audit(format!("u{task}-{i}")))
                            .await
                            .unwrap();
                    } else {
                        node.append_audit(audit(format!("k{task}-{i}")))
                            .await
                            .unwrap();
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_one_chain(&nodes[0], 8 * 25).await;
    assert_one_chain(&nodes[1], 8 * 25).await;
}

/// One enrollment completed from two nodes at once creates one device; a refused write on one
/// node (a taken username) leaves the chain as it was.
async fn enrollment_across_nodes_is_single_use(options: PgConnectOptions) {
    use assent_core::model::{Device, Enrollment};
    use assent_proto::jose::SigningKey;
    use assent_proto::states::{Activation, DeviceState};
    let nodes = nodes(&options, 2).await;
    let (user, _) = user_and_app(&nodes[0]).await;
    let enrollment = Enrollment {
        id: EnrollmentId::generate(),
        user_id: user.id.clone(),
        code_hash: vec![9; 32],
        created_at: now(),
        expires_at: now() + Duration::minutes(15),
        used_at: None,
        activation: Activation::Immediate,
    };
    nodes[0]
        .insert_enrollment(&enrollment, audit("e".into()))
        .await
        .unwrap();
    let key = SigningKey::generate().unwrap();
    let racers: Vec<_> = (0..8)
        .map(|i| {
            let (node, id) = (nodes[i % 2].clone(), enrollment.id.clone());
            let device = Device {
                id: assent_core::ids::DeviceId::generate(),
                user_id: user.id.clone(),
                name: format!("phone {i}"),
                platform: "test".into(),
                jwk: key.jwk().clone(),
                jkt: format!("{}-{i}", key.jwk().thumbprint()),
                state: DeviceState::Active,
                created_at: now(),
                revoked_at: None,
                last_seen_at: None,
                activation_code_sealed: None,
                push_channel: None,
                push_working: false,
            };
            tokio::spawn(async move {
                node.complete_enrollment(&id, &device, audit(format!("d{i}")))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut winners = 0;
    for racer in racers {
        winners += usize::from(racer.await.unwrap());
    }
    assert_eq!(winners, 1);
    assert_eq!(
        nodes[1].list_devices(Some(&user.id)).await.unwrap().len(),
        1
    );
    let twin = User {
        id: UserId::generate(),
        ..user
    };
    assert!(matches!(
        nodes[1].insert_user(&twin, audit("twin".into())).await,
        Err(StoreError::Conflict(_))
    ));
    // user, app, enrollment, the one completion.
    assert_one_chain(&nodes[0], 4).await;
}

/// A user's prompt turn held on one node keeps the other node's turn for that user waiting
/// (the database's advisory lock, not the process's gate), and turns taken on both nodes at
/// once never overlap.
async fn prompt_turns_across_nodes_never_overlap(options: PgConnectOptions) {
    let nodes = nodes(&options, 2).await;
    let (user, _) = user_and_app(&nodes[0]).await;
    let held = nodes[0].prompt_turn(&user.id).await.unwrap();
    let waiting = tokio::spawn({
        let (node, user) = (nodes[1].clone(), user.id.clone());
        async move { node.prompt_turn(&user).await.map(drop) }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(
        !waiting.is_finished(),
        "the other node got a turn while the first held it"
    );
    drop(held);
    tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
        .await
        .expect("the other node's turn began once the first was dropped")
        .unwrap()
        .unwrap();

    let inside = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let most = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let turns: Vec<_> = (0..12)
        .map(|i| {
            let (node, user) = (nodes[i % 2].clone(), user.id.clone());
            let (inside, most) = (inside.clone(), most.clone());
            tokio::spawn(async move {
                use std::sync::atomic::Ordering::SeqCst;
                let turn = node.prompt_turn(&user).await.unwrap();
                most.fetch_max(inside.fetch_add(1, SeqCst) + 1, SeqCst);
                tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                inside.fetch_sub(1, SeqCst);
                drop(turn);
            })
        })
        .collect();
    for turn in turns {
        turn.await.unwrap();
    }
    assert_eq!(most.load(std::sync::atomic::Ordering::SeqCst), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_sharing_one_database() {
    common::with_fresh_schema(nodes_starting_together_migrate_once).await;
    common::with_fresh_schema(finalize_across_nodes_has_one_winner).await;
    common::with_fresh_schema(attempts_across_nodes_are_limited).await;
    common::with_fresh_schema(appends_across_nodes_form_one_chain).await;
    common::with_fresh_schema(enrollment_across_nodes_is_single_use).await;
    common::with_fresh_schema(prompt_turns_across_nodes_never_overlap).await;
}

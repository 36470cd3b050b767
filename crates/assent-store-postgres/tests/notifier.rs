//! Two LISTEN/NOTIFY notifiers on one database, as two nodes: a wake-up sent on one reaches the
//! other's subscribers of that topic only, a local wake-up is immediate, and a lost listener
//! connection comes back and wakes every waiter.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_core::ids::{ApprovalId, UserId};
use assent_core::notifier::{Notifier, Subscription, Topic};
use assent_store_postgres::{PgConnectOptions, PostgresNotifier};
use std::str::FromStr;
use std::time::Duration;

/// How long a wake-up that must come may take.
const BOUND: Duration = Duration::from_secs(5);

/// A node whose connections carry `name`, so a test can find (and cut) them.
async fn node(name: &str) -> PostgresNotifier {
    let options = PgConnectOptions::from_str(&common::database_url())
        .unwrap()
        .application_name(name);
    PostgresNotifier::connect_with(options).await.unwrap()
}

fn unique(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

async fn woken_within(sub: &mut Subscription, bound: Duration) -> bool {
    tokio::time::timeout(bound, sub.changed()).await.is_ok()
}

fn approval() -> Topic {
    Topic::Approval(ApprovalId::generate())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wake_up_on_one_node_reaches_the_other() {
    common::admin().await;
    let a = node(&unique("assent-a")).await;
    let b = node(&unique("assent-b")).await;
    let (topic, user) = (approval(), Topic::User(UserId::generate()));
    let mut on_b = b.subscribe(&topic);
    let mut user_on_b = b.subscribe(&user);
    a.notify(&topic);
    assert!(woken_within(&mut on_b, BOUND).await, "B heard A");
    a.notify(&user);
    assert!(woken_within(&mut user_on_b, BOUND).await, "user topics too");
    // And back.
    let mut on_a = a.subscribe(&topic);
    b.notify(&topic);
    assert!(woken_within(&mut on_a, BOUND).await, "A heard B");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn other_topics_do_not_wake() {
    common::admin().await;
    let a = node(&unique("assent-a")).await;
    let b = node(&unique("assent-b")).await;
    let (quiet, other, marker) = (approval(), approval(), approval());
    let mut quiet_on_b = b.subscribe(&quiet);
    let mut marker_on_b = b.subscribe(&marker);
    a.notify(&other);
    a.notify(&marker);
    assert!(woken_within(&mut marker_on_b, BOUND).await);
    // `other` was sent with or before `marker`, so B has handled it by now.
    assert!(!woken_within(&mut quiet_on_b, Duration::from_millis(300)).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_local_wake_up_is_immediate_and_not_repeated() {
    common::admin().await;
    let a = node(&unique("assent-a")).await;
    let topic = approval();
    let mut sub = a.subscribe(&topic);
    a.notify(&topic);
    assert!(woken_within(&mut sub, Duration::from_secs(1)).await);
    // The node's own NOTIFY comes back on its listener and is skipped.
    assert!(!woken_within(&mut sub, Duration::from_millis(500)).await);
    drop(sub);
    assert_eq!(a.active_topics(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listener_reconnects_and_wakes_every_waiter() {
    let admin = common::admin().await;
    let a = node(&unique("assent-a")).await;
    let b_name = unique("assent-b");
    let b = node(&b_name).await;
    let mut waiting = b.subscribe(&approval());
    let cut: Vec<i32> = sqlx::query_scalar(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND query LIKE 'LISTEN%'",
    )
    .bind(&b_name)
    .fetch_all(&admin)
    .await
    .unwrap();
    assert_eq!(cut.len(), 1, "B has one listener connection");
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(cut[0])
        .execute(&admin)
        .await
        .unwrap();
    assert!(
        woken_within(&mut waiting, BOUND).await,
        "after a reconnection every waiter is woken, for what may have been missed"
    );
    // Listening again: wake-ups from A arrive.
    let topic = approval();
    let mut on_b = b.subscribe(&topic);
    let deadline = tokio::time::Instant::now() + BOUND;
    loop {
        a.notify(&topic);
        if woken_within(&mut on_b, Duration::from_millis(200)).await {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "B listens again after its connection was cut"
        );
    }
}

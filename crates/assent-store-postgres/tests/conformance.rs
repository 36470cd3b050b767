//! The PostgreSQL store against the shared store contract, each check in a fresh schema.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_store_postgres::PostgresStore;
use std::sync::Arc;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_store_passes_the_store_contract() {
    let mut failed = Vec::new();
    for (name, check) in assent_store_tests::CHECKS {
        println!("check {name}");
        let outcome = common::in_fresh_schema(|options| async move {
            let store = PostgresStore::connect_with(options).await.unwrap();
            check(Arc::new(store.clone())).await;
            let _ = tokio::time::timeout(Duration::from_secs(5), store.close()).await;
        })
        .await;
        if outcome.is_err() {
            failed.push(*name);
        }
    }
    assert!(failed.is_empty(), "checks failed: {failed:?}");
}

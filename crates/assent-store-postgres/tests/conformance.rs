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

/// A connection failure names what failed, never the password in the URL.
#[tokio::test]
async fn connect_errors_do_not_show_the_password() {
    let urls = [
        "postgres://assent:n0t-f0r-logs@127.0.0.1:1/assent",
        "postgres://127.0.0.1:1/assent?user=assent&password=n0t-f0r-logs",
        "postgres://assent:n0t-f0r-logs@127.0.0.1:1/assent?sslmode=sometimes",
    ];
    let errors = futures_util::future::join_all(urls.map(PostgresStore::connect)).await;
    for error in errors {
        let error = error.err().unwrap().to_string();
        assert!(!error.contains("n0t-f0r-logs"), "{error}");
    }
}

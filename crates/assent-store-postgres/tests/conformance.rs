//! The PostgreSQL store against the shared store contract: one test per check, each in a fresh
//! schema.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use assent_store_postgres::PostgresStore;
use assent_store_tests::Check;
use std::sync::Arc;
use std::time::Duration;

/// Runs `check` on a store in a schema of its own, dropped afterwards.
async fn in_fresh_schema(check: Check) {
    common::with_fresh_schema(|options| async move {
        let store = PostgresStore::connect_with(options).await.unwrap();
        check(Arc::new(store.clone())).await;
        let _ = tokio::time::timeout(Duration::from_secs(5), store.close()).await;
    })
    .await;
}

assent_store_tests::store_contract!(in_fresh_schema);

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

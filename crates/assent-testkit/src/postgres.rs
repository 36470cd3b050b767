//! A PostgreSQL database for a test: a fresh schema on the server `ASSENT_TEST_DATABASE_URL`
//! names (the local one by default), dropped afterwards even when the test fails. A server that
//! does not answer fails the test: a test that quietly skips would pass for code never run.

use futures_util::FutureExt as _;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::str::FromStr as _;
use std::time::Duration;

/// The server the tests use.
pub fn database_url() -> String {
    std::env::var("ASSENT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Runs `test` with the URL of a fresh schema (its `search_path`), then drops the schema and
/// passes on the test's panic, if any.
pub async fn with_postgres<F, Fut, T>(test: F) -> T
where
    F: FnOnce(String) -> Fut,
    Fut: Future<Output = T>,
{
    let base = database_url();
    let options = PgConnectOptions::from_str(&base).expect("ASSENT_TEST_DATABASE_URL parses");
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "PostgreSQL does not answer ({e}): run scripts/test.sh, which starts one, or set \
                 ASSENT_TEST_DATABASE_URL"
            )
        });
    let schema = format!("assent_it_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("create the test schema");
    let separator = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{separator}options=-c%20search_path%3D{schema}");
    let outcome = AssertUnwindSafe(test(url)).catch_unwind().await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .expect("drop the test schema");
    admin.close().await;
    match outcome {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

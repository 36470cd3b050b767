//! What the PostgreSQL tests share: the server to use, and a fresh schema per test that is
//! dropped afterwards even when the test fails.
#![allow(dead_code)]

use assent_store_postgres::PgConnectOptions;
use futures_util::FutureExt;
use sqlx::postgres::{PgPool, PgPoolOptions};
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::str::FromStr;
use std::time::Duration;

/// The server the tests use: `ASSENT_TEST_DATABASE_URL`, or the local default.
pub fn database_url() -> String {
    std::env::var("ASSENT_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// A connection for creating and dropping schemas. A server that does not answer fails the
/// test: a store test that quietly runs nothing would pass for a store that was never tested.
pub async fn admin() -> PgPool {
    let url = database_url();
    let options = PgConnectOptions::from_str(&url).expect("ASSENT_TEST_DATABASE_URL parses");
    match PgPoolOptions::new()
        .max_connections(2)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options)
        .await
    {
        Ok(pool) => pool,
        Err(e) => panic!(
            "PostgreSQL does not answer at {} ({e}). The PostgreSQL store tests need a server: \
             run scripts/test.sh, which starts one, or set ASSENT_TEST_DATABASE_URL.",
            without_password(&url)
        ),
    }
}

fn without_password(url: &str) -> String {
    match (url.split_once("://"), url.rfind('@')) {
        (Some((scheme, rest)), Some(at)) if rest.contains(':') => {
            let user = rest.split(':').next().unwrap_or_default();
            format!("{scheme}://{user}:***{}", &url[at..])
        }
        _ => url.to_owned(),
    }
}

/// Options that connect to the test server with `schema` first on the search path.
pub fn options_for(schema: &str) -> PgConnectOptions {
    PgConnectOptions::from_str(&database_url())
        .expect("ASSENT_TEST_DATABASE_URL parses")
        .options([("search_path", schema)])
}

/// Creates a uniquely named schema, runs `test` with options that use it, and drops the schema
/// whatever happened; a panic in `test` is returned, for the caller to report or resume.
pub async fn in_fresh_schema<F, Fut, T>(test: F) -> std::thread::Result<T>
where
    F: FnOnce(PgConnectOptions) -> Fut,
    Fut: Future<Output = T>,
{
    let admin = admin().await;
    let schema = format!("assent_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
        .execute(&admin)
        .await
        .expect("create the test schema");
    let outcome = AssertUnwindSafe(test(options_for(&schema)))
        .catch_unwind()
        .await;
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("DROP SCHEMA {schema} CASCADE")))
        .execute(&admin)
        .await
        .expect("drop the test schema");
    admin.close().await;
    outcome
}

/// Runs `test` in a fresh schema and fails the test if it failed.
pub async fn with_fresh_schema<F, Fut, T>(test: F) -> T
where
    F: FnOnce(PgConnectOptions) -> Fut,
    Fut: Future<Output = T>,
{
    match in_fresh_schema(test).await {
        Ok(value) => value,
        Err(panic) => std::panic::resume_unwind(panic),
    }
}

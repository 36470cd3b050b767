//! API keys, applications and users.

use super::{Query, write_audited};
use crate::error::backend;
use crate::rows::{self, app_columns, key_columns, user_columns};
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{AppId, UserId, Username};
use assent_core::model::{ApiKeyRecord, App, User};
use sqlx::postgres::PgPool;

fn insert_key(key: &ApiKeyRecord) -> Query {
    let (role, app) = rows::key_role(&key.role);
    sqlx::query(
        "INSERT INTO api_keys (id, secret_hash, role, app_id, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(key.id.clone())
    .bind(key.secret_hash.clone())
    .bind(role)
    .bind(app.map(str::to_owned))
    .bind(to_millis(key.created_at))
}

pub(crate) async fn insert_api_key(
    pool: &PgPool,
    key: &ApiKeyRecord,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
    write_audited(pool, vec![insert_key(key)], audit).await
}

pub(crate) async fn api_key(pool: &PgPool, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        key_columns!(),
        " FROM api_keys WHERE id = $1"
    ))
    .bind(id)
    .try_map(rows::api_key)
    .fetch_optional(pool)
    .await
    .map_err(backend)
}

pub(crate) async fn has_admin_key(pool: &PgPool) -> Result<bool, StoreError> {
    sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin')")
        .fetch_one(pool)
        .await
        .map_err(backend)
}

pub(crate) async fn insert_app(
    pool: &PgPool,
    app: &App,
    key: &ApiKeyRecord,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
    let insert = sqlx::query("INSERT INTO apps (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(app.id.to_string())
        .bind(app.name.clone())
        .bind(to_millis(app.created_at));
    write_audited(pool, vec![insert, insert_key(key)], audit).await
}

pub(crate) async fn app(pool: &PgPool, id: &AppId) -> Result<Option<App>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        app_columns!(),
        " FROM apps WHERE id = $1"
    ))
    .bind(id.as_str())
    .try_map(rows::app)
    .fetch_optional(pool)
    .await
    .map_err(backend)
}

/// A taken username fails on the unique constraint, which [`backend`] reports as a conflict;
/// the transaction rolls back with its audit row unwritten.
pub(crate) async fn insert_user(
    pool: &PgPool,
    user: &User,
    audit: &PendingAudit,
) -> Result<(), StoreError> {
    let insert = sqlx::query("INSERT INTO users (id, username, created_at) VALUES ($1, $2, $3)")
        .bind(user.id.to_string())
        .bind(user.username.to_string())
        .bind(to_millis(user.created_at));
    write_audited(pool, vec![insert], audit).await
}

pub(crate) async fn user(pool: &PgPool, id: &UserId) -> Result<Option<User>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE id = $1"
    ))
    .bind(id.as_str())
    .try_map(rows::user)
    .fetch_optional(pool)
    .await
    .map_err(backend)
}

pub(crate) async fn user_by_name(
    pool: &PgPool,
    name: &Username,
) -> Result<Option<User>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users WHERE username = $1"
    ))
    .bind(name.as_str())
    .try_map(rows::user)
    .fetch_optional(pool)
    .await
    .map_err(backend)
}

pub(crate) async fn list_users(pool: &PgPool) -> Result<Vec<User>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        user_columns!(),
        " FROM users ORDER BY username"
    ))
    .try_map(rows::user)
    .fetch_all(pool)
    .await
    .map_err(backend)
}

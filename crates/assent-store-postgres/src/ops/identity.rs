//! API keys, applications and users.

use super::{Query, begin, change_once, commit_audited, run, write_audited};
use crate::error::backend;
use crate::rows::{self, app_columns, key_columns, user_columns};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{AppId, UserId, Username};
use assent_core::model::{ApiKeyRecord, App, KeyRole, User};
use assent_core::store::IdentityStore;
use async_trait::async_trait;
use time::OffsetDateTime;

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

#[async_trait]
impl IdentityStore for PostgresStore {
    async fn insert_api_key(
        &self,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        write_audited(&self.pool, vec![insert_key(key)], &audit).await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            key_columns!(),
            " FROM api_keys WHERE id = $1"
        ))
        .bind(id)
        .try_map(rows::api_key)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn has_admin_key(&self) -> Result<bool, StoreError> {
        sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL)",
        )
        .fetch_one(&self.pool)
        .await
        .map_err(backend)
    }

    async fn app_keys(&self, app: &AppId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            key_columns!(),
            " FROM api_keys WHERE app_id = $1 ORDER BY created_at DESC, id DESC"
        ))
        .bind(app.as_str())
        .try_map(rows::api_key)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn rotate_api_key(
        &self,
        key: &ApiKeyRecord,
        replaced: &[String],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let KeyRole::App(app) = &key.role else {
            return Err(StoreError::Backend(
                "only an application's key rotates".into(),
            ));
        };
        let mut tx = begin(&self.pool).await?;
        run(&mut tx, insert_key(key)).await?;
        let mut revoked = 0;
        for id in replaced {
            // A concurrent rotation's update of the same row waits for its commit, then finds
            // the key revoked: this one then changes nothing and gives up below.
            revoked += run(
                &mut tx,
                sqlx::query(
                    "UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND app_id = $3 AND revoked_at IS NULL",
                )
                .bind(id.clone())
                .bind(to_millis(key.created_at))
                .bind(app.to_string()),
            )
            .await?;
        }
        let others: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM api_keys WHERE app_id = $1 AND id <> $2 AND revoked_at IS NULL",
        )
        .bind(app.to_string())
        .bind(key.id.clone())
        .fetch_one(&mut *tx)
        .await
        .map_err(backend)?;
        if revoked != replaced.len() as u64 || others != 0 {
            tx.rollback().await.map_err(backend)?;
            return Err(StoreError::Conflict(
                "the application's keys changed during the rotation".into(),
            ));
        }
        commit_audited(tx, &audit).await
    }

    async fn revoke_api_key(
        &self,
        id: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let query =
            sqlx::query("UPDATE api_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
                .bind(id.to_owned())
                .bind(to_millis(at));
        change_once(&self.pool, query, &audit).await
    }

    async fn insert_app(
        &self,
        app: &App,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let insert = sqlx::query("INSERT INTO apps (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(app.id.to_string())
            .bind(app.name.clone())
            .bind(to_millis(app.created_at));
        write_audited(&self.pool, vec![insert, insert_key(key)], &audit).await
    }

    async fn app(&self, id: &AppId) -> Result<Option<App>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            app_columns!(),
            " FROM apps WHERE id = $1"
        ))
        .bind(id.as_str())
        .try_map(rows::app)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn list_apps(&self) -> Result<Vec<App>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            app_columns!(),
            " FROM apps ORDER BY name"
        ))
        .try_map(rows::app)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    /// A taken username fails on the unique constraint, which [`backend`] reports as a conflict;
    /// the transaction rolls back with its audit row unwritten.
    async fn insert_user(&self, user: &User, audit: PendingAudit) -> Result<(), StoreError> {
        let insert =
            sqlx::query("INSERT INTO users (id, username, created_at) VALUES ($1, $2, $3)")
                .bind(user.id.to_string())
                .bind(user.username.to_string())
                .bind(to_millis(user.created_at));
        write_audited(&self.pool, vec![insert], &audit).await
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE id = $1"
        ))
        .bind(id.as_str())
        .try_map(rows::user)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn user_by_name(&self, name: &Username) -> Result<Option<User>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users WHERE username = $1"
        ))
        .bind(name.as_str())
        .try_map(rows::user)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            user_columns!(),
            " FROM users ORDER BY username"
        ))
        .try_map(rows::user)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }
}

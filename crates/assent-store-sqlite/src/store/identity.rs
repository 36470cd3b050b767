//! API keys, applications and users.

use super::audit::append_audit;
use super::{SqliteStore, change_once};
use crate::connection::backend;
use crate::rows;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{AppId, UserId, Username};
use assent_core::model::{ApiKeyRecord, App, KeyRole, User};
use assent_core::store::IdentityStore;
use async_trait::async_trait;
use rusqlite::{Connection, params};
use time::OffsetDateTime;

fn insert_key(conn: &Connection, key: &ApiKeyRecord) -> Result<(), StoreError> {
    let (role, app) = match &key.role {
        KeyRole::Admin => ("admin", None),
        KeyRole::App(id) => ("app", Some(id.to_string())),
    };
    conn.prepare_cached(
        "INSERT INTO api_keys (id, secret_hash, role, app_id, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
    )
    .and_then(|mut s| s.execute(params![key.id, key.secret_hash, role, app, to_millis(key.created_at)]))
    .map_err(backend)?;
    Ok(())
}

#[async_trait]
impl IdentityStore for SqliteStore {
    async fn insert_api_key(
        &self,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let key = key.clone();
        self.write(move |c| {
            insert_key(c, &key)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn api_key(&self, id: &str) -> Result<Option<ApiKeyRecord>, StoreError> {
        let sql = format!("SELECT {} FROM api_keys WHERE id = ?1", rows::KEY_COLUMNS);
        self.one(sql, id.to_owned(), rows::api_key).await
    }

    async fn has_admin_key(&self) -> Result<bool, StoreError> {
        self.read(|c| {
            c.query_row(
                "SELECT EXISTS (SELECT 1 FROM api_keys WHERE role = 'admin' AND revoked_at IS NULL)",
                [],
                |r| r.get(0),
            )
        })
        .await
    }

    async fn app_keys(&self, app: &AppId) -> Result<Vec<ApiKeyRecord>, StoreError> {
        let sql = format!(
            "SELECT {} FROM api_keys WHERE app_id = ?1 ORDER BY created_at DESC, id DESC",
            rows::KEY_COLUMNS
        );
        let app = app.to_string();
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map([app], rows::api_key)?
                .collect()
        })
        .await
    }

    async fn rotate_api_key(
        &self,
        key: &ApiKeyRecord,
        replaced: &[String],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (key, replaced) = (key.clone(), replaced.to_vec());
        let KeyRole::App(app) = key.role.clone() else {
            return Err(StoreError::Backend(
                "only an application's key rotates".into(),
            ));
        };
        self.write(move |c| {
            insert_key(c, &key)?;
            let mut revoke = c
                .prepare_cached(
                    "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND app_id = ?3 AND revoked_at IS NULL",
                )
                .map_err(backend)?;
            let mut revoked = 0;
            for id in &replaced {
                revoked += revoke
                    .execute(params![id, to_millis(key.created_at), app.as_str()])
                    .map_err(backend)?;
            }
            let others: i64 = c
                .query_row(
                    "SELECT COUNT(*) FROM api_keys WHERE app_id = ?1 AND id <> ?2 AND revoked_at IS NULL",
                    params![app.as_str(), key.id],
                    |r| r.get(0),
                )
                .map_err(backend)?;
            if revoked != replaced.len() || others != 0 {
                return Err(StoreError::Conflict(
                    "the application's keys changed during the rotation".into(),
                ));
            }
            append_audit(c, &audit)
        })
        .await
    }

    async fn revoke_api_key(
        &self,
        id: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let id = id.to_owned();
        self.write(move |c| {
            change_once(
                c,
                "UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                params![id, to_millis(at)],
                &audit,
            )
        })
        .await
    }

    async fn insert_app(
        &self,
        app: &App,
        key: &ApiKeyRecord,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (app, key) = (app.clone(), key.clone());
        self.write(move |c| {
            c.prepare_cached("INSERT INTO apps (id, name, created_at) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| {
                    s.execute(params![
                        app.id.as_str(),
                        app.name,
                        to_millis(app.created_at)
                    ])
                })
                .map_err(backend)?;
            insert_key(c, &key)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn app(&self, id: &AppId) -> Result<Option<App>, StoreError> {
        let sql = format!("SELECT {} FROM apps WHERE id = ?1", rows::APP_COLUMNS);
        self.one(sql, id.to_string(), rows::app).await
    }

    async fn list_apps(&self) -> Result<Vec<App>, StoreError> {
        let sql = format!("SELECT {} FROM apps ORDER BY name", rows::APP_COLUMNS);
        self.read_heavy(move |c| c.prepare_cached(&sql)?.query_map([], rows::app)?.collect())
            .await
    }

    async fn insert_user(&self, user: &User, audit: PendingAudit) -> Result<(), StoreError> {
        let user = user.clone();
        self.write(move |c| {
            c.prepare_cached("INSERT INTO users (id, username, created_at) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| {
                    s.execute(params![
                        user.id.as_str(),
                        user.username.as_str(),
                        to_millis(user.created_at)
                    ])
                })
                .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        let sql = format!("SELECT {} FROM users WHERE id = ?1", rows::USER_COLUMNS);
        self.one(sql, id.to_string(), rows::user).await
    }

    async fn user_by_name(&self, name: &Username) -> Result<Option<User>, StoreError> {
        let sql = format!(
            "SELECT {} FROM users WHERE username = ?1",
            rows::USER_COLUMNS
        );
        self.one(sql, name.to_string(), rows::user).await
    }

    async fn list_users(&self) -> Result<Vec<User>, StoreError> {
        let sql = format!("SELECT {} FROM users ORDER BY username", rows::USER_COLUMNS);
        self.read_heavy(move |c| c.prepare_cached(&sql)?.query_map([], rows::user)?.collect())
            .await
    }
}

//! Groups, their members and application scopes on PostgreSQL: each change written with its
//! audit row, membership changes only when they change a row.

use super::{Tx, begin, change_once, commit_audited, run, write_audited};
use crate::error::backend;
use crate::rows::{self, group_columns};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::groups::records::Group;
use assent_core::ids::{AppId, UserId};
use assent_core::store::GroupStore;
use async_trait::async_trait;

/// Locks application `app` against other scope changes until `tx` ends, or refuses an
/// application that does not exist (as its foreign key would, even for an empty scope). Two
/// admins replacing the same scope at once then take turns, the second replacing the first's
/// scope whole, instead of the second's insert colliding with rows it could not see deleted.
/// `FOR NO KEY UPDATE` leaves the key share that requests referencing the application take.
async fn lock_app(tx: &mut Tx, app: &AppId) -> Result<(), StoreError> {
    let found: Option<String> =
        sqlx::query_scalar("SELECT id FROM apps WHERE id = $1 FOR NO KEY UPDATE")
            .bind(app.to_string())
            .fetch_optional(&mut **tx)
            .await
            .map_err(backend)?;
    match found {
        Some(_) => Ok(()),
        None => Err(StoreError::Conflict(format!("no application {app}"))),
    }
}

#[async_trait]
impl GroupStore for PostgresStore {
    /// A taken name fails on its primary key, which [`backend`] reports as a conflict; the
    /// transaction rolls back with its audit row unwritten.
    async fn insert_group(&self, group: &Group, audit: PendingAudit) -> Result<(), StoreError> {
        let insert = sqlx::query("INSERT INTO groups (name, created_at) VALUES ($1, $2)")
            .bind(group.name.clone())
            .bind(to_millis(group.created_at));
        write_audited(&self.pool, vec![insert], &audit).await
    }

    async fn group(&self, name: &str) -> Result<Option<Group>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups WHERE name = $1"
        ))
        .bind(name)
        .try_map(rows::group)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn list_groups(&self) -> Result<Vec<Group>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            group_columns!(),
            " FROM groups ORDER BY name"
        ))
        .try_map(rows::group)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    /// Only the duplicate key is let pass; an unknown group or user still fails on its foreign
    /// key. Of two concurrent adds of the same member, the second waits for the first and
    /// inserts nothing, so exactly one is audited.
    async fn add_group_member(
        &self,
        group: &str,
        user: &UserId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let add = sqlx::query(
            "INSERT INTO group_members (group_name, user_id) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
        )
        .bind(group.to_owned())
        .bind(user.to_string());
        change_once(&self.pool, add, &audit).await
    }

    async fn remove_group_member(
        &self,
        group: &str,
        user: &UserId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let remove =
            sqlx::query("DELETE FROM group_members WHERE group_name = $1 AND user_id = $2")
                .bind(group.to_owned())
                .bind(user.to_string());
        change_once(&self.pool, remove, &audit).await
    }

    async fn group_members(&self, group: &str) -> Result<Vec<UserId>, StoreError> {
        let members: Vec<String> = sqlx::query_scalar(
            "SELECT user_id FROM group_members WHERE group_name = $1 ORDER BY user_id",
        )
        .bind(group)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)?;
        Ok(members.into_iter().map(UserId::from_stored).collect())
    }

    /// Read on every request, from the index of members by user.
    async fn groups_of(&self, user: &UserId) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT group_name FROM group_members WHERE user_id = $1 ORDER BY group_name",
        )
        .bind(user.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    /// The old scope is deleted and the new one inserted in the transaction that appends the
    /// audit row: a group that does not exist fails its foreign key and nothing changes.
    async fn set_app_scope(
        &self,
        app: &AppId,
        groups: &[String],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let mut tx = begin(&self.pool).await?;
        lock_app(&mut tx, app).await?;
        let clear = sqlx::query("DELETE FROM app_scopes WHERE app_id = $1").bind(app.to_string());
        run(&mut tx, clear).await?;
        let insert = sqlx::query(
            "INSERT INTO app_scopes (app_id, group_name) SELECT $1, unnest($2::text[])",
        )
        .bind(app.to_string())
        .bind(groups.to_vec());
        run(&mut tx, insert).await?;
        commit_audited(tx, &audit).await
    }

    /// Read on every request, from the primary key.
    async fn app_scope(&self, app: &AppId) -> Result<Vec<String>, StoreError> {
        sqlx::query_scalar(
            "SELECT group_name FROM app_scopes WHERE app_id = $1 ORDER BY group_name",
        )
        .bind(app.to_string())
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }
}

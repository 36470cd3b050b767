//! Groups, their members and application scopes on SQLite: each change written with its audit
//! row, membership changes only when they change a row.

use super::audit::append_audit;
use super::{SqliteStore, change_once};
use crate::connection::backend;
use crate::rows;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::groups::records::Group;
use assent_core::ids::{AppId, UserId};
use assent_core::store::GroupStore;
use async_trait::async_trait;
use rusqlite::params;

/// Adds a member unless it is one already. Only the duplicate key is let pass (not
/// `INSERT OR IGNORE`, which would also swallow a NOT NULL or CHECK failure); an unknown group
/// or user still fails on its foreign key.
const ADD_MEMBER: &str =
    "INSERT INTO group_members (group_name, user_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING";

const REMOVE_MEMBER: &str = "DELETE FROM group_members WHERE group_name = ?1 AND user_id = ?2";

/// A user's groups: read on every request (policy conditions, the application's scope), from
/// the index of members by user alone, already in order.
pub(crate) const GROUPS_OF: &str =
    "SELECT group_name FROM group_members WHERE user_id = ?1 ORDER BY group_name";

/// An application's scope: read on every request, from its primary key alone, in order.
pub(crate) const APP_SCOPE: &str =
    "SELECT group_name FROM app_scopes WHERE app_id = ?1 ORDER BY group_name";

#[async_trait]
impl GroupStore for SqliteStore {
    /// A taken name fails on its primary key, which [`backend`] reports as a conflict; the
    /// savepoint rolls back with its audit row unwritten.
    async fn insert_group(&self, group: &Group, audit: PendingAudit) -> Result<(), StoreError> {
        let group = group.clone();
        self.write(move |c| {
            c.prepare_cached("INSERT INTO groups (name, created_at) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![group.name, to_millis(group.created_at)]))
                .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn group(&self, name: &str) -> Result<Option<Group>, StoreError> {
        let sql = format!("SELECT {} FROM groups WHERE name = ?1", rows::GROUP_COLUMNS);
        self.one(sql, name.to_owned(), rows::group).await
    }

    async fn list_groups(&self) -> Result<Vec<Group>, StoreError> {
        let sql = format!("SELECT {} FROM groups ORDER BY name", rows::GROUP_COLUMNS);
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map([], rows::group)?
                .collect()
        })
        .await
    }

    async fn add_group_member(
        &self,
        group: &str,
        user: &UserId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (group, user) = (group.to_owned(), user.clone());
        self.write(move |c| change_once(c, ADD_MEMBER, params![group, user.as_str()], &audit))
            .await
    }

    async fn remove_group_member(
        &self,
        group: &str,
        user: &UserId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (group, user) = (group.to_owned(), user.clone());
        self.write(move |c| change_once(c, REMOVE_MEMBER, params![group, user.as_str()], &audit))
            .await
    }

    async fn group_members(&self, group: &str) -> Result<Vec<UserId>, StoreError> {
        let group = group.to_owned();
        self.read_heavy(move |c| {
            c.prepare_cached(
                "SELECT user_id FROM group_members WHERE group_name = ?1 ORDER BY user_id",
            )?
            .query_map([group], |r| r.get(0).map(UserId::from_stored))?
            .collect()
        })
        .await
    }

    async fn groups_of(&self, user: &UserId) -> Result<Vec<String>, StoreError> {
        let user = user.to_string();
        self.read(move |c| {
            c.prepare_cached(GROUPS_OF)?
                .query_map([user], |r| r.get(0))?
                .collect()
        })
        .await
    }

    /// The old scope is deleted and the new one inserted in the same savepoint as the audit row:
    /// a group that does not exist fails its foreign key and nothing changes. An application
    /// that does not exist is refused the same way, even with an empty scope that no foreign
    /// key would check.
    async fn set_app_scope(
        &self,
        app: &AppId,
        groups: &[String],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (app, groups) = (app.clone(), groups.to_vec());
        self.write(move |c| {
            let exists: bool = c
                .prepare_cached("SELECT EXISTS (SELECT 1 FROM apps WHERE id = ?1)")
                .and_then(|mut s| s.query_row([app.as_str()], |r| r.get(0)))
                .map_err(backend)?;
            if !exists {
                return Err(StoreError::Conflict(format!("no application {app}")));
            }
            c.prepare_cached("DELETE FROM app_scopes WHERE app_id = ?1")
                .and_then(|mut s| s.execute([app.as_str()]))
                .map_err(backend)?;
            let mut insert = c
                .prepare_cached("INSERT INTO app_scopes (app_id, group_name) VALUES (?1, ?2)")
                .map_err(backend)?;
            for group in &groups {
                insert
                    .execute(params![app.as_str(), group])
                    .map_err(backend)?;
            }
            append_audit(c, &audit)
        })
        .await
    }

    async fn app_scope(&self, app: &AppId) -> Result<Vec<String>, StoreError> {
        let app = app.to_string();
        self.read(move |c| {
            c.prepare_cached(APP_SCOPE)?
                .query_map([app], |r| r.get(0))?
                .collect()
        })
        .await
    }
}

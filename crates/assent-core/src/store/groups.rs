//! Groups of users, their members, and application scopes. Every change is written with its
//! audit event, and only when it changes something.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::groups::records::Group;
use crate::ids::{AppId, UserId};
use async_trait::async_trait;

/// Groups and the scopes of applications.
#[async_trait]
pub trait GroupStore: Send + Sync {
    /// Creates a group with its audit event; [`StoreError::Conflict`] when the name exists.
    async fn insert_group(&self, group: &Group, audit: PendingAudit) -> Result<(), StoreError>;
    async fn group(&self, name: &str) -> Result<Option<Group>, StoreError>;
    /// Every group, by name.
    async fn list_groups(&self) -> Result<Vec<Group>, StoreError>;
    /// Adds a user to a group with the audit event; `false` (nothing written) when the user is a
    /// member already. The group and the user exist (the caller checked).
    async fn add_group_member(
        &self,
        group: &str,
        user: &UserId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// Removes a user from a group with the audit event; `false` (nothing written) when the
    /// user was not a member.
    async fn remove_group_member(
        &self,
        group: &str,
        user: &UserId,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
    /// The members of a group, by user id.
    async fn group_members(&self, group: &str) -> Result<Vec<UserId>, StoreError>;
    /// The names of the groups a user belongs to, sorted.
    async fn groups_of(&self, user: &UserId) -> Result<Vec<String>, StoreError>;
    /// Replaces an application's scope (the groups whose members it may ask; none: any user)
    /// with its audit event. The groups exist (the caller checked).
    async fn set_app_scope(
        &self,
        app: &AppId,
        groups: &[String],
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    /// An application's scope, sorted; empty when it may ask any user.
    async fn app_scope(&self, app: &AppId) -> Result<Vec<String>, StoreError>;
}

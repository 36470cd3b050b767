//! Groups of users: named sets an admin keeps, which policy conditions see as `user.groups`, and
//! which limit the users an application may ask (its scope). An application with a scope may
//! reach only the members of its groups: asking, enrolling, checking factors or reporting
//! events for anyone else is answered as for a user who does not exist, so that it cannot tell
//! who else has an account.

pub mod records;

use crate::audit::AuditEvent;
use crate::error::CoreError;
use crate::ids::{AppId, UserId, Username};
use crate::model::{App, User};
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use records::Group;

/// Longest group name.
pub const MAX_GROUP_NAME: usize = 64;
/// Most groups in an application's scope.
pub const MAX_SCOPE_GROUPS: usize = 32;

/// A group with its members' names, as an admin lists them.
#[derive(Debug, Clone)]
pub struct GroupView {
    pub group: Group,
    pub members: Vec<Username>,
}

/// Whether `name` is a group name: 1 to [`MAX_GROUP_NAME`] lower-case letters, digits, `.`,
/// `_` or `-`, so it reads the same in a policy condition, a URL and a log line.
pub fn valid_group_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= MAX_GROUP_NAME
        && name.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-')
        })
}

fn no_group(name: &str) -> CoreError {
    CoreError::rejected(ProblemCode::NotFound, format!("no group named {name:?}"))
}

fn bad_name() -> CoreError {
    CoreError::rejected(
        ProblemCode::InvalidRequest,
        "a group name is 1 to 64 lower-case letters, digits and . _ -",
    )
}

impl Assent {
    /// Creates a group.
    pub async fn create_group(&self, by: &Principal, name: &str) -> Result<Group, CoreError> {
        if !valid_group_name(name) {
            return Err(bad_name());
        }
        let group = Group {
            name: name.to_owned(),
            created_at: self.now(),
        };
        let event = AuditEvent::GroupCreated {
            name: group.name.clone(),
        };
        self.store
            .insert_group(&group, self.audit(by.actor(), event))
            .await
            .map_err(|e| match e {
                crate::error::StoreError::Conflict(_) => CoreError::rejected(
                    ProblemCode::AlreadyExists,
                    format!("a group named {name:?} exists"),
                ),
                other => other.into(),
            })?;
        Ok(group)
    }

    async fn existing_group(&self, name: &str) -> Result<Group, CoreError> {
        if !valid_group_name(name) {
            return Err(no_group(name));
        }
        self.store.group(name).await?.ok_or_else(|| no_group(name))
    }

    /// Every group with its members, by name.
    pub async fn list_groups(&self) -> Result<Vec<GroupView>, CoreError> {
        let mut views = Vec::new();
        for group in self.store.list_groups().await? {
            let mut members = Vec::new();
            for id in self.store.group_members(&group.name).await? {
                if let Some(user) = self.records.user(self.store.as_ref(), &id).await? {
                    members.push(user.username);
                }
            }
            members.sort_by(|a, b| a.as_str().cmp(b.as_str()));
            views.push(GroupView { group, members });
        }
        Ok(views)
    }

    /// Adds a user to a group; `false` when they were a member already.
    pub async fn add_group_member(
        &self,
        by: &Principal,
        group: &str,
        username: &str,
    ) -> Result<bool, CoreError> {
        let group = self.existing_group(group).await?;
        let user = self.user_named(username).await?;
        let event = AuditEvent::GroupMemberAdded {
            group: group.name.clone(),
            user_id: user.id.to_string(),
        };
        Ok(self
            .store
            .add_group_member(&group.name, &user.id, self.audit(by.actor(), event))
            .await?)
    }

    /// Removes a user from a group; `false` when they were not a member.
    pub async fn remove_group_member(
        &self,
        by: &Principal,
        group: &str,
        username: &str,
    ) -> Result<bool, CoreError> {
        let group = self.existing_group(group).await?;
        let user = self.user_named(username).await?;
        let event = AuditEvent::GroupMemberRemoved {
            group: group.name.clone(),
            user_id: user.id.to_string(),
        };
        Ok(self
            .store
            .remove_group_member(&group.name, &user.id, self.audit(by.actor(), event))
            .await?)
    }

    /// Limits an application to the members of `groups` (none: any user); returns the scope as
    /// stored, sorted.
    pub async fn set_app_scope(
        &self,
        by: &Principal,
        app_id: &str,
        groups: Vec<String>,
    ) -> Result<Vec<String>, CoreError> {
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such application");
        let app_id = AppId::parse(app_id).ok_or_else(not_found)?;
        self.records
            .app(self.store.as_ref(), &app_id)
            .await?
            .ok_or_else(not_found)?;
        // Counted as sent: a long list is refused even if it repeats names.
        if groups.len() > MAX_SCOPE_GROUPS {
            return Err(CoreError::rejected(
                ProblemCode::InvalidRequest,
                format!("a scope names at most {MAX_SCOPE_GROUPS} groups"),
            ));
        }
        let mut groups = groups;
        groups.sort();
        groups.dedup();
        for name in &groups {
            self.existing_group(name).await?;
        }
        let event = AuditEvent::AppScopeSet {
            app_id: app_id.to_string(),
            groups: groups.clone(),
        };
        self.store
            .set_app_scope(&app_id, &groups, self.audit(by.actor(), event))
            .await?;
        Ok(groups)
    }

    /// The groups an application may ask the members of; empty when it may ask any user.
    pub async fn app_scope(&self, app: &AppId) -> Result<Vec<String>, CoreError> {
        Ok(self.store.app_scope(app).await?)
    }

    /// The names of the groups a user belongs to, sorted (what policy sees as `user.groups`).
    pub async fn groups_of(&self, user: &UserId) -> Result<Vec<String>, CoreError> {
        Ok(self.store.groups_of(user).await?)
    }

    /// Whether an application may reach this user: always without a scope, else only a member
    /// of one of its groups.
    pub(crate) async fn in_scope(&self, app: &App, user: &User) -> Result<bool, CoreError> {
        let scope = self.store.app_scope(&app.id).await?;
        if scope.is_empty() {
            return Ok(true);
        }
        let groups = self.store.groups_of(&user.id).await?;
        Ok(groups.iter().any(|g| scope.contains(g)))
    }

    /// Refuses a user outside the application's scope exactly as an unknown one.
    pub(crate) async fn ensure_in_scope(&self, app: &App, user: &User) -> Result<(), CoreError> {
        if self.in_scope(app, user).await? {
            Ok(())
        } else {
            Err(CoreError::rejected(
                ProblemCode::UnknownUser,
                format!("no user named {}", user.username),
            ))
        }
    }

    /// The user named `username`, as `by` may reach them: an admin reaches everyone, an
    /// application only the users in its scope (others are `unknown_user`).
    pub async fn user_for(&self, by: &Principal, username: &str) -> Result<User, CoreError> {
        let user = self.user_named(username).await?;
        if let Principal::App(app) = by {
            self.ensure_in_scope(app, &user).await?;
        }
        Ok(user)
    }
}

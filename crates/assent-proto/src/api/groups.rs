//! Admin bodies for groups of users and application scopes.

use serde::{Deserialize, Serialize};

/// `POST /v1/admin/groups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateGroup {
    /// 1 to 64 lower-case letters, digits and `.` `_` `-`.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[a-z0-9._-]{1,64}$", min_length = 1, max_length = 64)
    )]
    pub name: String,
}

/// A group and its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupInfo {
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    /// The members' usernames, sorted.
    pub members: Vec<String>,
}

/// `GET /v1/admin/groups`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupList {
    pub groups: Vec<GroupInfo>,
}

/// `PUT /v1/admin/apps/{id}/scope`: the groups whose members the application may reach.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct AppScope {
    /// Group names (at most 32); empty: any user.
    #[cfg_attr(feature = "openapi", schema(max_items = 32))]
    pub groups: Vec<String>,
}

/// An application's scope as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppScopeInfo {
    pub app_id: String,
    /// Sorted; empty: the application may reach any user.
    pub groups: Vec<String>,
}

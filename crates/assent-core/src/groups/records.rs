//! What Assent keeps for groups: their names and members, and the groups an application's
//! requests are limited to. Plain data; the rules live in the rest of [`crate::groups`].

use time::OffsetDateTime;

/// A named set of users, for policy conditions (`user.groups`) and application scopes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// 1 to 64 lower-case letters, digits, `.`, `_` or `-`.
    pub name: String,
    pub created_at: OffsetDateTime,
}

//! Admin bodies for applications' API keys: listed, rotated, revoked.

use serde::{Deserialize, Serialize};

/// An API key as an admin sees it: never its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ApiKeyView {
    pub id: String,
    /// RFC 3339.
    pub created_at: String,
    /// RFC 3339; absent while the key works.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<String>,
}

/// An application with its keys, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppKeysView {
    pub id: String,
    pub name: String,
    /// RFC 3339.
    pub created_at: String,
    pub keys: Vec<ApiKeyView>,
}

/// `GET /v1/admin/apps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AppList {
    pub apps: Vec<AppKeysView>,
}

/// Answer to rotating an application's key: the new key, shown this once, and the keys that
/// stopped working at that moment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct KeyRotated {
    pub app_id: String,
    pub key_id: String,
    pub api_key: String,
    pub revoked_key_ids: Vec<String>,
}

//! Admin bodies for the Duo Auth API: creating an integration for an application.

use serde::{Deserialize, Serialize};

/// `POST /v1/admin/apps/{id}/duo-integrations`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateDuoIntegration {
    /// The host name (and port) clients are told to use; the public URL's by default.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = "^[A-Za-z0-9.:-]{1,253}$", min_length = 1, max_length = 253)
    )]
    pub api_host: Option<String>,
    /// Let a push go without number matching when the client cannot show a code (it did not
    /// send `client_supports_verified_push`). Lower assurance: a user pushed by an attacker who
    /// knows their password can be tricked into approving. Off by default.
    #[serde(default)]
    pub allow_unmatched_push: bool,
    /// Also answer the legacy Auth API v1 (`/rest/v1/*.bson`) that duo_unix before 2.0 speaks
    /// (Debian 12's `login_duo` and `pam_duo`). Its signatures carry no date, so a captured
    /// request can be sent again at any time. Off by default.
    #[serde(default)]
    pub allow_legacy_v1: bool,
}

/// The integration just created; `skey` is shown this once.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DuoIntegrationCreated {
    /// The integration key.
    pub ikey: String,
    /// The secret key; Assent keeps it sealed and never shows it again.
    pub skey: String,
    pub api_host: String,
    pub app_id: String,
    pub allow_unmatched_push: bool,
    pub allow_legacy_v1: bool,
}

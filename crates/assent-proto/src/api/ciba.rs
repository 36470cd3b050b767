//! Admin bodies for OpenID CIBA: registering a client for an application, or an agent (a
//! non-human identity with its own application and key).

use serde::{Deserialize, Serialize};

/// `POST /v1/admin/apps/{id}/ciba-clients`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateCibaClient {
    /// `poll`, `ping` or `push`.
    #[cfg_attr(feature = "openapi", schema(pattern = "^(poll|ping|push)$"))]
    pub mode: String,
    /// Where ping and push notifications go (https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = "uri", max_length = 2048))]
    pub notification_endpoint: Option<String>,
    /// The client's public keys (a JWK Set: EC P-256 for ES256, RSA for PS256): the client
    /// then authenticates with `private_key_jwt` and gets no secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub jwks: Option<serde_json::Value>,
    /// Whether every backchannel request must carry the user's `user_code` (their TOTP code).
    #[serde(default)]
    pub requires_user_code: bool,
}

/// `POST /v1/admin/agents`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct CreateAgent {
    /// Shown to the owner on every request: "Agent <name>, acting for you, asks to ...".
    #[cfg_attr(
        feature = "openapi",
        schema(
            min_length = 1,
            max_length = 100,
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000][^\u0000-\u001f\u007f-\u009f]*$"
        )
    )]
    pub name: String,
    /// The username of the person the agent acts for; the only user it may ask.
    #[cfg_attr(feature = "openapi", schema(pattern = r"^[A-Za-z0-9._@+-]{1,64}$"))]
    pub owner: String,
    /// The agent's public keys (JWK Set); P-256 keys also bind its grants (DPoP).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub jwks: serde_json::Value,
    /// The `authorization_details` types it may ask for: 1 to 32, each 1 to 100 printable
    /// characters.
    #[cfg_attr(feature = "openapi", schema(min_items = 1, max_items = 32))]
    pub authorization_details_types: Vec<String>,
    /// `poll` (the default), `ping` or `push`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(pattern = "^(poll|ping|push)$"))]
    pub mode: Option<String>,
    /// Where ping and push notifications go (https).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[cfg_attr(feature = "openapi", schema(format = "uri", max_length = 2048))]
    pub notification_endpoint: Option<String>,
}

/// A CIBA client just registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct CibaClientCreated {
    pub client_id: String,
    /// Shown once, stored hashed; absent when the client registered keys.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub app_id: String,
    pub mode: String,
    /// `client_secret_basic` (or `_post`), or `private_key_jwt`.
    pub token_endpoint_auth_method: String,
    /// For an agent: its owner's username.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
}

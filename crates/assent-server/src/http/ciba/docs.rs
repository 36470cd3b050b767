//! The OAuth endpoints' form bodies, described for the OpenAPI document only: the handlers read
//! the form themselves (`assent_proto::oauth::form`), because OAuth forbids repeated parameters
//! and names its own errors, which a generic form extractor would not.

#![allow(dead_code)]

use utoipa::ToSchema;

/// A backchannel authentication request. The client authenticates with HTTP Basic
/// (`client_secret_basic`), `client_id` + `client_secret` (`client_secret_post`) or
/// `client_assertion` + `client_assertion_type` (`private_key_jwt`). Exactly one of
/// `login_hint`, `id_token_hint` and `login_hint_token`; or everything inside `request`.
#[derive(ToSchema)]
pub(crate) struct BackchannelForm {
    /// Space-separated; must contain `openid`.
    scope: String,
    /// The user's Assent username.
    login_hint: Option<String>,
    /// An ID token Assent issued to this client.
    id_token_hint: Option<String>,
    /// A JWT signed with one of the client's registered keys, naming the user in `sub_id`
    /// (format `opaque` with the username as `id`, or `iss_sub`), with `exp`.
    login_hint_token: Option<String>,
    /// Shown on the device; at most 500 characters, printable, line breaks allowed.
    #[schema(max_length = 500)]
    binding_message: Option<String>,
    /// The user's current TOTP code, where the client must send one.
    user_code: Option<String>,
    /// Seconds the request may wait for the user; capped at Assent's limit (10 minutes).
    requested_expiry: Option<u32>,
    /// Space-separated; `urn:assent:acr:uv` asks for user verification on the device.
    acr_values: Option<String>,
    /// RFC 9396 authorization details: a JSON array of objects with a string `type`.
    authorization_details: Option<String>,
    /// Ping and push modes: the bearer token Assent presents at the notification endpoint.
    #[schema(max_length = 1024)]
    client_notification_token: Option<String>,
    /// A signed request object (ES256 or PS256) holding every parameter above.
    request: Option<String>,
    /// Assent's extension: the longest life, in seconds, wanted for the access token.
    access_token_lifetime: Option<u32>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion: Option<String>,
    /// `urn:ietf:params:oauth:client-assertion-type:jwt-bearer`
    client_assertion_type: Option<String>,
}

/// A token request with the CIBA grant. A `DPoP` header binds the access token to that key
/// (required of agents, with a key they registered).
#[derive(ToSchema)]
pub(crate) struct TokenForm {
    /// `urn:openid:params:grant-type:ciba`
    grant_type: String,
    auth_req_id: String,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion: Option<String>,
    client_assertion_type: Option<String>,
}

/// A revocation request: the access token to revoke.
#[derive(ToSchema)]
pub(crate) struct RevocationForm {
    token: String,
    /// Only `access_token` is meaningful; Assent issues no refresh tokens.
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion: Option<String>,
    client_assertion_type: Option<String>,
}

/// An introspection request: the access token to check.
#[derive(ToSchema)]
pub(crate) struct IntrospectionForm {
    token: String,
    token_type_hint: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    client_assertion: Option<String>,
    client_assertion_type: Option<String>,
}

/// An OAuth error body (RFC 6749, 5.2; CIBA Core 1.0, 13).
#[derive(ToSchema)]
#[schema(as = OAuthError)]
pub(crate) struct OAuthErrorBody {
    /// The error code the specification names, e.g. `authorization_pending`, `invalid_client`.
    error: String,
    error_description: Option<String>,
}

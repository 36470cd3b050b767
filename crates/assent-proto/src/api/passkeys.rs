//! Bodies of passkeys at a relying party's origin: the relying party's WebAuthn identity, and
//! the registration and authentication ceremonies it runs through Assent.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// `PUT /v1/admin/apps/{id}/webauthn`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct SetRpWebauthn {
    /// The relying-party id passkeys are bound to: the origin's host name or a parent domain.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 253))]
    pub rp_id: String,
    /// The name authenticators show when a passkey is created: 1 to 100 printable characters.
    #[cfg_attr(
        feature = "openapi",
        schema(
            pattern = r"^[^\u0000-\u001f\u007f-\u009f]*[^\s\u0000-\u001f\u007f-\u009f][^\u0000-\u001f\u007f-\u009f]*$",
            min_length = 1,
            max_length = 100
        )
    )]
    pub rp_name: String,
    /// The origin the application's pages are served from: `https://host[:port]`, or
    /// `http://localhost[:port]` for development.
    #[cfg_attr(feature = "openapi", schema(min_length = 1, max_length = 300))]
    pub origin: String,
}

/// An application's WebAuthn identity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct RpWebauthnInfo {
    pub app_id: String,
    pub rp_id: String,
    pub rp_name: String,
    pub origin: String,
}

/// `POST /v1/passkeys/registrations` and `POST /v1/passkeys/authentications`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct StartPasskeyCeremony {
    /// The user.
    #[cfg_attr(
        feature = "openapi",
        schema(pattern = r"^[A-Za-z0-9._@+-]{1,64}$", min_length = 1, max_length = 64)
    )]
    pub user: String,
}

/// A ceremony started: the options to hand to the browser's WebAuthn API, and its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyCeremony {
    /// Finish it with this id within 5 minutes; it is used once.
    pub ceremony_id: String,
    /// `{"publicKey": …}`: WebAuthn's `PublicKeyCredentialCreationOptions` (registration) or
    /// `PublicKeyCredentialRequestOptions` (authentication) in their JSON form (binary
    /// members base64url).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub options: Value,
}

/// `POST /v1/passkeys/registrations/{ceremony_id}` and
/// `POST /v1/passkeys/authentications/{ceremony_id}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(deny_unknown_fields)]
pub struct FinishPasskeyCeremony {
    /// The browser's `PublicKeyCredential` in its JSON form (`id`, `rawId`, `type`,
    /// `response`, `extensions`; binary members base64url).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub credential: Value,
}

/// A passkey registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyRegistered {
    pub user: String,
    /// The credential id, base64url.
    pub credential_id: String,
}

/// A passkey that verified: the user is who the relying party asked about, at its origin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PasskeyVerified {
    pub user: String,
    pub credential_id: String,
    /// The signature counter now stored (0 for authenticators that keep none).
    pub counter: u32,
    /// Whether the authenticator verified the user (PIN or biometrics); always true, since
    /// Assent asks for it.
    pub user_verified: bool,
    /// This authentication, for one request of the same user to show as its
    /// `passkey_authentication` when the policy asks for the passkey: usable once, until
    /// `authentication_expires_at`.
    pub authentication_id: String,
    /// Unix seconds.
    pub authentication_expires_at: i64,
}

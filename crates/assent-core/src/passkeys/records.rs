//! What is stored of passkeys at a relying party's origin: the relying party's WebAuthn
//! identity, its users' passkeys, and the ceremonies between their start and finish.

use crate::ids::{AppId, UserId};
use time::OffsetDateTime;

/// An application's WebAuthn identity: its relying-party id and the one origin its pages are
/// served from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpWebauthn {
    pub app_id: AppId,
    pub rp_id: String,
    pub rp_name: String,
    pub origin: String,
}

/// A user's passkey at an application, as webauthn-rs keeps it (JSON), with its signature
/// counter beside it for the conditional update.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RpPasskey {
    /// The credential id, base64url.
    pub id: String,
    pub app_id: AppId,
    pub user_id: UserId,
    pub passkey: String,
    pub counter: u32,
    pub created_at: OffsetDateTime,
    pub last_used_at: Option<OffsetDateTime>,
}

/// Which ceremony.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CeremonyKind {
    Registration,
    Authentication,
}

impl CeremonyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Registration => "registration",
            Self::Authentication => "authentication",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::Registration, Self::Authentication]
            .into_iter()
            .find(|k| k.as_str() == s)
    }
}

/// A finished authentication at the relying party's origin, kept a short while so that one
/// request (an approval or an access request of the same user through the same application)
/// can show it, once, to a policy that asks for the passkey.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PasskeyProof {
    /// The authentication ceremony's id, which the application names in the request.
    pub id: String,
    pub app_id: AppId,
    pub user_id: UserId,
    pub credential_id: String,
    pub user_verified: bool,
    pub verified_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
}

/// A ceremony between its start and its finish: webauthn-rs's state (JSON, with the
/// challenge), used once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ceremony {
    pub id: String,
    pub app_id: AppId,
    pub user_id: UserId,
    pub kind: CeremonyKind,
    pub state: String,
    pub expires_at: OffsetDateTime,
}

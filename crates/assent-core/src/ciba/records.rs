//! What Assent keeps for OpenID CIBA: the clients registered by an admin and the backchannel
//! requests they make. Plain data; the rules live in the rest of [`crate::ciba`].

use crate::ids::{AppId, ApprovalId, UserId};
use time::OffsetDateTime;

/// How a client learns that a request ended (CIBA Core 1.0, section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryMode {
    /// The client polls the token endpoint.
    Poll,
    /// Assent calls the client's notification endpoint; the client then fetches the tokens.
    Ping,
    /// Assent delivers the tokens themselves to the client's notification endpoint.
    Push,
}

impl DeliveryMode {
    pub fn as_str(self) -> &'static str {
        match self {
            DeliveryMode::Poll => "poll",
            DeliveryMode::Ping => "ping",
            DeliveryMode::Push => "push",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "poll" => Some(DeliveryMode::Poll),
            "ping" => Some(DeliveryMode::Ping),
            "push" => Some(DeliveryMode::Push),
            _ => None,
        }
    }
}

/// How a client proves who it is at the OAuth endpoints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientAuth {
    /// `client_secret_basic` or `client_secret_post`: the SHA-256 of a 256-bit random secret
    /// (a fast hash suffices for a secret that cannot be guessed, as for API keys).
    Secret { secret_hash: Vec<u8> },
    /// `private_key_jwt`: the client's public keys, as the JWK Set JSON it registered (public
    /// members only), which also verify its signed request objects and login hint tokens.
    PrivateKeyJwt { jwks: String },
}

/// A non-human identity (an AI agent, a service) that acts for its owner: it may ask only its
/// owner, and only for the authorization details types listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentProfile {
    pub owner: UserId,
    pub allowed_types: Vec<String>,
}

/// A CIBA client: an application's OAuth identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CibaClient {
    pub client_id: String,
    /// The application whose requests (approvals) this client makes.
    pub app_id: AppId,
    /// Shown to the user: the application's name, or the agent's.
    pub name: String,
    pub mode: DeliveryMode,
    /// Where ping and push notifications go (https, or http to an allowed private address).
    pub notification_endpoint: Option<String>,
    pub auth: ClientAuth,
    /// Whether every backchannel request must carry the user's `user_code`.
    pub requires_user_code: bool,
    pub agent: Option<AgentProfile>,
    pub created_at: OffsetDateTime,
}

/// A backchannel authentication request: the approval it became, and how the client may collect
/// its outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CibaRequest {
    /// SHA-256 of the `auth_req_id` handed to the client; the id itself is never stored.
    pub id_hash: Vec<u8>,
    pub client_id: String,
    pub approval_id: ApprovalId,
    pub user_id: UserId,
    /// The scopes granted if approved, `openid` among them.
    pub scope: Vec<String>,
    /// The authentication context class the client asked for, when Assent honours it.
    pub acr: Option<String>,
    /// The client's `client_notification_token` (ping and push), sealed with the data key.
    pub notification_token_sealed: Option<Vec<u8>>,
    /// Seconds the client waits between polls; grows by 5 with each `slow_down`.
    pub interval: u32,
    /// The earliest time the next poll is on time.
    pub next_poll_at: OffsetDateTime,
    /// Longest life, in seconds, the client asked for its access token (at most the maximum).
    pub token_lifetime: Option<u32>,
    pub created_at: OffsetDateTime,
    pub expires_at: OffsetDateTime,
    /// When the tokens were issued: once only.
    pub tokens_issued_at: Option<OffsetDateTime>,
}

/// How one attempt at a client notification ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NotificationDone {
    /// The client's endpoint accepted it: never sent again.
    Delivered { at: OffsetDateTime },
    /// It failed; the next attempt is due at `retry_at`.
    Retry {
        retry_at: OffsetDateTime,
        error: String,
    },
    /// It failed for the last time: never sent again.
    GaveUp { at: OffsetDateTime, error: String },
}

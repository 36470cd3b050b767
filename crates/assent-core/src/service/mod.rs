//! The operations Assent offers, each one a function of the stores, the clock and the server
//! key. HTTP handlers call exactly one of these and map the result.

mod admin;
mod app_keys;

pub use admin::NewApp;
pub use app_keys::{AppKeys, RotatedKey};
pub(crate) mod records;

use crate::audit::{Actor, AuditEvent, PendingAudit};
use crate::clock::{Clock, truncate_to_millis};
use crate::error::CoreError;
use crate::model::{App, KeyRole};
use crate::notifier::Notifier;
use crate::secrets;
use crate::store::Store;
use assent_proto::ProblemCode;
use assent_proto::jose::SigningKey;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// Tunables of the domain, resolved from configuration by the server.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The server's public base URL: the issuer of receipts, the base of enrollment links, and
    /// what device proofs must name in `htu`.
    pub public_url: String,
    /// Lifetime of a request whose relying party does not say.
    pub default_ttl: Duration,
    /// The longest a request may live; 800-63B-4 caps out-of-band secrets at 10 minutes.
    pub max_ttl: Duration,
    /// Whether approvals need the code shown on the relying party's screen.
    pub number_matching: bool,
    /// Digits of that code.
    pub code_length: u8,
    /// How long an enrollment link stays valid.
    pub enrollment_ttl: Duration,
    /// How far a device's clock may be from ours (proof and statement `iat`).
    pub max_clock_skew: Duration,
    /// Fatigue defense: a new request from an application cancels that application's pending
    /// request for the same user (reason `superseded`), so the device never shows a stack.
    pub supersede_pending: bool,
    /// Fatigue defense: prompts allowed per user within `budget_window` since the last approval.
    pub prompt_budget: u32,
    pub budget_window: Duration,
    /// How long push stays suspended once the budget is spent or fraud is reported; a new
    /// suspension within a day of the last doubles it, up to a day.
    pub suspension: Duration,
    /// Risk: faster than this between the last approved location and a request is impossible.
    pub max_travel_kmh: f64,
    /// An approval this soon after the device received the request was not read: admin alert.
    pub reflex_threshold: Duration,
    /// Trusted registration: the ways an application may add a device for a user who already
    /// has an active one. Admin-issued enrollments are always accepted.
    pub registration: RegistrationRules,
    /// The issuer shown by authenticator apps next to TOTP codes.
    pub totp_issuer: String,
    /// Rate limit of TOTP and recovery-code checks: at most this many attempts per user and
    /// factor within `attempt_window` since the last success.
    pub max_attempts: u32,
    pub attempt_window: Duration,
    /// Recovery codes per set.
    pub recovery_codes: u32,
    /// Pushes: which channels this server sends on, and how it sends.
    pub push: PushSettings,
    /// OpenID CIBA and agent grants.
    pub ciba: CibaSettings,
    /// Access requests: break-glass.
    pub access: AccessSettings,
    /// The admin console's sign-in and sessions.
    pub console: crate::console::ConsoleSettings,
}

/// Break-glass tunables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AccessSettings {
    /// The longest a break-glass grant lasts, whatever the request asked for.
    pub break_glass_grant: Duration,
    /// The group whose members are the admins alerted on their devices when break-glass is
    /// invoked.
    pub admin_group: String,
}

impl Default for AccessSettings {
    fn default() -> Self {
        AccessSettings {
            break_glass_grant: Duration::minutes(15),
            admin_group: "admins".into(),
        }
    }
}

/// OpenID CIBA tunables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CibaSettings {
    /// Seconds a client waits between token requests, until a `slow_down` adds 5.
    pub interval: u32,
    /// How long an access token lives when the client does not ask for less.
    pub token_lifetime: Duration,
    /// The longest an access token may live, whatever the client asks.
    pub max_token_lifetime: Duration,
    /// The `aud` of access tokens (the resource servers' identifier); the issuer when unset.
    pub audience: Option<String>,
}

impl Default for CibaSettings {
    fn default() -> Self {
        CibaSettings {
            interval: 5,
            token_lifetime: Duration::minutes(5),
            max_token_lifetime: Duration::hours(1),
            audience: None,
        }
    }
}

/// What the push outbox needs to know in the core.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushSettings {
    /// Channels with a configured sender: a device may only register a target on one of these
    /// (Web Push always; APNs and FCM once configured).
    pub channels: Vec<crate::outbox::pushes::PushChannel>,
    /// Whether push endpoints may be on loopback, private or link-local addresses, and over
    /// plain http (test endpoints, a push service on the local network).
    pub allow_private_endpoints: bool,
    /// How long a claimed push is held by its sender before another may claim it; longer than
    /// one send can take.
    pub lease: Duration,
    /// Where admin alerts are e-mailed (empty: nowhere), when e-mail is configured.
    pub admin_emails: Vec<String>,
}

impl Default for PushSettings {
    fn default() -> Self {
        PushSettings {
            channels: vec![crate::outbox::pushes::PushChannel::WebPush],
            allow_private_endpoints: false,
            lease: Duration::seconds(60),
            admin_emails: Vec::new(),
        }
    }
}

/// Which proofs let an application add a device to a user who already has an active one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RegistrationRules {
    /// The new device is held as `pending_activation` until an active device approves it.
    pub device_approval: bool,
    /// One of the user's recovery codes; the new device is active at once.
    pub recovery_code: bool,
}

impl Settings {
    /// The web origin of the public URL (`scheme://host[:port]`): where the web authenticator
    /// runs, so where its passkey assertions come from.
    pub fn origin(&self) -> &str {
        let after_scheme = self.public_url.find("://").map_or(0, |i| i + 3);
        let end = self.public_url[after_scheme..]
            .find('/')
            .map_or(self.public_url.len(), |i| after_scheme + i);
        &self.public_url[..end]
    }

    /// The WebAuthn relying-party id: the public URL's host.
    pub fn rp_id(&self) -> &str {
        let origin = self.origin();
        let host = origin.find("://").map_or(origin, |i| &origin[i + 3..]);
        match host.rfind(':') {
            Some(i) if !host.ends_with(']') => &host[..i],
            _ => host,
        }
    }
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            public_url: "http://127.0.0.1:8700".into(),
            default_ttl: Duration::seconds(120),
            max_ttl: Duration::seconds(600),
            number_matching: true,
            code_length: 6,
            enrollment_ttl: Duration::minutes(15),
            max_clock_skew: Duration::seconds(120),
            supersede_pending: true,
            prompt_budget: 3,
            budget_window: Duration::minutes(10),
            suspension: Duration::minutes(15),
            max_travel_kmh: 900.0,
            reflex_threshold: Duration::milliseconds(1500),
            registration: RegistrationRules {
                device_approval: true,
                recovery_code: true,
            },
            totp_issuer: "Assent".into(),
            max_attempts: 5,
            attempt_window: Duration::minutes(15),
            recovery_codes: 10,
            push: PushSettings::default(),
            ciba: CibaSettings::default(),
            access: AccessSettings::default(),
            console: crate::console::ConsoleSettings::default(),
        }
    }
}

/// Who is calling the API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Principal {
    Admin {
        key_id: String,
    },
    App(App),
    /// An admin signed in to the console with their own device: audited by name.
    Console {
        username: crate::ids::Username,
    },
}

impl Principal {
    pub fn actor(&self) -> Actor {
        match self {
            Principal::Admin { key_id } => Actor::Admin(key_id.clone()),
            Principal::App(app) => Actor::App(app.id.clone()),
            Principal::Console { username } => Actor::Console(username.clone()),
        }
    }
}

/// The Assent domain service.
pub struct Assent {
    pub(crate) store: Arc<dyn Store>,
    pub(crate) notifier: Arc<dyn Notifier>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) key: Arc<SigningKey>,
    pub(crate) kid: String,
    pub(crate) data_key: Arc<crate::sealed::DataKey>,
    pub(crate) policy: std::sync::RwLock<Arc<crate::risk::policy::Policy>>,
    pub(crate) risk_lists: std::sync::RwLock<Arc<crate::risk::lists::RiskLists>>,
    pub(crate) geoip: std::sync::RwLock<Option<Arc<crate::risk::geoip::GeoIp>>>,
    pub(crate) settings: Settings,
    /// The Argon2id workers (19 MiB and tens of milliseconds a hash): one per core, at most four,
    /// each with its memory allocated once, so recovery-code work can neither starve the rest of
    /// the server nor grow its memory.
    pub(crate) hashing: crate::factors::hashing::HashPool,
    /// API keys, applications and users already read (they never change).
    pub(crate) records: records::Records,
    /// This node's push sender, once attached: pushes queued here go straight to it.
    pub(crate) handoff: crate::outbox::handoff::Handoff,
}

impl std::fmt::Debug for Assent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Assent")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

impl Assent {
    pub fn new(
        store: Arc<dyn Store>,
        notifier: Arc<dyn Notifier>,
        clock: Arc<dyn Clock>,
        key: Arc<SigningKey>,
        data_key: Arc<crate::sealed::DataKey>,
        settings: Settings,
    ) -> Self {
        let kid = key.jwk().thumbprint();
        Assent {
            data_key,
            policy: std::sync::RwLock::new(Arc::new(crate::risk::policy::Policy::default_policy())),
            risk_lists: std::sync::RwLock::new(Arc::default()),
            geoip: std::sync::RwLock::new(None),
            store,
            notifier,
            clock,
            key,
            kid,
            settings,
            hashing: crate::factors::hashing::HashPool::new(),
            records: records::Records::default(),
            handoff: crate::outbox::handoff::Handoff::default(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    pub fn notifier(&self) -> &Arc<dyn Notifier> {
        &self.notifier
    }

    /// The server key's id: its RFC 7638 thumbprint, which enrollment links carry.
    pub fn key_id(&self) -> &str {
        &self.kid
    }

    /// The server's public keys, as served at `/.well-known/jwks.json`.
    pub fn jwks(&self) -> assent_proto::jose::JwkSet {
        assent_proto::jose::JwkSet {
            keys: vec![self.key.jwk().public_with_kid(&self.kid)],
        }
    }

    pub fn now(&self) -> OffsetDateTime {
        truncate_to_millis(self.clock.now())
    }

    pub(crate) fn audit(&self, actor: Actor, event: AuditEvent) -> PendingAudit {
        PendingAudit::new(self.now(), actor, event)
    }

    /// Records that the server created its signing key (called once, at first start).
    pub async fn record_server_key_created(&self) -> Result<(), CoreError> {
        let event = AuditEvent::ServerKeyCreated {
            kid: self.kid.clone(),
        };
        Ok(self
            .store
            .append_audit(self.audit(Actor::System, event))
            .await?)
    }

    /// Creates the first admin API key if none exists; returns its token, to show once.
    pub async fn ensure_admin_key(&self) -> Result<Option<String>, CoreError> {
        if self.store.has_admin_key().await? {
            return Ok(None);
        }
        let key = secrets::new_api_key()?;
        let record = crate::model::ApiKeyRecord {
            id: key.id.clone(),
            secret_hash: key.secret_hash,
            role: KeyRole::Admin,
            created_at: self.now(),
            revoked_at: None,
        };
        let event = AuditEvent::AdminKeyCreated { key_id: key.id };
        self.store
            .insert_api_key(&record, self.audit(Actor::System, event))
            .await?;
        Ok(Some(key.token))
    }

    /// Resolves a presented API key. Every failure looks the same to the caller, so the answer
    /// does not reveal whether a key id exists.
    pub async fn authenticate_api_key(&self, token: &str) -> Result<Principal, CoreError> {
        let refused =
            || CoreError::rejected(ProblemCode::Unauthorized, "missing or invalid API key");
        let (id, secret) = secrets::split_api_key(token).ok_or_else(refused)?;
        // Read from the store every time, never remembered: a revoked key must be refused on
        // every node from the moment of its revocation.
        let record = self.store.api_key(id).await?.ok_or_else(refused)?;
        if !secrets::secret_matches(secret, &record.secret_hash) || record.revoked_at.is_some() {
            return Err(refused());
        }
        match record.role {
            KeyRole::Admin => Ok(Principal::Admin { key_id: record.id }),
            KeyRole::App(app_id) => {
                let app = self
                    .records
                    .app(self.store.as_ref(), &app_id)
                    .await?
                    .ok_or_else(refused)?;
                Ok(Principal::App(app))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origin_and_rp_id_come_from_the_public_url() {
        let settings = |url: &str| Settings {
            public_url: url.into(),
            ..Settings::default()
        };
        assert_eq!(
            settings("http://localhost:8700").origin(),
            "http://localhost:8700"
        );
        assert_eq!(settings("http://localhost:8700").rp_id(), "localhost");
        assert_eq!(
            settings("https://assent.example.com/base").origin(),
            "https://assent.example.com"
        );
        assert_eq!(
            settings("https://assent.example.com/base").rp_id(),
            "assent.example.com"
        );
    }
}

//! Registering CIBA clients (agents among them) and authenticating them at the OAuth endpoints:
//! a shared secret (`client_secret_basic` / `client_secret_post`, kept as its SHA-256) or a
//! signed assertion (`private_key_jwt`, each assertion accepted once).

use super::error::{CibaError, refuse};
use super::records::{AgentProfile, CibaClient, ClientAuth, DeliveryMode};
use crate::audit::AuditEvent;
use crate::error::{CoreError, StoreError};
use crate::ids::AppId;
use crate::model::App;
use crate::secrets;
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::jose::random_token;
use assent_proto::oauth::assertion::{AssertionCheck, verify_client_assertion};
use assent_proto::oauth::error::OAuthErrorCode;
use assent_proto::oauth::form::ClientCredentials;
use assent_proto::oauth::keys::{ClientKeySet, unverified_claim};

/// The longest a client assertion may live: long enough for clock skew and a retry, short
/// enough that its `jti` need not be remembered for long.
const MAX_ASSERTION_LIFETIME: i64 = 600;
/// Clock skew tolerated on assertion times.
const LEEWAY: i64 = 60;
/// Most authorization details types an agent may be allowed.
const MAX_AGENT_TYPES: usize = 32;

/// What an admin registers.
#[derive(Debug, Clone)]
pub struct NewCibaClient {
    pub app_id: String,
    pub mode: DeliveryMode,
    pub notification_endpoint: Option<String>,
    /// The client's JWK Set (JSON): `private_key_jwt` instead of a secret.
    pub jwks: Option<String>,
    pub requires_user_code: bool,
}

/// What an admin registers for an agent: its own application (named after it) and a
/// `private_key_jwt` client that may ask only its owner, only for the types listed.
#[derive(Debug, Clone)]
pub struct NewAgent {
    pub name: String,
    pub owner: String,
    pub jwks: String,
    pub allowed_types: Vec<String>,
    pub mode: DeliveryMode,
    pub notification_endpoint: Option<String>,
}

/// A client just registered, with its secret when it has one: shown this once.
#[derive(Debug, Clone)]
pub struct RegisteredClient {
    pub client: CibaClient,
    pub client_secret: Option<String>,
}

/// A client whose credentials verified for this request; only [`Assent::authenticate_client`]
/// makes one.
#[derive(Debug, Clone)]
pub struct AuthenticatedClient {
    pub(crate) client: CibaClient,
    pub(crate) app: App,
    /// Its registered keys, read once: they verify its assertion, request objects and login
    /// hint tokens.
    pub(crate) keys: Option<ClientKeySet>,
}

impl AuthenticatedClient {
    /// The keys the client registered (`private_key_jwt` clients), for its signed request
    /// objects.
    pub fn keys(&self) -> Option<&ClientKeySet> {
        self.keys.as_ref()
    }

    pub fn client(&self) -> &CibaClient {
        &self.client
    }

    pub fn app(&self) -> &App {
        &self.app
    }
}

fn invalid(detail: impl Into<String>) -> CoreError {
    CoreError::rejected(ProblemCode::InvalidRequest, detail)
}

fn invalid_client(description: &str) -> CibaError {
    refuse(OAuthErrorCode::InvalidClient, description)
}

impl Assent {
    /// The OpenID issuer identifier: the public URL without a trailing slash.
    pub fn issuer(&self) -> &str {
        self.settings.public_url.trim_end_matches('/')
    }

    /// Registers a CIBA client for an existing application.
    pub async fn register_ciba_client(
        &self,
        by: &Principal,
        new: NewCibaClient,
    ) -> Result<RegisteredClient, CoreError> {
        let app_id = AppId::parse(&new.app_id)
            .ok_or_else(|| CoreError::rejected(ProblemCode::NotFound, "no such application"))?;
        let app = self
            .records
            .app(self.store.as_ref(), &app_id)
            .await?
            .ok_or_else(|| CoreError::rejected(ProblemCode::NotFound, "no such application"))?;
        self.register(
            by,
            app,
            new.mode,
            new.notification_endpoint,
            new.jwks,
            new.requires_user_code,
            None,
        )
        .await
    }

    /// Registers an agent: an application of its own and its `private_key_jwt` client.
    pub async fn register_agent(
        &self,
        by: &Principal,
        new: NewAgent,
    ) -> Result<RegisteredClient, CoreError> {
        let owner = self
            .user_called(&crate::ids::Username::parse(&new.owner)?)
            .await?;
        if new.allowed_types.is_empty() || new.allowed_types.len() > MAX_AGENT_TYPES {
            return Err(invalid(format!(
                "an agent is allowed 1 to {MAX_AGENT_TYPES} authorization_details types"
            )));
        }
        if new
            .allowed_types
            .iter()
            .any(|t| t.is_empty() || t.len() > 100 || t.chars().any(char::is_control))
        {
            return Err(invalid(
                "an authorization_details type is 1 to 100 printable characters",
            ));
        }
        // Checked before the application is created, so a refused key leaves nothing behind.
        parse_jwks(&new.jwks)?;
        let app = self.create_app(by, &new.name).await?.app;
        let agent = AgentProfile {
            owner: owner.id,
            allowed_types: new.allowed_types,
        };
        self.register(
            by,
            app,
            new.mode,
            new.notification_endpoint,
            Some(new.jwks),
            false,
            Some(agent),
        )
        .await
    }

    #[allow(clippy::too_many_arguments)]
    async fn register(
        &self,
        by: &Principal,
        app: App,
        mode: DeliveryMode,
        notification_endpoint: Option<String>,
        jwks: Option<String>,
        requires_user_code: bool,
        agent: Option<AgentProfile>,
    ) -> Result<RegisteredClient, CoreError> {
        let notification_endpoint = match (mode, notification_endpoint) {
            (DeliveryMode::Poll, Some(_)) => {
                return Err(invalid("a poll-mode client has no notification endpoint"));
            }
            (DeliveryMode::Poll, None) => None,
            (_, None) => {
                return Err(invalid(
                    "ping and push modes need --notification-endpoint (an https URL)",
                ));
            }
            (_, Some(url)) => Some(self.notification_endpoint(&url)?),
        };
        let (auth, client_secret) = match jwks {
            Some(jwks) => (
                ClientAuth::PrivateKeyJwt {
                    jwks: parse_jwks(&jwks)?.to_json(),
                },
                None,
            ),
            None => {
                let secret = random_token(32)?;
                (
                    ClientAuth::Secret {
                        secret_hash: secrets::sha256(secret.as_bytes()),
                    },
                    Some(secret),
                )
            }
        };
        let client = CibaClient {
            client_id: format!("ciba_{}", random_token(16)?),
            app_id: app.id.clone(),
            name: app.name.clone(),
            mode,
            notification_endpoint,
            auth,
            requires_user_code,
            agent,
            created_at: self.now(),
        };
        let event = AuditEvent::CibaClientRegistered {
            client_id: client.client_id.clone(),
            app_id: app.id.to_string(),
            mode: mode.as_str().into(),
            auth_method: match client.auth {
                ClientAuth::Secret { .. } => "client_secret".into(),
                ClientAuth::PrivateKeyJwt { .. } => "private_key_jwt".into(),
            },
            agent_owner: client.agent.as_ref().map(|a| a.owner.to_string()),
        };
        self.store
            .insert_ciba_client(&client, self.audit(by.actor(), event))
            .await?;
        Ok(RegisteredClient {
            client,
            client_secret,
        })
    }

    /// A notification endpoint: an absolute https URL (http only where private endpoints are
    /// allowed, as for push), without credentials or a fragment.
    fn notification_endpoint(&self, text: &str) -> Result<String, CoreError> {
        let url = url::Url::parse(text)
            .map_err(|_| invalid("the notification endpoint is not an absolute URL"))?;
        let plain_allowed = self.settings.push.allow_private_endpoints;
        let scheme_ok = url.scheme() == "https" || (plain_allowed && url.scheme() == "http");
        if !scheme_ok
            || url.host_str().is_none()
            || !url.username().is_empty()
            || url.password().is_some()
            || url.fragment().is_some()
            || text.len() > 2048
        {
            return Err(invalid(
                "the notification endpoint is an https URL without credentials or fragment",
            ));
        }
        Ok(url.to_string())
    }

    /// Resolves a client's credentials as presented at `endpoint_url`. Every failure is
    /// `invalid_client`; the descriptions never say whether a client id exists.
    pub async fn authenticate_client(
        &self,
        credentials: ClientCredentials,
        endpoint_url: &str,
    ) -> Result<AuthenticatedClient, CibaError> {
        let unknown = "client authentication failed";
        let client = match credentials {
            ClientCredentials::Secret {
                client_id, secret, ..
            } => {
                let client = self
                    .client_called(&client_id)
                    .await?
                    .ok_or_else(|| invalid_client(unknown))?;
                match &client.auth {
                    ClientAuth::Secret { secret_hash }
                        if secrets::secret_matches(&secret, secret_hash) =>
                    {
                        client
                    }
                    _ => return Err(invalid_client(unknown)),
                }
            }
            ClientCredentials::Assertion {
                client_id,
                assertion,
            } => {
                let id = client_id
                    .or_else(|| unverified_claim(&assertion, "iss"))
                    .ok_or_else(|| invalid_client(unknown))?;
                let client = self
                    .client_called(&id)
                    .await?
                    .ok_or_else(|| invalid_client(unknown))?;
                let Some(keys) = client_keys(&client)? else {
                    return Err(invalid_client(unknown));
                };
                let audiences = vec![
                    self.issuer().to_owned(),
                    endpoint_url.to_owned(),
                    format!("{}/oauth2/token", self.issuer()),
                ];
                let check = AssertionCheck {
                    client_id: &client.client_id,
                    audiences: &audiences,
                    now: self.now().unix_timestamp(),
                    max_lifetime: MAX_ASSERTION_LIFETIME,
                    leeway: LEEWAY,
                };
                let verified = verify_client_assertion(&assertion, &keys, &check)?;
                let forget_after =
                    time::OffsetDateTime::from_unix_timestamp(verified.expires_at + LEEWAY)
                        .unwrap_or_else(|_| {
                            self.now() + time::Duration::seconds(MAX_ASSERTION_LIFETIME)
                        });
                if !self
                    .store
                    .consume_proof(
                        &format!("client:{}", client.client_id),
                        &verified.jti,
                        forget_after,
                    )
                    .await?
                {
                    return Err(invalid_client("this client assertion was already used"));
                }
                client
            }
            ClientCredentials::IdOnly { .. } => return Err(invalid_client(unknown)),
        };
        let app = self
            .records
            .app(self.store.as_ref(), &client.app_id)
            .await?
            .ok_or_else(|| {
                StoreError::Corrupt(format!(
                    "client {} without its application",
                    client.client_id
                ))
            })?;
        let keys = client_keys(&client)?;
        Ok(AuthenticatedClient { client, app, keys })
    }

    async fn client_called(&self, id: &str) -> Result<Option<CibaClient>, StoreError> {
        if id.is_empty() || id.len() > 128 {
            return Ok(None);
        }
        self.store.ciba_client(id).await
    }
}

fn parse_jwks(jwks: &str) -> Result<ClientKeySet, CoreError> {
    ClientKeySet::parse(jwks).map_err(|e| invalid(format!("the client's JWK Set: {e}")))
}

impl Assent {
    /// The authorization details types some client may ask for: those of the registered agents
    /// (other clients may send any type).
    pub async fn authorization_details_types(&self) -> Result<Vec<String>, CoreError> {
        let mut types: Vec<String> = self
            .store
            .list_ciba_clients()
            .await?
            .into_iter()
            .filter_map(|c| c.agent)
            .flat_map(|a| a.allowed_types)
            .collect();
        types.sort();
        types.dedup();
        Ok(types)
    }
}

/// A client's registered keys, when it authenticates with them.
fn client_keys(client: &CibaClient) -> Result<Option<ClientKeySet>, CibaError> {
    match &client.auth {
        ClientAuth::PrivateKeyJwt { jwks } => ClientKeySet::parse(jwks).map(Some).map_err(|e| {
            StoreError::Corrupt(format!("client {} keys: {e}", client.client_id)).into()
        }),
        ClientAuth::Secret { .. } => Ok(None),
    }
}

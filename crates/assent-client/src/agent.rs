//! An agent's side of OpenID CIBA against Assent: discovery, the backchannel request and the
//! token request, authenticated with `private_key_jwt` and bound with DPoP, and the check of
//! the grant it receives against Assent's JWKS. `assent mcp` is built on it.

use crate::error::ClientError;
use crate::http::http_client;
use assent_proto::jose::{JwkSet, Parsed, SigningKey, random_token};
use assent_proto::oauth::assertion::CLIENT_ASSERTION_TYPE;
use assent_proto::oauth::dpop::dpop_proof;
use assent_proto::oauth::tokens::{BackchannelResponse, TokenResponse};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::OnceCell;

/// The CIBA grant type.
pub const CIBA_GRANT: &str = "urn:openid:params:grant-type:ciba";
/// Largest answer read from Assent: its biggest (a token response with a receipt) is a few KiB.
const MAX_BODY: usize = 256 * 1024;
/// Lifetime of a client assertion: long enough for one request, short enough that a captured
/// one is worth little (Assent refuses more than ten minutes).
const ASSERTION_LIFETIME: i64 = 60;

/// Why a CIBA exchange did not give what was asked.
#[derive(Debug, thiserror::Error)]
pub enum AgentError {
    /// Assent answered with an OAuth error (`authorization_pending`, `access_denied`, ...).
    #[error("{error}: {}", .description.as_deref().unwrap_or("no description"))]
    OAuth {
        status: u16,
        error: String,
        description: Option<String>,
    },
    #[error(transparent)]
    Client(#[from] ClientError),
}

impl AgentError {
    /// The OAuth error code, when Assent answered with one.
    pub fn oauth_code(&self) -> Option<&str> {
        match self {
            AgentError::OAuth { error, .. } => Some(error),
            AgentError::Client(_) => None,
        }
    }
}

/// The part of the discovery document an agent needs.
#[derive(Debug, Clone, Deserialize)]
pub struct Endpoints {
    pub issuer: String,
    pub jwks_uri: String,
    pub backchannel_authentication_endpoint: String,
    pub token_endpoint: String,
}

/// What the agent asks its owner for.
#[derive(Debug, Clone)]
pub struct AgentRequest<'a> {
    /// The owner's username (`login_hint`).
    pub user: &'a str,
    /// One line the owner reads on the device (`binding_message`).
    pub binding_message: &'a str,
    /// RFC 9396 objects: the action, exactly.
    pub authorization_details: &'a [Value],
    /// Seconds the grant should live, when less than the server's default.
    pub token_lifetime: Option<u64>,
}

/// A registered agent: its client id and private key, and the Assent it talks to.
#[derive(Debug)]
pub struct AgentClient {
    http: reqwest::Client,
    server: String,
    client_id: String,
    key: Arc<SigningKey>,
    endpoints: OnceCell<Endpoints>,
}

/// Seconds since the Unix epoch, for `iat` and `exp` claims.
fn unix_now() -> i64 {
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn protocol(message: impl Into<String>) -> ClientError {
    ClientError::Protocol(message.into())
}

impl AgentClient {
    /// An agent of the Assent at `server` (its public URL). Nothing is fetched yet: the
    /// discovery document is read on first use, so a server that starts later is no error.
    pub fn new(server: &str, client_id: &str, key: SigningKey) -> Result<Self, ClientError> {
        Ok(AgentClient {
            http: http_client(Some(Duration::from_secs(30)))?,
            server: server.trim_end_matches('/').to_owned(),
            client_id: client_id.to_owned(),
            key: Arc::new(key),
            endpoints: OnceCell::new(),
        })
    }

    /// The RFC 7638 thumbprint of the agent's key: the `cnf.jkt` of its grants.
    pub fn thumbprint(&self) -> String {
        self.key.jwk().thumbprint()
    }

    /// The endpoints from the discovery document, fetched once. The issuer must be the server
    /// the agent was pointed at: a document naming another issuer would have the agent send
    /// its assertions, made for that issuer, wherever the document says.
    pub async fn endpoints(&self) -> Result<&Endpoints, ClientError> {
        self.endpoints
            .get_or_try_init(|| async {
                let url = format!("{}/.well-known/openid-configuration", self.server);
                let response = self.http.get(url).send().await?;
                let status = response.status().as_u16();
                let body = read_capped(response).await?;
                if status != 200 {
                    return Err(ClientError::Unexpected {
                        status,
                        body: String::from_utf8_lossy(&body).chars().take(300).collect(),
                    });
                }
                let endpoints: Endpoints = parse(&body)?;
                if endpoints.issuer.trim_end_matches('/') != self.server {
                    return Err(protocol(format!(
                        "the server names itself {}, not {}: use its issuer as --server",
                        endpoints.issuer, self.server
                    )));
                }
                Ok(endpoints)
            })
            .await
    }

    /// A client assertion (RFC 7523) for this agent, for Assent's issuer, used once.
    fn assertion(&self, issuer: &str) -> Result<String, ClientError> {
        let now = unix_now();
        let jti = random_token(16).map_err(|e| protocol(e.to_string()))?;
        let claims = serde_json::json!({
            "iss": self.client_id, "sub": self.client_id, "aud": issuer,
            "iat": now, "exp": now + ASSERTION_LIFETIME, "jti": jti,
        });
        let kid = self.key.jwk().thumbprint();
        self.key
            .sign("JWT", Some(&kid), false, &claims)
            .map_err(|e| protocol(e.to_string()))
    }

    /// POSTs a form with the client assertion (and a DPoP proof when `dpop`) and decodes the
    /// answer, or the OAuth error Assent gave.
    async fn post_form<T: DeserializeOwned>(
        &self,
        url: &str,
        params: &[(&str, &str)],
        dpop: bool,
    ) -> Result<T, AgentError> {
        let endpoints = self.endpoints().await?;
        let assertion = self.assertion(&endpoints.issuer)?;
        // Built in a block: the serializer is not `Send` and must not live across an await.
        let body = {
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            form.extend_pairs(params.iter().copied());
            form.append_pair("client_assertion_type", CLIENT_ASSERTION_TYPE);
            form.append_pair("client_assertion", &assertion);
            form.finish()
        };
        let mut request = self
            .http
            .post(url)
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body);
        if dpop {
            let jti = random_token(16).map_err(|e| protocol(e.to_string()))?;
            let proof = dpop_proof(&self.key, "POST", url, unix_now(), &jti, None)
                .map_err(|e| protocol(e.to_string()))?;
            request = request.header("DPoP", proof);
        }
        let response = request.send().await.map_err(ClientError::from)?;
        let status = response.status().as_u16();
        let body = read_capped(response).await?;
        if status == 200 {
            return Ok(parse(&body)?);
        }
        #[derive(Deserialize)]
        struct ErrorBody {
            error: String,
            error_description: Option<String>,
        }
        match serde_json::from_slice::<ErrorBody>(&body) {
            Ok(e) => Err(AgentError::OAuth {
                status,
                error: e.error,
                description: e.error_description,
            }),
            Err(_) => Err(ClientError::Unexpected {
                status,
                body: String::from_utf8_lossy(&body).chars().take(300).collect(),
            }
            .into()),
        }
    }

    /// Asks the owner (CIBA backchannel authentication request, scope `openid`).
    pub async fn start(&self, ask: &AgentRequest<'_>) -> Result<BackchannelResponse, AgentError> {
        let endpoints = self.endpoints().await?;
        let details = Value::Array(ask.authorization_details.to_vec()).to_string();
        let lifetime = ask.token_lifetime.map(|l| l.to_string());
        let mut params = vec![
            ("scope", "openid"),
            ("login_hint", ask.user),
            ("binding_message", ask.binding_message),
            ("authorization_details", details.as_str()),
        ];
        if let Some(lifetime) = &lifetime {
            params.push(("access_token_lifetime", lifetime));
        }
        self.post_form(
            &endpoints.backchannel_authentication_endpoint,
            &params,
            false,
        )
        .await
    }

    /// One token request for `auth_req_id`, with a fresh DPoP proof: the tokens once the owner
    /// approved, else the OAuth error (`authorization_pending`, `slow_down`, `access_denied`,
    /// `expired_token`, ...).
    pub async fn token(&self, auth_req_id: &str) -> Result<TokenResponse, AgentError> {
        let endpoints = self.endpoints().await?;
        let params = [("grant_type", CIBA_GRANT), ("auth_req_id", auth_req_id)];
        self.post_form(&endpoints.token_endpoint, &params, true)
            .await
    }

    /// The claims of an access token Assent issued, after checking its signature against
    /// Assent's JWKS, its `typ`, its issuer, and that it is bound to this agent's key: the agent
    /// then knows the grant is genuine and is what it will present.
    pub async fn verify_grant(
        &self,
        access_token: &str,
    ) -> Result<Map<String, Value>, ClientError> {
        let endpoints = self.endpoints().await?;
        let response = self.http.get(&endpoints.jwks_uri).send().await?;
        let jwks: JwkSet = parse(&read_capped(response).await?)?;
        let parsed = Parsed::parse(access_token).map_err(|e| protocol(e.to_string()))?;
        if parsed.header.typ.as_deref() != Some("at+jwt") {
            return Err(protocol("the access token's typ is not at+jwt"));
        }
        let key = parsed
            .header
            .kid
            .as_deref()
            .and_then(|kid| jwks.keys.iter().find(|k| k.kid.as_deref() == Some(kid)))
            .ok_or_else(|| protocol("the access token names no key of Assent's JWKS"))?;
        let claims: Map<String, Value> = parsed
            .verify(key)
            .map_err(|e| protocol(format!("the access token: {e}")))?;
        if claims.get("iss").and_then(Value::as_str) != Some(endpoints.issuer.as_str()) {
            return Err(protocol("the access token is not from this issuer"));
        }
        let jkt = claims
            .get("cnf")
            .and_then(|c| c.get("jkt"))
            .and_then(Value::as_str);
        if jkt != Some(self.thumbprint().as_str()) {
            return Err(protocol(
                "the access token is not bound to this agent's key",
            ));
        }
        Ok(claims)
    }
}

/// The body of a response, refused past [`MAX_BODY`] bytes.
async fn read_capped(mut response: reqwest::Response) -> Result<Vec<u8>, ClientError> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_BODY {
            return Err(protocol(format!(
                "the answer is larger than {MAX_BODY} bytes"
            )));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, ClientError> {
    serde_json::from_slice(body).map_err(|e| protocol(format!("an unexpected answer: {e}")))
}

//! OpenID CIBA against the real server: the poll flow end to end, client authentication,
//! request objects, agents with DPoP-bound grants, revocation and introspection, and every
//! error code the specification names, each in its own test.

mod agents;
mod errors;
mod flow;
mod modes;

use assent_client::DeviceClient;
use assent_proto::api::{CreateAgent, CreateCibaClient};
use assent_proto::jose::{JwkSet, Parsed, SigningKey};
use assent_proto::statement::Decision;
use assent_testkit::TestServer;
use base64::Engine as _;
use serde_json::{Value, json};
use std::time::Duration;

/// An OAuth endpoint's answer.
pub(crate) struct Reply {
    pub status: u16,
    pub body: Value,
    pub headers: reqwest::header::HeaderMap,
}

impl Reply {
    /// The OAuth error code, or a panic naming what came instead.
    pub fn error(&self) -> &str {
        self.body["error"]
            .as_str()
            .unwrap_or_else(|| panic!("no OAuth error in {} {}", self.status, self.body))
    }
}

/// How a test client authenticates.
#[derive(Clone)]
pub(crate) enum Auth {
    Basic {
        id: String,
        secret: String,
    },
    Post {
        id: String,
        secret: String,
    },
    Key {
        id: String,
        key: std::sync::Arc<SigningKey>,
    },
}

/// A server with a user `alice` who has one device, and HTTP to its OAuth endpoints.
pub(crate) struct Setup {
    pub server: TestServer,
    pub device: DeviceClient,
    pub app_id: String,
    http: reqwest::Client,
}

impl Setup {
    pub async fn new() -> Setup {
        Self::with(|_| {}).await
    }

    pub async fn with(adjust: impl FnOnce(&mut assent_server::Config)) -> Setup {
        let server = TestServer::spawn_with(|c| {
            // A notification endpoint on this machine is a test endpoint.
            c.push.allow_private_endpoints = true;
            adjust(c);
        })
        .await;
        let device = server.user_with_device("alice").await;
        let app = server.app("Acme Bank").await;
        Setup {
            server,
            device,
            app_id: app.id,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(20))
                .build()
                .unwrap(),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server.base)
    }

    /// Registers a client with a secret, in `mode`.
    pub async fn secret_client(
        &self,
        mode: &str,
        endpoint: Option<String>,
        user_code: bool,
    ) -> (String, String) {
        let created = self
            .server
            .admin
            .create_ciba_client(
                &self.app_id,
                &CreateCibaClient {
                    mode: mode.into(),
                    notification_endpoint: endpoint,
                    jwks: None,
                    requires_user_code: user_code,
                },
            )
            .await
            .unwrap();
        (created.client_id, created.client_secret.unwrap())
    }

    /// Registers a `private_key_jwt` client whose key is returned.
    pub async fn key_client(&self) -> (String, std::sync::Arc<SigningKey>) {
        let key = SigningKey::generate().unwrap();
        let created = self
            .server
            .admin
            .create_ciba_client(
                &self.app_id,
                &CreateCibaClient {
                    mode: "poll".into(),
                    notification_endpoint: None,
                    jwks: Some(jwks_of(&key)),
                    requires_user_code: false,
                },
            )
            .await
            .unwrap();
        assert!(created.client_secret.is_none());
        (created.client_id, std::sync::Arc::new(key))
    }

    /// Registers an agent acting for alice, allowed `payment_initiation`.
    pub async fn agent(&self) -> (String, std::sync::Arc<SigningKey>) {
        let key = SigningKey::generate().unwrap();
        let created = self
            .server
            .admin
            .create_agent(&CreateAgent {
                name: "Invoice assistant".into(),
                owner: "alice".into(),
                jwks: jwks_of(&key),
                authorization_details_types: vec!["payment_initiation".into()],
                mode: None,
                notification_endpoint: None,
            })
            .await
            .unwrap();
        assert_eq!(created.owner.as_deref(), Some("alice"));
        (created.client_id, std::sync::Arc::new(key))
    }

    /// POSTs a form to `path`, authenticated as `auth`, with an optional DPoP header.
    pub async fn post(
        &self,
        path: &str,
        auth: &Auth,
        params: &[(&str, &str)],
        dpop: Option<&str>,
    ) -> Reply {
        let mut form: Vec<(String, String)> = params
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        let mut request = self.http.post(self.url(path));
        match auth {
            Auth::Basic { id, secret } => {
                let encode = |s: &str| {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>()
                };
                let pair = format!("{}:{}", encode(id), encode(secret));
                let value = base64::engine::general_purpose::STANDARD.encode(pair);
                request = request.header("Authorization", format!("Basic {value}"));
            }
            Auth::Post { id, secret } => {
                form.push(("client_id".into(), id.clone()));
                form.push(("client_secret".into(), secret.clone()));
            }
            Auth::Key { id, key } => {
                form.push((
                    "client_assertion_type".into(),
                    "urn:ietf:params:oauth:client-assertion-type:jwt-bearer".into(),
                ));
                form.push(("client_assertion".into(), self.assertion(id, key)));
            }
        }
        if let Some(proof) = dpop {
            request = request.header("DPoP", proof);
        }
        let body = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(form.iter())
            .finish();
        let response = request
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let body = serde_json::from_str(&text).unwrap_or_else(|_| json!({"raw": text}));
        Reply {
            status,
            body,
            headers,
        }
    }

    /// A client assertion (RFC 7523) for `id`, signed with `key`, with a fresh `jti`.
    pub fn assertion(&self, id: &str, key: &SigningKey) -> String {
        let now = self.now();
        let claims = json!({
            "iss": id, "sub": id, "aud": self.issuer(), "iat": now, "exp": now + 60,
            "jti": assent_proto::jose::random_token(16).unwrap(),
        });
        key.sign("JWT", Some(&key.jwk().thumbprint()), false, &claims)
            .unwrap()
    }

    /// The OpenID issuer: the server's public URL.
    pub fn issuer(&self) -> String {
        self.server.assent.issuer().to_owned()
    }

    /// The server clock's time, in unix seconds.
    pub fn now(&self) -> i64 {
        self.server.assent.now().unix_timestamp()
    }

    /// Starts a backchannel request for alice.
    pub async fn start(&self, auth: &Auth, extra: &[(&str, &str)]) -> Reply {
        let mut params = vec![
            ("scope", "openid"),
            ("login_hint", "alice"),
            ("binding_message", "Sign in to Acme Bank"),
        ];
        params.extend_from_slice(extra);
        self.post("/oauth2/bc-authorize", auth, &params, None).await
    }

    /// A token request with the CIBA grant.
    pub async fn token(&self, auth: &Auth, auth_req_id: &str, dpop: Option<&str>) -> Reply {
        let params = [
            ("grant_type", "urn:openid:params:grant-type:ciba"),
            ("auth_req_id", auth_req_id),
        ];
        self.post("/oauth2/token", auth, &params, dpop).await
    }

    /// A backchannel request for alice that the device approves with the displayed code, and
    /// the token response that follows.
    pub async fn approved_tokens(&self, auth: &Auth) -> Reply {
        let started = self.start(auth, &[]).await;
        let req_id = started.body["auth_req_id"].as_str().unwrap().to_owned();
        self.answer(Decision::Approve, started.body["display_code"].as_str())
            .await;
        self.token(auth, &req_id, None).await
    }

    /// The device answers the one pending request, with the code the client was given.
    pub async fn answer(
        &self,
        decision: assent_proto::statement::Decision,
        code: Option<&str>,
    ) -> String {
        let pending = self.device.pending().await.unwrap();
        assert_eq!(pending.len(), 1, "{pending:?}");
        self.device
            .decide(&pending[0].id, decision, code)
            .await
            .unwrap();
        pending[0].id.clone()
    }

    /// Verifies a JWT Assent signed, against its published JWKS; returns the header `typ` and
    /// the claims.
    pub async fn verified(&self, token: &str) -> (Option<String>, Value) {
        let jwks: JwkSet = self
            .http
            .get(self.url("/.well-known/jwks.json"))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let parsed = Parsed::parse(token).unwrap();
        let kid = parsed.header.kid.clone().unwrap();
        let key = jwks
            .keys
            .iter()
            .find(|k| k.kid.as_deref() == Some(kid.as_str()))
            .unwrap();
        (
            parsed.header.typ.clone(),
            parsed.verify::<Value>(key).unwrap(),
        )
    }
}

/// The public JWK Set of `key`.
pub(crate) fn jwks_of(key: &SigningKey) -> Value {
    json!({"keys": [key.jwk().public_with_kid(&key.jwk().thumbprint())]})
}

/// A login hint token naming alice (RFC 9493 `sub_id`, format `opaque`), signed by `key`.
pub(crate) fn hint_token(key: &SigningKey, exp: i64) -> String {
    key.sign(
        "JWT",
        None,
        false,
        &json!({"sub_id": {"format": "opaque", "id": "alice"}, "exp": exp}),
    )
    .unwrap()
}

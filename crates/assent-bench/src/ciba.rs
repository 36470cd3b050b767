//! The relying party's side of a flow over OpenID CIBA (poll mode, `client_secret_basic`): a
//! backchannel authentication request instead of `POST /v1/approvals`, and a token request
//! instead of the long poll. The token request is sent once the device's answer was accepted,
//! as a client whose `interval` had passed would send it: the bench measures what the server
//! spends on a flow, not the interval a client sleeps.

use crate::error::CallError;
use crate::http::call;
use serde::Deserialize;
use std::time::Duration;

/// A registered CIBA client.
#[derive(Debug, Clone)]
pub struct CibaClient {
    pub base: String,
    pub client_id: String,
    pub secret: String,
}

/// The backchannel response's parts a flow needs.
#[derive(Debug, Deserialize)]
pub struct Started {
    pub auth_req_id: String,
    #[serde(default)]
    pub display_code: Option<String>,
}

#[derive(Debug, Deserialize)]
struct Tokens {
    id_token: String,
    receipt: String,
}

fn form(pairs: &[(&str, &str)]) -> String {
    let encode = |s: &str| {
        s.bytes()
            .map(|b| match b {
                b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                    char::from(b).to_string()
                }
                _ => format!("%{b:02X}"),
            })
            .collect::<String>()
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", encode(k), encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

impl CibaClient {
    fn post(&self, http: &reqwest::Client, path: &str, body: String) -> reqwest::RequestBuilder {
        http.post(format!("{}{path}", self.base))
            .basic_auth(&self.client_id, Some(&self.secret))
            .header("Content-Type", "application/x-www-form-urlencoded")
            .body(body)
            .timeout(Duration::from_secs(60))
    }

    /// `POST /oauth2/bc-authorize` for `user`.
    pub async fn start(&self, http: &reqwest::Client, user: &str) -> Result<Started, CallError> {
        let body = form(&[
            ("scope", "openid"),
            ("login_hint", user),
            ("binding_message", "Sign in to Acme"),
        ]);
        call("create", self.post(http, "/oauth2/bc-authorize", body)).await
    }

    /// `POST /oauth2/token` with the CIBA grant; the tokens must be there.
    pub async fn tokens(&self, http: &reqwest::Client, auth_req_id: &str) -> Result<(), CallError> {
        let body = form(&[
            ("grant_type", "urn:openid:params:grant-type:ciba"),
            ("auth_req_id", auth_req_id),
        ]);
        let tokens: Tokens = call("wait", self.post(http, "/oauth2/token", body)).await?;
        if tokens.id_token.is_empty() || tokens.receipt.is_empty() {
            return Err(CallError::new(
                "outcome",
                "no tokens",
                auth_req_id.to_owned(),
            ));
        }
        Ok(())
    }
}

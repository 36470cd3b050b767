//! Firebase Cloud Messaging, HTTP v1: an OAuth access token obtained with the service account's
//! signed assertion (RFC 7523), one `messages:send` per notice, and the classification of the
//! answer.

use super::native::{http_client, pkcs8_from_pem, unanswered, unix_now, unreadable};
use super::{Notice, Sent, SetupError, Urgency, retry_after};
use assent_proto::jose::b64;
use reqwest::StatusCode;
use ring::signature::{RSA_PKCS1_SHA256, RsaKeyPair};
use serde_json::{Map, Value, json};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Google's endpoint.
pub const PRODUCTION_URL: &str = "https://fcm.googleapis.com";
/// The only permission the access token asks for.
const SCOPE: &str = "https://www.googleapis.com/auth/firebase.messaging";
/// An assertion's lifetime; Google accepts at most an hour.
const ASSERTION_LIFETIME: u64 = 3600;
/// An access token is renewed this long before it expires, so none expires in flight.
const RENEW_MARGIN: u64 = 60;

/// How Assent reaches FCM.
#[derive(Debug, Clone)]
pub struct FcmSettings {
    /// The service account's JSON key file, as the Firebase console downloads it.
    pub service_account_file: PathBuf,
    /// [`PRODUCTION_URL`] or a test endpoint.
    pub base_url: String,
    /// Extra PEM roots to trust, for a test endpoint.
    pub ca_file: Option<PathBuf>,
    /// Time allowed for one request (the token request too).
    pub timeout: Duration,
}

/// Sends notices to Android devices (and anything else registered with FCM).
pub struct FcmSender {
    http: reqwest::Client,
    account: ServiceAccount,
    send_url: String,
    /// The access token in use. An async mutex, held across the token request, so that a burst
    /// of sends after expiry makes one token request, not one each.
    access_token: tokio::sync::Mutex<Option<AccessToken>>,
}

impl std::fmt::Debug for FcmSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FcmSender")
            .field("send_url", &self.send_url)
            .field("client_email", &self.account.client_email)
            .finish_non_exhaustive()
    }
}

/// The parts of the service account that are used.
struct ServiceAccount {
    project_id: String,
    private_key_id: String,
    client_email: String,
    token_uri: String,
    key: RsaKeyPair,
}

/// An access token and when to stop using it (Unix seconds).
struct AccessToken {
    value: String,
    renew_at: u64,
}

/// Why no access token could be had; always worth another try later.
struct TokenFailure {
    after: Option<Duration>,
    error: String,
}

impl FcmSender {
    /// Reads and checks the service account and builds the client; fails naming the file and
    /// what is missing, never the key.
    pub fn new(settings: FcmSettings) -> Result<Self, SetupError> {
        let account = ServiceAccount::read(&settings.service_account_file)?;
        let send_url = format!(
            "{}/v1/projects/{}/messages:send",
            settings.base_url.trim_end_matches('/'),
            account.project_id
        );
        Ok(FcmSender {
            http: http_client(settings.timeout, settings.ca_file.as_deref())?,
            account,
            send_url,
            access_token: tokio::sync::Mutex::new(None),
        })
    }

    /// Sends one notice to one device and says what FCM made of it.
    pub async fn send(&self, device_token: &str, notice: &Notice) -> Sent {
        if !is_device_token(device_token) {
            return Sent::Gone {
                error: "the FCM registration token is malformed".into(),
            };
        }
        let body = match message_body(device_token, notice) {
            Ok(body) => body,
            Err(error) => return Sent::Failed { error },
        };
        let token = match self.access_token().await {
            Ok(token) => token,
            Err(failure) => {
                return Sent::Retry {
                    after: failure.after,
                    error: failure.error,
                };
            }
        };
        let request = self
            .http
            .post(&self.send_url)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body);
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                return Sent::Retry {
                    after: None,
                    error: unanswered("FCM", &e),
                };
            }
        };
        let status = response.status();
        let after = retry_after(response.headers());
        let error = response
            .bytes()
            .await
            .ok()
            .map(|b| FcmError::parse(&b))
            .unwrap_or_default();
        if status == StatusCode::UNAUTHORIZED {
            *self.access_token.lock().await = None;
        }
        classify(status, &error, after)
    }

    /// The access token to send with: the cached one until shortly before it expires, else a
    /// new one from the token endpoint.
    async fn access_token(&self) -> Result<String, TokenFailure> {
        let mut cached = self.access_token.lock().await;
        let now = unix_now();
        if let Some(token) = cached.as_ref().filter(|t| now < t.renew_at) {
            return Ok(token.value.clone());
        }
        let token = self.fetch_access_token(now).await?;
        let value = token.value.clone();
        *cached = Some(token);
        Ok(value)
    }

    /// Trades a fresh assertion for an access token (RFC 7523 JWT bearer grant).
    async fn fetch_access_token(&self, now: u64) -> Result<AccessToken, TokenFailure> {
        let failure = |after, error: String| TokenFailure { after, error };
        let assertion = self
            .account
            .assertion(now)
            .map_err(|e| failure(None, e.into()))?;
        // The assertion is base64url and dots, nothing a form must escape.
        let form = format!(
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion={assertion}"
        );
        let response = self
            .http
            .post(&self.account.token_uri)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(form)
            .send()
            .await
            .map_err(|e| failure(None, unanswered("the FCM token endpoint", &e)))?;
        let status = response.status();
        if !status.is_success() {
            let error = format!("the FCM token endpoint answered {}", status.as_u16());
            return Err(failure(retry_after(response.headers()), error));
        }
        let body = response
            .bytes()
            .await
            .map_err(|e| failure(None, unanswered("the FCM token endpoint", &e)))?;
        AccessToken::parse(&body, now).ok_or_else(|| {
            failure(
                None,
                "the FCM token endpoint's answer has no usable access token".into(),
            )
        })
    }
}

impl AccessToken {
    /// `{"access_token":..., "expires_in":..., "token_type":"Bearer"}`, received at `now`.
    fn parse(body: &[u8], now: u64) -> Option<AccessToken> {
        let body: Value = serde_json::from_slice(body).ok()?;
        let value = body.get("access_token")?.as_str()?;
        let bearer = body
            .get("token_type")
            .and_then(Value::as_str)
            .is_none_or(|t| t.eq_ignore_ascii_case("bearer"));
        // The token goes into a header: refuse anything a header cannot carry as is.
        let printable = value.bytes().all(|b| b.is_ascii_graphic());
        if value.is_empty() || !printable || !bearer {
            return None;
        }
        let expires_in = body
            .get("expires_in")
            .and_then(Value::as_u64)
            .unwrap_or(ASSERTION_LIFETIME);
        Some(AccessToken {
            value: value.to_owned(),
            renew_at: now + expires_in.saturating_sub(RENEW_MARGIN),
        })
    }
}

impl ServiceAccount {
    /// Reads the service account's JSON; every field used must be there and make sense.
    fn read(path: &Path) -> Result<ServiceAccount, SetupError> {
        let text = std::fs::read_to_string(path).map_err(|e| unreadable(path, &e))?;
        let json: Value = serde_json::from_str(&text).map_err(|e| {
            // Line and column only: serde's message can quote the content.
            SetupError(format!(
                "{} is not JSON (line {}, column {})",
                path.display(),
                e.line(),
                e.column()
            ))
        })?;
        let field = |name: &str| -> Result<String, SetupError> {
            match json.get(name).and_then(Value::as_str) {
                Some(value) if !value.is_empty() => Ok(value.to_owned()),
                _ => Err(SetupError(format!(
                    "the service account file {} has no `{name}`",
                    path.display()
                ))),
            }
        };
        if field("type")? != "service_account" {
            return Err(SetupError(format!(
                "{} is not a service account key (its `type` is not service_account)",
                path.display()
            )));
        }
        let project_id = field("project_id")?;
        let token_uri = field("token_uri")?;
        if !token_uri.starts_with("https://") && !token_uri.starts_with("http://") {
            return Err(SetupError(format!(
                "the `token_uri` of {} is not an HTTP URL",
                path.display()
            )));
        }
        if !project_id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(SetupError(format!(
                "the `project_id` of {} is not a Firebase project id",
                path.display()
            )));
        }
        Ok(ServiceAccount {
            key: rsa_key(&field("private_key")?, path)?,
            project_id,
            private_key_id: field("private_key_id")?,
            client_email: field("client_email")?,
            token_uri,
        })
    }

    /// The signed assertion that asks for an access token (RS256, as Google requires).
    fn assertion(&self, now: u64) -> Result<String, &'static str> {
        let header = json!({ "alg": "RS256", "typ": "JWT", "kid": self.private_key_id });
        let claims = json!({
            "iss": self.client_email,
            "scope": SCOPE,
            "aud": self.token_uri,
            "iat": now,
            "exp": now + ASSERTION_LIFETIME,
        });
        let signing_input = format!("{}.{}", b64(header.to_string()), b64(claims.to_string()));
        let mut signature = vec![0; self.key.public().modulus_len()];
        self.key
            .sign(
                &RSA_PKCS1_SHA256,
                &ring::rand::SystemRandom::new(),
                signing_input.as_bytes(),
                &mut signature,
            )
            .map_err(|_| "the service account key cannot sign")?;
        Ok(format!("{signing_input}.{}", b64(signature)))
    }
}

/// The service account's RSA key out of its PEM text.
fn rsa_key(pem: &str, path: &Path) -> Result<RsaKeyPair, SetupError> {
    let der = pkcs8_from_pem(pem).map_err(|why| {
        SetupError(format!(
            "the `private_key` of {} holds {why}",
            path.display()
        ))
    })?;
    RsaKeyPair::from_pkcs8(&der).map_err(|_| {
        SetupError(format!(
            "the `private_key` of {} is not an RSA key of 2048 bits or more",
            path.display()
        ))
    })
}

/// Whether `token` can be an FCM registration token. Anything else is refused before a request:
/// it would never become deliverable.
pub fn is_device_token(token: &str) -> bool {
    (1..=4096).contains(&token.len())
        && token
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b':' | b'-'))
}

/// The `messages:send` body: a data message (the app decides what to show) whose values are all
/// strings, as FCM requires, with Android's priority, lifetime and collapse key.
fn message_body(device_token: &str, notice: &Notice) -> Result<Vec<u8>, String> {
    let payload: Value = serde_json::from_slice(&notice.payload)
        .map_err(|_| "the notice payload is not JSON".to_owned())?;
    let Value::Object(fields) = payload else {
        return Err("the notice payload is not a JSON object".into());
    };
    let data: Map<String, Value> = fields
        .into_iter()
        .map(|(name, value)| {
            let text = match value {
                Value::String(text) => text,
                other => other.to_string(),
            };
            (name, Value::String(text))
        })
        .collect();
    let mut android = json!({
        "priority": match notice.urgency {
            Urgency::High => "high",
            Urgency::Normal => "normal",
        },
        "ttl": format!("{}s", notice.ttl.as_secs()),
    });
    if let Some(collapse) = &notice.collapse_key {
        android["collapse_key"] = Value::String(collapse.clone());
    }
    let body = json!({
        "message": { "token": device_token, "data": data, "android": android }
    });
    serde_json::to_vec(&body).map_err(|_| "the FCM body cannot be encoded".to_owned())
}

/// What an FCM error body says: `error.status` and the FCM `errorCode` of `error.details`.
#[derive(Debug, Default, PartialEq, Eq)]
struct FcmError {
    status: Option<String>,
    error_code: Option<String>,
}

impl FcmError {
    fn parse(body: &[u8]) -> FcmError {
        let Ok(body) = serde_json::from_slice::<Value>(body) else {
            return FcmError::default();
        };
        let error = &body["error"];
        let text = |v: &Value| v.as_str().map(str::to_owned);
        let error_code = error["details"]
            .as_array()
            .into_iter()
            .flatten()
            .find_map(|detail| text(&detail["errorCode"]));
        FcmError {
            status: text(&error["status"]),
            error_code,
        }
    }

    /// The most specific name FCM gave the error.
    fn name(&self) -> &str {
        self.error_code
            .as_deref()
            .or(self.status.as_deref())
            .unwrap_or("(no error code)")
    }
}

/// What FCM's answer means for the dispatcher.
fn classify(status: StatusCode, error: &FcmError, after: Option<Duration>) -> Sent {
    let code = status.as_u16();
    let name = error.name();
    match code {
        200 => Sent::Accepted,
        _ if error.error_code.as_deref() == Some("UNREGISTERED") => Sent::Gone {
            error: "FCM: the registration token is no longer valid (UNREGISTERED)".into(),
        },
        404 => Sent::Gone {
            error: format!("FCM: the registration token is unknown ({name})"),
        },
        // The access token was refused: the sender dropped it, the next try fetches another.
        401 => Sent::Retry {
            after: None,
            error: format!("FCM refused the access token ({name})"),
        },
        429 | 500..=599 => Sent::Retry {
            after,
            error: format!("FCM answered {code} {name}"),
        },
        _ => Sent::Failed {
            error: format!("FCM refused the push: {code} {name}"),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    fn error(body: &str) -> FcmError {
        FcmError::parse(body.as_bytes())
    }

    const UNREGISTERED: &str = r#"{"error":{"code":404,"status":"NOT_FOUND","details":[
        {"@type":"type.googleapis.com/google.firebase.fcm.v1.FcmError","errorCode":"UNREGISTERED"}]}}"#;

    #[test]
    fn registration_tokens_are_checked_before_sending() {
        assert!(is_device_token("dGVzdA:APA91b-Hx_y0"));
        assert!(is_device_token(&"a".repeat(4096)));
        assert!(!is_device_token(""));
        assert!(!is_device_token(&"a".repeat(4097)));
        assert!(!is_device_token("a/b"));
        assert!(!is_device_token("a b"));
        assert!(!is_device_token("a=="));
    }

    #[test]
    fn error_bodies_are_read() {
        assert_eq!(
            error(UNREGISTERED),
            FcmError {
                status: Some("NOT_FOUND".into()),
                error_code: Some("UNREGISTERED".into())
            }
        );
        assert_eq!(error("<html>"), FcmError::default());
        assert_eq!(
            error(r#"{"error":{"status":"UNAVAILABLE"}}"#).name(),
            "UNAVAILABLE"
        );
    }

    #[test]
    fn answers_are_classified() {
        let after = Some(Duration::from_secs(30));
        let none = FcmError::default();
        assert_eq!(classify(status(200), &none, None), Sent::Accepted);
        assert!(matches!(
            classify(status(404), &error(UNREGISTERED), None),
            Sent::Gone { .. }
        ));
        assert!(matches!(
            classify(status(404), &none, None),
            Sent::Gone { .. }
        ));
        let unregistered_400 = error(
            r#"{"error":{"status":"INVALID_ARGUMENT","details":[{"errorCode":"UNREGISTERED"}]}}"#,
        );
        assert!(matches!(
            classify(status(400), &unregistered_400, None),
            Sent::Gone { .. }
        ));
        assert_eq!(
            classify(
                status(400),
                &error(r#"{"error":{"status":"INVALID_ARGUMENT"}}"#),
                None
            ),
            Sent::Failed {
                error: "FCM refused the push: 400 INVALID_ARGUMENT".into()
            }
        );
        assert!(matches!(
            classify(status(429), &error(r#"{"error":{"status":"RESOURCE_EXHAUSTED","details":[{"errorCode":"QUOTA_EXCEEDED"}]}}"#), after),
            Sent::Retry { after: Some(a), ref error } if a == Duration::from_secs(30) && error.contains("QUOTA_EXCEEDED")
        ));
        assert!(matches!(
            classify(status(503), &none, after),
            Sent::Retry { after: Some(_), .. }
        ));
        assert!(matches!(
            classify(status(500), &none, None),
            Sent::Retry { .. }
        ));
        assert!(matches!(
            classify(status(401), &none, after),
            Sent::Retry { after: None, .. }
        ));
        assert!(matches!(
            classify(status(403), &none, None),
            Sent::Failed { .. }
        ));
    }

    #[test]
    fn access_tokens_are_renewed_a_minute_early() {
        let token = AccessToken::parse(
            br#"{"access_token":"ya29.x","expires_in":3599,"token_type":"Bearer"}"#,
            100,
        )
        .unwrap();
        assert_eq!(
            (token.value.as_str(), token.renew_at),
            ("ya29.x", 100 + 3599 - 60)
        );
        assert!(AccessToken::parse(br#"{"expires_in":3599}"#, 0).is_none());
        assert!(AccessToken::parse(br#"{"access_token":"a\nb"}"#, 0).is_none());
        assert!(AccessToken::parse(br#"{"access_token":"a","token_type":"mac"}"#, 0).is_none());
    }

    #[test]
    fn data_values_are_strings() {
        let notice = Notice {
            payload: br#"{"type":"approval","id":"apr_1","app":"Acme","n":3}"#.to_vec(),
            urgency: Urgency::High,
            collapse_key: Some("apr_1".into()),
            expires_at: 0,
            ttl: Duration::from_secs(120),
        };
        let body: Value = serde_json::from_slice(&message_body("tok", &notice).unwrap()).unwrap();
        assert_eq!(
            body,
            json!({"message": {
                "token": "tok",
                "data": {"type": "approval", "id": "apr_1", "app": "Acme", "n": "3"},
                "android": {"priority": "high", "ttl": "120s", "collapse_key": "apr_1"}
            }})
        );
        let normal = Notice {
            urgency: Urgency::Normal,
            collapse_key: None,
            ..notice
        };
        let body: Value = serde_json::from_slice(&message_body("tok", &normal).unwrap()).unwrap();
        assert_eq!(
            body["message"]["android"],
            json!({"priority": "normal", "ttl": "120s"})
        );
    }
}

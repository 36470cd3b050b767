//! Apple Push Notification service: one `POST /3/device/{token}` over HTTP/2 per notice,
//! authenticated by a provider token (an ES256 JWT signed with the team's `.p8` key), and the
//! classification of Apple's answer.

use super::native::{http_client, pkcs8_from_pem, unanswered, unix_now, unreadable};
use super::{Notice, Sent, SetupError, Urgency, retry_after};
use assent_proto::jose::SigningKey;
use reqwest::StatusCode;
use serde_json::{Value, json};
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

/// Apple's production endpoint.
pub const PRODUCTION_URL: &str = "https://api.push.apple.com";
/// Apple's development endpoint, for apps built with the development entitlement.
pub const SANDBOX_URL: &str = "https://api.sandbox.push.apple.com";

/// A provider token is renewed once it is this old: Apple refuses tokens older than an hour
/// (`ExpiredProviderToken`) and throttles providers that renew more often than every 20 minutes
/// (`TooManyProviderTokenUpdates`).
const PROVIDER_TOKEN_LIFETIME: u64 = 40 * 60;

/// How Assent reaches APNs.
#[derive(Debug, Clone)]
pub struct ApnsSettings {
    /// [`PRODUCTION_URL`], [`SANDBOX_URL`], or a test endpoint.
    pub base_url: String,
    /// The Apple developer team that owns the key (the provider token's `iss`).
    pub team_id: String,
    /// The key's id (the provider token's `kid`).
    pub key_id: String,
    /// The `.p8` file Apple issued: a P-256 private key as PKCS#8 PEM.
    pub key_file: PathBuf,
    /// The app's bundle id, which the device tokens belong to.
    pub topic: String,
    /// Extra PEM roots to trust, for a test endpoint.
    pub ca_file: Option<PathBuf>,
    /// Time allowed for one request.
    pub timeout: Duration,
}

/// Sends notices to Apple devices.
pub struct ApnsSender {
    http: reqwest::Client,
    key: SigningKey,
    team_id: String,
    key_id: String,
    topic: String,
    base_url: String,
    /// The provider token in use; Apple wants one reused, not one per request.
    provider_token: Mutex<Option<ProviderToken>>,
}

impl std::fmt::Debug for ApnsSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApnsSender")
            .field("base_url", &self.base_url)
            .field("team_id", &self.team_id)
            .field("key_id", &self.key_id)
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

/// A signed provider token and when it was issued (its `iat`).
struct ProviderToken {
    jwt: String,
    issued_at: u64,
}

impl ProviderToken {
    /// Whether it can still be used at `now`; a clock that went back also renews it, since Apple
    /// refuses a token issued in its future.
    fn usable_at(&self, now: u64) -> bool {
        now >= self.issued_at && now - self.issued_at < PROVIDER_TOKEN_LIFETIME
    }
}

impl ApnsSender {
    /// Reads the key and builds the HTTP/2 client; fails naming the file, never its content.
    pub fn new(settings: ApnsSettings) -> Result<Self, SetupError> {
        let path = &settings.key_file;
        let pem = std::fs::read_to_string(path).map_err(|e| unreadable(path, &e))?;
        let der = pkcs8_from_pem(&pem)
            .map_err(|why| SetupError(format!("{} holds {why}", path.display())))?;
        let key = SigningKey::from_pkcs8(&der).map_err(|_| {
            SetupError(format!(
                "{} is not a P-256 private key in PKCS#8 with its public key",
                path.display()
            ))
        })?;
        for (name, value) in [("team id", &settings.team_id), ("key id", &settings.key_id)] {
            if value.is_empty() {
                return Err(SetupError(format!("the APNs {name} is empty")));
            }
        }
        if settings.topic.is_empty() {
            return Err(SetupError(
                "the APNs topic (the app's bundle id) is empty".into(),
            ));
        }
        Ok(ApnsSender {
            http: http_client(settings.timeout, settings.ca_file.as_deref())?,
            key,
            team_id: settings.team_id,
            key_id: settings.key_id,
            topic: settings.topic,
            base_url: settings.base_url.trim_end_matches('/').to_owned(),
            provider_token: Mutex::new(None),
        })
    }

    /// Sends one notice to one device and says what Apple made of it.
    pub async fn send(&self, device_token: &str, notice: &Notice) -> Sent {
        if !is_device_token(device_token) {
            return Sent::Gone {
                error: "the APNs device token is malformed".into(),
            };
        }
        let body = match alert_body(&notice.payload) {
            Ok(body) => body,
            Err(error) => return Sent::Failed { error },
        };
        let jwt = match self.provider_token(unix_now()) {
            Ok(jwt) => jwt,
            Err(error) => return Sent::Failed { error },
        };
        let mut request = self
            .http
            .post(format!("{}/3/device/{device_token}", self.base_url))
            .header("authorization", format!("bearer {jwt}"))
            .header("apns-topic", &self.topic)
            .header("apns-push-type", "alert")
            .header("apns-priority", priority(notice.urgency))
            .header("apns-expiration", notice.expires_at.to_string())
            .header("content-type", "application/json")
            .body(body);
        if let Some(collapse) = &notice.collapse_key {
            request = request.header("apns-collapse-id", collapse);
        }
        let response = match request.send().await {
            Ok(response) => response,
            Err(e) => {
                return Sent::Retry {
                    after: None,
                    error: unanswered("APNs", &e),
                };
            }
        };
        let status = response.status();
        let after = retry_after(response.headers());
        // The reason is in the body; a body that cannot be read leaves the status to decide.
        let reason = response.bytes().await.ok().and_then(|b| reason(&b));
        if refuses_provider_token(status, reason.as_deref()) {
            self.forget_provider_token();
        }
        classify(status, reason.as_deref(), after)
    }

    /// The provider token to send at `now`: the cached one while it is young enough, else a
    /// fresh one, which is cached.
    fn provider_token(&self, now: u64) -> Result<String, String> {
        let mut cached = self
            .provider_token
            .lock()
            .map_err(|_| "the APNs provider token cache is poisoned".to_owned())?;
        if let Some(token) = cached.as_ref().filter(|t| t.usable_at(now)) {
            return Ok(token.jwt.clone());
        }
        let claims = json!({ "iss": self.team_id, "iat": now });
        let jwt = self
            .key
            .sign("JWT", Some(&self.key_id), false, &claims)
            .map_err(|_| "the APNs key cannot sign a provider token".to_owned())?;
        *cached = Some(ProviderToken {
            jwt: jwt.clone(),
            issued_at: now,
        });
        Ok(jwt)
    }

    /// Drops the cached provider token, after Apple said it is expired or invalid.
    fn forget_provider_token(&self) {
        if let Ok(mut cached) = self.provider_token.lock() {
            *cached = None;
        }
    }
}

/// Whether `token` can be an APNs device token (hex; 32 bytes today, longer allowed). Anything
/// else is refused before a request: it would never become deliverable.
pub fn is_device_token(token: &str) -> bool {
    (1..=200).contains(&token.len()) && token.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `apns-priority`: 10 wakes the device at once, 5 lets it save power.
fn priority(urgency: Urgency) -> &'static str {
    match urgency {
        Urgency::High => "10",
        Urgency::Normal => "5",
    }
}

/// The request body: a visible alert in fixed words (nothing about the request shows on a locked
/// screen), `mutable-content` so the app's extension can fetch the details, and the notice's own
/// payload under `assent` as is.
fn alert_body(payload: &[u8]) -> Result<Vec<u8>, String> {
    let payload: Value =
        serde_json::from_slice(payload).map_err(|_| "the notice payload is not JSON".to_owned())?;
    let (title, body) = match payload.get("type").and_then(Value::as_str) {
        Some("approval") => (
            "Assent: approval requested",
            "Open Assent to review the request and answer it.",
        ),
        Some("alert") => ("Assent: security notice", "Open Assent to read it."),
        _ => return Err("the notice payload has no known type".into()),
    };
    let body = json!({
        "aps": {
            "alert": { "title": title, "body": body },
            "sound": "default",
            "mutable-content": 1,
        },
        "assent": payload,
    });
    serde_json::to_vec(&body).map_err(|_| "the APNs body cannot be encoded".to_owned())
}

/// Apple's `reason` from an error body (`{"reason":"BadDeviceToken"}`).
fn reason(body: &[u8]) -> Option<String> {
    let body: Value = serde_json::from_slice(body).ok()?;
    Some(body.get("reason")?.as_str()?.to_owned())
}

/// Whether Apple refused the provider token itself, which a new token cures.
fn refuses_provider_token(status: StatusCode, reason: Option<&str>) -> bool {
    status == StatusCode::FORBIDDEN
        && matches!(
            reason,
            Some("ExpiredProviderToken" | "InvalidProviderToken")
        )
}

/// What Apple's answer means for the dispatcher.
fn classify(status: StatusCode, reason: Option<&str>, after: Option<Duration>) -> Sent {
    let reason_text = reason.unwrap_or("(no reason)");
    let gone = |error: String| Sent::Gone { error };
    match status.as_u16() {
        200 => Sent::Accepted,
        _ if reason == Some("Unregistered") => gone("APNs: the app is no longer installed".into()),
        410 => gone(format!(
            "APNs: the device token is no longer active ({reason_text})"
        )),
        400 if matches!(reason, Some("BadDeviceToken" | "DeviceTokenNotForTopic")) => {
            gone(format!("APNs refused the device token: {reason_text}"))
        }
        _ if refuses_provider_token(status, reason) => Sent::Retry {
            after: None,
            error: format!("APNs refused the provider token: {reason_text}"),
        },
        429 | 500..=599 => Sent::Retry {
            after,
            error: format!("APNs answered {} {reason_text}", status.as_u16()),
        },
        _ => Sent::Failed {
            error: format!("APNs refused the push: {} {reason_text}", status.as_u16()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn status(code: u16) -> StatusCode {
        StatusCode::from_u16(code).unwrap()
    }

    #[test]
    fn device_tokens_are_hex_of_bounded_length() {
        assert!(is_device_token(&"a1".repeat(32)));
        assert!(is_device_token(&"F".repeat(200)));
        assert!(!is_device_token(""));
        assert!(!is_device_token(&"f".repeat(201)));
        assert!(!is_device_token("abc/../x"));
        assert!(!is_device_token("abcg"));
    }

    #[test]
    fn answers_are_classified() {
        let after = Some(Duration::from_secs(9));
        assert_eq!(classify(status(200), None, None), Sent::Accepted);
        assert!(matches!(
            classify(status(410), Some("Unregistered"), None),
            Sent::Gone { .. }
        ));
        assert!(matches!(
            classify(status(410), None, None),
            Sent::Gone { .. }
        ));
        assert!(matches!(
            classify(status(400), Some("BadDeviceToken"), None),
            Sent::Gone { .. }
        ));
        assert!(matches!(
            classify(status(400), Some("DeviceTokenNotForTopic"), None),
            Sent::Gone { .. }
        ));
        assert!(matches!(
            classify(status(400), Some("Unregistered"), None),
            Sent::Gone { .. }
        ));
        assert_eq!(
            classify(status(403), Some("ExpiredProviderToken"), after),
            Sent::Retry {
                after: None,
                error: "APNs refused the provider token: ExpiredProviderToken".into()
            }
        );
        assert!(matches!(
            classify(status(429), Some("TooManyRequests"), after),
            Sent::Retry { after: Some(a), .. } if a == Duration::from_secs(9)
        ));
        assert!(matches!(
            classify(status(503), None, None),
            Sent::Retry { after: None, .. }
        ));
        assert_eq!(
            classify(status(400), Some("PayloadTooLarge"), None),
            Sent::Failed {
                error: "APNs refused the push: 400 PayloadTooLarge".into()
            }
        );
        assert!(matches!(
            classify(status(403), Some("BadCertificate"), None),
            Sent::Failed { .. }
        ));
    }

    #[test]
    fn only_provider_token_refusals_drop_the_cached_token() {
        assert!(refuses_provider_token(
            status(403),
            Some("InvalidProviderToken")
        ));
        assert!(refuses_provider_token(
            status(403),
            Some("ExpiredProviderToken")
        ));
        assert!(!refuses_provider_token(status(403), Some("BadTopic")));
        assert!(!refuses_provider_token(
            status(400),
            Some("ExpiredProviderToken")
        ));
    }

    #[test]
    fn provider_tokens_live_forty_minutes() {
        let token = ProviderToken {
            jwt: String::new(),
            issued_at: 1_000,
        };
        assert!(token.usable_at(1_000));
        assert!(token.usable_at(1_000 + 40 * 60 - 1));
        assert!(!token.usable_at(1_000 + 40 * 60));
        assert!(!token.usable_at(999));
    }

    #[test]
    fn the_alert_says_nothing_about_the_request() {
        let body = alert_body(br#"{"type":"approval","id":"apr_1","app":"Acme"}"#).unwrap();
        let body: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(
            body,
            json!({
                "aps": {
                    "alert": {
                        "title": "Assent: approval requested",
                        "body": "Open Assent to review the request and answer it."
                    },
                    "sound": "default",
                    "mutable-content": 1
                },
                "assent": {"type": "approval", "id": "apr_1", "app": "Acme"}
            })
        );
        let alert = alert_body(br#"{"type":"alert","id":"alt_1"}"#).unwrap();
        let alert: Value = serde_json::from_slice(&alert).unwrap();
        assert_eq!(alert["aps"]["alert"]["title"], "Assent: security notice");
        assert!(alert_body(b"not json").is_err());
        assert!(alert_body(br#"{"type":"other"}"#).is_err());
    }
}

//! Push senders: one per channel (Web Push, APNs, FCM) and the mailer, each turning one notice
//! into one request to its service and classifying the answer, so the dispatcher decides the
//! same way for every channel: accepted, try again (and when), or stop (the target is gone, or
//! this message cannot be sent).

pub mod apns;
pub mod dispatch;
pub mod fcm;
mod native;
pub mod webpush;

use std::time::Duration;

/// What a push says. The payload is small JSON that names the request or alert and nothing
/// sensitive (no binding message, details, code, address or location): the device fetches the
/// rest over its authenticated channel.
#[derive(Debug, Clone)]
pub struct Notice {
    /// `{"type":"approval","id":"apr_...","app":"Acme Bank"}` or `{"type":"alert","id":"alt_..."}`.
    pub payload: Vec<u8>,
    pub urgency: Urgency,
    /// Replaces an earlier notice with the same key on the device (Web Push `Topic`, APNs
    /// `apns-collapse-id`, FCM `collapse_key`); at most 32 base64url characters.
    pub collapse_key: Option<String>,
    /// When the notice is worthless (the request's expiry), as Unix seconds.
    pub expires_at: i64,
    /// Time left until `expires_at` when the notice is sent.
    pub ttl: Duration,
}

/// How urgently the device should be woken: approvals are `High`, informational alerts `Normal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Urgency {
    High,
    Normal,
}

/// What a push service made of one send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// The service took it (Web Push 201, APNs 200, FCM 200, SMTP 250).
    Accepted,
    /// A transient failure (429, 5xx, a timeout, no connection): try again, not before `after`
    /// when the service said so (`Retry-After`).
    Retry {
        after: Option<Duration>,
        error: String,
    },
    /// The target no longer exists (Web Push 404/410, APNs `BadDeviceToken`, `Unregistered` or
    /// 410, FCM `UNREGISTERED`): disable it and never send there again.
    Gone { error: String },
    /// This message cannot be sent (a refused payload, a configuration error): give it up, keep
    /// the target.
    Failed { error: String },
}

/// A sender that cannot be set up from its configuration (a missing key file, a malformed
/// service account): the server refuses to start with it, naming the file, never its content.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct SetupError(pub String);

/// `Retry-After` as seconds (the HTTP-date form is not used by push services; it is ignored).
pub fn retry_after(headers: &reqwest::header::HeaderMap) -> Option<Duration> {
    headers
        .get(reqwest::header::RETRY_AFTER)?
        .to_str()
        .ok()?
        .trim()
        .parse::<u64>()
        .ok()
        .map(|s| Duration::from_secs(s.min(86_400)))
}

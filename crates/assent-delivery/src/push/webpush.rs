//! Web Push (RFC 8030) with the payload encrypted as RFC 8291 `aes128gcm` (the key agreement
//! with ring, the RFC 8188 content coding with `ece-native`) and the server identified with
//! VAPID (RFC 8292): an ES256 JWT for
//! the endpoint's origin, signed with the server's VAPID key and reused for that origin for
//! hours. The same sender serves UnifiedPush, whose distributors (ntfy, NextPush) hand the
//! device a Web Push endpoint.
//!
//! Endpoints come from devices, so they are checked at every send: https only, and never a
//! loopback, private or link-local address, neither as a literal nor as what the name resolves
//! to (the resolver below), unless the operator allows private endpoints. Redirects are never
//! followed.

use super::{Notice, Sent, SetupError, Urgency, retry_after};
use assent_core::outbox::push_targets::{endpoint_allowed, is_public};
use assent_proto::jose::{SigningKey, b64, b64_decode};
use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use serde::Serialize;
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How long a VAPID JWT is valid (RFC 8292 allows at most 24 hours).
const VAPID_LIFETIME: u64 = 12 * 3600;
/// A cached JWT is replaced this long before it expires.
const VAPID_MARGIN: u64 = 3600;

/// Sends Web Push messages.
pub struct WebPushSender {
    http: reqwest::Client,
    vapid: SigningKey,
    /// The `k=` of the Authorization header: the VAPID public key, base64url.
    public_key: String,
    /// RFC 8292 `sub`: how the push service reaches the operator (`mailto:` or `https:`).
    subject: String,
    allow_private: bool,
    /// VAPID JWTs by origin, with their expiry (Unix seconds).
    tokens: Mutex<HashMap<String, (String, u64)>>,
}

impl std::fmt::Debug for WebPushSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WebPushSender")
            .field("subject", &self.subject)
            .finish_non_exhaustive()
    }
}

#[derive(Serialize)]
struct VapidClaims<'a> {
    aud: &'a str,
    exp: u64,
    sub: &'a str,
}

impl WebPushSender {
    pub fn new(
        vapid: SigningKey,
        subject: String,
        allow_private: bool,
        timeout: Duration,
    ) -> Result<Self, SetupError> {
        if !(subject.starts_with("mailto:") || subject.starts_with("https://")) {
            return Err(SetupError(
                "push.vapid_subject must be a mailto: or https: URL (RFC 8292)".into(),
            ));
        }
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .dns_resolver(Arc::new(PublicOnly { allow_private }))
            .build()
            .map_err(|e| SetupError(format!("the Web Push client cannot start: {e}")))?;
        let public_key = b64(vapid
            .jwk()
            .to_sec1()
            .map_err(|_| SetupError("the VAPID key is not a P-256 key".into()))?);
        Ok(WebPushSender {
            http,
            vapid,
            public_key,
            subject,
            allow_private,
            tokens: Mutex::new(HashMap::new()),
        })
    }

    /// Encrypts `notice` for the subscription and posts it to its endpoint.
    pub async fn send(&self, endpoint: &str, p256dh: &str, auth: &str, notice: &Notice) -> Sent {
        if let Err(why) = endpoint_allowed(endpoint, self.allow_private) {
            return Sent::Gone { error: why };
        }
        let Ok(url) = url::Url::parse(endpoint) else {
            return Sent::Gone {
                error: "the endpoint is not a URL".into(),
            };
        };
        let body = match encrypt(&notice.payload, p256dh, auth) {
            Ok(body) => body,
            Err(error) => return Sent::Gone { error },
        };
        let origin = url.origin().ascii_serialization();
        let token = match self.vapid_token(&origin) {
            Ok(token) => token,
            Err(error) => return Sent::Failed { error },
        };
        let mut request = self
            .http
            .post(url)
            .header("TTL", notice.ttl.as_secs().to_string())
            .header(
                "Urgency",
                match notice.urgency {
                    Urgency::High => "high",
                    Urgency::Normal => "normal",
                },
            )
            .header("Content-Encoding", "aes128gcm")
            .header("Content-Type", "application/octet-stream")
            .header(
                "Authorization",
                format!("vapid t={token}, k={}", self.public_key),
            );
        if let Some(topic) = &notice.collapse_key {
            request = request.header("Topic", topic);
        }
        match request.body(body).send().await {
            Ok(response) => classify(response.status().as_u16(), response.headers()),
            Err(e) if is_blocked(&e) => Sent::Gone {
                error: "the endpoint resolves to a loopback, private or link-local address".into(),
            },
            Err(e) if e.is_timeout() => Sent::Retry {
                after: None,
                error: "the push service timed out".into(),
            },
            Err(_) => Sent::Retry {
                after: None,
                error: "the push service could not be reached".into(),
            },
        }
    }

    /// The VAPID JWT for `origin`, signed now or reused while it has an hour left.
    fn vapid_token(&self, origin: &str) -> Result<String, String> {
        let now = unix_now();
        if let Ok(tokens) = self.tokens.lock()
            && let Some((token, exp)) = tokens.get(origin)
            && *exp > now + VAPID_MARGIN
        {
            return Ok(token.clone());
        }
        let exp = now + VAPID_LIFETIME;
        let claims = VapidClaims {
            aud: origin,
            exp,
            sub: &self.subject,
        };
        let token = self
            .vapid
            .sign("JWT", None, false, &claims)
            .map_err(|_| "the VAPID key cannot sign".to_owned())?;
        if let Ok(mut tokens) = self.tokens.lock() {
            // Origins are few (a handful of push services); a server that saw many keeps only
            // fresh entries.
            if tokens.len() > 1000 {
                tokens.retain(|_, (_, e)| *e > now + VAPID_MARGIN);
            }
            tokens.insert(origin.to_owned(), (token.clone(), exp));
        }
        Ok(token)
    }
}

/// RFC 8291 encryption of `payload` to the subscription's keys: an ephemeral P-256 key agreed
/// with the subscription's key (ring, about four times faster than the pure-Rust curve that
/// `web-push-native` uses, which made it the largest cost of a push), the RFC 8291 input keying
/// material from that secret and the subscription's auth secret, and the RFC 8188 `aes128gcm`
/// content coding of the `ece-native` crate, in one record, with the ephemeral public key as
/// the key id.
fn encrypt(payload: &[u8], p256dh: &str, auth: &str) -> Result<Vec<u8>, String> {
    use ring::{agreement, hkdf, rand};
    let bad = || "the subscription's keys are malformed".to_owned();
    let ua_public = b64_decode(p256dh).map_err(|_| bad())?;
    let auth_secret = b64_decode(auth).map_err(|_| bad())?;
    if ua_public.len() != 65 || auth_secret.len() != 16 {
        return Err(bad());
    }
    let failed = || "the payload cannot be encrypted".to_owned();
    let random = rand::SystemRandom::new();
    let ephemeral = agreement::EphemeralPrivateKey::generate(&agreement::ECDH_P256, &random)
        .map_err(|_| failed())?;
    let as_public = ephemeral.compute_public_key().map_err(|_| failed())?;
    let peer = agreement::UnparsedPublicKey::new(&agreement::ECDH_P256, &ua_public);
    let ikm = agreement::agree_ephemeral(ephemeral, &peer, |shared| {
        // RFC 8291 section 3.3: IKM = HKDF(auth_secret, ecdh_secret,
        //   "WebPush: info" || 0x00 || ua_public || as_public, 32).
        let info: [&[u8]; 3] = [b"WebPush: info\0", &ua_public, as_public.as_ref()];
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, &auth_secret).extract(shared);
        let mut ikm = [0u8; 32];
        prk.expand(&info, Len32)
            .and_then(|okm| okm.fill(&mut ikm))
            .map(|()| ikm)
    })
    .map_err(|_| bad())?
    .map_err(|_| failed())?;
    let mut salt = [0u8; 16];
    rand::SecureRandom::fill(&random, &mut salt).map_err(|_| failed())?;
    // One record holds the whole payload: its size is the payload, the padding delimiter and
    // the 16-byte tag.
    let record_size = u32::try_from(payload.len() + 17).map_err(|_| failed())?;
    ece_native::encrypt(
        ikm,
        salt,
        as_public.as_ref(),
        std::iter::once(payload.to_vec()),
        record_size,
    )
    .map_err(|_| failed())
}

/// The 32-byte output length for ring's HKDF.
struct Len32;

impl ring::hkdf::KeyType for Len32 {
    fn len(&self) -> usize {
        32
    }
}

/// What a push service's status means (RFC 8030 section 5 and the services' documentation).
fn classify(status: u16, headers: &reqwest::header::HeaderMap) -> Sent {
    match status {
        200..=202 => Sent::Accepted,
        404 | 410 => Sent::Gone {
            error: format!("the push service answered {status}: the subscription is gone"),
        },
        429 | 500..=599 => Sent::Retry {
            after: retry_after(headers),
            error: format!("the push service answered {status}"),
        },
        _ => Sent::Failed {
            error: format!("the push service refused the push with {status}"),
        },
    }
}

fn unix_now() -> u64 {
    // VAPID's `exp` is checked by the push service against its clock: the wall clock.
    #[allow(clippy::disallowed_methods)]
    let now = std::time::SystemTime::now();
    now.duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

/// Resolves names like the system does, and drops addresses that are not public unless
/// private endpoints are allowed; a name with nothing left fails to resolve.
struct PublicOnly {
    allow_private: bool,
}

#[derive(Debug, thiserror::Error)]
#[error("the name resolves only to non-public addresses")]
struct Blocked;

impl Resolve for PublicOnly {
    fn resolve(&self, name: Name) -> Resolving {
        let allow_private = self.allow_private;
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0))
                .await?
                .filter(|a| allow_private || is_public(a.ip()))
                .collect();
            if found.is_empty() {
                return Err(Box::new(Blocked) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(found.into_iter()) as Addrs)
        })
    }
}

/// Whether a send failed because the endpoint's name resolved only to refused addresses.
fn is_blocked(e: &reqwest::Error) -> bool {
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        if s.is::<Blocked>() {
            return true;
        }
        source = s.source();
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::{HeaderMap, HeaderValue, RETRY_AFTER};

    #[test]
    fn statuses_are_classified_as_push_services_mean_them() {
        let none = HeaderMap::new();
        assert_eq!(classify(201, &none), Sent::Accepted);
        assert!(matches!(classify(410, &none), Sent::Gone { .. }));
        assert!(matches!(classify(404, &none), Sent::Gone { .. }));
        assert!(matches!(classify(413, &none), Sent::Failed { .. }));
        assert!(matches!(classify(400, &none), Sent::Failed { .. }));
        let mut later = HeaderMap::new();
        later.insert(RETRY_AFTER, HeaderValue::from_static("7"));
        assert_eq!(
            classify(429, &later),
            Sent::Retry {
                after: Some(Duration::from_secs(7)),
                error: "the push service answered 429".into()
            }
        );
        assert!(matches!(
            classify(503, &none),
            Sent::Retry { after: None, .. }
        ));
    }

    /// What this module encrypts, `web-push-native` (an independent RFC 8291 implementation)
    /// decrypts with the subscription's private key; another auth secret does not.
    #[test]
    #[allow(clippy::unwrap_used)]
    fn web_push_native_decrypts_what_is_encrypted_here() {
        use web_push_native::p256::SecretKey;
        use web_push_native::p256::elliptic_curve::sec1::ToEncodedPoint;
        let ua = SecretKey::from_slice(&[0x11; 32]).unwrap();
        let point = ua.public_key().to_encoded_point(false);
        let auth = [9u8; 16];
        let payload = br#"{"type":"approval","id":"x","app":"Acme"}"#;
        let body = encrypt(payload, &b64(point.as_bytes()), &b64(auth)).unwrap();
        let opened = web_push_native::decrypt(body.clone(), &ua, &auth.into()).unwrap();
        assert_eq!(opened, payload);
        assert!(web_push_native::decrypt(body, &ua, &[8u8; 16].into()).is_err());
    }

    #[test]
    fn malformed_keys_are_refused_not_panicked_on() {
        assert!(encrypt(b"x", "AAAA", "AAAA").is_err());
        assert!(encrypt(b"x", "!!", "!!").is_err());
    }

    #[tokio::test]
    async fn private_names_do_not_resolve_unless_allowed() {
        let strict = PublicOnly {
            allow_private: false,
        };
        let name = || "localhost".parse::<Name>().ok();
        let Some(refused) = name() else { return };
        assert!(strict.resolve(refused).await.is_err());
        let open = PublicOnly {
            allow_private: true,
        };
        let Some(allowed) = name() else { return };
        assert!(open.resolve(allowed).await.is_ok());
    }
}

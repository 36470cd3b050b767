//! Webhook delivery with the Standard Webhooks scheme: `webhook-id` (stable across retries, so
//! receivers can drop duplicates), `webhook-timestamp`, and `webhook-signature` =
//! `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")). One task per application
//! delivers in order, retries with exponential backoff, and records what it gave up on. The
//! cursor only moves after a delivery succeeded or was given up on, so delivery is at least once,
//! across restarts too.

use assent_core::Assent;
use assent_core::ids::AppId;
use assent_core::outbox::webhooks::{RenderApproval, WebhookMessage, WebhookTarget};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::watch;

/// Tunables of delivery.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    /// Attempts per event before giving up on it.
    pub max_attempts: u32,
    /// Wait before the first retry; each retry waits twice as long as the previous, up to an hour.
    pub initial_backoff: Duration,
    /// Time allowed for one delivery.
    pub timeout: Duration,
    /// How often new events are looked for.
    pub poll: Duration,
}

const MAX_BACKOFF: Duration = Duration::from_secs(3600);
const PAGE: u32 = 200;

/// Signs a message as Standard Webhooks does; `secret` is `whsec_<base64>`.
pub fn signature(secret: &str, id: &str, timestamp: i64, body: &[u8]) -> Option<String> {
    let key = STANDARD.decode(secret.strip_prefix("whsec_")?).ok()?;
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, &key);
    let mut ctx = ring::hmac::Context::with_key(&key);
    ctx.update(format!("{id}.{timestamp}.").as_bytes());
    ctx.update(body);
    Some(format!("v1,{}", STANDARD.encode(ctx.sign().as_ref())))
}

/// Starts the dispatcher; it stops when `shutdown` turns true, and its task ends once every
/// delivery in progress has stopped too (a request in flight is abandoned, to be sent again).
pub fn spawn(
    assent: Arc<Assent>,
    settings: WebhookSettings,
    render: RenderApproval,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = rustls::crypto::ring::default_provider().install_default();
        // Redirects are not followed: a webhook goes where the admin said, nowhere else.
        let builder = reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none());
        let http = match builder.build() {
            Ok(http) => http,
            Err(e) => {
                tracing::error!(error = %e, "webhook delivery cannot start");
                return;
            }
        };
        let running: Arc<Mutex<HashSet<AppId>>> = Arc::default();
        // The per-application delivery tasks, owned here so that this task ends only after
        // they did (they hold the service, and with it the store).
        let mut drains = tokio::task::JoinSet::new();
        loop {
            while drains.try_join_next().is_some() {}
            match assent.webhook_targets().await {
                Ok(targets) => {
                    for target in targets {
                        let fresh = running
                            .lock()
                            .map(|mut r| r.insert(target.app_id.clone()))
                            .unwrap_or(false);
                        if fresh {
                            let (assent, http, settings, running) = (
                                assent.clone(),
                                http.clone(),
                                settings.clone(),
                                running.clone(),
                            );
                            let shutdown = shutdown.clone();
                            drains.spawn(async move {
                                let app = target.app_id.clone();
                                if let Err(e) =
                                    drain(&assent, &http, &settings, render, &target, shutdown).await
                                {
                                    tracing::error!(app = %app, error = %e, "webhook delivery failed");
                                }
                                if let Ok(mut r) = running.lock() {
                                    r.remove(&app);
                                }
                            });
                        }
                    }
                }
                Err(e) => tracing::error!(error = %e, "cannot read webhook configuration"),
            }
            tokio::select! {
                _ = tokio::time::sleep(settings.poll) => {}
                _ = shutdown.wait_for(|down| *down) => break,
            }
        }
        while drains.join_next().await.is_some() {}
    })
}

/// Delivers everything pending for one application, in order.
async fn drain(
    assent: &Assent,
    http: &reqwest::Client,
    settings: &WebhookSettings,
    render: RenderApproval,
    target: &WebhookTarget,
    shutdown: watch::Receiver<bool>,
) -> Result<(), assent_core::CoreError> {
    let mut progress = assent.webhook_progress(&target.app_id).await?;
    loop {
        let (messages, last) = assent
            .webhook_messages(target, progress.cursor, PAGE, render)
            .await?;
        if messages.is_empty() && last == progress.cursor {
            return Ok(());
        }
        for message in messages {
            match deliver(http, settings, target, &message, &shutdown).await {
                Delivery::Delivered => progress.last_error = None,
                Delivery::GaveUp(error) => {
                    tracing::warn!(app = %target.app_id, id = %message.id, %error, "webhook given up after every retry");
                    progress.failed += 1;
                    progress.last_error = Some(error);
                }
                // Stop without moving the cursor: the next start delivers it again.
                Delivery::ShuttingDown => return Ok(()),
            }
            progress.cursor = message.seq;
            assent
                .set_webhook_progress(&target.app_id, &progress)
                .await?;
        }
        progress.cursor = progress.cursor.max(last);
        assent
            .set_webhook_progress(&target.app_id, &progress)
            .await?;
    }
}

enum Delivery {
    Delivered,
    GaveUp(String),
    ShuttingDown,
}

async fn deliver(
    http: &reqwest::Client,
    settings: &WebhookSettings,
    target: &WebhookTarget,
    message: &WebhookMessage,
    shutdown: &watch::Receiver<bool>,
) -> Delivery {
    let body = serde_json::to_vec(&message.body).unwrap_or_default();
    let mut backoff = settings.initial_backoff;
    let mut error = String::new();
    for attempt in 1..=settings.max_attempts.max(1) {
        if *shutdown.borrow() {
            return Delivery::ShuttingDown;
        }
        // Receivers check the timestamp against their clock, so it is the wall clock of each attempt.
        #[allow(clippy::disallowed_methods)]
        let timestamp = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(0))
            .unwrap_or(0);
        let Some(signed) = signature(&target.secret, &message.id, timestamp, &body) else {
            return Delivery::GaveUp("the webhook secret is malformed".into());
        };
        let post = http
            .post(&target.url)
            .header("content-type", "application/json")
            .header("webhook-id", &message.id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signed)
            .body(body.clone())
            .send();
        // A receiver that holds the request open must not hold up a shutdown: the message
        // stays undelivered and goes again after the next start (same `webhook-id`).
        let mut down = shutdown.clone();
        let sent = tokio::select! {
            sent = post => sent,
            _ = down.wait_for(|d| *d) => return Delivery::ShuttingDown,
        };
        match sent {
            Ok(response) if response.status().is_success() => return Delivery::Delivered,
            Ok(response) => error = format!("the receiver answered {}", response.status().as_u16()),
            Err(e) if e.is_timeout() => error = "the receiver timed out".into(),
            Err(_) => error = "the receiver could not be reached".into(),
        }
        tracing::info!(app = %target.app_id, id = %message.id, attempt, %error, "webhook attempt failed");
        if attempt < settings.max_attempts {
            let mut down = shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = down.wait_for(|d| *d) => return Delivery::ShuttingDown,
            }
            backoff = (backoff * 2).min(MAX_BACKOFF);
        }
    }
    Delivery::GaveUp(error)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signature_matches_the_standard_webhooks_reference_example() {
        // The example of the Standard Webhooks specification.
        let secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
        let body = br#"{"test": 2432232314}"#;
        let signed = signature(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body).unwrap();
        assert_eq!(signed, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }

    #[test]
    fn malformed_secrets_are_refused() {
        assert!(signature("no-prefix", "id", 1, b"").is_none());
        assert!(signature("whsec_***", "id", 1, b"").is_none());
    }
}

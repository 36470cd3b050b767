//! Webhook delivery with the Standard Webhooks scheme: `webhook-id` (stable across retries, so
//! receivers can drop duplicates), `webhook-timestamp`, and `webhook-signature` =
//! `v1,` + base64(HMAC-SHA256(secret, "{id}.{timestamp}.{body}")). One task per application
//! delivers in order, retries with exponential backoff, and records what it gave up on. The
//! cursor only moves after a delivery succeeded or was given up on, so delivery is at least once,
//! across restarts too.
//!
//! Every node may run a dispatcher: an application's deliveries are claimed first (a lease in the
//! database, renewed before each attempt and each wait), so one dispatcher of all the nodes
//! sending it at a time, and each message goes out once. A dispatcher that loses its claim (its
//! node stalled past the lease) stops; the one that took over starts from the recorded cursor.

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

/// What a lease covers beyond the step it is renewed for (an attempt, or a wait before the next):
/// the reads and progress writes around it.
const LEASE_MARGIN: Duration = Duration::from_secs(30);

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
        // This dispatcher's name in the claims it holds; new at every start, so a claim left by
        // a process that died is never taken for this one's.
        let holder = match assent_proto::jose::random_token(16) {
            Ok(holder) => Arc::<str>::from(holder),
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
                            let holder = holder.clone();
                            drains.spawn(async move {
                                let app = target.app_id.clone();
                                let claim = Claim {
                                    assent: &assent,
                                    app: &app,
                                    holder: &holder,
                                };
                                let run = Run {
                                    http: &http,
                                    settings: &settings,
                                    render,
                                    target: &target,
                                    shutdown,
                                };
                                if let Err(e) = drain(&claim, &run).await {
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

/// A dispatcher's claim on one application's deliveries.
struct Claim<'a> {
    assent: &'a Assent,
    app: &'a AppId,
    holder: &'a str,
}

impl Claim<'_> {
    /// Takes or renews the claim for `step` and the margin; `false` when another dispatcher
    /// holds it (or the database cannot say, in which case this one stops and a later poll
    /// tries again).
    async fn renew(&self, step: Duration) -> bool {
        let lease = time::Duration::try_from(step + LEASE_MARGIN).unwrap_or(time::Duration::HOUR);
        match self
            .assent
            .claim_webhook(self.app, self.holder, lease)
            .await
        {
            Ok(held) => held,
            Err(e) => {
                tracing::error!(app = %self.app, error = %e, "webhook claim not renewed");
                false
            }
        }
    }
}

/// What one application's delivery task works with.
struct Run<'a> {
    http: &'a reqwest::Client,
    settings: &'a WebhookSettings,
    render: RenderApproval,
    target: &'a WebhookTarget,
    shutdown: watch::Receiver<bool>,
}

/// Delivers everything pending for one application, in order, if this dispatcher gets the claim;
/// gives the claim back when done, so another node's dispatcher may go on at once.
async fn drain(claim: &Claim<'_>, run: &Run<'_>) -> Result<(), assent_core::CoreError> {
    if !claim.renew(run.settings.timeout).await {
        return Ok(());
    }
    let result = drain_claimed(claim, run).await;
    if let Err(e) = claim.assent.release_webhook(claim.app, claim.holder).await {
        tracing::error!(app = %claim.app, error = %e, "webhook claim not released; it ends with its lease");
    }
    result
}

async fn drain_claimed(claim: &Claim<'_>, run: &Run<'_>) -> Result<(), assent_core::CoreError> {
    let (assent, target) = (claim.assent, run.target);
    // Read under the claim: another node may have moved the cursor before this one got it.
    let mut progress = assent.webhook_progress(&target.app_id).await?;
    loop {
        let (messages, last) = assent
            .webhook_messages(target, progress.cursor, PAGE, run.render)
            .await?;
        if messages.is_empty() && last == progress.cursor {
            return Ok(());
        }
        for message in messages {
            match deliver(claim, run, &message).await {
                Delivery::Delivered => progress.last_error = None,
                Delivery::GaveUp(error) => {
                    tracing::warn!(app = %target.app_id, id = %message.id, %error, "webhook given up after every retry");
                    progress.failed += 1;
                    progress.last_error = Some(error);
                }
                // Stop without moving the cursor: whoever delivers next sends it again.
                Delivery::Stopped => return Ok(()),
            }
            progress.cursor = message.seq;
            if !assent
                .advance_webhook(&target.app_id, claim.holder, &progress)
                .await?
            {
                return Ok(());
            }
        }
        progress.cursor = progress.cursor.max(last);
        if !assent
            .advance_webhook(&target.app_id, claim.holder, &progress)
            .await?
        {
            return Ok(());
        }
    }
}

enum Delivery {
    Delivered,
    GaveUp(String),
    /// Shutting down, or the claim is gone: the message stays undelivered here.
    Stopped,
}

async fn deliver(claim: &Claim<'_>, run: &Run<'_>, message: &WebhookMessage) -> Delivery {
    let (settings, target, shutdown) = (run.settings, run.target, &run.shutdown);
    let body = serde_json::to_vec(&message.body).unwrap_or_default();
    let mut backoff = settings.initial_backoff;
    let mut error = String::new();
    for attempt in 1..=settings.max_attempts.max(1) {
        if *shutdown.borrow() || !claim.renew(settings.timeout).await {
            return Delivery::Stopped;
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
        let post = run
            .http
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
            _ = down.wait_for(|d| *d) => return Delivery::Stopped,
        };
        match sent {
            Ok(response) if response.status().is_success() => return Delivery::Delivered,
            Ok(response) => error = format!("the receiver answered {}", response.status().as_u16()),
            Err(e) if e.is_timeout() => error = "the receiver timed out".into(),
            Err(_) => error = "the receiver could not be reached".into(),
        }
        tracing::info!(app = %target.app_id, id = %message.id, attempt, %error, "webhook attempt failed");
        if attempt < settings.max_attempts {
            // The claim covers the wait too, so no other node starts on this message meanwhile.
            if !claim.renew(backoff).await {
                return Delivery::Stopped;
            }
            let mut down = shutdown.clone();
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = down.wait_for(|d| *d) => return Delivery::Stopped,
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

//! CIBA ping and push notifications: `POST` to the client's notification endpoint with
//! `Authorization: Bearer <client_notification_token>` and a JSON body (CIBA Core 1.0, 10.2 and
//! 10.3). Claimed from the durable outbox in the database, so every node may run a sender and
//! each notification goes out from one of them at a time; retried with exponential backoff like
//! webhooks (the same settings), then given up and recorded. Redirects are not followed.

use crate::webhooks::WebhookSettings;
use assent_core::Assent;
use assent_core::ciba::ClientNotification;
use assent_core::ciba::records::NotificationDone;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// Notifications claimed at a time.
const BATCH: u32 = 32;
/// What a claim covers beyond the attempt's own time: the reads and the write around it.
const LEASE_MARGIN: Duration = Duration::from_secs(30);
const MAX_BACKOFF: Duration = Duration::from_secs(3600);

/// Starts the sender; it stops when `shutdown` turns true, after the attempts in flight.
pub fn spawn(
    assent: Arc<Assent>,
    settings: WebhookSettings,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let http = match reqwest::Client::builder()
            .timeout(settings.timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
        {
            Ok(http) => http,
            Err(e) => {
                tracing::error!(error = %e, "CIBA notifications cannot start");
                return;
            }
        };
        let lease = time::Duration::try_from(settings.timeout + LEASE_MARGIN)
            .unwrap_or(time::Duration::MINUTE);
        loop {
            let full = match assent.claim_ciba_notifications(BATCH, lease).await {
                Ok(batch) => {
                    let full = batch.len() == BATCH as usize;
                    let mut sends = tokio::task::JoinSet::new();
                    for notification in batch {
                        let (assent, http, settings) =
                            (assent.clone(), http.clone(), settings.clone());
                        sends.spawn(
                            async move { send(&assent, &http, &settings, notification).await },
                        );
                    }
                    while sends.join_next().await.is_some() {}
                    full
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot read due CIBA notifications");
                    false
                }
            };
            if full {
                continue;
            }
            tokio::select! {
                _ = tokio::time::sleep(settings.poll) => {}
                _ = shutdown.wait_for(|down| *down) => break,
            }
        }
    })
}

async fn send(
    assent: &Assent,
    http: &reqwest::Client,
    settings: &WebhookSettings,
    notification: ClientNotification,
) {
    let outcome = http
        .post(&notification.url)
        .bearer_auth(&notification.bearer)
        .json(&notification.body)
        .send()
        .await;
    let error = match outcome {
        Ok(response) if response.status().is_success() => None,
        Ok(response) => Some(format!(
            "the endpoint answered {}",
            response.status().as_u16()
        )),
        Err(e) if e.is_timeout() => Some("the endpoint did not answer in time".to_owned()),
        Err(e) if e.is_connect() => Some("the endpoint refused the connection".to_owned()),
        Err(_) => Some("the request failed".to_owned()),
    };
    let now = assent.now();
    let attempts = notification.attempts + 1;
    let done = match error {
        None => NotificationDone::Delivered { at: now },
        Some(error) if attempts >= settings.max_attempts => {
            tracing::warn!(url = %notification.url, %error, attempts, "CIBA notification given up");
            NotificationDone::GaveUp { at: now, error }
        }
        Some(error) => {
            let wait = settings
                .initial_backoff
                .saturating_mul(2u32.saturating_pow(attempts - 1))
                .min(MAX_BACKOFF);
            tracing::info!(url = %notification.url, %error, attempts, "CIBA notification will be retried");
            NotificationDone::Retry {
                retry_at: now + time::Duration::try_from(wait).unwrap_or(time::Duration::HOUR),
                error,
            }
        }
    };
    if let Err(e) = assent
        .finish_ciba_notification(&notification.id_hash, &done)
        .await
    {
        tracing::error!(error = %e, "a CIBA notification's outcome was not recorded; it is sent again after its claim");
    }
}

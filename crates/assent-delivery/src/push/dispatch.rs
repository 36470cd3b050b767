//! The push dispatcher: claims due pushes from the outbox, sends each on its channel, and
//! records what became of it. It runs beside the server, off the request path: creating a
//! request only writes its pushes and wakes this loop (on every node, through the notifier).
//!
//! Retries back off exponentially with jitter, never sooner than a `Retry-After`, and never
//! past the push's expiry (a request's expiry). A target its service refused for good is
//! disabled (and its user told on their other channels). A push in flight when the server
//! stops stays claimed until its lease ends, then is sent again: delivery is at least once.

use super::apns::ApnsSender;
use super::fcm::FcmSender;
use super::webpush::WebPushSender;
use super::{Notice, Sent, Urgency};
use crate::email::Mailer;
use assent_core::Assent;
use assent_core::outbox::push_queue::Destination;
use assent_core::outbox::pushes::{PushAddress, PushJob, PushResult, PushTarget, PushUrgency};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc, watch};

/// How the dispatcher paces itself.
#[derive(Debug, Clone)]
pub struct DispatchSettings {
    /// Pushes claimed at once.
    pub batch: u32,
    /// Sends in flight at once.
    pub concurrency: usize,
    /// How often the outbox is looked at without a wake-up (retries come due this way).
    pub poll: Duration,
    /// Wait before the first retry; each later one waits twice as long, up to `max_backoff`.
    pub initial_backoff: Duration,
    pub max_backoff: Duration,
    /// Sends of one push before it is given up (if its expiry has not come first).
    pub max_attempts: u32,
}

impl Default for DispatchSettings {
    fn default() -> Self {
        DispatchSettings {
            batch: 64,
            concurrency: 64,
            poll: Duration::from_secs(1),
            initial_backoff: Duration::from_secs(2),
            max_backoff: Duration::from_secs(300),
            max_attempts: 10,
        }
    }
}

/// The senders of each configured channel (Web Push always).
pub struct Senders {
    pub web_push: WebPushSender,
    pub apns: Option<ApnsSender>,
    pub fcm: Option<FcmSender>,
    pub mailer: Option<Mailer>,
}

impl std::fmt::Debug for Senders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Senders")
            .field("apns", &self.apns.is_some())
            .field("fcm", &self.fcm.is_some())
            .field("mailer", &self.mailer.is_some())
            .finish_non_exhaustive()
    }
}

/// Pushes this node queued and handed straight to its sender, waiting to be sent; beyond this
/// they go through the outbox.
const HANDOFF_QUEUE: usize = 1024;

/// Starts the dispatcher; it stops when `shutdown` turns true, once the sends in flight have
/// ended or been abandoned (an abandoned one is sent again after its lease).
///
/// It attaches itself as this node's sender: pushes queued here arrive already claimed, in
/// memory; the loop below claims the rest from the outbox (other nodes', retries, and pushes
/// whose sender stopped before sending them).
pub fn spawn(
    assent: Arc<Assent>,
    senders: Arc<Senders>,
    settings: DispatchSettings,
    mut shutdown: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let permits = Arc::new(Semaphore::new(settings.concurrency.max(1)));
        let sender = Sender {
            assent: assent.clone(),
            senders,
            settings: settings.clone(),
            permits,
            shutdown: shutdown.clone(),
        };
        let handed = assent
            .attach_push_sender(HANDOFF_QUEUE)
            .map(|queue| tokio::spawn(sender.clone().send_handed(queue)));
        let mut sends = tokio::task::JoinSet::new();
        loop {
            // Subscribe before claiming: a push queued during the claim still wakes the loop.
            let mut wake = assent.outbox_subscription();
            while sends.try_join_next().is_some() {}
            let claimed = match assent.claim_pushes(settings.batch).await {
                Ok(claimed) => claimed,
                Err(e) => {
                    tracing::error!(error = %e, "pushes cannot be claimed");
                    Vec::new()
                }
            };
            let full = claimed.len() >= settings.batch as usize;
            for job in claimed {
                if !sender.start(&mut sends, job, Origin::Claimed).await {
                    break;
                }
            }
            if *shutdown.borrow() {
                break;
            }
            if full {
                continue;
            }
            tokio::select! {
                _ = wake.changed() => {}
                _ = tokio::time::sleep(settings.poll) => {}
                _ = shutdown.wait_for(|down| *down) => break,
            }
        }
        while sends.join_next().await.is_some() {}
        if let Some(handed) = handed {
            let _ = handed.await;
        }
    })
}

/// Where a push came from, which decides what is checked before it is sent.
#[derive(Debug, Clone, Copy)]
enum Origin {
    /// Claimed from the outbox: anything may have changed since it was queued.
    Claimed,
    /// Queued and claimed on this node a moment ago, and handed over in memory.
    Handed,
}

/// What every send shares: the senders, the pacing, the bound on sends in flight.
#[derive(Clone)]
struct Sender {
    assent: Arc<Assent>,
    senders: Arc<Senders>,
    settings: DispatchSettings,
    permits: Arc<Semaphore>,
    shutdown: watch::Receiver<bool>,
}

impl Sender {
    /// Sends the pushes handed over by this node until it shuts down.
    async fn send_handed(self, mut queue: mpsc::Receiver<PushJob>) {
        let mut sends = tokio::task::JoinSet::new();
        let mut down = self.shutdown.clone();
        loop {
            while sends.try_join_next().is_some() {}
            let job = tokio::select! {
                job = queue.recv() => job,
                _ = down.wait_for(|d| *d) => None,
            };
            let Some(job) = job else { break };
            if !self.start(&mut sends, job, Origin::Handed).await {
                break;
            }
        }
        while sends.join_next().await.is_some() {}
    }

    /// Starts sending `job` once a send slot is free; `false` if the dispatcher is shutting
    /// down (the push stays claimed until its lease ends, then is sent again).
    async fn start(
        &self,
        sends: &mut tokio::task::JoinSet<()>,
        job: PushJob,
        origin: Origin,
    ) -> bool {
        let mut down = self.shutdown.clone();
        let permit = tokio::select! {
            permit = self.permits.clone().acquire_owned() => permit,
            _ = down.wait_for(|d| *d) => return false,
        };
        let Ok(permit) = permit else { return false };
        let this = self.clone();
        sends.spawn(async move {
            tokio::select! {
                _ = send_one(&this.assent, &this.senders, &this.settings, &job, origin) => {}
                // Abandoned: claimed until its lease ends, then sent again.
                _ = down.wait_for(|d| *d) => {}
            }
            drop(permit);
        });
        true
    }
}

/// Sends one claimed push and records the result.
async fn send_one(
    assent: &Assent,
    senders: &Senders,
    settings: &DispatchSettings,
    job: &PushJob,
    origin: Origin,
) {
    let started = std::time::Instant::now();
    let destination = match origin {
        Origin::Claimed => assent.push_destination(job).await,
        Origin::Handed => assent.handed_push_destination(job).await,
    };
    let (sent, target) = match destination {
        Ok(Destination::Skip(reason)) => {
            finish(assent, job, PushResult::Skipped { reason }).await;
            return;
        }
        Ok(Destination::Device(target)) => {
            let notice = notice_of(job, assent.now());
            (
                send_to_device(senders, &notice, &target).await,
                Some(target),
            )
        }
        Ok(Destination::Email) => (send_email(senders, job).await, None),
        Err(e) => {
            tracing::error!(push = %job.id, error = %e, "push destination cannot be read");
            return;
        }
    };
    tracing::debug!(push = %job.id, channel = job.channel.as_str(), elapsed_ms = started.elapsed().as_millis() as u64, "push sent");
    let result = match sent {
        Sent::Accepted => PushResult::Accepted,
        Sent::Failed { error } => PushResult::Failed { error },
        Sent::Gone { error } => {
            if let Some(target) = &target
                && let Err(e) = assent.push_target_gone(target, &error).await
            {
                tracing::error!(device = %target.device_id, error = %e, "push target not disabled");
            }
            PushResult::Failed { error }
        }
        Sent::Retry { after, error } => retry(assent, settings, job, after, error),
    };
    finish(assent, job, result).await;
}

async fn send_to_device(senders: &Senders, notice: &Notice, target: &PushTarget) -> Sent {
    match &target.address {
        PushAddress::WebPush {
            endpoint,
            p256dh,
            auth,
        } => senders.web_push.send(endpoint, p256dh, auth, notice).await,
        PushAddress::Apns { token } => match &senders.apns {
            Some(apns) => apns.send(token, notice).await,
            None => Sent::Failed {
                error: "APNs is not configured on this server".into(),
            },
        },
        PushAddress::Fcm { token } => match &senders.fcm {
            Some(fcm) => fcm.send(token, notice).await,
            None => Sent::Failed {
                error: "FCM is not configured on this server".into(),
            },
        },
    }
}

/// An e-mail push: its queued `{"to", "subject", "text"}`, through the mailer.
async fn send_email(senders: &Senders, job: &PushJob) -> Sent {
    let Some(mailer) = &senders.mailer else {
        return Sent::Failed {
            error: "e-mail is not configured on this server".into(),
        };
    };
    let message: serde_json::Value = serde_json::from_str(&job.payload).unwrap_or_default();
    match (
        message["to"].as_str(),
        message["subject"].as_str(),
        message["text"].as_str(),
    ) {
        (Some(to), Some(subject), Some(text)) => mailer.send(to, subject, text).await,
        _ => Sent::Failed {
            error: "the queued e-mail is malformed".into(),
        },
    }
}

/// The notice of a push: its payload as queued, its urgency and topic, and the time left.
fn notice_of(job: &PushJob, now: time::OffsetDateTime) -> Notice {
    let left = (job.expires_at - now).whole_seconds();
    Notice {
        payload: job.payload.clone().into_bytes(),
        urgency: match job.urgency {
            PushUrgency::High => Urgency::High,
            PushUrgency::Normal => Urgency::Normal,
        },
        collapse_key: job.topic.clone(),
        expires_at: job.expires_at.unix_timestamp(),
        ttl: Duration::from_secs(u64::try_from(left.max(0)).unwrap_or(0)),
    }
}

/// When to try a push again, or that it is given up.
fn retry(
    assent: &Assent,
    settings: &DispatchSettings,
    job: &PushJob,
    after: Option<Duration>,
    error: String,
) -> PushResult {
    if job.attempts >= settings.max_attempts {
        return PushResult::Failed {
            error: format!("{error} (given up after {} attempts)", job.attempts),
        };
    }
    let wait = backoff(settings, job.attempts).max(after.unwrap_or_default());
    let at = assent.now() + time::Duration::try_from(wait).unwrap_or(time::Duration::MAX);
    if at >= job.expires_at {
        return PushResult::Failed {
            error: format!("{error} (the request expires before the next attempt)"),
        };
    }
    PushResult::Retry { at, error }
}

/// The wait before retry number `attempts`: doubling from the initial backoff, capped, with up
/// to a quarter added at random so that pushes refused together do not return together.
fn backoff(settings: &DispatchSettings, attempts: u32) -> Duration {
    let doubled = settings
        .initial_backoff
        .saturating_mul(1u32 << attempts.saturating_sub(1).min(16))
        .min(settings.max_backoff);
    let mut byte = [0u8; 1];
    let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut byte);
    doubled + doubled.mul_f64(f64::from(byte[0]) / 1024.0)
}

async fn finish(assent: &Assent, job: &PushJob, result: PushResult) {
    match assent.finish_push(job, result).await {
        Ok(true) => {}
        Ok(false) => {
            tracing::info!(push = %job.id, "push finished by another sender (its lease ran out)")
        }
        Err(e) => tracing::error!(push = %job.id, error = %e, "push result not recorded"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_with_bounded_jitter_up_to_the_cap() {
        let settings = DispatchSettings::default();
        for (attempt, base) in [(1, 2), (2, 4), (3, 8), (10, 300), (40, 300)] {
            let wait = backoff(&settings, attempt);
            let base = Duration::from_secs(base);
            assert!(
                wait >= base && wait <= base + base / 4,
                "{attempt}: {wait:?}"
            );
        }
    }
}

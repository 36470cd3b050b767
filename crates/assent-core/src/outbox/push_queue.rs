//! The push outbox's rules: which pushes a request or an alert owes, what a sender may claim,
//! and what follows a send (the audit row once per push; a target refused for good is disabled
//! and the user told through their other channels).

use super::pushes::{PushChannel, PushJob, PushResult, PushState, PushTarget, PushUrgency};
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::ApprovalId;
use crate::model::{Alert, App, Approval, Device};
use crate::notifier::{Subscription, Topic};
use crate::service::Assent;
use assent_proto::jose::{random_token, sha256_b64};
use assent_proto::states::{ApprovalState, DeviceState};
use serde_json::json;
use time::Duration;

/// How long an informational alert's push or e-mail is worth sending.
const ALERT_LIFETIME: Duration = Duration::days(1);

/// Alerts that also go to the user's e-mail address: the ones a person must hear of even when
/// every device is lost or was taken over.
const EMAILED_ALERTS: &[&str] = &[
    "device_enrolled",
    "device_revoked",
    "push_suspended",
    "passkey_registered",
    "push_target_disabled",
    "device_activation_refused",
    "broadcast",
    "broadcast_reminder",
];

impl Assent {
    /// The pushes that announce a new request: one per active device whose target works.
    pub(crate) fn approval_pushes(
        &self,
        app: &App,
        approval: &Approval,
        devices: &[Device],
    ) -> Result<Vec<PushJob>, CoreError> {
        let payload = json!({"type": "approval", "id": approval.id.as_str(), "app": app.name});
        // One topic per application and user: a request that supersedes the previous one from
        // the same application replaces its notification instead of stacking a second.
        let topic = topic_of(&format!("approval:{}:{}", app.id, approval.user_id));
        let mut jobs = Vec::new();
        for device in devices.iter().filter(|d| d.state == DeviceState::Active) {
            let Some(channel) = device.push_channel.filter(|_| device.push_working) else {
                continue;
            };
            jobs.push(PushJob {
                device_id: Some(device.id.clone()),
                user_id: Some(approval.user_id.clone()),
                approval_id: Some(approval.id.clone()),
                topic: Some(topic.clone()),
                ..self.new_push(
                    channel,
                    PushUrgency::High,
                    payload.to_string(),
                    approval.expires_at,
                )?
            });
        }
        Ok(jobs)
    }

    /// Queues an alert's pushes to the user's devices and, for security alerts, its e-mail.
    /// The alert is already stored: a failure here is logged, never turned into its failure.
    pub(crate) async fn queue_alert_pushes(&self, alert: &Alert) {
        if let Err(e) = self.try_queue_alert_pushes(alert).await {
            tracing::error!(user = %alert.user_id, kind = %alert.kind, error = %e, "alert pushes not queued");
        }
    }

    async fn try_queue_alert_pushes(&self, alert: &Alert) -> Result<(), CoreError> {
        let expires_at = alert.created_at + ALERT_LIFETIME;
        let payload = json!({"type": "alert", "id": alert.id.as_str()}).to_string();
        let mut jobs = Vec::new();
        for device in self.store.list_devices(Some(&alert.user_id)).await? {
            let Some(channel) = device.push_channel.filter(|_| device.push_working) else {
                continue;
            };
            if device.state != DeviceState::Active {
                continue;
            }
            jobs.push(PushJob {
                device_id: Some(device.id.clone()),
                user_id: Some(alert.user_id.clone()),
                ..self.new_push(channel, PushUrgency::Normal, payload.clone(), expires_at)?
            });
        }
        if EMAILED_ALERTS.contains(&alert.kind.as_str())
            && self.sends_email()
            && let Some(address) = self.store.user_email(&alert.user_id).await?
        {
            let subject = format!("Assent security notice: {}", alert_title(&alert.kind));
            let text = format!(
                "{}\n\nOpen Assent on one of your devices to review your account. If you did not expect this, contact your security team.\n",
                alert.message
            );
            jobs.push(PushJob {
                user_id: Some(alert.user_id.clone()),
                ..self.email(&address, &subject, &text, expires_at)?
            });
        }
        self.queue(jobs).await
    }

    /// E-mails an admin alert to the configured admin addresses.
    pub(crate) async fn email_admins(&self, subject: &str, text: &str) {
        if !self.sends_email() || self.settings.push.admin_emails.is_empty() {
            return;
        }
        let expires_at = self.now() + ALERT_LIFETIME;
        let jobs: Result<Vec<_>, _> = self
            .settings
            .push
            .admin_emails
            .iter()
            .map(|to| self.email(to, subject, text, expires_at))
            .collect();
        let queued = match jobs {
            Ok(jobs) => self.queue(jobs).await,
            Err(e) => Err(e),
        };
        if let Err(e) = queued {
            tracing::error!(error = %e, "admin alert e-mails not queued");
        }
    }

    /// Whether this server sends e-mail (SMTP is configured).
    fn sends_email(&self) -> bool {
        self.settings.push.channels.contains(&PushChannel::Email)
    }

    fn email(
        &self,
        to: &str,
        subject: &str,
        text: &str,
        expires_at: time::OffsetDateTime,
    ) -> Result<PushJob, CoreError> {
        let payload = json!({"to": to, "subject": subject, "text": text}).to_string();
        self.new_push(PushChannel::Email, PushUrgency::Normal, payload, expires_at)
    }

    fn new_push(
        &self,
        channel: PushChannel,
        urgency: PushUrgency,
        payload: String,
        expires_at: time::OffsetDateTime,
    ) -> Result<PushJob, CoreError> {
        let now = self.now();
        Ok(PushJob {
            id: format!("psh_{}", random_token(12)?),
            channel,
            device_id: None,
            user_id: None,
            approval_id: None,
            urgency,
            topic: None,
            payload,
            state: PushState::Queued,
            attempts: 0,
            due_at: now,
            expires_at,
            last_error: None,
            created_at: now,
            updated_at: now,
        })
    }

    async fn queue(&self, mut jobs: Vec<PushJob>) -> Result<(), CoreError> {
        if jobs.is_empty() {
            return Ok(());
        }
        let local = self.claim_for_local_sender(&mut jobs);
        self.store.enqueue_pushes(&jobs).await?;
        self.dispatch_queued(local, jobs);
        Ok(())
    }

    /// Wakes the push senders (on every node, through the notifier).
    pub(crate) fn notify_outbox(&self) {
        self.notifier.notify(&Topic::Outbox);
    }

    /// Wakes when pushes were queued: the senders subscribe before they claim.
    pub fn outbox_subscription(&self) -> Subscription {
        self.notifier.subscribe(&Topic::Outbox)
    }

    /// Claims up to `limit` due pushes for this sender, each held for the configured lease.
    pub async fn claim_pushes(&self, limit: u32) -> Result<Vec<PushJob>, CoreError> {
        let now = self.now();
        Ok(self
            .store
            .claim_pushes(now, now + self.settings.push.lease, limit)
            .await?)
    }

    /// Why a claimed push should not be sent any more (its request ended, it expired, its
    /// target is gone or changed channel), or its target when it should.
    pub async fn push_destination(&self, job: &PushJob) -> Result<Destination, CoreError> {
        if job.expires_at <= self.now() {
            return Ok(Destination::Skip("expired before it could be sent".into()));
        }
        if let Some(id) = &job.approval_id {
            let pending =
                self.store.approval(id).await?.is_some_and(|a| {
                    a.state == ApprovalState::Pending && a.expires_at > self.now()
                });
            if !pending {
                return Ok(Destination::Skip(
                    "the request ended before it was sent".into(),
                ));
            }
        }
        let Some(device) = &job.device_id else {
            return Ok(Destination::Email);
        };
        let active = self
            .store
            .device(device)
            .await?
            .is_some_and(|d| d.state == DeviceState::Active);
        if !active {
            return Ok(Destination::Skip("the device is no longer active".into()));
        }
        self.working_target(job, device).await
    }

    /// Where a push this node queued a moment ago goes (handed over by
    /// [`Assent::attach_push_sender`]'s queue): its request and device were checked as it was
    /// queued, so only its target is read.
    pub async fn handed_push_destination(&self, job: &PushJob) -> Result<Destination, CoreError> {
        if job.expires_at <= self.now() {
            return Ok(Destination::Skip("expired before it could be sent".into()));
        }
        match &job.device_id {
            Some(device) => self.working_target(job, device).await,
            None => Ok(Destination::Email),
        }
    }

    /// The device's target if it still works on the push's channel.
    async fn working_target(
        &self,
        job: &PushJob,
        device: &crate::ids::DeviceId,
    ) -> Result<Destination, CoreError> {
        match self.store.push_target(device).await? {
            Some(t) if t.disabled_at.is_none() && t.address.channel() == job.channel => {
                Ok(Destination::Device(t))
            }
            _ => Ok(Destination::Skip(
                "the device no longer has a working target on this channel".into(),
            )),
        }
    }

    /// Records what became of a claimed push; the audit log gets one row when it is final.
    /// `false` when another sender has claimed it since (this sender's lease ran out). Nobody
    /// is woken: waits and streams follow the request's state, which a push does not change.
    pub async fn finish_push(&self, job: &PushJob, result: PushResult) -> Result<bool, CoreError> {
        let event = |error: Option<&str>| {
            let (push_id, channel) = (job.id.clone(), job.channel.as_str().to_owned());
            let device_id = job.device_id.as_ref().map(ToString::to_string);
            let approval_id = job.approval_id.as_ref().map(ToString::to_string);
            match error {
                None => AuditEvent::PushAccepted {
                    push_id,
                    channel,
                    device_id,
                    approval_id,
                    attempts: job.attempts,
                },
                Some(error) => AuditEvent::PushFailed {
                    push_id,
                    channel,
                    device_id,
                    approval_id,
                    attempts: job.attempts,
                    error: error.to_owned(),
                },
            }
        };
        let audit = match &result {
            PushResult::Accepted => Some(event(None)),
            PushResult::Failed { error } => Some(event(Some(error))),
            PushResult::Retry { .. } | PushResult::Skipped { .. } => None,
        }
        .map(|e| self.audit(Actor::System, e));
        let recorded = self
            .store
            .finish_push(&job.id, job.attempts, &result, self.now(), audit)
            .await?;
        if recorded {
            let outcome = match &result {
                PushResult::Accepted => "accepted",
                PushResult::Retry { .. } => "retry",
                PushResult::Failed { .. } => "failed",
                PushResult::Skipped { .. } => "skipped",
            };
            crate::measures::push(job.channel.as_str(), outcome);
        }
        Ok(recorded)
    }

    /// The push service refused a target for good: disable it, and tell the user on their
    /// other channels (the alert's pushes skip the disabled target, its e-mail does not).
    pub async fn push_target_gone(
        &self,
        target: &PushTarget,
        error: &str,
    ) -> Result<(), CoreError> {
        let channel = target.address.channel();
        let event = AuditEvent::PushTargetDisabled {
            device_id: target.device_id.to_string(),
            channel: channel.as_str().to_owned(),
            reason: error.to_owned(),
        };
        let audit = self.audit(Actor::System, event);
        let disabled = self
            .store
            .disable_push_target(target, self.now(), error, audit)
            .await?;
        if !disabled {
            return Ok(());
        }
        if let Some(device) = self.store.device(&target.device_id).await? {
            let message = format!(
                "Notifications to {} stopped working: its push service no longer accepts them. Open Assent on that device to turn them on again.",
                device.name
            );
            self.alert_about(
                &device.user_id,
                "push_target_disabled",
                message,
                Some(&device.id),
            )
            .await;
        }
        Ok(())
    }

    /// A request's pushes, for its relying party's view.
    pub async fn pushes_for_approval(&self, id: &ApprovalId) -> Result<Vec<PushJob>, CoreError> {
        Ok(self.store.pushes_for_approval(id).await?)
    }
}

/// Where a claimed push goes, or why it does not.
#[derive(Debug, Clone)]
pub enum Destination {
    Device(PushTarget),
    Email,
    Skip(String),
}

/// A short, stable, opaque topic (Web Push `Topic` allows 32 base64url characters).
fn topic_of(key: &str) -> String {
    sha256_b64(key).chars().take(22).collect()
}

fn alert_title(kind: &str) -> &'static str {
    match kind {
        "device_enrolled" => "a new device was added",
        "device_revoked" => "a device was revoked",
        "push_suspended" => "approval requests are paused",
        "passkey_registered" => "a passkey was set up",
        "push_target_disabled" => "notifications stopped on a device",
        "device_activation_refused" => "a device was refused",
        "broadcast" => "a notice from your administrators",
        "broadcast_reminder" => "a notice waits for your acknowledgement",
        _ => "account activity",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topics_are_short_stable_and_opaque() {
        let t = topic_of("approval:app:user");
        assert_eq!(t, topic_of("approval:app:user"));
        assert_ne!(t, topic_of("approval:app:other"));
        assert_eq!(t.len(), 22);
        assert!(
            t.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
    }
}

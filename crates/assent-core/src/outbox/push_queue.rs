//! The push outbox's rules: which pushes a request or an alert owes, who may register a target,
//! what a sender may claim, and what follows a send (the audit row once per push; a target
//! refused for good is disabled and the user told through their other channels).

use super::pushes::{
    PushAddress, PushChannel, PushJob, PushResult, PushState, PushTarget, PushUrgency,
};
use crate::audit::{Actor, AuditEvent, PendingAudit};
use crate::devices::auth::AuthenticatedDevice;
use crate::error::CoreError;
use crate::ids::{ApprovalId, UserId, Username};
use crate::model::{Alert, App, Approval, Device};
use crate::notifier::{Subscription, Topic};
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::jose::{b64_decode, random_token, sha256_b64};
use assent_proto::states::{ApprovalState, DeviceState};
use serde_json::json;
use std::net::IpAddr;
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
];

/// The longest e-mail address accepted (RFC 5321's path limit).
const MAX_EMAIL: usize = 254;

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
        self.queue(&jobs).await
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
            Ok(jobs) => self.queue(&jobs).await,
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

    async fn queue(&self, jobs: &[PushJob]) -> Result<(), CoreError> {
        if jobs.is_empty() {
            return Ok(());
        }
        self.store.enqueue_pushes(jobs).await?;
        self.notify_outbox();
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

    /// Registers (or replaces) the calling device's push target, enabled again if it had been
    /// disabled. Endpoints are checked here and again when sent to (the address a name
    /// resolves to can change).
    pub async fn register_push_target(
        &self,
        device: &AuthenticatedDevice,
        address: PushAddress,
    ) -> Result<(), CoreError> {
        let invalid = |d: &str| CoreError::rejected(ProblemCode::InvalidRequest, d.to_owned());
        let channel = address.channel();
        if !self.settings.push.channels.contains(&channel) {
            return Err(invalid(match channel {
                PushChannel::Apns => {
                    "this server does not send APNs pushes (push.apns is not configured)"
                }
                PushChannel::Fcm => {
                    "this server does not send FCM pushes (push.fcm is not configured)"
                }
                _ => "this server does not send pushes on that channel",
            }));
        }
        match &address {
            PushAddress::WebPush {
                endpoint,
                p256dh,
                auth,
            } => {
                endpoint_allowed(endpoint, self.settings.push.allow_private_endpoints)
                    .map_err(|why| invalid(&why))?;
                let p256dh =
                    b64_decode(p256dh).map_err(|_| invalid("keys.p256dh is not base64url"))?;
                let auth = b64_decode(auth).map_err(|_| invalid("keys.auth is not base64url"))?;
                if p256dh.len() != 65 || p256dh[0] != 4 || auth.len() != 16 {
                    return Err(invalid(
                        "keys.p256dh is a 65-byte P-256 point and keys.auth 16 bytes (RFC 8291)",
                    ));
                }
            }
            PushAddress::Apns { token } => {
                let hex = token.len() <= 200 && token.bytes().all(|b| b.is_ascii_hexdigit());
                if token.is_empty() || !hex {
                    return Err(invalid(
                        "an APNs device token is 1 to 200 hexadecimal digits",
                    ));
                }
            }
            PushAddress::Fcm { token } => {
                let ok = token.len() <= 4096
                    && token
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b':'));
                if token.is_empty() || !ok {
                    return Err(invalid(
                        "an FCM registration token is 1 to 4096 characters of A-Z, a-z, 0-9, _, - and :",
                    ));
                }
            }
        }
        let device_id = device.device().id.clone();
        let target = PushTarget {
            device_id: device_id.clone(),
            address,
            created_at: self.now(),
            disabled_at: None,
            disabled_reason: None,
        };
        let event = AuditEvent::PushSubscribed {
            device_id: device_id.to_string(),
            channel: channel.as_str().to_owned(),
        };
        self.store
            .set_push_target(&target, self.audit(Actor::Device(device_id), event))
            .await?;
        Ok(())
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
    /// `false` when another sender has claimed it since (this sender's lease ran out).
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
        let landed = self
            .store
            .finish_push(&job.id, job.attempts, &result, self.now(), audit)
            .await?;
        if landed && let Some(id) = &job.approval_id {
            // The relying party's long poll shows deliveries: let it see this one.
            self.notifier.notify(&Topic::Approval(id.clone()));
        }
        Ok(landed)
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

    /// Sets or removes the e-mail address where a user's security alerts go. An application
    /// may set it for its own users only in the sense that any application may name any user
    /// today (application scopes are not there yet); the change is audited without the address.
    pub async fn set_user_email(
        &self,
        by: &Principal,
        username: &str,
        email: Option<&str>,
    ) -> Result<(), CoreError> {
        let invalid = |d: &str| CoreError::rejected(ProblemCode::InvalidRequest, d.to_owned());
        let name = Username::parse(username)?;
        let user = self
            .store
            .user_by_name(&name)
            .await?
            .ok_or_else(|| CoreError::rejected(ProblemCode::NotFound, "no such user"))?;
        if let Some(address) = email {
            email_is_plausible(address).map_err(invalid)?;
        }
        let event = AuditEvent::UserEmailSet {
            user_id: user.id.to_string(),
            set: email.is_some(),
        };
        self.store
            .set_user_email(
                &user.id,
                email,
                PendingAudit::new(self.now(), by.actor(), event),
            )
            .await?;
        Ok(())
    }

    /// A user's name for messages to admins (the id when the record cannot be read).
    pub(crate) async fn username_of(&self, user: &UserId) -> String {
        match self.records.user(self.store.as_ref(), user).await {
            Ok(Some(u)) => u.username.to_string(),
            _ => user.to_string(),
        }
    }

    /// A user's e-mail address, if one is set.
    pub async fn user_email(&self, user: &UserId) -> Result<Option<String>, CoreError> {
        Ok(self.store.user_email(user).await?)
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
        _ => "account activity",
    }
}

/// A simple syntactic check (one `@`, no spaces or controls, a dotted domain); whether the
/// address exists is for the mail server to say.
fn email_is_plausible(address: &str) -> Result<(), &'static str> {
    let bad = "email must be an address like name@example.com";
    if address.len() > MAX_EMAIL
        || address
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '<' | '>' | ',' | ';'))
    {
        return Err(bad);
    }
    let (local, domain) = address.rsplit_once('@').ok_or(bad)?;
    if local.is_empty() || local.contains('@') || domain.len() < 3 || !domain.contains('.') {
        return Err(bad);
    }
    if domain.starts_with('.') || domain.ends_with('.') {
        return Err(bad);
    }
    Ok(())
}

/// Whether a device-supplied push endpoint may be used: https only, and no loopback, private,
/// link-local or otherwise non-public address literal, unless the operator allows private
/// endpoints (then plain http is accepted too). Names are checked again at send time, on the
/// addresses they resolve to.
pub fn endpoint_allowed(endpoint: &str, allow_private: bool) -> Result<(), String> {
    let url = url::Url::parse(endpoint).map_err(|_| "endpoint must be an https URL".to_owned())?;
    if endpoint.len() > 2048 || !url.username().is_empty() || url.password().is_some() {
        return Err(
            "endpoint must be an https URL without credentials, at most 2048 characters".into(),
        );
    }
    match url.scheme() {
        "https" => {}
        "http" if allow_private => {}
        _ => return Err("endpoint must be an https URL".into()),
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.trim_end_matches('.').to_ascii_lowercase();
            if !allow_private && (d == "localhost" || d.ends_with(".localhost")) {
                return Err(
                    "endpoint must not be on this machine (push.allow_private_endpoints is off)"
                        .into(),
                );
            }
            return Ok(());
        }
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip),
        None => return Err("endpoint must name a host".into()),
    };
    if !allow_private && !is_public(host) {
        return Err("endpoint must not be a loopback, private or link-local address (push.allow_private_endpoints is off)".into());
    }
    Ok(())
}

/// Whether an address is on the public internet: not loopback, private (RFC 1918, unique
/// local), link-local, shared (CGNAT), unspecified, multicast, documentation or broadcast.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_multicast()
                || v4.is_broadcast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_are_https_and_public_unless_private_ones_are_allowed() {
        for good in [
            "https://push.example/x",
            "https://8.8.8.8/p",
            "https://[2606:4700::1]/p",
        ] {
            assert!(endpoint_allowed(good, false).is_ok(), "{good}");
        }
        for bad in [
            "http://push.example/x",
            "https://127.0.0.1/p",
            "https://10.1.2.3/p",
            "https://192.168.0.1/p",
            "https://169.254.169.254/latest",
            "https://100.64.0.1/p",
            "https://[::1]/p",
            "https://[fd00::1]/p",
            "https://[fe80::1]/p",
            "https://[::ffff:127.0.0.1]/p",
            "https://localhost/p",
            "https://a.localhost/p",
            "https://user:pw@push.example/p",
            "ftp://push.example/p",
            "not a url",
        ] {
            assert!(endpoint_allowed(bad, false).is_err(), "{bad}");
        }
        for now_good in [
            "http://127.0.0.1:9000/p",
            "https://localhost/p",
            "http://10.0.0.2/p",
        ] {
            assert!(endpoint_allowed(now_good, true).is_ok(), "{now_good}");
        }
        assert!(endpoint_allowed("ftp://127.0.0.1/p", true).is_err());
    }

    #[test]
    fn plausible_email_addresses() {
        for good in ["a@example.com", "first.last+tag@sub.example.org"] {
            assert!(email_is_plausible(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "a",
            "a@b",
            "@example.com",
            "a b@example.com",
            "a@example.com\r\nBcc: x@y.z",
            "<a@example.com>",
            "a@.example.com",
        ] {
            assert!(email_is_plausible(bad).is_err(), "{bad:?}");
        }
    }

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

//! The records of the push outbox: where a device is reached (its push target) and each push
//! owed to a device or an e-mail address, from queued to accepted or failed.
//!
//! A push is written in the same transaction as what it announces (a request and its audit
//! row), so a push owed when the server stops is still owed when it starts. A sender claims a
//! push with a lease; on PostgreSQL the claim skips rows another node holds, so each push is
//! sent by one node, and a push whose sender died is claimed again once its lease runs out.

use crate::ids::{ApprovalId, DeviceId, UserId};
use time::OffsetDateTime;

/// How a push reaches its recipient.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PushChannel {
    /// RFC 8030 Web Push (browsers, and UnifiedPush distributors such as ntfy).
    WebPush,
    /// Apple Push Notification service, for native apps.
    Apns,
    /// Firebase Cloud Messaging HTTP v1, for native apps.
    Fcm,
    /// An e-mail to the user or the admins: informational alerts only, never approvals.
    Email,
}

impl PushChannel {
    pub fn as_str(self) -> &'static str {
        match self {
            PushChannel::WebPush => "web_push",
            PushChannel::Apns => "apns",
            PushChannel::Fcm => "fcm",
            PushChannel::Email => "email",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "web_push" => PushChannel::WebPush,
            "apns" => PushChannel::Apns,
            "fcm" => PushChannel::Fcm,
            "email" => PushChannel::Email,
            _ => return None,
        })
    }
}

/// Where a device is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushAddress {
    /// A Web Push subscription: the push service's endpoint and the RFC 8291 keys (base64url).
    WebPush {
        endpoint: String,
        p256dh: String,
        auth: String,
    },
    /// An APNs device token (hex).
    Apns { token: String },
    /// An FCM registration token.
    Fcm { token: String },
}

impl PushAddress {
    pub fn channel(&self) -> PushChannel {
        match self {
            PushAddress::WebPush { .. } => PushChannel::WebPush,
            PushAddress::Apns { .. } => PushChannel::Apns,
            PushAddress::Fcm { .. } => PushChannel::Fcm,
        }
    }
}

/// A device's push target and whether it still works.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushTarget {
    pub device_id: DeviceId,
    pub address: PushAddress,
    pub created_at: OffsetDateTime,
    /// Set when the push service refused the target for good (unsubscribed, uninstalled); no
    /// push is sent there until the device registers a target again.
    pub disabled_at: Option<OffsetDateTime>,
    pub disabled_reason: Option<String>,
}

/// Where a push stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushState {
    /// Waiting to be sent: the first time, or again after a transient failure.
    Queued,
    /// Claimed by a sender and on its way; if the sender dies, sent again after the lease.
    Sent,
    /// The push service (or the mail server) took it.
    Accepted,
    /// Given up: refused for good, retried until the request expired, or the target is gone.
    Failed,
    /// Not sent because it no longer mattered (the request ended first).
    Skipped,
}

impl PushState {
    pub fn as_str(self) -> &'static str {
        match self {
            PushState::Queued => "queued",
            PushState::Sent => "sent",
            PushState::Accepted => "accepted",
            PushState::Failed => "failed",
            PushState::Skipped => "skipped",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "queued" => PushState::Queued,
            "sent" => PushState::Sent,
            "accepted" => PushState::Accepted,
            "failed" => PushState::Failed,
            "skipped" => PushState::Skipped,
            _ => return None,
        })
    }

    /// Whether nothing more will happen to the push.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            PushState::Accepted | PushState::Failed | PushState::Skipped
        )
    }
}

/// How urgently a device is woken: approvals `High`, informational alerts `Normal`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushUrgency {
    High,
    Normal,
}

impl PushUrgency {
    pub fn as_str(self) -> &'static str {
        match self {
            PushUrgency::High => "high",
            PushUrgency::Normal => "normal",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "high" => Some(PushUrgency::High),
            "normal" => Some(PushUrgency::Normal),
            _ => None,
        }
    }
}

/// One push owed to one device (or one e-mail address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PushJob {
    pub id: String,
    pub channel: PushChannel,
    /// The device pushed to; `None` for e-mail.
    pub device_id: Option<DeviceId>,
    /// Whose device or address; `None` for an e-mail to the admins.
    pub user_id: Option<UserId>,
    /// The request announced, for approval pushes.
    pub approval_id: Option<ApprovalId>,
    pub urgency: PushUrgency,
    /// Replaces an earlier push with the same topic on the device (a superseded prompt).
    pub topic: Option<String>,
    /// What is sent: for a device, `{"type":..,"id":..}` JSON with nothing sensitive in it; for
    /// an e-mail, `{"to":..,"subject":..,"text":..}`.
    pub payload: String,
    pub state: PushState,
    /// Sends started so far (a claim counts as one).
    pub attempts: u32,
    /// When it may next be claimed: the retry time while queued, the lease's end while sent.
    pub due_at: OffsetDateTime,
    /// After this the push is worthless (the request's expiry) and is not sent.
    pub expires_at: OffsetDateTime,
    pub last_error: Option<String>,
    pub created_at: OffsetDateTime,
    pub updated_at: OffsetDateTime,
}

/// What became of one claimed push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushResult {
    Accepted,
    /// Queue it again for `at`.
    Retry {
        at: OffsetDateTime,
        error: String,
    },
    Failed {
        error: String,
    },
    Skipped {
        reason: String,
    },
}

impl PushResult {
    pub fn state(&self) -> PushState {
        match self {
            PushResult::Accepted => PushState::Accepted,
            PushResult::Retry { .. } => PushState::Queued,
            PushResult::Failed { .. } => PushState::Failed,
            PushResult::Skipped { .. } => PushState::Skipped,
        }
    }

    pub fn error(&self) -> Option<&str> {
        match self {
            PushResult::Accepted => None,
            PushResult::Retry { error, .. } | PushResult::Failed { error } => Some(error),
            PushResult::Skipped { reason } => Some(reason),
        }
    }
}

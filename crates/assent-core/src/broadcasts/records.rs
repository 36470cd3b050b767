//! What Assent keeps for incident broadcasts: the message, who it went to (fixed when it was
//! sent), and each recipient's acknowledgement and reminders. Plain data; the rules live in the
//! rest of [`crate::broadcasts`].

use crate::ids::{BroadcastId, DeviceId, UserId};
use time::{Duration, OffsetDateTime};

/// Who a broadcast goes to; resolved to users when it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    /// Every user.
    Everyone,
    /// The members of one group.
    Group(String),
}

/// A message an admin sends to users, each of whom must acknowledge it on a device.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broadcast {
    pub id: BroadcastId,
    pub message: String,
    pub audience: Audience,
    /// The sender, as the audit log names actors (`admin:<key id>`).
    pub created_by: String,
    pub created_at: OffsetDateTime,
    /// How long a recipient may leave it unacknowledged before being reminded again.
    pub reminder_interval: Duration,
}

/// One recipient of a broadcast.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recipient {
    pub broadcast_id: BroadcastId,
    pub user_id: UserId,
    /// When the user's next reminder is due, while they have not acknowledged.
    pub next_reminder_at: OffsetDateTime,
    /// Reminders sent so far.
    pub reminders: u32,
    pub acknowledgement: Option<Acknowledgement>,
}

/// A device's acknowledgement of a broadcast for its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acknowledgement {
    pub at: OffsetDateTime,
    pub device_id: DeviceId,
    /// The device's signed statement (compact JWS), kept as evidence.
    pub statement: String,
}

/// A broadcast with how many users it went to and how many have acknowledged it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BroadcastSummary {
    pub broadcast: Broadcast,
    pub recipients: u32,
    pub acknowledged: u32,
}

/// A recipient whose reminder is due.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DueReminder {
    pub broadcast_id: BroadcastId,
    pub user_id: UserId,
    /// The due time the reminder was found with: its claim is conditional on it.
    pub next_reminder_at: OffsetDateTime,
    pub reminders: u32,
}

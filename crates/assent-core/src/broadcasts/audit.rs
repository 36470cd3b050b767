//! The audit events of incident broadcasts, carried by [`crate::audit::AuditEvent`]'s
//! `BroadcastCreated`, `BroadcastAcknowledged` and `BroadcastReminded`.

use serde::Serialize;

/// An admin sent a broadcast.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub broadcast_id: String,
    pub message: String,
    /// The group it went to; `None`: every user.
    pub group: Option<String>,
    pub recipients: u32,
    pub reminder_interval_secs: i64,
}

/// A device acknowledged a broadcast for its user.
#[derive(Debug, Clone, Serialize)]
pub struct Acknowledged {
    pub broadcast_id: String,
    pub user_id: String,
    pub device_id: String,
}

/// A recipient who had not acknowledged was reminded.
#[derive(Debug, Clone, Serialize)]
pub struct Reminded {
    pub broadcast_id: String,
    pub user_id: String,
    /// The how-manieth reminder this is.
    pub reminder: u32,
}

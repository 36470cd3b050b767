//! Reminders: the server's sweep finds recipients who have not acknowledged a broadcast by the
//! time their reminder is due, and reminds each through their alerts. A reminder is claimed by
//! a conditional write (still unacknowledged, still due at the time it was found), so when
//! several nodes sweep at once, one reminds and the others find it taken.

use super::records::Broadcast;
use super::{alert_text, audit};
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::BroadcastId;
use crate::service::Assent;
use std::collections::HashMap;

/// Most reminders a recipient is sent for one broadcast: past that, an unanswered broadcast is
/// for the admins to follow up in person (the admin view shows who has not acknowledged).
/// The stores' index of due reminders names this number (`reminders < 30`): change both.
pub const MAX_REMINDERS: u32 = 30;
/// Most reminders claimed by one sweep; the rest wait for the next.
const SWEEP_BATCH: u32 = 500;

impl Assent {
    /// Reminds every recipient whose reminder is due and who has not acknowledged; the next one
    /// falls due a reminder interval from now. Returns how many were reminded by this node.
    pub async fn remind_due_broadcasts(&self) -> Result<u32, CoreError> {
        let now = self.now();
        let due = self
            .store
            .due_reminders(now, MAX_REMINDERS, SWEEP_BATCH)
            .await?;
        let mut broadcasts: HashMap<BroadcastId, Broadcast> = HashMap::new();
        let mut reminded = 0;
        for row in due {
            let broadcast = match broadcasts.get(&row.broadcast_id) {
                Some(b) => b.clone(),
                None => {
                    let Some(b) = self.store.broadcast(&row.broadcast_id).await? else {
                        continue;
                    };
                    broadcasts.insert(b.id.clone(), b.clone());
                    b
                }
            };
            let event = AuditEvent::BroadcastReminded(audit::Reminded {
                broadcast_id: broadcast.id.to_string(),
                user_id: row.user_id.to_string(),
                reminder: row.reminders + 1,
            });
            let claimed = self
                .store
                .claim_reminder(
                    &row,
                    now + broadcast.reminder_interval,
                    self.audit(Actor::System, event),
                )
                .await?;
            if claimed {
                self.alert(
                    &row.user_id,
                    "broadcast_reminder",
                    alert_text(&broadcast, true),
                )
                .await;
                reminded += 1;
            }
        }
        Ok(reminded)
    }
}

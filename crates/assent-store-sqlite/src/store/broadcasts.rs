//! Incident broadcasts on SQLite: a broadcast with its recipients and audit row in one
//! savepoint; acknowledgements and reminder claims as conditional updates with their audit rows
//! (one writer thread, and the condition in the statement, so a second finds it false).

use super::audit::append_audit;
use super::{SqliteStore, change_once};
use crate::connection::backend;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::broadcasts::records::{
    Acknowledgement, Audience, Broadcast, BroadcastSummary, DueReminder, Recipient,
};
use assent_core::clock::{from_millis, to_millis};
use assent_core::ids::{BroadcastId, DeviceId, UserId};
use assent_core::store::BroadcastStore;
use async_trait::async_trait;
use rusqlite::{Row, params};
use time::{Duration, OffsetDateTime};

const BROADCAST_COLUMNS: &str =
    "b.id, b.message, b.audience_group, b.created_by, b.created_at, b.reminder_interval_secs";
const RECIPIENT_COLUMNS: &str = "r.broadcast_id, r.user_id, r.next_reminder_at, r.reminders, \
     r.acknowledged_at, r.device_id, r.statement";

/// Records the acknowledgement only if the row has none yet and the device is active at that
/// moment (a revocation committed in between wins).
const ACKNOWLEDGE: &str = "UPDATE broadcast_recipients
     SET acknowledged_at = ?3, device_id = ?4, statement = ?5
     WHERE broadcast_id = ?1 AND user_id = ?2 AND acknowledged_at IS NULL
       AND EXISTS (SELECT 1 FROM devices WHERE id = ?4 AND state = 'active')";

/// Claims a reminder only if it is still unacknowledged and still due when it was found.
const CLAIM_REMINDER: &str = "UPDATE broadcast_recipients
     SET reminders = reminders + 1, next_reminder_at = ?4
     WHERE broadcast_id = ?1 AND user_id = ?2 AND next_reminder_at = ?3
       AND acknowledged_at IS NULL";

fn broadcast(row: &Row<'_>) -> rusqlite::Result<Broadcast> {
    let group: Option<String> = row.get(2)?;
    Ok(Broadcast {
        id: BroadcastId::from_stored(row.get(0)?),
        message: row.get(1)?,
        audience: group.map_or(Audience::Everyone, Audience::Group),
        created_by: row.get(3)?,
        created_at: from_millis(row.get(4)?),
        reminder_interval: Duration::seconds(row.get(5)?),
    })
}

/// A recipient from the columns of [`RECIPIENT_COLUMNS`], starting at `at`.
fn recipient_at(row: &Row<'_>, at: usize) -> rusqlite::Result<Recipient> {
    let acknowledged_at: Option<i64> = row.get(at + 4)?;
    let device: Option<String> = row.get(at + 5)?;
    let statement: Option<String> = row.get(at + 6)?;
    let acknowledgement = match (acknowledged_at, device, statement) {
        (Some(at), Some(device), Some(statement)) => Some(Acknowledgement {
            at: from_millis(at),
            device_id: DeviceId::from_stored(device),
            statement,
        }),
        _ => None,
    };
    Ok(Recipient {
        broadcast_id: BroadcastId::from_stored(row.get(at)?),
        user_id: UserId::from_stored(row.get(at + 1)?),
        next_reminder_at: from_millis(row.get(at + 2)?),
        reminders: row.get(at + 3)?,
        acknowledgement,
    })
}

fn recipient(row: &Row<'_>) -> rusqlite::Result<Recipient> {
    recipient_at(row, 0)
}

#[async_trait]
impl BroadcastStore for SqliteStore {
    async fn insert_broadcast(
        &self,
        broadcast: &Broadcast,
        recipients: &[UserId],
        first_reminder_at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (b, recipients) = (broadcast.clone(), recipients.to_vec());
        self.write(move |c| {
            let group = match &b.audience {
                Audience::Everyone => None,
                Audience::Group(name) => Some(name.clone()),
            };
            c.prepare_cached(
                "INSERT INTO broadcasts (id, message, audience_group, created_by, created_at,
                     reminder_interval_secs) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    b.id.as_str(),
                    b.message,
                    group,
                    b.created_by,
                    to_millis(b.created_at),
                    b.reminder_interval.whole_seconds()
                ])
            })
            .map_err(backend)?;
            let mut insert = c
                .prepare_cached(
                    "INSERT INTO broadcast_recipients (broadcast_id, user_id, next_reminder_at)
                     VALUES (?1, ?2, ?3)",
                )
                .map_err(backend)?;
            for user in &recipients {
                insert
                    .execute(params![
                        b.id.as_str(),
                        user.as_str(),
                        to_millis(first_reminder_at)
                    ])
                    .map_err(backend)?;
            }
            append_audit(c, &audit)
        })
        .await
    }

    async fn broadcast(&self, id: &BroadcastId) -> Result<Option<Broadcast>, StoreError> {
        let sql = format!("SELECT {BROADCAST_COLUMNS} FROM broadcasts b WHERE b.id = ?1");
        self.one(sql, id.to_string(), broadcast).await
    }

    async fn list_broadcasts(&self, limit: u32) -> Result<Vec<BroadcastSummary>, StoreError> {
        let sql = format!(
            "SELECT {BROADCAST_COLUMNS}, COUNT(r.user_id), COUNT(r.acknowledged_at)
             FROM broadcasts b LEFT JOIN broadcast_recipients r ON r.broadcast_id = b.id
             GROUP BY b.id ORDER BY b.created_at DESC, b.id DESC LIMIT ?1"
        );
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map([limit], |row| {
                    Ok(BroadcastSummary {
                        broadcast: broadcast(row)?,
                        recipients: row.get(6)?,
                        acknowledged: row.get(7)?,
                    })
                })?
                .collect()
        })
        .await
    }

    async fn broadcast_recipients(&self, id: &BroadcastId) -> Result<Vec<Recipient>, StoreError> {
        let sql = format!(
            "SELECT {RECIPIENT_COLUMNS} FROM broadcast_recipients r
             WHERE r.broadcast_id = ?1 ORDER BY r.user_id"
        );
        let id = id.to_string();
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map([id], recipient)?
                .collect()
        })
        .await
    }

    async fn broadcast_recipient(
        &self,
        id: &BroadcastId,
        user: &UserId,
    ) -> Result<Option<Recipient>, StoreError> {
        let sql = format!(
            "SELECT {RECIPIENT_COLUMNS} FROM broadcast_recipients r
             WHERE r.broadcast_id = ?1 AND r.user_id = ?2"
        );
        let (id, user) = (id.to_string(), user.to_string());
        self.read(move |c| {
            use rusqlite::OptionalExtension as _;
            c.prepare_cached(&sql)?
                .query_row([id, user], recipient)
                .optional()
        })
        .await
    }

    async fn user_broadcasts(
        &self,
        user: &UserId,
        acknowledged: bool,
        limit: u32,
    ) -> Result<Vec<(Broadcast, Recipient)>, StoreError> {
        let (filter, order) = if acknowledged {
            ("IS NOT NULL", "r.acknowledged_at DESC")
        } else {
            ("IS NULL", "b.created_at ASC")
        };
        let sql = format!(
            "SELECT {BROADCAST_COLUMNS}, {RECIPIENT_COLUMNS}
             FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id
             WHERE r.user_id = ?1 AND r.acknowledged_at {filter}
             ORDER BY {order}, b.id LIMIT ?2"
        );
        let user = user.to_string();
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![user, limit], |row| {
                    Ok((broadcast(row)?, recipient_at(row, 6)?))
                })?
                .collect()
        })
        .await
    }

    async fn acknowledge_broadcast(
        &self,
        id: &BroadcastId,
        user: &UserId,
        acknowledgement: &Acknowledgement,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (id, user, ack) = (id.clone(), user.clone(), acknowledgement.clone());
        self.write(move |c| {
            change_once(
                c,
                ACKNOWLEDGE,
                params![
                    id.as_str(),
                    user.as_str(),
                    to_millis(ack.at),
                    ack.device_id.as_str(),
                    ack.statement
                ],
                &audit,
            )
        })
        .await
    }

    async fn due_reminders(
        &self,
        now: OffsetDateTime,
        max_reminders: u32,
        limit: u32,
    ) -> Result<Vec<DueReminder>, StoreError> {
        self.read_heavy(move |c| {
            c.prepare_cached(
                "SELECT broadcast_id, user_id, next_reminder_at, reminders
                 FROM broadcast_recipients
                 WHERE acknowledged_at IS NULL AND reminders < 30
                   AND next_reminder_at <= ?1 AND reminders < ?2
                 ORDER BY next_reminder_at LIMIT ?3",
            )?
            .query_map(params![to_millis(now), max_reminders, limit], |row| {
                Ok(DueReminder {
                    broadcast_id: BroadcastId::from_stored(row.get(0)?),
                    user_id: UserId::from_stored(row.get(1)?),
                    next_reminder_at: from_millis(row.get(2)?),
                    reminders: row.get(3)?,
                })
            })?
            .collect()
        })
        .await
    }

    async fn claim_reminder(
        &self,
        due: &DueReminder,
        next_at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let due = due.clone();
        self.write(move |c| {
            change_once(
                c,
                CLAIM_REMINDER,
                params![
                    due.broadcast_id.as_str(),
                    due.user_id.as_str(),
                    to_millis(due.next_reminder_at),
                    to_millis(next_at)
                ],
                &audit,
            )
        })
        .await
    }
}

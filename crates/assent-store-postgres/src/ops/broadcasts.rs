//! Incident broadcasts on PostgreSQL: a broadcast with its recipients and audit row in one
//! transaction; acknowledgements and reminder claims as conditional updates with their audit
//! rows ([`change_once`]: a concurrent writer of the same row waits for the first to commit and
//! then finds the condition false, so on any number of nodes exactly one writes).

use super::{change_once, write_audited};
use crate::error::{backend, corrupt};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::broadcasts::records::{
    Acknowledgement, Audience, Broadcast, BroadcastSummary, DueReminder, Recipient,
};
use assent_core::clock::{from_millis, to_millis};
use assent_core::ids::{BroadcastId, DeviceId, UserId};
use assent_core::store::BroadcastStore;
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::{Duration, OffsetDateTime};

macro_rules! broadcast_columns {
    () => {
        "b.id, b.message, b.audience_group, b.created_by, b.created_at, b.reminder_interval_secs"
    };
}
macro_rules! recipient_columns {
    () => {
        "r.broadcast_id, r.user_id, r.next_reminder_at, r.reminders, r.acknowledged_at, \
         r.device_id, r.statement"
    };
}

fn count(row: &PgRow, at: usize) -> Result<u32, sqlx::Error> {
    u32::try_from(row.try_get::<i64, _>(at)?).map_err(|_| corrupt("count"))
}

fn broadcast(row: &PgRow) -> Result<Broadcast, sqlx::Error> {
    let group: Option<String> = row.try_get(2)?;
    Ok(Broadcast {
        id: BroadcastId::from_stored(row.try_get(0)?),
        message: row.try_get(1)?,
        audience: group.map_or(Audience::Everyone, Audience::Group),
        created_by: row.try_get(3)?,
        created_at: from_millis(row.try_get(4)?),
        reminder_interval: Duration::seconds(row.try_get(5)?),
    })
}

/// A recipient from the columns of `recipient_columns!`, starting at `at`.
fn recipient_at(row: &PgRow, at: usize) -> Result<Recipient, sqlx::Error> {
    let acknowledged_at: Option<i64> = row.try_get(at + 4)?;
    let device: Option<String> = row.try_get(at + 5)?;
    let statement: Option<String> = row.try_get(at + 6)?;
    let acknowledgement = match (acknowledged_at, device, statement) {
        (Some(at), Some(device), Some(statement)) => Some(Acknowledgement {
            at: from_millis(at),
            device_id: DeviceId::from_stored(device),
            statement,
        }),
        _ => None,
    };
    Ok(Recipient {
        broadcast_id: BroadcastId::from_stored(row.try_get(at)?),
        user_id: UserId::from_stored(row.try_get(at + 1)?),
        next_reminder_at: from_millis(row.try_get(at + 2)?),
        reminders: u32::try_from(row.try_get::<i32, _>(at + 3)?)
            .map_err(|_| corrupt("reminders"))?,
        acknowledgement,
    })
}

#[async_trait]
impl BroadcastStore for PostgresStore {
    /// The recipients go in one statement, from an array, whatever their number.
    async fn insert_broadcast(
        &self,
        broadcast: &Broadcast,
        recipients: &[UserId],
        first_reminder_at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let group = match &broadcast.audience {
            Audience::Everyone => None,
            Audience::Group(name) => Some(name.clone()),
        };
        let insert = sqlx::query(
            "INSERT INTO broadcasts (id, message, audience_group, created_by, created_at, \
             reminder_interval_secs) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(broadcast.id.to_string())
        .bind(broadcast.message.clone())
        .bind(group)
        .bind(broadcast.created_by.clone())
        .bind(to_millis(broadcast.created_at))
        .bind(broadcast.reminder_interval.whole_seconds());
        let users: Vec<String> = recipients.iter().map(UserId::to_string).collect();
        let rows = sqlx::query(
            "INSERT INTO broadcast_recipients (broadcast_id, user_id, next_reminder_at) \
             SELECT $1, u, $3 FROM UNNEST($2::text[]) AS u",
        )
        .bind(broadcast.id.to_string())
        .bind(users)
        .bind(to_millis(first_reminder_at));
        write_audited(&self.pool, vec![insert, rows], &audit).await
    }

    async fn broadcast(&self, id: &BroadcastId) -> Result<Option<Broadcast>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            broadcast_columns!(),
            " FROM broadcasts b WHERE b.id = $1"
        ))
        .bind(id.to_string())
        .try_map(|r: PgRow| broadcast(&r))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn list_broadcasts(&self, limit: u32) -> Result<Vec<BroadcastSummary>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            broadcast_columns!(),
            ", COUNT(r.user_id), COUNT(r.acknowledged_at) \
             FROM broadcasts b LEFT JOIN broadcast_recipients r ON r.broadcast_id = b.id \
             GROUP BY b.id ORDER BY b.created_at DESC, b.id DESC LIMIT $1"
        ))
        .bind(i64::from(limit))
        .try_map(|r: PgRow| {
            Ok(BroadcastSummary {
                broadcast: broadcast(&r)?,
                recipients: count(&r, 6)?,
                acknowledged: count(&r, 7)?,
            })
        })
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn broadcast_recipients(&self, id: &BroadcastId) -> Result<Vec<Recipient>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            recipient_columns!(),
            " FROM broadcast_recipients r WHERE r.broadcast_id = $1 ORDER BY r.user_id"
        ))
        .bind(id.to_string())
        .try_map(|r: PgRow| recipient_at(&r, 0))
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn broadcast_recipient(
        &self,
        id: &BroadcastId,
        user: &UserId,
    ) -> Result<Option<Recipient>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            recipient_columns!(),
            " FROM broadcast_recipients r WHERE r.broadcast_id = $1 AND r.user_id = $2"
        ))
        .bind(id.to_string())
        .bind(user.to_string())
        .try_map(|r: PgRow| recipient_at(&r, 0))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn user_broadcasts(
        &self,
        user: &UserId,
        acknowledged: bool,
        limit: u32,
    ) -> Result<Vec<(Broadcast, Recipient)>, StoreError> {
        macro_rules! user_broadcasts {
            ($rest:literal) => {
                concat!(
                    "SELECT ",
                    broadcast_columns!(),
                    ", ",
                    recipient_columns!(),
                    " FROM broadcast_recipients r JOIN broadcasts b ON b.id = r.broadcast_id \
                     WHERE r.user_id = $1 AND r.acknowledged_at ",
                    $rest
                )
            };
        }
        let sql = if acknowledged {
            user_broadcasts!("IS NOT NULL ORDER BY r.acknowledged_at DESC, b.id LIMIT $2")
        } else {
            user_broadcasts!("IS NULL ORDER BY b.created_at ASC, b.id LIMIT $2")
        };
        sqlx::query(sql)
            .bind(user.to_string())
            .bind(i64::from(limit))
            .try_map(|r: PgRow| Ok((broadcast(&r)?, recipient_at(&r, 6)?)))
            .fetch_all(&self.pool)
            .await
            .map_err(backend)
    }

    async fn acknowledge_broadcast(
        &self,
        id: &BroadcastId,
        user: &UserId,
        acknowledgement: &Acknowledgement,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let ack = sqlx::query(
            "UPDATE broadcast_recipients \
             SET acknowledged_at = $3, device_id = $4, statement = $5 \
             WHERE broadcast_id = $1 AND user_id = $2 AND acknowledged_at IS NULL \
               AND EXISTS (SELECT 1 FROM devices WHERE id = $4 AND state = 'active')",
        )
        .bind(id.to_string())
        .bind(user.to_string())
        .bind(to_millis(acknowledgement.at))
        .bind(acknowledgement.device_id.to_string())
        .bind(acknowledgement.statement.clone());
        change_once(&self.pool, ack, &audit).await
    }

    async fn due_reminders(
        &self,
        now: OffsetDateTime,
        max_reminders: u32,
        limit: u32,
    ) -> Result<Vec<DueReminder>, StoreError> {
        sqlx::query(
            "SELECT broadcast_id, user_id, next_reminder_at, reminders FROM broadcast_recipients \
             WHERE acknowledged_at IS NULL AND reminders < 30 \
               AND next_reminder_at <= $1 AND reminders < $2 \
             ORDER BY next_reminder_at LIMIT $3",
        )
        .bind(to_millis(now))
        .bind(i64::from(max_reminders))
        .bind(i64::from(limit))
        .try_map(|r: PgRow| {
            Ok(DueReminder {
                broadcast_id: BroadcastId::from_stored(r.try_get(0)?),
                user_id: UserId::from_stored(r.try_get(1)?),
                next_reminder_at: from_millis(r.try_get(2)?),
                reminders: u32::try_from(r.try_get::<i32, _>(3)?)
                    .map_err(|_| corrupt("reminders"))?,
            })
        })
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn claim_reminder(
        &self,
        due: &DueReminder,
        next_at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let claim = sqlx::query(
            "UPDATE broadcast_recipients SET reminders = reminders + 1, next_reminder_at = $4 \
             WHERE broadcast_id = $1 AND user_id = $2 AND next_reminder_at = $3 \
             AND acknowledged_at IS NULL",
        )
        .bind(due.broadcast_id.to_string())
        .bind(due.user_id.to_string())
        .bind(to_millis(due.next_reminder_at))
        .bind(to_millis(next_at));
        change_once(&self.pool, claim, &audit).await
    }
}

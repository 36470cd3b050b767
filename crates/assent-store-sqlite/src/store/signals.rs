//! What the fatigue defense and the risk engine read: prompt counts, the last approval, push
//! suspensions, request history, network reports and a request's first delivery.

use super::SqliteStore;
use super::audit::append_audit;
use crate::connection::backend;
use crate::rows;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{ApprovalId, UserId};
use assent_core::model::{PastApproval, Suspension, SuspensionReason};
use assent_core::store::{SignalStore, Turn};
use async_trait::async_trait;
use rusqlite::params;
use time::OffsetDateTime;

/// A user's last approval: one step down the partial index `approvals_user_approved`.
pub(crate) const LAST_APPROVED_AT: &str =
    "SELECT MAX(decided_at) FROM approvals WHERE user_id = ?1 AND state = 'approved'";

/// A user's recent requests, newest first, from the index that holds all the risk engine reads of
/// them: a few contiguous index pages instead of one table page per past request (each a `pread`
/// once another connection has committed, since a WAL reader then starts with an empty cache).
pub(crate) const REQUEST_HISTORY: &str =
    "SELECT state, created_at, decided_at, origin FROM approvals INDEXED BY approvals_user_history
     WHERE user_id = ?1 AND created_at >= ?2 ORDER BY created_at DESC LIMIT ?3";

/// How many requests a user was sent since a time (the prompt budget).
pub(crate) const PROMPTS_SINCE: &str =
    "SELECT COUNT(*) FROM approvals WHERE user_id = ?1 AND created_at > ?2";

#[async_trait]
impl SignalStore for SqliteStore {
    async fn prompts_since(&self, user: &UserId, since: OffsetDateTime) -> Result<u64, StoreError> {
        let user = user.to_string();
        let count: i64 = self
            .read(move |c| {
                c.prepare_cached(PROMPTS_SINCE)?
                    .query_row(params![user, to_millis(since)], |r| r.get(0))
            })
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }

    async fn last_approved_at(&self, user: &UserId) -> Result<Option<OffsetDateTime>, StoreError> {
        let user = user.to_string();
        let at: Option<i64> = self
            .read(move |c| {
                c.prepare_cached(LAST_APPROVED_AT)?
                    .query_row([user], |r| r.get(0))
            })
            .await?;
        Ok(at.map(assent_core::clock::from_millis))
    }

    async fn suspension(&self, user: &UserId) -> Result<Option<Suspension>, StoreError> {
        let sql =
            "SELECT user_id, until, reason, created_at FROM push_suspensions WHERE user_id = ?1";
        self.one(sql.to_owned(), user.to_string(), |r| {
            Ok(Suspension {
                user_id: UserId::from_stored(r.get(0)?),
                until: assent_core::clock::from_millis(r.get(1)?),
                reason: SuspensionReason::parse(&r.get::<_, String>(2)?)
                    .ok_or_else(|| crate::rows::corrupt("suspension reason"))?,
                created_at: assent_core::clock::from_millis(r.get(3)?),
            })
        })
        .await
    }

    async fn prompt_turn(&self, user: &UserId) -> Result<Turn, StoreError> {
        Ok(Turn::new(self.turns.enter(user).await))
    }

    async fn claim_pattern_alert(
        &self,
        detector: &str,
        user: &UserId,
        at: OffsetDateTime,
        quiet_since: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let (detector, user) = (detector.to_owned(), user.to_string());
        self.write(move |c| {
            let changed = c
                .prepare_cached(
                    "INSERT INTO pattern_alerts (detector, user_id, last_at) VALUES (?1, ?2, ?3)
                     ON CONFLICT (detector, user_id) DO UPDATE SET last_at = excluded.last_at
                     WHERE pattern_alerts.last_at <= ?4",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        detector,
                        user,
                        to_millis(at),
                        to_millis(quiet_since)
                    ])
                })
                .map_err(backend)?;
            Ok(changed == 1)
        })
        .await
    }

    async fn suspend(&self, s: &Suspension, audit: PendingAudit) -> Result<(), StoreError> {
        let s = s.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO push_suspensions (user_id, until, reason, created_at) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (user_id) DO UPDATE SET until = excluded.until, reason = excluded.reason,
                    created_at = excluded.created_at",
            )
            .and_then(|mut st| {
                st.execute(params![s.user_id.as_str(), to_millis(s.until), s.reason.as_str(), to_millis(s.created_at)])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn request_history(
        &self,
        user: &UserId,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<PastApproval>, StoreError> {
        let user = user.to_string();
        self.read_heavy(move |c| {
            c.prepare_cached(REQUEST_HISTORY)?
                .query_map(params![user, to_millis(since), limit], rows::past_approval)?
                .collect()
        })
        .await
    }

    async fn record_network_report(
        &self,
        network: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let network = network.to_owned();
        self.write(move |c| {
            c.prepare_cached("INSERT INTO network_reports (network, reported_at) VALUES (?1, ?2)")
                .and_then(|mut s| s.execute(params![network, to_millis(at)]))
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn network_reports_since(
        &self,
        network: &str,
        since: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let network = network.to_owned();
        let n: i64 = self
            .read(move |c| {
                c.prepare_cached(
                    "SELECT COUNT(*) FROM network_reports WHERE network = ?1 AND reported_at >= ?2",
                )?
                .query_row(params![network, to_millis(since)], |r| r.get(0))
            })
            .await?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn first_delivery_at(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let approval = approval.to_string();
        let at: Option<i64> = self
            .read(move |c| {
                c.prepare_cached("SELECT MIN(at) FROM deliveries WHERE approval_id = ?1")?
                    .query_row([approval], |r| r.get(0))
            })
            .await?;
        Ok(at.map(assent_core::clock::from_millis))
    }
}

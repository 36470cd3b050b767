//! What the fatigue defense and the risk engine read: prompt counts, the last approval, push
//! suspensions, request history, network reports and a request's first delivery.

use super::{execute, write_audited};
use crate::error::backend;
use crate::rows::{self};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::{from_millis, to_millis};
use assent_core::ids::{ApprovalId, UserId};
use assent_core::model::{PastApproval, Suspension};
use assent_core::store::{SignalStore, Turn};
use async_trait::async_trait;
use time::OffsetDateTime;

fn count(n: i64) -> u64 {
    u64::try_from(n).unwrap_or(0)
}

#[async_trait]
impl SignalStore for PostgresStore {
    async fn prompts_since(&self, user: &UserId, since: OffsetDateTime) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM approvals WHERE user_id = $1 AND created_at > $2",
        )
        .bind(user.as_str())
        .bind(to_millis(since))
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(count(n))
    }

    async fn prompt_turn(&self, user: &UserId) -> Result<Turn, StoreError> {
        self.take_prompt_turn(user).await
    }

    /// One statement: the insert of a first alert, or the update of one that is old enough, is
    /// the claim; a concurrent claimer of the same row waits for the first to commit and then
    /// finds the row too recent, so exactly one wins.
    async fn claim_pattern_alert(
        &self,
        detector: &str,
        user: &UserId,
        at: OffsetDateTime,
        quiet_since: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let claim = sqlx::query(
            "INSERT INTO pattern_alerts (detector, user_id, last_at) VALUES ($1, $2, $3)
             ON CONFLICT (detector, user_id) DO UPDATE SET last_at = excluded.last_at
             WHERE pattern_alerts.last_at <= $4",
        )
        .bind(detector.to_owned())
        .bind(user.to_string())
        .bind(to_millis(at))
        .bind(to_millis(quiet_since));
        Ok(execute(&self.pool, claim).await? == 1)
    }

    async fn last_approved_at(&self, user: &UserId) -> Result<Option<OffsetDateTime>, StoreError> {
        let at: Option<i64> = sqlx::query_scalar(
            "SELECT max(decided_at) FROM approvals WHERE user_id = $1 AND state = 'approved'",
        )
        .bind(user.as_str())
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(at.map(from_millis))
    }

    async fn suspension(&self, user: &UserId) -> Result<Option<Suspension>, StoreError> {
        sqlx::query(
            "SELECT user_id, until, reason, created_at FROM push_suspensions WHERE user_id = $1",
        )
        .bind(user.as_str())
        .try_map(rows::suspension)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn suspend(&self, s: &Suspension, audit: PendingAudit) -> Result<(), StoreError> {
        let upsert = sqlx::query(
            "INSERT INTO push_suspensions (user_id, until, reason, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (user_id) DO UPDATE SET until = excluded.until, reason = excluded.reason,
                created_at = excluded.created_at",
        )
        .bind(s.user_id.to_string())
        .bind(to_millis(s.until))
        .bind(s.reason.as_str())
        .bind(to_millis(s.created_at));
        write_audited(&self.pool, vec![upsert], &audit).await
    }

    async fn request_history(
        &self,
        user: &UserId,
        since: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<PastApproval>, StoreError> {
        sqlx::query(
            "SELECT state, created_at, decided_at, context FROM approvals
             WHERE user_id = $1 AND created_at >= $2 ORDER BY created_at DESC, id DESC LIMIT $3",
        )
        .bind(user.as_str())
        .bind(to_millis(since))
        .bind(i64::from(limit))
        .try_map(rows::past_approval)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn record_network_report(
        &self,
        network: &str,
        at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let insert =
            sqlx::query("INSERT INTO network_reports (network, reported_at) VALUES ($1, $2)")
                .bind(network.to_owned())
                .bind(to_millis(at));
        execute(&self.pool, insert).await.map(drop)
    }

    async fn network_reports_since(
        &self,
        network: &str,
        since: OffsetDateTime,
    ) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM network_reports WHERE network = $1 AND reported_at >= $2",
        )
        .bind(network)
        .bind(to_millis(since))
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(count(n))
    }

    async fn first_delivery_at(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<OffsetDateTime>, StoreError> {
        let at: Option<i64> =
            sqlx::query_scalar("SELECT MIN(at) FROM deliveries WHERE approval_id = $1")
                .bind(approval.as_str())
                .fetch_one(&self.pool)
                .await
                .map_err(backend)?;
        Ok(at.map(from_millis))
    }
}

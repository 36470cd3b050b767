//! Approval requests: creation, reads, the conditional final write, and deliveries.

use super::devices::{proof_id, touch};
use super::{begin, commit_audited, run, settle, write_audited};
use crate::error::backend;
use crate::rows::{self, approval_columns, to_json};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{ApprovalId, DeviceId, UserId};
use assent_core::model::{Approval, DeliveryChannel, EndReason, Outcome, ProofUse};
use assent_core::outbox::pushes::PushJob;
use assent_core::store::ApprovalStore;
use async_trait::async_trait;
use time::OffsetDateTime;

/// Records a delivery unless this device already had it by this channel.
fn delivery(
    approval: &ApprovalId,
    device: &DeviceId,
    channel: DeliveryChannel,
    audit: &PendingAudit,
) -> super::Query {
    sqlx::query(
        "INSERT INTO deliveries (approval_id, device_id, channel, at) VALUES ($1, $2, $3, $4)
         ON CONFLICT DO NOTHING",
    )
    .bind(approval.to_string())
    .bind(device.to_string())
    .bind(channel.as_str())
    .bind(to_millis(audit.at))
}

#[async_trait]
impl ApprovalStore for PostgresStore {
    async fn insert_approval(
        &self,
        a: &Approval,
        pushes: &[PushJob],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO approvals (id, app_id, user_id, kind, binding_message, authorization_details,
                context, nonce, code_length, code_digest, state, created_at, expires_at,
                user_verification, risk, policy_rule, approvals_required, approver_groups)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17,
                $18)",
        )
        .bind(a.id.to_string())
        .bind(a.app_id.to_string())
        .bind(a.user_id.to_string())
        .bind(a.kind.as_str())
        .bind(a.binding_message.clone())
        .bind(to_json(&a.authorization_details)?)
        .bind(to_json(&a.context)?)
        .bind(a.nonce.clone())
        .bind(a.code.as_ref().map(|c| i16::from(c.length)))
        .bind(a.code.as_ref().map(|c| c.digest.clone()))
        .bind(a.state.as_str())
        .bind(to_millis(a.created_at))
        .bind(to_millis(a.expires_at))
        .bind(a.user_verification)
        .bind(to_json(&a.risk)?)
        .bind(a.policy_rule.clone())
        .bind(a.quorum.as_ref().map_or(1, |q| q.approvals as i32))
        .bind(
            a.quorum
                .as_ref()
                .map(|q| to_json(&q.approver_groups))
                .transpose()?,
        );
        let mut queries = vec![insert];
        queries.extend(pushes.iter().map(super::pushes::insert_push));
        write_audited(&self.pool, queries, &audit).await
    }

    async fn approval(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            approval_columns!(),
            " FROM approvals WHERE id = $1"
        ))
        .bind(id.as_str())
        .try_map(rows::approval)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn pending_for_user(
        &self,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Approval>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            approval_columns!(),
            " FROM approvals WHERE user_id = $1 AND state = 'pending' AND expires_at > $2
              ORDER BY created_at, id"
        ))
        .bind(user.as_str())
        .bind(to_millis(now))
        .try_map(rows::approval)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn ended_for_user(&self, user: &UserId, limit: u32) -> Result<Vec<Approval>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            approval_columns!(),
            " FROM approvals WHERE user_id = $1 AND state <> 'pending' \
             ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(user.to_string())
        .bind(i64::from(limit))
        .try_map(rows::approval)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn pending_count(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM approvals WHERE state = 'pending' AND expires_at > $1",
        )
        .bind(to_millis(now))
        .fetch_one(&self.pool)
        .await
        .map_err(backend)?;
        Ok(u64::try_from(n).unwrap_or(0))
    }

    async fn due_for_expiry(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            approval_columns!(),
            " FROM approvals WHERE state = 'pending' AND expires_at <= $1 ORDER BY expires_at LIMIT $2"
        ))
        .bind(to_millis(now))
        .bind(i64::from(limit))
        .try_map(rows::approval)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    /// The final state is written by one conditional update: an answer, a cancel and the expiry
    /// racing on different nodes all try it, the row lock orders them, and every one after the
    /// first finds the state no longer `pending` and changes nothing.
    async fn finalize(
        &self,
        id: &ApprovalId,
        o: &Outcome,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = begin(&self.pool).await?;
        let update = sqlx::query(
            "UPDATE approvals SET state = $2, reason = $3, decided_at = $4, device_id = $5,
                statement = $6, receipt = $7
             WHERE id = $1 AND state = 'pending'",
        )
        .bind(id.to_string())
        .bind(o.state.as_str())
        .bind(o.reason.map(EndReason::as_str))
        .bind(to_millis(o.decided_at))
        .bind(o.device_id.as_ref().map(DeviceId::to_string))
        .bind(o.statement.clone())
        .bind(o.receipt.clone());
        let changed = run(&mut tx, update).await? == 1;
        if changed && let Some(device) = &o.device_id {
            // An answer is the device proving itself: it was seen.
            run(&mut tx, touch(device, o.decided_at)).await?;
        }
        if changed && let Some(network) = &o.reported_network {
            let report =
                sqlx::query("INSERT INTO network_reports (network, reported_at) VALUES ($1, $2)")
                    .bind(network.clone())
                    .bind(to_millis(o.decided_at));
            run(&mut tx, report).await?;
        }
        settle(tx, changed, &audit).await
    }

    /// The delivery row's primary key decides "first time" (`ON CONFLICT DO NOTHING`): of two
    /// nodes recording the same delivery, one inserts and audits, the other waits for it and
    /// inserts nothing.
    async fn record_delivery(
        &self,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let mut tx = begin(&self.pool).await?;
        let inserted = run(&mut tx, delivery(approval, device, channel, &audit)).await? == 1;
        settle(tx, inserted, &audit).await
    }

    /// The proof id and the delivery in one transaction; `None`, with nothing written, for a
    /// proof id already used.
    async fn record_delivery_with_proof(
        &self,
        proof: &ProofUse,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<Option<bool>, StoreError> {
        let mut tx = begin(&self.pool).await?;
        if run(
            &mut tx,
            proof_id(&proof.jkt, &proof.jti, proof.forget_after),
        )
        .await?
            != 1
        {
            tx.rollback().await.map_err(backend)?;
            return Ok(None);
        }
        let inserted = run(&mut tx, delivery(approval, device, channel, &audit)).await? == 1;
        if inserted {
            commit_audited(tx, &audit).await?;
        } else {
            // Not the first delivery, but the proof id is recorded all the same.
            tx.commit().await.map_err(backend)?;
        }
        Ok(Some(inserted))
    }
}

//! Approval requests: creation, reads, the conditional final write, and deliveries.

use super::SqliteStore;
use super::audit::append_audit;
use super::devices::{insert_proof_id, touch};
use super::pushes::insert_pushes;
use crate::connection::backend;
use crate::rows::{self, to_json};
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::ids::{ApprovalId, DeviceId, UserId};
use assent_core::model::{Approval, DeliveryChannel, EndReason, Outcome, ProofUse, origin_of};
use assent_core::outbox::pushes::PushJob;
use assent_core::store::ApprovalStore;
use async_trait::async_trait;
use rusqlite::{Connection, params};
use time::OffsetDateTime;

/// A user's pending requests. `INDEXED BY` because, with no statistics, SQLite chose the index of
/// all the user's requests (`approvals_user_created`) over the partial one of pending requests,
/// and so read the user's whole history on every new request and every device-stream update.
pub(crate) fn pending_for_user_sql() -> String {
    format!(
        "SELECT {} FROM approvals INDEXED BY approvals_pending_user
         WHERE user_id = ?1 AND state = 'pending' AND expires_at > ?2 ORDER BY created_at",
        rows::APPROVAL_COLUMNS
    )
}

/// Records a delivery, with its audit row the first time per device and channel; returns
/// whether it was the first time.
fn insert_delivery(
    c: &Connection,
    approval: &ApprovalId,
    device: &DeviceId,
    channel: DeliveryChannel,
    audit: &PendingAudit,
) -> Result<bool, StoreError> {
    let inserted = c
        .prepare_cached(
            "INSERT INTO deliveries (approval_id, device_id, channel, at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT DO NOTHING",
        )
        .and_then(|mut s| {
            s.execute(params![
                approval.as_str(),
                device.as_str(),
                channel.as_str(),
                to_millis(audit.at)
            ])
        })
        .map_err(backend)?;
    if inserted == 1 {
        append_audit(c, audit)?;
    }
    Ok(inserted == 1)
}

#[async_trait]
impl ApprovalStore for SqliteStore {
    async fn insert_approval(
        &self,
        a: &Approval,
        pushes: &[PushJob],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let a = a.clone();
        let pushes = pushes.to_vec();
        let details = to_json(&a.authorization_details)?;
        let context = to_json(&a.context)?;
        let origin = to_json(&origin_of(&a.context))?;
        let risk = to_json(&a.risk)?;
        let approver_groups = a
            .quorum
            .as_ref()
            .map(|q| to_json(&q.approver_groups))
            .transpose()?;
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO approvals (id, app_id, user_id, kind, binding_message, authorization_details,
                    context, nonce, code_length, code_digest, state, created_at, expires_at,
                    user_verification, risk, policy_rule, origin, approvals_required, approver_groups)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17,
                    ?18, ?19)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    a.id.as_str(),
                    a.app_id.as_str(),
                    a.user_id.as_str(),
                    a.kind.as_str(),
                    a.binding_message,
                    details,
                    context,
                    a.nonce,
                    a.code.as_ref().map(|c| c.length),
                    a.code.as_ref().map(|c| c.digest.as_slice()),
                    a.state.as_str(),
                    to_millis(a.created_at),
                    to_millis(a.expires_at),
                    a.user_verification,
                    risk,
                    a.policy_rule,
                    origin,
                    a.quorum.as_ref().map_or(1, |q| q.approvals),
                    approver_groups
                ])
            })
            .map_err(backend)?;
            insert_pushes(c, &pushes)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn approval(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError> {
        if let Some(approval) = self.memo.approval(id) {
            return Ok(Some(approval));
        }
        let ticket = self.memo.ticket();
        let found = self.approval_as_stored(id).await?;
        if let Some(approval) = &found {
            self.memo.keep_approval(ticket, approval);
        }
        Ok(found)
    }

    async fn approval_as_stored(&self, id: &ApprovalId) -> Result<Option<Approval>, StoreError> {
        let sql = format!(
            "SELECT {} FROM approvals WHERE id = ?1",
            rows::APPROVAL_COLUMNS
        );
        self.one(sql, id.to_string(), rows::approval).await
    }

    async fn pending_for_user(
        &self,
        user: &UserId,
        now: OffsetDateTime,
    ) -> Result<Vec<Approval>, StoreError> {
        let sql = pending_for_user_sql();
        let user = user.to_string();
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![user, to_millis(now)], rows::approval)?
                .collect()
        })
        .await
    }

    async fn ended_for_user(&self, user: &UserId, limit: u32) -> Result<Vec<Approval>, StoreError> {
        let sql = format!(
            "SELECT {} FROM approvals INDEXED BY approvals_user_history \
             WHERE user_id = ?1 AND state != 'pending' ORDER BY created_at DESC, id DESC LIMIT ?2",
            rows::APPROVAL_COLUMNS
        );
        let user = user.to_string();
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![user, limit], rows::approval)?
                .collect()
        })
        .await
    }

    async fn pending_count(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.read(move |c| {
            c.prepare_cached(
                "SELECT count(*) FROM approvals INDEXED BY approvals_pending_expiry \
                 WHERE state = 'pending' AND expires_at > ?1",
            )?
            .query_row([to_millis(now)], |r| r.get::<_, i64>(0))
            .map(|n| u64::try_from(n).unwrap_or(0))
        })
        .await
    }

    async fn due_for_expiry(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<Approval>, StoreError> {
        let sql = format!(
            "SELECT {} FROM approvals WHERE state = 'pending' AND expires_at <= ?1 ORDER BY expires_at LIMIT ?2",
            rows::APPROVAL_COLUMNS
        );
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![to_millis(now), limit], rows::approval)?
                .collect()
        })
        .await
    }

    async fn finalize(
        &self,
        id: &ApprovalId,
        o: &Outcome,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (id, o) = (id.clone(), o.clone());
        let (memo, forget) = (self.memo.clone(), id.clone());
        let device = o.device_id.clone();
        // After a failure, forget both: a savepoint that could not roll back leaves the job's
        // writes in the transaction.
        let forget_changes = move |written: &Result<(bool, bool), StoreError>| {
            let (changed, touched) = written.as_ref().map_or((true, true), |w| *w);
            if changed {
                memo.forget_approval(&forget);
            }
            if let (true, Some(device)) = (touched, &device) {
                memo.forget_device(device);
            }
        };
        let written = self.write_then(
            move |c| {
                let changed = c
                .prepare_cached(
                    "UPDATE approvals SET state = ?2, reason = ?3, decided_at = ?4, device_id = ?5,
                        statement = ?6, receipt = ?7
                     WHERE id = ?1 AND state = 'pending'",
                )
                .and_then(|mut s| {
                    s.execute(params![
                        id.as_str(),
                        o.state.as_str(),
                        o.reason.map(EndReason::as_str),
                        to_millis(o.decided_at),
                        o.device_id.as_ref().map(DeviceId::as_str),
                        o.statement,
                        o.receipt
                    ])
                })
                .map_err(backend)?;
                let mut touched = false;
                if changed == 1 {
                    if let Some(device) = &o.device_id {
                        // An answer is the device proving itself: it was seen.
                        touched = touch(c, device, o.decided_at)?;
                    }
                    if let Some(network) = &o.reported_network {
                        c.prepare_cached(
                            "INSERT INTO network_reports (network, reported_at) VALUES (?1, ?2)",
                        )
                        .and_then(|mut s| s.execute(params![network, to_millis(o.decided_at)]))
                        .map_err(backend)?;
                    }
                    append_audit(c, &audit)?;
                }
                Ok((changed == 1, touched))
            },
            forget_changes,
        );
        written.await.map(|(changed, _)| changed)
    }

    async fn record_delivery(
        &self,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (approval, device) = (approval.clone(), device.clone());
        self.write(move |c| insert_delivery(c, &approval, &device, channel, &audit))
            .await
    }

    async fn record_delivery_with_proof(
        &self,
        proof: &ProofUse,
        approval: &ApprovalId,
        device: &DeviceId,
        channel: DeliveryChannel,
        audit: PendingAudit,
    ) -> Result<Option<bool>, StoreError> {
        let (proof, approval, device) = (proof.clone(), approval.clone(), device.clone());
        self.write(move |c| {
            if !insert_proof_id(c, &proof.jkt, &proof.jti, proof.forget_after)? {
                return Ok(None);
            }
            insert_delivery(c, &approval, &device, channel, &audit).map(Some)
        })
        .await
    }
}

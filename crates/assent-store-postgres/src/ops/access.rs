//! Access requests on PostgreSQL: the request and its approvers in one transaction with the
//! audit row; the ending and the revocation as conditional updates, so one writer wins on any
//! node.

use super::{begin, change_once, commit_audited, run, settle, write_audited};
use crate::error::{backend, corrupt};
use crate::rows::to_json;
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::access::records::{
    AccessEnding, AccessReason, AccessRequest, AccessState, Approver, BreakGlass, Grant,
    HeldApproval,
};
use assent_core::audit::PendingAudit;
use assent_core::clock::{from_millis, to_millis};
use assent_core::ids::{AccessRequestId, AppId, ApprovalId, DeviceId, UserId};
use assent_core::store::AccessStore;
use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::PgRow;
use time::OffsetDateTime;

macro_rules! columns {
    () => {
        "id, app_id, requester_id, privilege, justification, grant_seconds, approvals_required, \
         denials_required, state, reason, created_at, expires_at, decided_at, grant_id, \
         grant_token, grant_not_before, grant_expires_at, grant_revoked_at, grant_revoked_by, \
         break_glass_reason, reviewed_at, reviewed_by, review_note, policy_rule, \
         held_approval_id, held_device_id, held_statement, held_user_verification"
    };
}

fn count(row: &PgRow, i: usize, what: &str) -> Result<u32, sqlx::Error> {
    u32::try_from(row.try_get::<i64, _>(i)?).map_err(|_| corrupt(what))
}

fn request(row: PgRow) -> Result<AccessRequest, sqlx::Error> {
    let privilege: String = row.try_get(3)?;
    let state: String = row.try_get(8)?;
    let reason: Option<String> = row.try_get(9)?;
    let opt_time = |i: usize| -> Result<Option<OffsetDateTime>, sqlx::Error> {
        Ok(row.try_get::<Option<i64>, _>(i)?.map(from_millis))
    };
    let grant = match row.try_get::<Option<String>, _>(13)? {
        Some(id) => Some(Grant {
            id,
            token: row.try_get(14)?,
            not_before: from_millis(row.try_get(15)?),
            expires_at: from_millis(row.try_get(16)?),
            revoked_at: opt_time(17)?,
            revoked_by: row.try_get(18)?,
        }),
        None => None,
    };
    Ok(AccessRequest {
        id: AccessRequestId::from_stored(row.try_get(0)?),
        app_id: AppId::from_stored(row.try_get(1)?),
        requester: UserId::from_stored(row.try_get(2)?),
        privilege: serde_json::from_str(&privilege).map_err(|_| corrupt("privilege"))?,
        justification: row.try_get(4)?,
        grant_seconds: count(&row, 5, "grant seconds")?,
        approvals_required: count(&row, 6, "approvals required")?,
        denials_required: count(&row, 7, "denials required")?,
        state: AccessState::parse(&state).ok_or_else(|| corrupt("access state"))?,
        reason: match reason {
            Some(r) => Some(AccessReason::parse(&r).ok_or_else(|| corrupt("access reason"))?),
            None => None,
        },
        created_at: from_millis(row.try_get(10)?),
        expires_at: from_millis(row.try_get(11)?),
        decided_at: opt_time(12)?,
        grant,
        break_glass: match row.try_get::<Option<String>, _>(19)? {
            Some(reason) => Some(BreakGlass {
                reason,
                reviewed_at: opt_time(20)?,
                reviewed_by: row.try_get(21)?,
                review_note: row.try_get(22)?,
            }),
            None => None,
        },
        policy_rule: row.try_get(23)?,
        holds: match row.try_get::<Option<String>, _>(24)? {
            Some(approval_id) => Some(HeldApproval {
                approval_id: ApprovalId::from_stored(approval_id),
                device_id: DeviceId::from_stored(row.try_get(25)?),
                statement: row.try_get(26)?,
                user_verification: row.try_get(27)?,
            }),
            None => None,
        },
    })
}

fn approver(row: PgRow) -> Result<Approver, sqlx::Error> {
    Ok(Approver {
        user_id: UserId::from_stored(row.try_get(0)?),
        approval_id: row
            .try_get::<Option<String>, _>(1)?
            .map(ApprovalId::from_stored),
        unreachable: row.try_get(2)?,
    })
}

#[async_trait]
impl AccessStore for PostgresStore {
    async fn insert_access_request(
        &self,
        request: &AccessRequest,
        approvers: &[Approver],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let held = request.holds.as_ref();
        let mut tx = begin(&self.pool).await?;
        let insert = sqlx::query(
            "INSERT INTO access_requests (id, app_id, requester_id, privilege, justification, \
             grant_seconds, approvals_required, denials_required, state, created_at, expires_at, \
             policy_rule, held_approval_id, held_device_id, held_statement, \
             held_user_verification) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'pending', $9, $10, $11, $12, $13, $14, $15)",
        )
        .bind(request.id.to_string())
        .bind(request.app_id.to_string())
        .bind(request.requester.to_string())
        .bind(to_json(&request.privilege)?)
        .bind(request.justification.clone())
        .bind(i64::from(request.grant_seconds))
        .bind(i64::from(request.approvals_required))
        .bind(i64::from(request.denials_required))
        .bind(to_millis(request.created_at))
        .bind(to_millis(request.expires_at))
        .bind(request.policy_rule.clone())
        .bind(held.map(|h| h.approval_id.to_string()))
        .bind(held.map(|h| h.device_id.to_string()))
        .bind(held.map(|h| h.statement.clone()))
        .bind(held.and_then(|h| h.user_verification.clone()));
        run(&mut tx, insert).await?;
        for (position, a) in approvers.iter().enumerate() {
            let insert = sqlx::query(
                "INSERT INTO access_approvers (request_id, position, user_id, approval_id, \
                 unreachable) VALUES ($1, $2, $3, $4, $5)",
            )
            .bind(request.id.to_string())
            .bind(position as i64)
            .bind(a.user_id.to_string())
            .bind(a.approval_id.as_ref().map(ToString::to_string))
            .bind(a.unreachable.clone());
            run(&mut tx, insert).await?;
        }
        commit_audited(tx, &audit).await
    }

    async fn access_request(
        &self,
        id: &AccessRequestId,
    ) -> Result<Option<AccessRequest>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM access_requests WHERE id = $1"
        ))
        .bind(id.to_string())
        .try_map(request)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn access_approvers(&self, id: &AccessRequestId) -> Result<Vec<Approver>, StoreError> {
        sqlx::query(
            "SELECT user_id, approval_id, unreachable FROM access_approvers \
             WHERE request_id = $1 ORDER BY position",
        )
        .bind(id.to_string())
        .try_map(approver)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn access_request_of_approval(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<AccessRequestId>, StoreError> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT request_id FROM access_approvers WHERE approval_id = $1")
                .bind(approval.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(id.map(AccessRequestId::from_stored))
    }

    async fn access_request_holding(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<AccessRequestId>, StoreError> {
        let id: Option<String> =
            sqlx::query_scalar("SELECT id FROM access_requests WHERE held_approval_id = $1")
                .bind(approval.to_string())
                .fetch_optional(&self.pool)
                .await
                .map_err(backend)?;
        Ok(id.map(AccessRequestId::from_stored))
    }

    async fn end_access_request(
        &self,
        id: &AccessRequestId,
        ending: &AccessEnding,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let grant = ending.grant.as_ref();
        let mut tx = begin(&self.pool).await?;
        if let Some(used) = &ending.break_glass {
            // Spent or replaced meanwhile: the transaction rolls back, nothing is written.
            let spend = sqlx::query("DELETE FROM break_glass_code WHERE id = 1 AND hash = $1")
                .bind(used.code_hash.clone());
            if run(&mut tx, spend).await? != 1 {
                return settle(tx, false, &audit).await;
            }
        }
        let end = sqlx::query(
            "UPDATE access_requests SET state = $2, reason = $3, decided_at = $4, grant_id = $5, \
             grant_token = $6, grant_not_before = $7, grant_expires_at = $8, \
             break_glass_reason = $9 WHERE id = $1 AND state = 'pending'",
        )
        .bind(id.to_string())
        .bind(ending.reason.state().as_str())
        .bind(ending.reason.as_str())
        .bind(to_millis(ending.at))
        .bind(grant.map(|g| g.id.clone()))
        .bind(grant.map(|g| g.token.clone()))
        .bind(grant.map(|g| to_millis(g.not_before)))
        .bind(grant.map(|g| to_millis(g.expires_at)))
        .bind(ending.break_glass.as_ref().map(|b| b.reason.clone()));
        let ended = run(&mut tx, end).await? == 1;
        settle(tx, ended, &audit).await
    }

    async fn revoke_access_grant(
        &self,
        id: &AccessRequestId,
        at: OffsetDateTime,
        by: &str,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let revoke = sqlx::query(
            "UPDATE access_requests SET grant_revoked_at = $2, grant_revoked_by = $3 \
             WHERE id = $1 AND state = 'granted' AND grant_revoked_at IS NULL",
        )
        .bind(id.to_string())
        .bind(to_millis(at))
        .bind(by.to_owned());
        change_once(&self.pool, revoke, &audit).await
    }

    async fn access_request_by_grant(
        &self,
        grant_id: &str,
    ) -> Result<Option<AccessRequest>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM access_requests WHERE grant_id = $1"
        ))
        .bind(grant_id.to_owned())
        .try_map(request)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn access_requests_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM access_requests WHERE state = 'pending' AND expires_at <= $1 \
             ORDER BY expires_at LIMIT $2"
        ))
        .bind(to_millis(now))
        .bind(i64::from(limit))
        .try_map(request)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn set_break_glass_code(
        &self,
        hash: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let set = sqlx::query(
            "INSERT INTO break_glass_code (id, hash, created_at) VALUES (1, $1, $2) \
             ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at",
        )
        .bind(hash.to_owned())
        .bind(to_millis(at));
        write_audited(&self.pool, vec![set], &audit).await
    }

    async fn break_glass_code(&self) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT hash FROM break_glass_code WHERE id = 1")
            .fetch_optional(&self.pool)
            .await
            .map_err(backend)
    }

    async fn review_break_glass(
        &self,
        id: &AccessRequestId,
        at: OffsetDateTime,
        by: &str,
        note: &str,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let review = sqlx::query(
            "UPDATE access_requests SET reviewed_at = $2, reviewed_by = $3, review_note = $4 \
             WHERE id = $1 AND break_glass_reason IS NOT NULL AND reviewed_at IS NULL",
        )
        .bind(id.to_string())
        .bind(to_millis(at))
        .bind(by.to_owned())
        .bind(note.to_owned());
        change_once(&self.pool, review, &audit).await
    }

    async fn unreviewed_break_glass(&self, limit: u32) -> Result<Vec<AccessRequest>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            columns!(),
            " FROM access_requests WHERE break_glass_reason IS NOT NULL AND reviewed_at IS NULL \
             ORDER BY decided_at LIMIT $1"
        ))
        .bind(i64::from(limit))
        .try_map(request)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }
}

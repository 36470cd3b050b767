//! Access requests on SQLite: the request and its approvers in one savepoint with the audit
//! row; the ending and the revocation as conditional updates, so one writer wins.

use super::audit::append_audit;
use super::{SqliteStore, change_once};
use crate::connection::backend;
use crate::rows::corrupt;
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
use rusqlite::{OptionalExtension, Row, params};
use time::OffsetDateTime;

const COLUMNS: &str = "id, app_id, requester_id, privilege, justification, grant_seconds, \
    approvals_required, denials_required, state, reason, created_at, expires_at, decided_at, \
    grant_id, grant_token, grant_not_before, grant_expires_at, grant_revoked_at, grant_revoked_by, \
    break_glass_reason, reviewed_at, reviewed_by, review_note, policy_rule, held_approval_id, \
    held_device_id, held_statement, held_user_verification";

const INSERT: &str = "INSERT INTO access_requests (id, app_id, requester_id, privilege, \
    justification, grant_seconds, approvals_required, denials_required, state, created_at, \
    expires_at, policy_rule, held_approval_id, held_device_id, held_statement, \
    held_user_verification) \
    VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, 'pending', ?9, ?10, ?11, ?12, ?13, ?14, ?15)";

const INSERT_APPROVER: &str = "INSERT INTO access_approvers (request_id, position, user_id, \
    approval_id, unreachable) VALUES (?1, ?2, ?3, ?4, ?5)";

/// Only a pending request ends, once.
const END: &str = "UPDATE access_requests SET state = ?2, reason = ?3, decided_at = ?4, \
    grant_id = ?5, grant_token = ?6, grant_not_before = ?7, grant_expires_at = ?8, \
    break_glass_reason = ?9 WHERE id = ?1 AND state = 'pending'";

/// A break-glass code is spent once: only while it is still the stored one.
const SPEND_CODE: &str = "DELETE FROM break_glass_code WHERE id = 1 AND hash = ?1";

/// Only a break-glass grant not yet reviewed is reviewed, once.
const REVIEW: &str = "UPDATE access_requests SET reviewed_at = ?2, reviewed_by = ?3, \
    review_note = ?4 WHERE id = ?1 AND break_glass_reason IS NOT NULL AND reviewed_at IS NULL";

/// Only a grant not yet revoked is revoked, once.
const REVOKE: &str = "UPDATE access_requests SET grant_revoked_at = ?2, grant_revoked_by = ?3 \
    WHERE id = ?1 AND state = 'granted' AND grant_revoked_at IS NULL";

fn request(row: &Row<'_>) -> rusqlite::Result<AccessRequest> {
    let privilege: String = row.get(3)?;
    let state: String = row.get(8)?;
    let reason: Option<String> = row.get(9)?;
    let grant_id: Option<String> = row.get(13)?;
    let grant = match grant_id {
        Some(id) => Some(Grant {
            id,
            token: row.get(14)?,
            not_before: from_millis(row.get(15)?),
            expires_at: from_millis(row.get(16)?),
            revoked_at: row.get::<_, Option<i64>>(17)?.map(from_millis),
            revoked_by: row.get(18)?,
        }),
        None => None,
    };
    Ok(AccessRequest {
        id: AccessRequestId::from_stored(row.get(0)?),
        app_id: AppId::from_stored(row.get(1)?),
        requester: UserId::from_stored(row.get(2)?),
        privilege: serde_json::from_str(&privilege).map_err(|_| corrupt("privilege"))?,
        justification: row.get(4)?,
        grant_seconds: row.get(5)?,
        approvals_required: row.get(6)?,
        denials_required: row.get(7)?,
        state: AccessState::parse(&state).ok_or_else(|| corrupt("access state"))?,
        reason: match reason {
            Some(r) => Some(AccessReason::parse(&r).ok_or_else(|| corrupt("access reason"))?),
            None => None,
        },
        created_at: from_millis(row.get(10)?),
        expires_at: from_millis(row.get(11)?),
        decided_at: row.get::<_, Option<i64>>(12)?.map(from_millis),
        grant,
        break_glass: match row.get::<_, Option<String>>(19)? {
            Some(reason) => Some(BreakGlass {
                reason,
                reviewed_at: row.get::<_, Option<i64>>(20)?.map(from_millis),
                reviewed_by: row.get(21)?,
                review_note: row.get(22)?,
            }),
            None => None,
        },
        policy_rule: row.get(23)?,
        holds: match row.get::<_, Option<String>>(24)? {
            Some(approval_id) => Some(HeldApproval {
                approval_id: ApprovalId::from_stored(approval_id),
                device_id: DeviceId::from_stored(row.get(25)?),
                statement: row.get(26)?,
                user_verification: row.get(27)?,
            }),
            None => None,
        },
    })
}

fn approver(row: &Row<'_>) -> rusqlite::Result<Approver> {
    Ok(Approver {
        user_id: UserId::from_stored(row.get(0)?),
        approval_id: row
            .get::<_, Option<String>>(1)?
            .map(ApprovalId::from_stored),
        unreachable: row.get(2)?,
    })
}

#[async_trait]
impl AccessStore for SqliteStore {
    async fn insert_access_request(
        &self,
        request: &AccessRequest,
        approvers: &[Approver],
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (request, approvers) = (request.clone(), approvers.to_vec());
        let privilege = serde_json::to_string(&request.privilege)
            .map_err(|e| StoreError::Backend(e.to_string()))?;
        self.write(move |c| {
            let held = request.holds.as_ref();
            c.prepare_cached(INSERT)
                .and_then(|mut s| {
                    s.execute(params![
                        request.id.as_str(),
                        request.app_id.as_str(),
                        request.requester.as_str(),
                        privilege,
                        request.justification,
                        request.grant_seconds,
                        request.approvals_required,
                        request.denials_required,
                        to_millis(request.created_at),
                        to_millis(request.expires_at),
                        request.policy_rule,
                        held.map(|h| h.approval_id.as_str()),
                        held.map(|h| h.device_id.as_str()),
                        held.map(|h| h.statement.as_str()),
                        held.and_then(|h| h.user_verification.as_deref()),
                    ])
                })
                .map_err(backend)?;
            let mut insert = c.prepare_cached(INSERT_APPROVER).map_err(backend)?;
            for (position, a) in approvers.iter().enumerate() {
                insert
                    .execute(params![
                        request.id.as_str(),
                        position as i64,
                        a.user_id.as_str(),
                        a.approval_id.as_ref().map(ApprovalId::as_str),
                        a.unreachable,
                    ])
                    .map_err(backend)?;
            }
            append_audit(c, &audit)
        })
        .await
    }

    async fn access_request(
        &self,
        id: &AccessRequestId,
    ) -> Result<Option<AccessRequest>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM access_requests WHERE id = ?1");
        self.one(sql, id.to_string(), request).await
    }

    async fn access_approvers(&self, id: &AccessRequestId) -> Result<Vec<Approver>, StoreError> {
        let id = id.to_string();
        self.read(move |c| {
            c.prepare_cached(
                "SELECT user_id, approval_id, unreachable FROM access_approvers \
                 WHERE request_id = ?1 ORDER BY position",
            )?
            .query_map([id], approver)?
            .collect()
        })
        .await
    }

    async fn access_request_of_approval(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<AccessRequestId>, StoreError> {
        let approval = approval.to_string();
        self.read(move |c| {
            c.prepare_cached("SELECT request_id FROM access_approvers WHERE approval_id = ?1")?
                .query_row([approval], |r| r.get(0).map(AccessRequestId::from_stored))
                .optional()
        })
        .await
    }

    async fn access_request_holding(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<AccessRequestId>, StoreError> {
        let approval = approval.to_string();
        self.read(move |c| {
            c.prepare_cached("SELECT id FROM access_requests WHERE held_approval_id = ?1")?
                .query_row([approval], |r| r.get(0).map(AccessRequestId::from_stored))
                .optional()
        })
        .await
    }

    async fn end_access_request(
        &self,
        id: &AccessRequestId,
        ending: &AccessEnding,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (id, ending) = (id.clone(), ending.clone());
        let spends_code = ending.break_glass.is_some();
        self.write(move |c| {
            let grant = ending.grant.as_ref();
            let break_glass = ending.break_glass.as_ref();
            if let Some(used) = break_glass {
                let spent = c
                    .prepare_cached(SPEND_CODE)
                    .and_then(|mut s| s.execute([used.code_hash.as_str()]))
                    .map_err(backend)?;
                if spent != 1 {
                    // Spent or replaced meanwhile: the savepoint rolls back, nothing is written.
                    return Err(StoreError::Conflict("the break-glass code is spent".into()));
                }
            }
            change_once(
                c,
                END,
                params![
                    id.as_str(),
                    ending.reason.state().as_str(),
                    ending.reason.as_str(),
                    to_millis(ending.at),
                    grant.map(|g| g.id.as_str()),
                    grant.map(|g| g.token.as_str()),
                    grant.map(|g| to_millis(g.not_before)),
                    grant.map(|g| to_millis(g.expires_at)),
                    break_glass.map(|b| b.reason.as_str()),
                ],
                &audit,
            )
            .and_then(|ended| {
                if break_glass.is_some() && !ended {
                    Err(StoreError::Conflict(
                        "the request is no longer pending".into(),
                    ))
                } else {
                    Ok(ended)
                }
            })
        })
        .await
        .or_else(|e| match e {
            StoreError::Conflict(_) if spends_code => Ok(false),
            e => Err(e),
        })
    }

    async fn revoke_access_grant(
        &self,
        id: &AccessRequestId,
        at: OffsetDateTime,
        by: &str,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (id, by) = (id.clone(), by.to_owned());
        self.write(move |c| change_once(c, REVOKE, params![id.as_str(), to_millis(at), by], &audit))
            .await
    }

    async fn access_request_by_grant(
        &self,
        grant_id: &str,
    ) -> Result<Option<AccessRequest>, StoreError> {
        let sql = format!("SELECT {COLUMNS} FROM access_requests WHERE grant_id = ?1");
        self.one(sql, grant_id.to_owned(), request).await
    }

    async fn access_requests_due(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<AccessRequest>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM access_requests WHERE state = 'pending' AND expires_at <= ?1 \
             ORDER BY expires_at LIMIT ?2"
        );
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![to_millis(now), limit], request)?
                .collect()
        })
        .await
    }

    async fn set_break_glass_code(
        &self,
        hash: &str,
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let hash = hash.to_owned();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO break_glass_code (id, hash, created_at) VALUES (1, ?1, ?2) \
                 ON CONFLICT (id) DO UPDATE SET hash = excluded.hash, created_at = excluded.created_at",
            )
            .and_then(|mut s| s.execute(params![hash, to_millis(at)]))
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn break_glass_code(&self) -> Result<Option<String>, StoreError> {
        self.read(|c| {
            c.prepare_cached("SELECT hash FROM break_glass_code WHERE id = 1")?
                .query_row([], |r| r.get(0))
                .optional()
        })
        .await
    }

    async fn review_break_glass(
        &self,
        id: &AccessRequestId,
        at: OffsetDateTime,
        by: &str,
        note: &str,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let (id, by, note) = (id.clone(), by.to_owned(), note.to_owned());
        self.write(move |c| {
            change_once(
                c,
                REVIEW,
                params![id.as_str(), to_millis(at), by, note],
                &audit,
            )
        })
        .await
    }

    async fn unreviewed_break_glass(&self, limit: u32) -> Result<Vec<AccessRequest>, StoreError> {
        let sql = format!(
            "SELECT {COLUMNS} FROM access_requests \
             WHERE break_glass_reason IS NOT NULL AND reviewed_at IS NULL \
             ORDER BY decided_at LIMIT ?1"
        );
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map([limit], request)?
                .collect()
        })
        .await
    }
}

//! Fixtures of the access-request and break-glass checks: requests, endings, grants and their
//! audit events, and the store calls the checks repeat.

use crate::support::{app, approval, audit, event, now, user};
use assent_core::Store;
use assent_core::access::records::{
    AccessEnding, AccessReason, AccessRequest, AccessState, Approver, BreakGlass, Grant,
};
use assent_core::audit::AuditEvent;
use assent_core::ids::{AccessRequestId, ApprovalId};
use assent_core::model::{App, AuditRecord, User};
use serde_json::json;
use std::sync::Arc;
use time::{Duration, OffsetDateTime};

/// A time with a millisecond part, so a store that kept only seconds would not read it back
/// equal.
pub(crate) fn base() -> OffsetDateTime {
    now().replace_millisecond(417).unwrap()
}

/// A pending request of `requester`'s through `app`, expiring `expires_in` from [`base`].
pub(crate) fn request(app: &App, requester: &User, expires_in: Duration) -> AccessRequest {
    let created_at = base();
    AccessRequest {
        id: AccessRequestId::generate(),
        app_id: app.id.clone(),
        requester: requester.id.clone(),
        privilege: vec![
            json!({
                "type": "role",
                "role": "db-admin",
                "resource": {"cluster": "zürich-1", "shards": [1, 2, {"name": "東京"}]},
                "actions": ["read", "write"],
                "ratio": 0.1,
                "note": null,
                "break_glass": true,
            }),
            json!({"type": "repo", "locations": ["https://example.com/a \"b\"\nc"], "depth": {}}),
        ],
        justification: "Incident INC-42: rotate the créds ✓".into(),
        grant_seconds: 3_600,
        approvals_required: 2,
        denials_required: 1,
        state: AccessState::Pending,
        reason: None,
        created_at,
        expires_at: created_at + expires_in,
        decided_at: None,
        grant: None,
        break_glass: None,
        policy_rule: Some("elevations need two approvers ✓".into()),
        holds: None,
    }
}

pub(crate) fn created(request: &AccessRequest, approvers: &[Approver]) -> AuditEvent {
    AuditEvent::AccessRequestCreated {
        request_id: request.id.to_string(),
        app_id: request.app_id.to_string(),
        requester_id: request.requester.to_string(),
        approvers: approvers.iter().map(|a| a.user_id.to_string()).collect(),
        approvals_required: request.approvals_required,
        denials_required: request.denials_required,
        expires_at: request.expires_at.unix_timestamp(),
    }
}

pub(crate) fn ended(request: &AccessRequest, ending: &AccessEnding) -> AuditEvent {
    AuditEvent::AccessRequestEnded {
        request_id: request.id.to_string(),
        app_id: request.app_id.to_string(),
        requester_id: request.requester.to_string(),
        state: ending.reason.state().as_str().to_owned(),
        reason: ending.reason.as_str().to_owned(),
        approved_by: Vec::new(),
        denied_by: Vec::new(),
        grant_id: ending.grant.as_ref().map(|g| g.id.clone()),
        grant_expires_at: ending.grant.as_ref().map(|g| g.expires_at.unix_timestamp()),
        break_glass_reason: ending.break_glass.as_ref().map(|b| b.reason.clone()),
        review_required: ending.break_glass.is_some(),
    }
}

pub(crate) fn revoked(request: &AccessRequest, by: &str) -> AuditEvent {
    AuditEvent::AccessGrantRevoked {
        request_id: request.id.to_string(),
        app_id: request.app_id.to_string(),
        grant_id: request
            .grant
            .as_ref()
            .map_or_else(String::new, |g| g.id.clone()),
        by: by.into(),
    }
}

pub(crate) fn grant(id: &str) -> Grant {
    let not_before = base() + Duration::milliseconds(250);
    Grant {
        id: id.into(),
        token: format!("eyJhbGciOiJFUzI1NiJ9.{id}.sig"),
        not_before,
        expires_at: not_before + Duration::hours(1),
        revoked_at: None,
        revoked_by: None,
    }
}

pub(crate) fn ending(reason: AccessReason, grant: Option<Grant>) -> AccessEnding {
    AccessEnding {
        reason,
        at: base() + Duration::milliseconds(123),
        grant,
        break_glass: None,
    }
}

/// Stores `request` with `approvers` and its audit row.
pub(crate) async fn insert(
    store: &Arc<dyn Store>,
    request: &AccessRequest,
    approvers: &[Approver],
) {
    store
        .insert_access_request(request, approvers, audit(created(request, approvers)))
        .await
        .unwrap();
}

pub(crate) async fn end(
    store: &Arc<dyn Store>,
    request: &AccessRequest,
    ending: &AccessEnding,
) -> bool {
    store
        .end_access_request(&request.id, ending, audit(ended(request, ending)))
        .await
        .unwrap()
}

pub(crate) async fn revoke(
    store: &Arc<dyn Store>,
    request: &AccessRequest,
    at: OffsetDateTime,
    by: &str,
) -> bool {
    store
        .revoke_access_grant(&request.id, at, by, audit(revoked(request, by)))
        .await
        .unwrap()
}

/// `request` as it reads after `ending`.
pub(crate) fn after(request: &AccessRequest, ending: &AccessEnding) -> AccessRequest {
    AccessRequest {
        state: ending.reason.state(),
        reason: Some(ending.reason),
        decided_at: Some(ending.at),
        grant: ending.grant.clone(),
        break_glass: ending.break_glass.as_ref().map(|b| BreakGlass {
            reason: b.reason.clone(),
            reviewed_at: None,
            reviewed_by: None,
            review_note: None,
        }),
        ..request.clone()
    }
}

pub(crate) async fn read(store: &Arc<dyn Store>, id: &AccessRequestId) -> AccessRequest {
    store.access_request(id).await.unwrap().unwrap()
}

pub(crate) async fn last_audit(store: &Arc<dyn Store>) -> AuditRecord {
    store.audit_page(0, 100_000).await.unwrap().pop().unwrap()
}

/// An approval request (the prompt of an approver), stored.
pub(crate) async fn prompt(store: &Arc<dyn Store>, app: &App, approver: &User) -> ApprovalId {
    let a = approval(app, approver, Duration::minutes(10));
    store
        .insert_approval(&a, &[], audit(event()))
        .await
        .unwrap();
    a.id
}

/// A requester, an application and a pending request with no approver reachable.
pub(crate) async fn pending(store: &Arc<dyn Store>) -> (App, User, AccessRequest) {
    let acme = app(store, "Acme").await;
    let alice = user(store, "alice").await;
    let r = request(&acme, &alice, Duration::minutes(10));
    insert(store, &r, &[]).await;
    (acme, alice, r)
}

//! Sample records for tests, of this crate and of others (feature `fixtures`): one shape of a
//! request that every test can vary, instead of a copy of its fields in each test module.

use crate::ids::{AppId, ApprovalId, DeviceId, UserId};
use crate::model::{Approval, MatchingCode, Outcome};
use assent_proto::context::RequestContext;
use assent_proto::states::{ApprovalKind, ApprovalState};
use serde_json::Value;
use time::OffsetDateTime;

/// A pending transaction request whose one detail is `detail`.
pub fn transfer(detail: Value) -> Approval {
    Approval {
        id: ApprovalId::generate(),
        app_id: AppId::generate(),
        user_id: UserId::generate(),
        kind: ApprovalKind::Transaction,
        binding_message: Some("Send 10.00 EUR".into()),
        authorization_details: vec![detail],
        context: RequestContext::default(),
        nonce: "nonce".into(),
        code: Some(MatchingCode {
            length: 2,
            digest: vec![1; 32],
        }),
        user_verification: false,
        risk: crate::risk::RiskAssessment::default(),
        policy_rule: None,
        state: ApprovalState::Pending,
        reason: None,
        created_at: OffsetDateTime::UNIX_EPOCH,
        expires_at: OffsetDateTime::UNIX_EPOCH,
        decided_at: None,
        device_id: None,
        statement: None,
        receipt: None,
        quorum: None,
    }
}

/// `approval` approved, with a statement and receipt of `signed_bytes` each.
pub fn approved(approval: Approval, signed_bytes: usize) -> Approval {
    approval.decided(&Outcome {
        state: ApprovalState::Approved,
        reason: None,
        decided_at: OffsetDateTime::UNIX_EPOCH,
        device_id: Some(DeviceId::generate()),
        statement: Some("s".repeat(signed_bytes)),
        receipt: "r".repeat(signed_bytes),
        reported_network: None,
    })
}

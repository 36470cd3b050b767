//! Turning records into what each side is allowed to see.

use super::Assent;
use crate::clock::rfc3339;
use crate::error::CoreError;
use crate::model::{Approval, Device};
use assent_proto::api::{
    AnsweringDevice, ApplicationRef, ApprovalStatus, DeviceApproval, DeviceView, RiskReasonView,
    RiskView,
};
use assent_proto::statement::details_hash;

impl Assent {
    /// The relying party's view: the outcome and the receipt, never the nonce or device keys.
    pub async fn status_view(&self, approval: &Approval) -> Result<ApprovalStatus, CoreError> {
        let user = self
            .records
            .user(self.store.as_ref(), &approval.user_id)
            .await?;
        let device = match &approval.device_id {
            Some(id) => self.store.device(id).await?,
            None => None,
        };
        Ok(ApprovalStatus {
            id: approval.id.to_string(),
            state: approval.state,
            kind: approval.kind,
            user: user.map(|u| u.username.to_string()).unwrap_or_default(),
            reason: approval.reason.clone(),
            created_at: rfc3339(approval.created_at),
            expires_at: rfc3339(approval.expires_at),
            decided_at: approval.decided_at.map(rfc3339),
            device: device.map(|d| AnsweringDevice {
                id: d.id.to_string(),
                name: d.name,
            }),
            receipt: approval.receipt.clone(),
            user_verification: approval.user_verification,
            risk: risk_view(&approval.risk),
            policy_rule: approval.policy_rule.clone(),
        })
    }

    /// The device's view: the full context and what to sign, never the code to type.
    pub async fn device_view(&self, approval: &Approval) -> Result<DeviceApproval, CoreError> {
        let app_name = self
            .records
            .app(self.store.as_ref(), &approval.app_id)
            .await?
            .map(|a| a.name)
            .unwrap_or_default();
        let hash = details_hash(
            approval.kind.as_str(),
            approval.binding_message.as_deref(),
            &approval.authorization_details,
        )
        .unwrap_or_default();
        Ok(DeviceApproval {
            id: approval.id.to_string(),
            state: approval.state,
            application: ApplicationRef {
                id: approval.app_id.to_string(),
                name: app_name,
            },
            kind: approval.kind,
            binding_message: approval.binding_message.clone(),
            authorization_details: approval.authorization_details.clone(),
            context: approval.context.clone(),
            nonce: approval.nonce.clone(),
            details_hash: hash,
            code_required: approval.display_code.is_some(),
            code_length: approval
                .display_code
                .as_ref()
                .and_then(|c| u8::try_from(c.len()).ok()),
            user_verification_required: approval.user_verification,
            created_at: rfc3339(approval.created_at),
            expires_at: rfc3339(approval.expires_at),
        })
    }
}

/// The wire form of a risk assessment.
pub fn risk_view(risk: &crate::risk::RiskAssessment) -> RiskView {
    RiskView {
        score: risk.score,
        reasons: risk
            .reasons
            .iter()
            .map(|r| RiskReasonView {
                signal: r.signal.clone(),
                points: r.points,
                detail: r.detail.clone(),
            })
            .collect(),
    }
}

/// The admin's view of a device.
pub fn device_view(device: &Device, username: &str) -> DeviceView {
    DeviceView {
        id: device.id.to_string(),
        user: username.to_owned(),
        name: device.name.clone(),
        platform: device.platform.clone(),
        state: device.state,
        jwk: device.jwk.clone(),
        created_at: rfc3339(device.created_at),
        revoked_at: device.revoked_at.map(rfc3339),
        last_seen_at: device.last_seen_at.map(rfc3339),
        push_channel: if device.web_push {
            "web_push"
        } else {
            "stream"
        }
        .to_owned(),
    }
}

//! The policy's word on an access request, decided once when it is made (as `request.kind`
//! `access_request`, about the requester): it may refuse it, ask for the requester's passkey at
//! the application's origin, and fix where the approvers come from and how many must approve.
//! The application may ask for more than the policy (more approvals, fewer denials), never
//! for less, and never for approvers outside the policy's groups.

use super::create::NewAccessRequest;
use crate::approvals::{BindingMessage, CodeDisplay, NewApproval};
use crate::error::CoreError;
use crate::ids::Username;
use crate::model::{App, User};
use crate::risk::assessment::Asking;
use crate::risk::policy::PolicyDecision;
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::states::{ApprovalKind, DeviceState};

/// Who approves and how many, once the policy had its say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Approvers {
    pub users: Vec<Username>,
    pub groups: Vec<String>,
    pub approvals_required: u32,
    pub denials_required: u32,
    /// The groups every approver must belong to (the policy's), or none.
    pub within: Vec<String>,
    /// The rule that decided.
    pub rule: String,
}

impl Assent {
    /// Asks the policy about an access request by `requester` (who showed a passkey
    /// authentication or not) and returns its approvers, or the policy's refusal.
    pub(super) async fn access_policy(
        &self,
        app: &App,
        requester: &User,
        new: &NewAccessRequest,
        justification: &str,
        passkey: bool,
    ) -> Result<Approvers, CoreError> {
        let active = self
            .store
            .list_devices(Some(&requester.id))
            .await?
            .iter()
            .filter(|d| d.state == DeviceState::Active)
            .count();
        // The facts of an ordinary request: the requester as the user, the justification as
        // the binding message, the privilege as the details.
        let asked = NewApproval {
            user: requester.username.clone(),
            kind: ApprovalKind::Access,
            binding_message: BindingMessage::parse(justification.to_owned()).ok(),
            authorization_details: new.privilege.clone(),
            context: new.context.clone(),
            lifetime: new.lifetime,
            user_verification: false,
            code_display: CodeDisplay::Shown,
            passkey_authentication: None,
        };
        let asking = Asking {
            kind: Some("access_request"),
            passkey,
        };
        let (risk, decision, _facts) = self
            .assess_request(app, requester, &asked, active, asking)
            .await?;
        if let Some(refusal) = self
            .policy_refusal(app, requester, "access_request", &decision, &risk, passkey)
            .await?
        {
            return Err(refusal);
        }
        approvers_under(new, &decision)
    }
}

/// The application's approvers and quorum under the policy's decision.
fn approvers_under(
    new: &NewAccessRequest,
    decision: &PolicyDecision,
) -> Result<Approvers, CoreError> {
    let outcome = &decision.outcome;
    let rule = decision.rule.clone();
    let denials_asked = new.denials_required.unwrap_or(1);
    let denials_required = outcome
        .denials
        .map_or(denials_asked, |most| denials_asked.min(most));
    let approvals_required = new.approvals_required.max(outcome.approvals);
    if outcome.approver_groups.is_empty() {
        return Ok(Approvers {
            users: new.approver_users.clone(),
            groups: new.approver_groups.clone(),
            approvals_required,
            denials_required,
            within: Vec::new(),
            rule,
        });
    }
    // The policy names the groups: the application may narrow them, not widen them.
    if let Some(other) = new
        .approver_groups
        .iter()
        .find(|g| !outcome.approver_groups.contains(g))
    {
        return Err(CoreError::rejected(
            ProblemCode::InvalidRequest,
            format!(
                "the policy takes this request's approvers from {:?} (rule: {rule}); {other:?} is not one of them",
                outcome.approver_groups
            ),
        ));
    }
    let groups = if new.approver_groups.is_empty() && new.approver_users.is_empty() {
        outcome.approver_groups.clone()
    } else {
        new.approver_groups.clone()
    };
    Ok(Approvers {
        users: new.approver_users.clone(),
        groups,
        approvals_required,
        denials_required,
        within: outcome.approver_groups.clone(),
        rule,
    })
}

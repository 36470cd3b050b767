//! A quorum for any request (four eyes): when the policy asks a request for `approvals = N`,
//! the user's own device-signed approval is not written as the outcome. It is held by a
//! co-approval, an access request whose requester is the user and whose approvers are the
//! members of the rule's `approver_groups` (never the user), needing `N - 1` approvals; any one
//! denial rejects it. Only once the co-approval is granted is the request written as approved,
//! with a receipt that carries the co-approvers' receipts beside the user's statement. Until
//! then the request stays `pending` for its relying party, so the v1 API, CIBA and the Duo
//! API all wait for the quorum without knowing of it.
//!
//! The co-approvers are asked only after the user approved: someone who merely knows the
//! user's password cannot make the user's colleagues' phones ring.

use super::create::{ACCESS_REQUEST_TYPE, Prompting};
use super::records::{AccessReason, AccessRequest, AccessState, HeldApproval};
use super::tally::Votes;
use crate::approvals::{AuthorizationDetails, BindingMessage, CodeDisplay, Lifetime};
use crate::audit::{Actor, AuditEvent};
use crate::error::{CoreError, StoreError};
use crate::ids::AccessRequestId;
use crate::model::{App, Approval, Device, EndReason, Outcome, Quorum, User};
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::statement::{ReceiptCoApproval, ReceiptUserVerification};
use assent_proto::states::ApprovalState;
use serde_json::json;
use std::future::Future;
use std::pin::Pin;

/// Longest justification a co-approval carries, in characters (an access request's limit).
const MAX_JUSTIFICATION: usize = super::MAX_JUSTIFICATION;

impl Assent {
    /// The members of the quorum's groups other than the user, each once, within the
    /// application's scope.
    async fn co_approvers(
        &self,
        app: &App,
        user: &User,
        quorum: &Quorum,
    ) -> Result<Vec<User>, CoreError> {
        let mut users: Vec<User> = Vec::new();
        for group in &quorum.approver_groups {
            for id in self.store.group_members(group).await? {
                if id == user.id || users.iter().any(|u| u.id == id) {
                    continue;
                }
                let Some(member) = self.records.user(self.store.as_ref(), &id).await? else {
                    continue;
                };
                if self.in_scope(app, &member).await? {
                    users.push(member);
                }
                if users.len() >= super::MAX_APPROVERS {
                    return Ok(users);
                }
            }
        }
        Ok(users)
    }

    /// Refuses, when it is made, a request whose quorum could never be reached: too few
    /// co-approvers, or too many details to show them beside the request.
    pub(crate) async fn ensure_co_approvers(
        &self,
        app: &App,
        user: &User,
        quorum: &Quorum,
        rule: &str,
        details: &AuthorizationDetails,
    ) -> Result<(), CoreError> {
        if details
            .as_slice()
            .iter()
            .any(|d| d["type"] == ACCESS_REQUEST_TYPE)
        {
            return Err(CoreError::rejected(
                ProblemCode::InvalidRequest,
                format!(
                    "the policy asks for co-approvers (rule: {rule}); the type {ACCESS_REQUEST_TYPE:?} is Assent's own description of what they are asked"
                ),
            ));
        }
        if details.as_slice().len() >= crate::approvals::MAX_AUTHORIZATION_DETAILS {
            return Err(CoreError::rejected(
                ProblemCode::InvalidRequest,
                format!(
                    "the policy asks for co-approvers (rule: {rule}); a request they are shown carries at most {} authorization_details",
                    crate::approvals::MAX_AUTHORIZATION_DETAILS - 1
                ),
            ));
        }
        let found = self.co_approvers(app, user, quorum).await?.len();
        let needed = quorum.approvals as usize - 1;
        if found < needed {
            return Err(CoreError::rejected(
                ProblemCode::DeniedByPolicy,
                format!(
                    "the policy asks for {} approvals (rule: {rule}): the user's own and {needed} from {:?}, which have {found} other members this application may ask",
                    quorum.approvals, quorum.approver_groups
                ),
            ));
        }
        Ok(())
    }

    /// The user approved `approval`, whose policy asked for a quorum: holds the answer in a new
    /// co-approval and asks the co-approvers. Returns the co-approval as it stands (it ends at
    /// once, and the request with it, when too few co-approvers can be asked).
    pub(crate) async fn hold_for_co_approval(
        &self,
        approval: &Approval,
        quorum: &Quorum,
        device: &Device,
        statement: &str,
        evidence: Option<ReceiptUserVerification>,
    ) -> Result<AccessRequest, CoreError> {
        let app = self
            .store
            .app(&approval.app_id)
            .await?
            .ok_or_else(|| CoreError::Internal("a request's application is gone".into()))?;
        let user = self
            .records
            .user(self.store.as_ref(), &approval.user_id)
            .await?
            .ok_or_else(|| CoreError::Internal("a request's user is gone".into()))?;
        let approvers = self.co_approvers(&app, &user, quorum).await?;
        let needed = quorum.approvals - 1;
        let now = self.now();
        let remaining = (approval.expires_at - now).whole_seconds().max(1);
        let lifetime = Lifetime::parse(
            Some(u32::try_from(remaining).unwrap_or(u32::MAX)),
            &self.settings,
        )?;
        let id = AccessRequestId::generate();
        let justification = justification(approval, &user, &app);
        let details_hash = approval
            .details_hash()
            .map_err(|e| CoreError::Internal(e.to_string()))?;
        let mut shown = vec![json!({
            "type": ACCESS_REQUEST_TYPE,
            "access_request_id": id.as_str(),
            "requester": user.username.as_str(),
            "justification": justification,
            "approvals_required": needed,
            "co_approval": {
                "approval_id": approval.id.as_str(),
                "kind": approval.kind.as_str(),
                "application": app.name,
                "details_hash": details_hash,
            },
        })];
        shown.extend(approval.authorization_details.iter().cloned());
        let asking = Prompting {
            message: co_approval_message(&user, &justification)?,
            shown,
            context: approval.context.clone(),
            lifetime,
            // Nothing shows a co-approver a code to type: what they approve is the signed
            // request itself, shown whole on their device.
            code_display: CodeDisplay::Waived,
        };
        let (stored, prompted) = self.prompt_approvers(&app, approvers, &asking).await?;
        let request = AccessRequest {
            id,
            app_id: app.id.clone(),
            requester: user.id.clone(),
            privilege: approval.authorization_details.clone(),
            justification,
            grant_seconds: super::MIN_GRANT_SECONDS,
            approvals_required: needed,
            denials_required: 1,
            state: AccessState::Pending,
            reason: None,
            created_at: now,
            expires_at: approval.expires_at,
            decided_at: None,
            grant: None,
            break_glass: None,
            policy_rule: approval.policy_rule.clone(),
            holds: Some(HeldApproval {
                approval_id: approval.id.clone(),
                device_id: device.id.clone(),
                statement: statement.to_owned(),
                user_verification: evidence
                    .map(|e| serde_json::to_string(&e))
                    .transpose()
                    .map_err(|e| CoreError::Internal(e.to_string()))?,
            }),
        };
        let event = AuditEvent::AccessRequestCreated {
            request_id: request.id.to_string(),
            app_id: app.id.to_string(),
            requester_id: user.id.to_string(),
            approvers: stored
                .iter()
                .filter(|a| a.approval_id.is_some())
                .map(|a| a.user_id.to_string())
                .collect(),
            approvals_required: needed,
            denials_required: 1,
            expires_at: request.expires_at.unix_timestamp(),
        };
        let audit = self.audit(Actor::Device(device.id.clone()), event);
        match self
            .store
            .insert_access_request(&request, &stored, audit)
            .await
        {
            Ok(()) => {
                // A cancel, a supersede, an expiry or another device's answer written between
                // this answer's check and the insert found no co-approval to end: end it now.
                let current = self.store.approval_as_stored(&approval.id).await?;
                if let Some(ended) = current.filter(|a| a.state.is_final()) {
                    self.end_co_approval_of(&ended).await;
                    return Err(crate::approvals::already_decided(&ended));
                }
            }
            Err(StoreError::Conflict(_)) => {
                // Another of the user's devices approved it first: its co-approval stands,
                // and the prompts this answer made are withdrawn.
                for approver in &stored {
                    if let Some(id) = &approver.approval_id
                        && let Some(prompt) = self.records.approval(self.store.as_ref(), id).await?
                    {
                        self.close(&prompt, EndReason::AccessRequestEnded, Actor::System)
                            .await?;
                    }
                }
                return Err(awaiting_co_approvers());
            }
            Err(e) => return Err(e.into()),
        }
        // Only a prompt still open can become a vote (one the policy allowed is nobody's).
        let mut reachable = 0;
        for p in &prompted {
            if let Some(id) = &p.approval_id
                && let Some(prompt) = self.records.approval(self.store.as_ref(), id).await?
                && prompt.state == ApprovalState::Pending
            {
                reachable += 1;
            }
        }
        if reachable < needed as usize {
            // No break-glass for a co-approval: it ends now rather than at the deadline.
            let votes = self.votes(&request).await?;
            return self
                .end_access(
                    request,
                    &votes,
                    AccessReason::QuorumUnreachable,
                    Actor::System,
                )
                .await;
        }
        self.count_access_votes(&request.id).await
    }

    /// After a co-approval ended (`request`, with the answers `votes`): the request it holds
    /// ends as the co-approvers decided.
    pub(crate) async fn finish_held_approval(
        &self,
        request: &AccessRequest,
        votes: &Votes,
    ) -> Result<(), CoreError> {
        let Some(held) = &request.holds else {
            return Ok(());
        };
        let Some(approval) = self
            .records
            .approval(self.store.as_ref(), &held.approval_id)
            .await?
        else {
            return Ok(());
        };
        if approval.state.is_final() {
            return Ok(());
        }
        let reason = match request.reason {
            Some(AccessReason::QuorumReached) => None,
            Some(AccessReason::Denied) => Some(EndReason::DeniedByCoApprover),
            Some(AccessReason::QuorumUnreachable) => Some(EndReason::CoApproversUnreachable),
            Some(AccessReason::Expired) => Some(EndReason::Expired),
            Some(AccessReason::CancelledByRequester) => Some(EndReason::CancelledByRelyingParty),
            // It ended because the request did; break-glass never opens a co-approval.
            Some(AccessReason::RequestEnded | AccessReason::BreakGlass) | None => return Ok(()),
        };
        if let Some(reason) = reason {
            self.close(&approval, reason, Actor::System).await?;
            return Ok(());
        }
        // The device must still be able to answer: one revoked meanwhile approves nothing.
        let device = self
            .store
            .device(&held.device_id)
            .await?
            .filter(|d| crate::devices::auth::ensure_can_answer(d).is_ok());
        let Some(device) = device else {
            self.close(&approval, EndReason::DeviceRevoked, Actor::System)
                .await?;
            return Ok(());
        };
        let evidence: Option<ReceiptUserVerification> = held
            .user_verification
            .as_deref()
            .map(serde_json::from_str)
            .transpose()
            .map_err(|e| CoreError::Internal(format!("held passkey evidence: {e}")))?;
        let mut outcome = Outcome {
            state: ApprovalState::Approved,
            reason: None,
            decided_at: self.now(),
            device_id: Some(device.id.clone()),
            statement: Some(held.statement.clone()),
            receipt: String::new(),
            reported_network: None,
        };
        let mut claims = self.receipt_claims(&approval, &outcome, Some(&device), evidence);
        claims.co_approvals = votes
            .quorum(request.approvals_required as usize)
            .iter()
            .map(|a| ReceiptCoApproval {
                user: a.user_id.to_string(),
                approval_id: a.id.to_string(),
                receipt: a.receipt.clone().unwrap_or_default(),
                binding_message: a.binding_message.clone(),
                authorization_details: a.authorization_details.clone(),
            })
            .collect();
        outcome.receipt = self.sign_receipt_claims(&claims)?;
        self.record_outcome(&approval, outcome, Actor::Device(device.id.clone()))
            .await?;
        Ok(())
    }

    /// A pending request with a quorum whose co-approval has ended: its outcome is written
    /// now (made up here when the node that ended the co-approval died before writing it).
    /// `None` when there is nothing to settle. Boxed: settling counts the co-approval, whose
    /// count reads its prompts through the same path.
    pub(crate) fn settle_held<'a>(
        &'a self,
        approval: &'a Approval,
    ) -> Pin<Box<dyn Future<Output = Result<Option<Approval>, CoreError>> + Send + 'a>> {
        Box::pin(async move {
            let Some(id) = self.store.access_request_holding(&approval.id).await? else {
                return Ok(None);
            };
            let request = self.count_access_votes(&id).await?;
            if request.state == AccessState::Pending {
                return Ok(None);
            }
            let votes = self.votes(&request).await?;
            self.finish_held_approval(&request, &votes).await?;
            Ok(Some(self.current(approval.clone()).await?))
        })
    }

    /// A request with a quorum ended without its co-approval (cancelled, superseded, expired,
    /// denied by the user): the co-approval ends too, and its prompts are withdrawn.
    pub(crate) fn end_co_approval_of<'a>(
        &'a self,
        approval: &'a Approval,
    ) -> Pin<Box<dyn Future<Output = ()> + Send + 'a>> {
        Box::pin(async move {
            let ended = async {
                let Some(id) = self.store.access_request_holding(&approval.id).await? else {
                    return Ok(());
                };
                let Some(request) = self.store.access_request(&id).await? else {
                    return Ok(());
                };
                if request.state != AccessState::Pending {
                    return Ok(());
                }
                let votes = self.votes(&request).await?;
                self.end_access(request, &votes, AccessReason::RequestEnded, Actor::System)
                    .await
                    .map(|_| ())
            };
            // The request's outcome is written; a co-approval left open ends at its deadline.
            if let Err(e) = ended.await as Result<(), CoreError> {
                tracing::warn!(error = %e, "ending a co-approval after its request ended failed");
            }
        })
    }
}

/// The refusal of a second answer to a request whose user already approved it.
pub(crate) fn awaiting_co_approvers() -> CoreError {
    CoreError::rejected(
        ProblemCode::AlreadyDecided,
        "the user approved this request already; it waits for the co-approvers",
    )
}

/// The co-approvers' binding message, the justification cut to fit the binding message's limit.
fn co_approval_message(user: &User, justification: &str) -> Result<BindingMessage, CoreError> {
    let lead = format!(
        "{} approved this and asks you to co-approve it: ",
        user.username
    );
    let room = crate::approvals::MAX_BINDING_MESSAGE.saturating_sub(lead.chars().count());
    let cut: String = justification.chars().take(room).collect();
    BindingMessage::parse(format!("{lead}{cut}"))
}

/// What the co-approvers read as the reason: the request's binding message, or what it is.
fn justification(approval: &Approval, user: &User, app: &App) -> String {
    let text = match &approval.binding_message {
        Some(message) => message.clone(),
        None => format!(
            "{} request by {} at {}",
            approval.kind.as_str(),
            user.username,
            app.name
        ),
    };
    let printable: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .take(MAX_JUSTIFICATION)
        .collect();
    match printable.trim() {
        "" => format!("{} request", approval.kind.as_str()),
        trimmed => trimmed.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_justification_is_printable_and_bounded() {
        let mut approval = crate::fixtures::transfer(serde_json::json!({"type": "t"}));
        approval.binding_message = Some(format!("Pay\nBob {}", "x".repeat(600)));
        let user = crate::model::User {
            id: crate::ids::UserId::generate(),
            username: crate::ids::Username::parse("alice").unwrap(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let app = crate::model::App {
            id: crate::ids::AppId::generate(),
            name: "Acme".into(),
            created_at: time::OffsetDateTime::UNIX_EPOCH,
        };
        let text = super::justification(&approval, &user, &app);
        assert!(text.starts_with("Pay Bob x"));
        assert_eq!(text.chars().count(), super::MAX_JUSTIFICATION);
        approval.binding_message = None;
        assert_eq!(
            super::justification(&approval, &user, &app),
            "transaction request by alice at Acme"
        );
    }
}

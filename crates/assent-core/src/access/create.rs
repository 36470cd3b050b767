//! Creating an access request: the approvers resolved (named users and the members of named
//! groups, the requester taken out), one prompt per approver, then the request stored with who
//! was asked and who could not be.

use super::policy::Approvers;
use super::records::{AccessRequest, AccessState, Approver};
use super::{
    DEFAULT_GRANT_SECONDS, MAX_APPROVALS_REQUIRED, MAX_APPROVERS, MAX_GRANT_SECONDS,
    MAX_JUSTIFICATION, MIN_GRANT_SECONDS,
};
use crate::approvals::{AuthorizationDetails, BindingMessage, CodeDisplay, Lifetime, NewApproval};
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::{AccessRequestId, ApprovalId, UserId, Username};
use crate::model::{App, User};
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::context::RequestContext;
use assent_proto::states::ApprovalKind;
use serde_json::{Value, json};

/// An access request as the core takes it.
#[derive(Debug, Clone)]
pub struct NewAccessRequest {
    pub requester: Username,
    pub privilege: AuthorizationDetails,
    pub justification: String,
    pub approver_users: Vec<Username>,
    pub approver_groups: Vec<String>,
    pub approvals_required: u32,
    pub denials_required: Option<u32>,
    pub grant_seconds: Option<u32>,
    /// How long the approvers have to answer (the prompts' lifetime).
    pub lifetime: Lifetime,
    pub context: RequestContext,
    /// A passkey authentication of the requester at the application's origin, for a policy
    /// that asks for it.
    pub passkey_authentication: Option<String>,
}

/// One approver as the application learns it at creation: the code to show them where they
/// review the request (number matching), or why no prompt reached them.
#[derive(Debug, Clone)]
pub struct PromptedApprover {
    pub user: Username,
    pub approval_id: Option<ApprovalId>,
    pub display_code: Option<String>,
    pub unreachable: Option<String>,
}

/// A new access request, as it stands after the count that follows its creation.
#[derive(Debug, Clone)]
pub struct AccessCreated {
    pub request: AccessRequest,
    pub approvers: Vec<PromptedApprover>,
}

/// What every approver's prompt of one access request carries.
pub(super) struct Prompting {
    pub message: BindingMessage,
    /// The request's own description, then the privilege.
    pub shown: Vec<Value>,
    pub context: RequestContext,
    pub lifetime: Lifetime,
    pub code_display: CodeDisplay,
}

/// The `type` of the object that describes the request to its approvers.
pub(super) const ACCESS_REQUEST_TYPE: &str = "access_request";
/// Most approver groups one request may name.
const MAX_APPROVER_GROUPS: usize = 32;
/// Most bytes of the privilege, as canonical JSON.
pub const MAX_PRIVILEGE_BYTES: usize = 4096;

fn invalid(detail: impl Into<String>) -> CoreError {
    CoreError::rejected(ProblemCode::InvalidRequest, detail)
}

impl Assent {
    /// Creates an access request on behalf of `app`'s user `requester`, prompting every
    /// eligible approver.
    pub async fn create_access_request(
        &self,
        app: &App,
        new: NewAccessRequest,
    ) -> Result<AccessCreated, CoreError> {
        let justification = new.justification.trim().to_owned();
        if justification.is_empty()
            || justification.chars().count() > MAX_JUSTIFICATION
            || justification.chars().any(char::is_control)
        {
            return Err(invalid(format!(
                "justification is 1 to {MAX_JUSTIFICATION} printable characters"
            )));
        }
        if new.privilege.as_slice().is_empty() {
            return Err(invalid(
                "privilege is one or more authorization_details objects",
            ));
        }
        if new.privilege.as_slice().len() >= crate::approvals::MAX_AUTHORIZATION_DETAILS {
            return Err(invalid(format!(
                "privilege has at most {} objects",
                crate::approvals::MAX_AUTHORIZATION_DETAILS - 1
            )));
        }
        let grant_seconds = new.grant_seconds.unwrap_or(DEFAULT_GRANT_SECONDS);
        if !(MIN_GRANT_SECONDS..=MAX_GRANT_SECONDS).contains(&grant_seconds) {
            return Err(invalid(format!(
                "grant_seconds is {MIN_GRANT_SECONDS} to {MAX_GRANT_SECONDS}"
            )));
        }
        let denials_required = new.denials_required.unwrap_or(1);
        if new.approvals_required == 0 || denials_required == 0 {
            return Err(invalid(
                "approvals_required and denials_required are at least 1",
            ));
        }
        if denials_required as usize > MAX_APPROVERS {
            return Err(invalid(format!(
                "denials_required is at most {MAX_APPROVERS}"
            )));
        }
        if new.approver_users.len() > MAX_APPROVERS
            || new.approver_groups.len() > MAX_APPROVER_GROUPS
        {
            return Err(invalid(format!(
                "at most {MAX_APPROVERS} approver users and {MAX_APPROVER_GROUPS} approver groups"
            )));
        }
        if let Some(bad) = new
            .approver_groups
            .iter()
            .find(|g| !crate::groups::valid_group_name(g))
        {
            return Err(invalid(format!("{bad:?} is not a group name")));
        }
        // The grant carries the privilege beside up to ten receipts: it stays introspectable.
        let size: usize = new
            .privilege
            .as_slice()
            .iter()
            .map(|d| {
                assent_proto::canonical::to_canonical_string(d)
                    .map(|t| t.len())
                    .unwrap_or(usize::MAX)
            })
            .fold(0, usize::saturating_add);
        if size > MAX_PRIVILEGE_BYTES {
            return Err(invalid(format!(
                "the privilege is at most {MAX_PRIVILEGE_BYTES} bytes as canonical JSON"
            )));
        }
        if new
            .privilege
            .as_slice()
            .iter()
            .any(|d| d["type"] == ACCESS_REQUEST_TYPE)
        {
            return Err(invalid(format!(
                "the type {ACCESS_REQUEST_TYPE:?} is Assent's own description of the request"
            )));
        }
        if new.approvals_required > MAX_APPROVALS_REQUIRED {
            return Err(invalid(format!(
                "approvals_required is at most {MAX_APPROVALS_REQUIRED}"
            )));
        }
        let requester = self.user_called(&new.requester).await?;
        self.ensure_in_scope(app, &requester).await?;
        let passkey = match &new.passkey_authentication {
            Some(id) => Some(self.take_passkey_proof(app, &requester, id).await?),
            None => None,
        };
        let asked = self
            .access_policy(app, &requester, &new, &justification, passkey.is_some())
            .await?;
        let approvers = self.eligible_approvers(app, &requester, &asked).await?;
        if approvers.len() < asked.approvals_required as usize {
            return Err(invalid(format!(
                "{} eligible approvers (the requester never counts) cannot give {} approvals (rule: {})",
                approvers.len(),
                asked.approvals_required,
                asked.rule
            )));
        }

        // Taken before the prompts are made, so the request ends no later than they do: its
        // own expiry, not their ending one by one, is what the count sees at the deadline.
        let now = self.now();
        let id = AccessRequestId::generate();
        let shown = shown_details(
            &id,
            &requester,
            &new.privilege,
            &justification,
            grant_seconds,
            asked.approvals_required,
        );
        let message = BindingMessage::parse(format!(
            "{} asks for access: {justification}",
            requester.username
        ))?;
        let asking = Prompting {
            message,
            shown,
            context: new.context.clone(),
            lifetime: new.lifetime,
            code_display: CodeDisplay::Shown,
        };
        let (stored, prompted) = self.prompt_approvers(app, approvers, &asking).await?;
        let request = AccessRequest {
            id,
            app_id: app.id.clone(),
            requester: requester.id.clone(),
            privilege: new.privilege.into_vec(),
            justification,
            grant_seconds,
            approvals_required: asked.approvals_required,
            denials_required: asked.denials_required,
            state: AccessState::Pending,
            reason: None,
            created_at: now,
            expires_at: now + new.lifetime.duration(),
            decided_at: None,
            grant: None,
            break_glass: None,
            policy_rule: Some(asked.rule.clone()),
            holds: None,
        };
        let event = AuditEvent::AccessRequestCreated {
            request_id: request.id.to_string(),
            app_id: app.id.to_string(),
            requester_id: requester.id.to_string(),
            approvers: stored
                .iter()
                .filter(|a| a.approval_id.is_some())
                .map(|a| a.user_id.to_string())
                .collect(),
            approvals_required: request.approvals_required,
            denials_required: request.denials_required,
            expires_at: request.expires_at.unix_timestamp(),
        };
        self.store
            .insert_access_request(
                &request,
                &stored,
                self.audit(Actor::App(app.id.clone()), event),
            )
            .await?;
        // Too few reachable approvers end it at once (quorum unreachable).
        let request = self.count_access_votes(&request.id).await?;
        Ok(AccessCreated {
            request,
            approvers: prompted,
        })
    }

    /// Sends each approver their prompt of an access request; returns each one as stored (with
    /// their prompt, or why none reached them) and as the application learns them.
    pub(super) async fn prompt_approvers(
        &self,
        app: &App,
        approvers: Vec<User>,
        asking: &Prompting,
    ) -> Result<(Vec<Approver>, Vec<PromptedApprover>), CoreError> {
        let mut stored = Vec::with_capacity(approvers.len());
        let mut prompted = Vec::with_capacity(approvers.len());
        for approver in approvers {
            let prompt = NewApproval {
                user: approver.username.clone(),
                kind: ApprovalKind::Access,
                binding_message: Some(asking.message.clone()),
                authorization_details: AuthorizationDetails::parse(asking.shown.clone())?,
                context: asking.context.clone(),
                lifetime: asking.lifetime,
                user_verification: false,
                code_display: asking.code_display,
                passkey_authentication: None,
            };
            // An approver who cannot be asked (no active device, push suspended, refused by
            // policy) is recorded as such; the count then knows they cannot answer.
            let (approval_id, display_code, unreachable) =
                match self.create_approver_prompt(app, prompt).await {
                    Ok(created) => (Some(created.approval.id), created.display_code, None),
                    Err(CoreError::Store(e)) => return Err(CoreError::Store(e)),
                    Err(CoreError::Internal(e)) => return Err(CoreError::Internal(e)),
                    Err(e) => (None, None, Some(e.code().as_str().to_owned())),
                };
            stored.push(Approver {
                user_id: approver.id.clone(),
                approval_id: approval_id.clone(),
                unreachable: unreachable.clone(),
            });
            prompted.push(PromptedApprover {
                user: approver.username,
                approval_id,
                display_code,
                unreachable,
            });
        }
        Ok((stored, prompted))
    }

    /// The named users and the members of the named groups, each once, in the order named,
    /// without the requester; every one must be within the application's scope, and a named
    /// user within the policy's groups when it names some.
    async fn eligible_approvers(
        &self,
        app: &App,
        requester: &User,
        asked: &Approvers,
    ) -> Result<Vec<User>, CoreError> {
        let mut ids: Vec<UserId> = Vec::new();
        for name in &asked.users {
            let user = self.user_called(name).await?;
            self.ensure_in_scope(app, &user).await?;
            if !asked.within.is_empty() {
                let groups = self.store.groups_of(&user.id).await?;
                if !groups.iter().any(|g| asked.within.contains(g)) {
                    return Err(invalid(format!(
                        "the policy takes this request's approvers from {:?} (rule: {}); {} is in none of them",
                        asked.within, asked.rule, user.username
                    )));
                }
            }
            ids.push(user.id);
        }
        for group in &asked.groups {
            if self.store.group(group).await?.is_none() {
                return Err(CoreError::rejected(
                    ProblemCode::NotFound,
                    format!("no group named {group:?}"),
                ));
            }
            ids.extend(self.store.group_members(group).await?);
        }
        if ids.is_empty() {
            return Err(invalid("name at least one approver (users or groups)"));
        }
        let mut users: Vec<User> = Vec::new();
        for id in ids {
            // The requester never approves their own request, named or through a group.
            if id == requester.id || users.iter().any(|u| u.id == id) {
                continue;
            }
            let Some(user) = self.records.user(self.store.as_ref(), &id).await? else {
                continue;
            };
            if !self.in_scope(app, &user).await? {
                continue;
            }
            users.push(user);
            if users.len() > MAX_APPROVERS {
                return Err(invalid(format!("at most {MAX_APPROVERS} approvers")));
            }
        }
        Ok(users)
    }
}

/// What each approver is shown and signs: the request itself first (who asks, why, for how
/// long, the quorum), then the privilege as the application described it.
fn shown_details(
    id: &AccessRequestId,
    requester: &User,
    privilege: &AuthorizationDetails,
    justification: &str,
    grant_seconds: u32,
    approvals_required: u32,
) -> Vec<Value> {
    let mut shown = vec![json!({
        "type": ACCESS_REQUEST_TYPE,
        "access_request_id": id.as_str(),
        "requester": requester.username.as_str(),
        "justification": justification,
        "grant_seconds": grant_seconds,
        "approvals_required": approvals_required,
    })];
    shown.extend(privilege.as_slice().iter().cloned());
    shown
}

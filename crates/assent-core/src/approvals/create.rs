//! Creating a request: what it needs (risk and policy), whether it may prompt at all (the
//! fatigue defense), and the record written with its audit row.

use super::{BindingMessage, CodeDisplay, NewApproval};
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::ApprovalId;
use crate::model::{App, Approval, EndReason, MatchingCode, Quorum};
use crate::notifier::Topic;
use crate::risk::assessment::Asking;
use crate::risk::policy::OutcomeKind;
use crate::secrets;
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::jose::random_token;
use assent_proto::statement::details_hash;
use assent_proto::states::{ApprovalState, DeviceState};

/// A request just created, with the one copy of its number-matching code that Assent ever
/// holds: the relying party shows it, the store keeps only its keyed digest.
#[derive(Debug, Clone)]
pub struct CreatedApproval {
    pub approval: Approval,
    pub display_code: Option<String>,
}

/// Whether a new prompt replaces the user's pending ones from the same application.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Supersede {
    Pending,
    Nothing,
}

impl Assent {
    /// The policy's refusal of a request (of `kind` as the policy saw it) by `user`, audited
    /// (`approval_refused`): a `deny` rule's, or for want of the relying party's passkey.
    /// `None` when the decision lets the request go on.
    pub(crate) async fn policy_refusal(
        &self,
        app: &App,
        user: &crate::model::User,
        kind: &str,
        decision: &crate::risk::policy::PolicyDecision,
        risk: &crate::risk::RiskAssessment,
        passkey: bool,
    ) -> Result<Option<CoreError>, CoreError> {
        let outcome = &decision.outcome;
        let without_passkey = outcome.relying_party_passkey && !passkey;
        if outcome.kind != OutcomeKind::Deny && !without_passkey {
            return Ok(None);
        }
        let event = AuditEvent::ApprovalRefused {
            app_id: app.id.to_string(),
            user_id: user.id.to_string(),
            kind: kind.to_owned(),
            policy_rule: decision.rule.clone(),
            risk_score: risk.score,
            risk_signals: risk.signals(),
        };
        self.store
            .append_audit(self.audit(Actor::App(app.id.clone()), event))
            .await?;
        if outcome.kind != OutcomeKind::Deny {
            return Ok(Some(passkey_required(&decision.rule)));
        }
        let message = outcome
            .message
            .clone()
            .unwrap_or_else(|| "refused by policy".into());
        Ok(Some(CoreError::rejected(
            ProblemCode::DeniedByPolicy,
            format!("{message} (rule: {}; risk {})", decision.rule, risk.score),
        )))
    }
}

/// The refusal of a request without the passkey authentication the policy asks for.
pub(crate) fn passkey_required(rule: &str) -> CoreError {
    CoreError::rejected(
        ProblemCode::PasskeyRequired,
        format!(
            "the policy asks for a passkey authentication at this application's origin (rule: {rule}): finish one for this user and name it in passkey_authentication"
        ),
    )
}

/// What a code's digest is bound to: the request it was made for.
pub(crate) fn code_context(id: &ApprovalId) -> String {
    format!("display-code:{id}")
}

impl Assent {
    /// Creates an approval request for one of the application's users and returns it as it is
    /// now (pending, or already approved when the policy allows it without a prompt), with the
    /// code to show.
    pub async fn create_approval(
        &self,
        app: &App,
        request: NewApproval,
    ) -> Result<CreatedApproval, CoreError> {
        self.create_approval_with_code(app, request, None).await
    }

    /// [`Assent::create_approval`] with the number-matching code already chosen, for a client
    /// that showed it before asking (Duo's Verified Push shows it at preauth). It is used when
    /// the policy asks for number matching; a code shorter than the policy asks for is refused
    /// (`number_matching_unavailable`), since the client has shown it already.
    pub async fn create_approval_with_code(
        &self,
        app: &App,
        request: NewApproval,
        chosen_code: Option<String>,
    ) -> Result<CreatedApproval, CoreError> {
        let kind = request.kind;
        self.create_prompt(app, request, chosen_code, Supersede::Pending)
            .await
            .inspect_err(|e| crate::measures::refused(kind, e.code()))
    }

    /// Creates one approver's prompt of an access request. It replaces nothing: an approver
    /// asked by two requesters at once must be able to answer both, and a sign-in of theirs
    /// must not withdraw a colleague's request. The prompt budget still applies.
    pub(crate) async fn create_approver_prompt(
        &self,
        app: &App,
        request: NewApproval,
    ) -> Result<CreatedApproval, CoreError> {
        self.create_prompt(app, request, None, Supersede::Nothing)
            .await
    }

    async fn create_prompt(
        &self,
        app: &App,
        request: NewApproval,
        chosen_code: Option<String>,
        supersede: Supersede,
    ) -> Result<CreatedApproval, CoreError> {
        let user = self.user_called(&request.user).await?;
        self.ensure_in_scope(app, &user).await?;
        let devices = self.store.list_devices(Some(&user.id)).await?;
        let active = devices
            .iter()
            .filter(|d| d.state == DeviceState::Active)
            .count();
        if active == 0 {
            return Err(CoreError::rejected(
                ProblemCode::NoActiveDevice,
                format!(
                    "{} has no active device to ask; enroll one first",
                    user.username
                ),
            ));
        }
        let passkey = match &request.passkey_authentication {
            Some(id) => Some(self.take_passkey_proof(app, &user, id).await?),
            None => None,
        };
        let asking = Asking {
            kind: None,
            passkey: passkey.is_some(),
        };
        let (risk, decision, _facts) = self
            .assess_request(app, &user, &request, active, asking)
            .await?;
        let outcome = &decision.outcome;
        if let Some(refusal) = self
            .policy_refusal(
                app,
                &user,
                request.kind.as_str(),
                &decision,
                &risk,
                passkey.is_some(),
            )
            .await?
        {
            return Err(refusal);
        }
        // A relying party that asks for user verification gets a prompt even where the policy
        // would allow without one: it may ask for more than the policy, never less.
        let prompt = outcome.kind == OutcomeKind::Push || request.user_verification;
        let hash = details_hash(
            request.kind.as_str(),
            request.binding_message.as_ref().map(BindingMessage::as_str),
            request.authorization_details.as_slice(),
        )
        .map_err(|e| CoreError::rejected(ProblemCode::InvalidRequest, e.to_string()))?;
        // `approvals.number_matching = false` switches it off whatever the policy says.
        let wants_code = prompt && self.settings.number_matching && outcome.number_matching;
        let waived = wants_code && request.code_display == CodeDisplay::Waived;
        let length = outcome.code_length.unwrap_or(self.settings.code_length);
        if wants_code
            && chosen_code
                .as_ref()
                .is_some_and(|c| c.len() < usize::from(length))
        {
            return Err(CoreError::rejected(
                ProblemCode::NumberMatchingUnavailable,
                format!(
                    "the policy asks for a {length}-digit code (rule: {}) and the client showed a shorter one",
                    decision.rule
                ),
            ));
        }
        let wants_code = match (wants_code, request.code_display) {
            (true, CodeDisplay::Unavailable) => {
                return Err(CoreError::rejected(
                    ProblemCode::NumberMatchingUnavailable,
                    format!(
                        "the policy asks for number matching (rule: {}) and this client cannot show a code",
                        decision.rule
                    ),
                ));
            }
            (true, CodeDisplay::Waived) => false,
            (wants, _) => wants,
        };
        // A quorum (four eyes) applies to a request the user answers, not to an approver's
        // prompt of an access request: that would ask for approvers of approvers.
        let quorum =
            (prompt && outcome.approvals > 1 && supersede == Supersede::Pending).then(|| Quorum {
                approvals: outcome.approvals,
                approver_groups: outcome.approver_groups.clone(),
            });
        if let Some(quorum) = &quorum {
            self.ensure_co_approvers(
                app,
                &user,
                quorum,
                &decision.rule,
                &request.authorization_details,
            )
            .await?;
        }
        // Only a request that will be sent spends the budget or replaces a pending one. The
        // user's prompt turn (the store's, so it holds across nodes) is held until the request is
        // written: simultaneous requests for one user, on any node, are counted one after
        // another, not all against the same count, and each replaces the one before it.
        let admission = if prompt {
            let gate = self.store.prompt_turn(&user.id).await?;
            self.admit_prompt(&user).await?;
            if supersede == Supersede::Pending {
                self.supersede(app, &user).await?;
            }
            Some(gate)
        } else {
            None
        };
        let now = self.now();
        let display_code = match (wants_code, chosen_code) {
            (false, _) => None,
            (true, Some(code)) => Some(code),
            (true, None) => Some(secrets::new_display_code(length)?),
        };
        let id = ApprovalId::generate();
        let code = display_code.as_ref().map(|c| MatchingCode {
            length: u8::try_from(c.len()).unwrap_or(u8::MAX),
            digest: self.data_key.digest(c.as_bytes(), &code_context(&id)),
        });
        let approval = Approval {
            id,
            app_id: app.id.clone(),
            user_id: user.id.clone(),
            kind: request.kind,
            binding_message: request.binding_message.map(|m| m.into_string()),
            authorization_details: request.authorization_details.into_vec(),
            context: request.context,
            nonce: random_token(16)?,
            code,
            // The relying party may ask for more than the policy, never less.
            user_verification: request.user_verification || outcome.user_verification,
            risk: risk.clone(),
            policy_rule: Some(decision.rule.clone()),
            state: ApprovalState::Pending,
            reason: None,
            created_at: now,
            expires_at: now + request.lifetime.duration(),
            decided_at: None,
            device_id: None,
            statement: None,
            receipt: None,
            quorum,
        };
        let event = AuditEvent::ApprovalCreated {
            approval_id: approval.id.to_string(),
            app_id: app.id.to_string(),
            user_id: user.id.to_string(),
            kind: approval.kind.as_str().to_owned(),
            expires_at: approval.expires_at.unix_timestamp(),
            number_matching: approval.code.is_some(),
            number_matching_waived: waived,
            user_verification: approval.user_verification,
            details_hash: hash,
            risk_score: risk.score,
            risk_signals: risk.signals(),
            policy_rule: decision.rule.clone(),
        };
        let mut pushes = if prompt {
            self.approval_pushes(app, &approval, &devices)?
        } else {
            Vec::new()
        };
        let local = self.claim_for_local_sender(&mut pushes);
        self.store
            .insert_approval(
                &approval,
                &pushes,
                self.audit(Actor::App(app.id.clone()), event),
            )
            .await?;
        drop(admission);
        // At once, before anything else can await: the pushes are claimed for this node.
        self.dispatch_queued(local, pushes);
        crate::measures::created(approval.kind, prompt);
        if prompt {
            self.detect_on_create(&approval).await;
            self.notifier.notify(&Topic::User(user.id));
            return Ok(CreatedApproval {
                approval,
                display_code,
            });
        }
        // The policy explicitly allows this request without a prompt.
        let approval = match self
            .close(&approval, EndReason::AllowedByPolicy, Actor::System)
            .await?
        {
            Some(decided) => decided,
            None => self.current(approval).await?,
        };
        Ok(CreatedApproval {
            approval,
            display_code: None,
        })
    }
}

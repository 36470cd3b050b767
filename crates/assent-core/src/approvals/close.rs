//! Ending a request: every transition out of `pending` goes through [`Assent::record_outcome`],
//! a conditional write in the store, so exactly one of several racing transitions wins and the
//! loser is told so. Endings without a device's answer (cancel, supersede, expiry, withdrawal,
//! the policy's allowance) go through [`Assent::close`].

use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::model::{App, Approval, Device, EndReason, Outcome};
use crate::notifier::Topic;
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::statement::{RECEIPT_TYP, Receipt, ReceiptDevice, ReceiptUserVerification};
use assent_proto::states::ApprovalState;

impl Assent {
    /// Cancels a pending request on behalf of its application.
    pub async fn cancel_approval(&self, app: &App, id: &str) -> Result<Approval, CoreError> {
        let approval = self.approval_for_app(app, id).await?;
        if approval.state.is_final() {
            return Err(already_decided(&approval));
        }
        let actor = Actor::App(app.id.clone());
        match self
            .close(&approval, EndReason::CancelledByRelyingParty, actor)
            .await?
        {
            Some(cancelled) => Ok(cancelled),
            None => Err(already_decided(&self.current(approval).await?)),
        }
    }

    /// Expires every pending request whose time is up; returns how many.
    pub async fn expire_due(&self) -> Result<usize, CoreError> {
        let due = self.store.due_for_expiry(self.now(), 500).await?;
        let mut expired = 0;
        for approval in due {
            if self.expire_if_due(approval).await?.state == ApprovalState::Expired {
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// The request as it is now: a pending request past its time is expired first.
    pub(crate) async fn expire_if_due(&self, approval: Approval) -> Result<Approval, CoreError> {
        if approval.state.is_final() {
            return Ok(approval);
        }
        if approval.quorum.is_some()
            && let Some(settled) = self.settle_held(&approval).await?
        {
            return Ok(settled);
        }
        if self.now() < approval.expires_at {
            return Ok(approval);
        }
        match self
            .close(&approval, EndReason::Expired, Actor::System)
            .await?
        {
            Some(expired) => Ok(expired),
            // A racing writer ended it: the store now holds the final word.
            None => self.current(approval).await,
        }
    }

    /// The store's current record of a request read earlier (the earlier copy if it is gone).
    pub(crate) async fn current(&self, approval: Approval) -> Result<Approval, CoreError> {
        Ok(self
            .records
            .approval(self.store.as_ref(), &approval.id)
            .await?
            .unwrap_or(approval))
    }

    /// Ends a request without a device's answer, in the state its reason implies. The decided
    /// record when this call ended it; `None` when another transition won.
    pub(crate) async fn close(
        &self,
        approval: &Approval,
        reason: EndReason,
        actor: Actor,
    ) -> Result<Option<Approval>, CoreError> {
        let outcome = self.sign_outcome(approval, reason.state(), Some(reason), None)?;
        self.record_outcome(approval, outcome, actor).await
    }

    /// Builds the final record, with the server-signed receipt.
    pub(crate) fn sign_outcome(
        &self,
        approval: &Approval,
        state: ApprovalState,
        reason: Option<EndReason>,
        answer: Option<(&Device, &str)>,
    ) -> Result<Outcome, CoreError> {
        let mut outcome = Outcome {
            state,
            reason,
            decided_at: self.now(),
            device_id: answer.map(|(d, _)| d.id.clone()),
            statement: answer.map(|(_, s)| s.to_owned()),
            receipt: String::new(),
            reported_network: None,
        };
        outcome.receipt = self.sign_receipt(approval, &outcome, answer.map(|(d, _)| d), None)?;
        Ok(outcome)
    }

    /// Signs the receipt of an outcome.
    pub(crate) fn sign_receipt(
        &self,
        approval: &Approval,
        outcome: &Outcome,
        device: Option<&Device>,
        user_verification: Option<ReceiptUserVerification>,
    ) -> Result<String, CoreError> {
        self.sign_receipt_claims(&self.receipt_claims(approval, outcome, device, user_verification))
    }

    pub(crate) fn sign_receipt_claims(&self, receipt: &Receipt) -> Result<String, CoreError> {
        Ok(self
            .key
            .sign(RECEIPT_TYP, Some(&self.kid), false, receipt)?)
    }

    /// What a receipt says of an outcome.
    pub(crate) fn receipt_claims(
        &self,
        approval: &Approval,
        outcome: &Outcome,
        device: Option<&Device>,
        user_verification: Option<ReceiptUserVerification>,
    ) -> Receipt {
        Receipt {
            iss: self.settings.public_url.clone(),
            approval_id: approval.id.to_string(),
            application: approval.app_id.to_string(),
            user: approval.user_id.to_string(),
            kind: approval.kind.as_str().to_owned(),
            state: outcome.state.as_str().to_owned(),
            reason: outcome.reason.map(|r| r.as_str().to_owned()),
            details_hash: approval.details_hash().unwrap_or_default(),
            created_at: approval.created_at.unix_timestamp(),
            decided_at: outcome.decided_at.unix_timestamp(),
            device: device.map(|d| ReceiptDevice {
                id: d.id.to_string(),
                jwk: d.jwk.clone(),
            }),
            statement: outcome.statement.clone(),
            user_verification,
            co_approvals: Vec::new(),
            iat: outcome.decided_at.unix_timestamp(),
        }
    }

    /// Writes the outcome if the request is still pending, and wakes everyone waiting on it.
    /// The decided record when this write won; `None` when the request had already ended.
    pub(crate) async fn record_outcome(
        &self,
        approval: &Approval,
        outcome: Outcome,
        actor: Actor,
    ) -> Result<Option<Approval>, CoreError> {
        let event = AuditEvent::decided(
            &approval.id,
            outcome.state.as_str(),
            outcome.reason.map(EndReason::as_str),
            outcome.device_id.as_ref(),
        )
        .reporting(outcome.reported_network.as_deref());
        let won = self
            .store
            .finalize(&approval.id, &outcome, self.audit(actor, event))
            .await?;
        if !won {
            return Ok(None);
        }
        let decided = approval.clone().decided(&outcome);
        crate::measures::decided(&decided);
        // Those woken read it back at once: from memory (unless too large to keep), as the
        // store now holds it.
        self.records.remember_decided(&decided);
        self.notifier.notify(&Topic::Approval(approval.id.clone()));
        self.notifier.notify(&Topic::User(approval.user_id.clone()));
        if decided.quorum.is_some() {
            self.end_co_approval_of(&decided).await;
        }
        Ok(Some(decided))
    }
}

/// The refusal of a transition on a request that has already ended.
pub(crate) fn already_decided(approval: &Approval) -> CoreError {
    CoreError::rejected(
        ProblemCode::AlreadyDecided,
        format!("the request is already {}", approval.state.as_str()),
    )
}

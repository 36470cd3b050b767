//! A device's answer: the signed decision statement is checked against the request it names
//! (key, nonce, details, code, time, and the passkey when the request needs one), then written
//! as the request's outcome if nothing else ended it first.

use super::close::already_decided;
use super::create::code_context;
use super::read::{another_users_request, not_found};
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::{ApprovalId, DeviceId};
use crate::model::{Approval, Device, EndReason, SuspensionReason};
use crate::secrets;
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::jose::Parsed;
use assent_proto::statement::{DECISION_TYP, Decision, DecisionStatement, ReceiptUserVerification};
use assent_proto::states::{ApprovalKind, ApprovalState};
use assent_proto::webauthn::{self, Assertion};

/// A device's answer that was accepted: the request as it ended, and what the device said.
#[derive(Debug, Clone)]
pub struct Answered {
    pub approval: Approval,
    pub decision: Decision,
    /// An approval the policy's quorum holds: the co-approvals it still waits for (the
    /// request stays pending until they come).
    pub awaiting_approvals: Option<u32>,
}

impl Assent {
    /// Accepts a device's signed decision for request `id`. The statement authenticates the
    /// answer by itself: its `kid` names the device, whose registered key must verify it.
    pub async fn decide(
        &self,
        id: &str,
        statement: &str,
        user_verification: Option<&Assertion>,
    ) -> Result<Answered, CoreError> {
        self.decide_from(id, statement, user_verification, None)
            .await
    }

    /// [`Assent::decide`], knowing the address the answer came from (where the device is).
    pub async fn decide_from(
        &self,
        id: &str,
        statement: &str,
        user_verification: Option<&Assertion>,
        device_ip: Option<std::net::IpAddr>,
    ) -> Result<Answered, CoreError> {
        let parsed = Parsed::parse(statement)
            .map_err(|e| CoreError::rejected(ProblemCode::InvalidStatement, e.to_string()))?;
        if parsed.header.typ.as_deref() != Some(DECISION_TYP) {
            return Err(CoreError::rejected(
                ProblemCode::InvalidStatement,
                format!("a decision has typ {DECISION_TYP}"),
            ));
        }
        let unknown_key = || {
            CoreError::rejected(
                ProblemCode::InvalidSignature,
                "the statement's kid names no enrolled device",
            )
        };
        let device_id = parsed
            .header
            .kid
            .as_deref()
            .and_then(DeviceId::parse)
            .ok_or_else(unknown_key)?;
        let device = self
            .store
            .device(&device_id)
            .await?
            .ok_or_else(unknown_key)?;
        let claims: DecisionStatement = parsed
            .verify(&device.jwk)
            .map_err(|e| CoreError::rejected(ProblemCode::InvalidSignature, e.to_string()))?;
        crate::devices::auth::ensure_can_answer(&device)?;
        if claims.request_id != id {
            return Err(CoreError::rejected(
                ProblemCode::StatementMismatch,
                "the statement names another request",
            ));
        }
        let approval_id = ApprovalId::parse(id).ok_or_else(not_found)?;
        let approval = self
            .store
            .approval_as_stored(&approval_id)
            .await?
            .ok_or_else(not_found)?;
        if approval.user_id != device.user_id {
            return Err(another_users_request());
        }
        let approval = self.expire_if_due(approval).await?;
        match approval.state {
            ApprovalState::Pending => {}
            ApprovalState::Expired => {
                return Err(CoreError::rejected(
                    ProblemCode::Expired,
                    "the request expired before the answer",
                ));
            }
            _ => return Err(already_decided(&approval)),
        }
        if approval.quorum.is_some()
            && self
                .store
                .access_request_holding(&approval.id)
                .await?
                .is_some()
        {
            return Err(crate::access::co_approval::awaiting_co_approvers());
        }
        if !secrets::constant_time_eq(&claims.nonce, &approval.nonce) {
            return Err(CoreError::rejected(
                ProblemCode::StatementMismatch,
                "the statement carries another nonce",
            ));
        }
        self.check_iat(claims.iat, self.now())?;
        let expected_hash = approval
            .details_hash()
            .map_err(|e| CoreError::rejected(ProblemCode::DetailsMismatch, e.to_string()))?;
        if !secrets::constant_time_eq(&claims.details_hash, &expected_hash) {
            return Err(CoreError::rejected(
                ProblemCode::DetailsMismatch,
                "the signed details hash does not match the request's details",
            ));
        }

        // No reason: approved by the user's own device.
        let reason = match claims.decision {
            Decision::Approve => match (&approval.code, &claims.code) {
                (None, _) => None,
                (Some(_), None) => {
                    return Err(CoreError::rejected(
                        ProblemCode::CodeRequired,
                        "type the code shown on the sign-in screen",
                    ));
                }
                (Some(expected), Some(typed))
                    if self.data_key.digest_matches(
                        typed.as_bytes(),
                        &code_context(&approval.id),
                        &expected.digest,
                    ) =>
                {
                    None
                }
                (Some(_), Some(_)) => Some(EndReason::WrongCode),
            },
            Decision::Deny => Some(EndReason::DeniedByUser),
            Decision::Fraud => Some(EndReason::ReportedAsFraud),
        };
        let state = reason.map_or(ApprovalState::Approved, EndReason::state);
        let evidence = if state == ApprovalState::Approved && approval.user_verification {
            Some(
                self.check_user_verification(&device, statement, user_verification)
                    .await?,
            )
        } else {
            None
        };
        if let (ApprovalState::Approved, Some(quorum)) = (state, &approval.quorum) {
            // Four eyes: the user's approval waits for the co-approvers'.
            let co_approval = self
                .hold_for_co_approval(&approval, quorum, &device, statement, evidence)
                .await?;
            self.detect_on_approval(&approval, &device, self.now(), device_ip)
                .await;
            let approval = self.current(approval).await?;
            // Just asked: none of them has answered yet.
            let awaiting = (approval.state == ApprovalState::Pending)
                .then_some(co_approval.approvals_required);
            return Ok(Answered {
                approval,
                decision: claims.decision,
                awaiting_approvals: awaiting,
            });
        }
        let mut outcome =
            self.sign_outcome(&approval, state, reason, Some((&device, statement)))?;
        if reason == Some(EndReason::ReportedAsFraud) {
            // "This wasn't me" taints the network the request came from, written (and audited)
            // with the outcome, so the two cannot part.
            outcome.reported_network = Assent::reported_network(&approval);
        }
        if let Some(evidence) = evidence {
            outcome.receipt =
                self.sign_receipt(&approval, &outcome, Some(&device), Some(evidence))?;
        }
        let Some(decided) = self
            .record_outcome(&approval, outcome, Actor::Device(device.id.clone()))
            .await?
        else {
            return Err(already_decided(&self.current(approval).await?));
        };
        if approval.kind == ApprovalKind::Access {
            self.after_access_answer(&approval.id).await;
        }
        match reason {
            None => {
                self.detect_on_approval(&approval, &device, self.now(), device_ip)
                    .await;
            }
            Some(EndReason::ReportedAsFraud) => {
                // "This wasn't me": stop all pushes to this user at once.
                self.suspend_push(&approval.user_id, SuspensionReason::FraudReported, 0)
                    .await?;
            }
            Some(EndReason::WrongCode) => {
                return Err(CoreError::rejected(
                    ProblemCode::WrongCode,
                    "the code does not match the one shown on the sign-in screen; the request was denied",
                ));
            }
            Some(_) => {}
        }
        Ok(Answered {
            approval: decided,
            decision: claims.decision,
            awaiting_approvals: None,
        })
    }

    /// Checks the passkey assertion that must accompany an approval needing user verification.
    /// A missing or failed check leaves the request pending: the user may try again.
    async fn check_user_verification(
        &self,
        device: &Device,
        statement: &str,
        assertion: Option<&Assertion>,
    ) -> Result<ReceiptUserVerification, CoreError> {
        let required = |detail: &str| {
            CoreError::rejected(ProblemCode::UserVerificationRequired, detail.to_owned())
        };
        let assertion = assertion.ok_or_else(|| {
            required("this request needs a passkey check with user verification over the statement")
        })?;
        let passkey = self.store.passkey(&device.id).await?.ok_or_else(|| {
            required("this device has no passkey, so it cannot approve requests that need user verification")
        })?;
        let expected = webauthn::Expected {
            statement,
            origin: self.settings.origin(),
            rp_id: self.settings.rp_id(),
            credential_id: &passkey.credential_id,
            public_key: &passkey.public_key,
        };
        let failed = |e: webauthn::AssertionError| {
            CoreError::rejected(ProblemCode::UserVerificationFailed, e.to_string())
        };
        webauthn::verify(assertion, &expected).map_err(failed)?;
        let presented = webauthn::sign_count(assertion).map_err(failed)?;
        // WebAuthn's clone check: once either counter is non-zero, each assertion must show a
        // larger one. The store moves it conditionally, so of two assertions carrying the same
        // counter (a copy used beside the original) only one gets through.
        let advanced = webauthn::sign_count_advances(passkey.sign_count, presented)
            && (presented == 0
                || self
                    .store
                    .advance_sign_count(&device.id, &passkey.credential_id, presented)
                    .await?);
        if !advanced {
            return Err(self
                .refuse_cloned_passkey(device, passkey.sign_count, presented)
                .await);
        }
        Ok(ReceiptUserVerification {
            origin: self.settings.origin().to_owned(),
            rp_id: self.settings.rp_id().to_owned(),
            public_key: assent_proto::jose::Jwk::from_sec1(&passkey.public_key)?,
            assertion: assertion.clone(),
        })
    }

    /// Refuses an assertion whose signature counter did not grow: audited, and the user is
    /// told, since a copy of the passkey may be in someone else's hands. The request stays
    /// pending.
    async fn refuse_cloned_passkey(
        &self,
        device: &Device,
        stored: u32,
        presented: u32,
    ) -> CoreError {
        let event = AuditEvent::PasskeyCloneSuspected {
            device_id: device.id.to_string(),
            user_id: device.user_id.to_string(),
            stored_sign_count: stored,
            presented_sign_count: presented,
        };
        if let Err(e) = self
            .store
            .append_audit(self.audit(Actor::Device(device.id.clone()), event))
            .await
        {
            return e.into();
        }
        self.alert_about(
            &device.user_id,
            "passkey_clone_suspected",
            format!(
                "The passkey of \"{}\" was used with a signature counter that did not grow; a copy of it may be in use elsewhere. Register a new passkey on that device, and revoke it if you did not make this approval.",
                device.name
            ),
            Some(&device.id),
        )
        .await;
        CoreError::rejected(
            ProblemCode::UserVerificationFailed,
            format!(
                "the passkey's signature counter did not grow (stored {stored}, presented {presented}): it may have been cloned"
            ),
        )
    }
}

//! The approval state machine: create, answer, cancel, expire. Every transition out of
//! `pending` is a conditional write in the store, so exactly one of several racing transitions
//! wins, and the loser is told so.

use super::{Assent, AuthenticatedDevice, UnspentProof};
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::{ApprovalId, DeviceId};
use crate::model::{App, Approval, DeliveryChannel, Device, Outcome};
use crate::notifier::Topic;
use crate::policy::OutcomeKind;
use crate::secrets;
use assent_proto::ProblemCode;
use assent_proto::api::{
    ApprovalCreated, ApprovalState, CreateApproval, DecisionAccepted, DeviceState,
};
use assent_proto::jose::{Parsed, random_token};
use assent_proto::statement::{
    DECISION_TYP, Decision, DecisionStatement, RECEIPT_TYP, Receipt, ReceiptDevice,
    ReceiptUserVerification, details_hash,
};
use assent_proto::webauthn::{self, Assertion};
use time::Duration;

/// Longest binding message, in characters: a sentence, not a document.
const MAX_BINDING_MESSAGE: usize = 500;
/// Most authorization details objects per request.
const MAX_AUTHORIZATION_DETAILS: usize = 16;

/// Why a request ended, when its state alone does not say.
pub mod reasons {
    pub const WRONG_CODE: &str = "wrong_code";
    pub const DENIED_BY_USER: &str = "denied_by_user";
    pub const REPORTED_AS_FRAUD: &str = "reported_as_fraud";
    pub const CANCELLED_BY_RELYING_PARTY: &str = "cancelled_by_relying_party";
    pub const EXPIRED: &str = "expired";
    pub const SUPERSEDED: &str = "superseded";
    pub const ALLOWED_BY_POLICY: &str = "allowed_by_policy";
}

impl Assent {
    /// Creates an approval request for one of the application's users.
    pub async fn create_approval(
        &self,
        app: &App,
        request: CreateApproval,
    ) -> Result<ApprovalCreated, CoreError> {
        let invalid = |d: String| CoreError::rejected(ProblemCode::InvalidRequest, d);
        if let Some(message) = &request.binding_message
            && (message.chars().count() > MAX_BINDING_MESSAGE
                || message.chars().any(|c| c.is_control() && c != '\n'))
        {
            return Err(invalid(format!(
                "binding_message is at most {MAX_BINDING_MESSAGE} printable characters"
            )));
        }
        if request.authorization_details.len() > MAX_AUTHORIZATION_DETAILS {
            return Err(invalid(format!(
                "at most {MAX_AUTHORIZATION_DETAILS} authorization_details"
            )));
        }
        for detail in &request.authorization_details {
            let has_type = detail
                .get("type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| !t.is_empty());
            if !has_type {
                return Err(invalid("every authorization_details entry is an object with a string \"type\" (RFC 9396)".into()));
            }
        }
        let ttl = match request.expires_in {
            Some(0) => return Err(invalid("expires_in must be at least 1 second".into())),
            Some(s) => Duration::seconds(i64::from(s)),
            None => self.settings.default_ttl,
        };
        if ttl > self.settings.max_ttl {
            return Err(invalid(format!(
                "expires_in is at most {} seconds",
                self.settings.max_ttl.whole_seconds()
            )));
        }
        let user = self.user_named(&request.user).await?;
        let devices = self.store.list_devices(Some(&user.id)).await?;
        if !devices.iter().any(|d| d.state == DeviceState::Active) {
            return Err(CoreError::rejected(
                ProblemCode::NoActiveDevice,
                format!(
                    "{} has no active device to ask; enroll one first",
                    user.username
                ),
            ));
        }
        let active = devices
            .iter()
            .filter(|d| d.state == DeviceState::Active)
            .count();
        let (risk, decision, _facts) = self.assess_request(app, &user, &request, active).await?;
        let outcome = &decision.outcome;
        if outcome.kind == OutcomeKind::Deny {
            let event = AuditEvent::ApprovalRefused {
                app_id: app.id.to_string(),
                user_id: user.id.to_string(),
                kind: request.kind.as_str().to_owned(),
                policy_rule: decision.rule.clone(),
                risk_score: risk.score,
                risk_signals: risk.signals(),
            };
            self.store
                .append_audit(self.audit(Actor::App(app.id.clone()), event))
                .await?;
            let message = outcome
                .message
                .clone()
                .unwrap_or_else(|| "refused by policy".into());
            return Err(CoreError::rejected(
                ProblemCode::DeniedByPolicy,
                format!("{message} (rule: {}; risk {})", decision.rule, risk.score),
            ));
        }
        // A relying party that asks for user verification gets a prompt even where the policy
        // would allow without one: it may ask for more than the policy, never less.
        let prompt = outcome.kind == OutcomeKind::Push || request.user_verification;
        let kind = request.kind;
        let hash = details_hash(
            kind.as_str(),
            request.binding_message.as_deref(),
            &request.authorization_details,
        )
        .map_err(|e| invalid(e.to_string()))?;
        // Only a request that will be sent spends the budget or replaces a pending one. The gate
        // is held until the request is written, so simultaneous requests for one user are
        // counted one after another, not all against the same count.
        let admission = if prompt {
            let gate = self.prompt_gate.enter(&user.id).await;
            self.admit_prompt(&user).await?;
            self.supersede(app, &user).await?;
            Some(gate)
        } else {
            None
        };
        let now = self.now();
        // `approvals.number_matching = false` switches it off whatever the policy says.
        let display_code = if prompt && self.settings.number_matching && outcome.number_matching {
            let length = outcome.code_length.unwrap_or(self.settings.code_length);
            Some(secrets::new_display_code(length)?)
        } else {
            None
        };
        let approval = Approval {
            id: ApprovalId::generate(),
            app_id: app.id.clone(),
            user_id: user.id.clone(),
            kind,
            binding_message: request.binding_message,
            authorization_details: request.authorization_details,
            context: request.context.unwrap_or_default(),
            nonce: random_token(16)?,
            display_code,
            // The relying party may ask for more than the policy, never less.
            user_verification: request.user_verification || outcome.user_verification,
            risk: risk.clone(),
            policy_rule: Some(decision.rule.clone()),
            state: ApprovalState::Pending,
            reason: None,
            created_at: now,
            expires_at: now + ttl,
            decided_at: None,
            device_id: None,
            statement: None,
            receipt: None,
        };
        let event = AuditEvent::ApprovalCreated {
            approval_id: approval.id.to_string(),
            app_id: app.id.to_string(),
            user_id: user.id.to_string(),
            kind: kind.as_str().to_owned(),
            expires_at: approval.expires_at.unix_timestamp(),
            number_matching: approval.display_code.is_some(),
            user_verification: approval.user_verification,
            details_hash: hash,
            risk_score: risk.score,
            risk_signals: risk.signals(),
            policy_rule: decision.rule.clone(),
        };
        self.store
            .insert_approval(&approval, self.audit(Actor::App(app.id.clone()), event))
            .await?;
        drop(admission);
        let mut state = approval.state;
        if prompt {
            self.detect_on_create(&approval).await;
            self.notifier.notify(&Topic::User(user.id));
        } else {
            // The policy explicitly allows this request without a prompt.
            self.end(
                &approval,
                ApprovalState::Approved,
                reasons::ALLOWED_BY_POLICY,
                Actor::System,
            )
            .await?;
            state = ApprovalState::Approved;
        }
        Ok(ApprovalCreated {
            id: approval.id.to_string(),
            state,
            display_code: approval.display_code,
            expires_at: crate::clock::rfc3339(approval.expires_at),
            user_verification: approval.user_verification,
            risk: super::views::risk_view(&approval.risk),
            policy_rule: decision.rule,
        })
    }

    /// One of the application's requests, current as of now (expiring it if its time is up).
    /// Another application's request is reported as not found, so ids reveal nothing.
    pub async fn approval_for_app(&self, app: &App, id: &str) -> Result<Approval, CoreError> {
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such approval request");
        let id = ApprovalId::parse(id).ok_or_else(not_found)?;
        let approval = self
            .records
            .approval(self.store.as_ref(), &id)
            .await?
            .ok_or_else(not_found)?;
        if approval.app_id != app.id {
            return Err(not_found());
        }
        self.settle(approval).await
    }

    /// Waits until the request is final or `wait` has passed, then returns it.
    pub async fn wait_for_app(
        &self,
        app: &App,
        id: &str,
        wait: Duration,
    ) -> Result<Approval, CoreError> {
        if wait <= Duration::ZERO {
            return self.approval_for_app(app, id).await;
        }
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such approval request");
        let topic = Topic::Approval(ApprovalId::parse(id).ok_or_else(not_found)?);
        // Subscribed before the first read, so a change made after that read still wakes the
        // wait, and one read is enough to start it. (Subscribing to another application's
        // request reveals nothing: the read below refuses it before anything is returned.)
        let mut subscription = self.notifier.subscribe(&topic);
        drop(topic);
        let first = self.approval_for_app(app, id).await?;
        if first.state.is_final() {
            return Ok(first);
        }
        // A wait may be held by a hundred thousand relying parties at once: keep only what the
        // wait needs (the request itself is re-read on every wake-up).
        let expires_at = first.expires_at;
        drop(first);
        let deadline = tokio::time::Instant::now() + wait.unsigned_abs();
        let expiry_in = (expires_at - self.now()).max(Duration::ZERO).unsigned_abs();
        let expiry_at = tokio::time::Instant::now() + expiry_in;
        loop {
            tokio::select! {
                _ = subscription.changed() => {}
                _ = tokio::time::sleep_until(deadline) => return self.approval_for_app(app, id).await,
                _ = tokio::time::sleep_until(expiry_at + std::time::Duration::from_millis(5)) => {}
            }
            let current = self.approval_for_app(app, id).await?;
            if current.state.is_final() {
                return Ok(current);
            }
        }
    }

    /// Cancels a pending request on behalf of its application.
    pub async fn cancel_approval(&self, app: &App, id: &str) -> Result<Approval, CoreError> {
        let approval = self.approval_for_app(app, id).await?;
        if approval.state.is_final() {
            return Err(already_decided(&approval));
        }
        let reason = reasons::CANCELLED_BY_RELYING_PARTY;
        if !self
            .end(
                &approval,
                ApprovalState::Cancelled,
                reason,
                Actor::App(app.id.clone()),
            )
            .await?
        {
            let current = self.approval_for_app(app, id).await?;
            return Err(already_decided(&current));
        }
        self.approval_for_app(app, id).await
    }

    /// Expires every pending request whose time is up; returns how many.
    pub async fn expire_due(&self) -> Result<usize, CoreError> {
        let due = self.store.due_for_expiry(self.now(), 500).await?;
        let mut expired = 0;
        for approval in due {
            if self.settle(approval).await?.state == ApprovalState::Expired {
                expired += 1;
            }
        }
        Ok(expired)
    }

    /// Expires a pending request that is past its time; returns the current record.
    pub(crate) async fn settle(&self, approval: Approval) -> Result<Approval, CoreError> {
        if approval.state.is_final() || self.now() < approval.expires_at {
            return Ok(approval);
        }
        self.end(
            &approval,
            ApprovalState::Expired,
            reasons::EXPIRED,
            Actor::System,
        )
        .await?;
        // Whether we or a racing writer ended it, the store now holds the final word.
        Ok(self
            .records
            .approval(self.store.as_ref(), &approval.id)
            .await?
            .unwrap_or(approval))
    }

    /// The device's pending requests, with their full context; records their delivery.
    pub async fn pending_for_device(
        &self,
        device: &AuthenticatedDevice,
    ) -> Result<Vec<Approval>, CoreError> {
        let device = device.device();
        let pending = self
            .store
            .pending_for_user(&device.user_id, self.now())
            .await?;
        for approval in &pending {
            self.record_delivery(approval, device).await?;
        }
        Ok(pending)
    }

    /// One request of the device's user, with its full context; records its delivery.
    pub async fn approval_for_device(
        &self,
        device: &AuthenticatedDevice,
        proof: UnspentProof,
        id: &str,
    ) -> Result<Approval, CoreError> {
        let device = device.device();
        let approval = match self.approval_of_device(device, id).await {
            Ok(approval) => approval,
            Err(refusal) => {
                // A replayed proof is refused as a replay, whatever it asks for.
                self.spend_proof(proof).await?;
                return Err(refusal);
            }
        };
        if approval.state == ApprovalState::Pending {
            self.record_fetch(&approval, device, proof).await?;
        } else {
            self.spend_proof(proof).await?;
        }
        self.seen(device).await?;
        Ok(approval)
    }

    /// Request `id`, current, if it is for `device`'s user.
    async fn approval_of_device(&self, device: &Device, id: &str) -> Result<Approval, CoreError> {
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such approval request");
        let id = ApprovalId::parse(id).ok_or_else(not_found)?;
        let approval = self
            .records
            .approval(self.store.as_ref(), &id)
            .await?
            .ok_or_else(not_found)?;
        if approval.user_id != device.user_id {
            return Err(CoreError::rejected(
                ProblemCode::DeviceNotAuthorized,
                "this request is for another user's devices",
            ));
        }
        self.settle(approval).await
    }

    /// Records that `device` fetched `approval`.
    async fn record_delivery(&self, approval: &Approval, device: &Device) -> Result<(), CoreError> {
        let audit = self.fetch_audit(approval, device);
        self.store
            .record_delivery(&approval.id, &device.id, DeliveryChannel::Fetch, audit)
            .await?;
        Ok(())
    }

    /// Records the delivery and the proof that fetched it, in one transaction; refuses a replay.
    async fn record_fetch(
        &self,
        approval: &Approval,
        device: &Device,
        proof: UnspentProof,
    ) -> Result<(), CoreError> {
        let audit = self.fetch_audit(approval, device);
        let proof = proof.into_use();
        self.store
            .record_delivery_with_proof(
                &proof,
                &approval.id,
                &device.id,
                DeliveryChannel::Fetch,
                audit,
            )
            .await?
            .ok_or_else(super::device_auth::proof_replayed)?;
        Ok(())
    }

    fn fetch_audit(&self, approval: &Approval, device: &Device) -> crate::audit::PendingAudit {
        let event = AuditEvent::ApprovalDelivered {
            approval_id: approval.id.to_string(),
            device_id: device.id.to_string(),
            channel: DeliveryChannel::Fetch.as_str().to_owned(),
        };
        self.audit(Actor::Device(device.id.clone()), event)
    }

    /// Accepts a device's signed decision for request `id`. The statement authenticates the
    /// answer by itself: its `kid` names the device, whose registered key must verify it.
    pub async fn decide(
        &self,
        id: &str,
        statement: &str,
        user_verification: Option<&Assertion>,
    ) -> Result<DecisionAccepted, CoreError> {
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
    ) -> Result<DecisionAccepted, CoreError> {
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
        super::device_auth::ensure_can_answer(&device)?;
        if claims.request_id != id {
            return Err(CoreError::rejected(
                ProblemCode::StatementMismatch,
                "the statement names another request",
            ));
        }
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such approval request");
        let approval_id = ApprovalId::parse(id).ok_or_else(not_found)?;
        let approval = self
            .store
            .approval_as_stored(&approval_id)
            .await?
            .ok_or_else(not_found)?;
        if approval.user_id != device.user_id {
            return Err(CoreError::rejected(
                ProblemCode::DeviceNotAuthorized,
                "this request is for another user's devices",
            ));
        }
        let approval = self.settle(approval).await?;
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
        if !secrets::constant_time_eq(&claims.nonce, &approval.nonce) {
            return Err(CoreError::rejected(
                ProblemCode::StatementMismatch,
                "the statement carries another nonce",
            ));
        }
        self.check_iat(claims.iat, self.now())?;
        let expected_hash = details_hash(
            approval.kind.as_str(),
            approval.binding_message.as_deref(),
            &approval.authorization_details,
        )
        .map_err(|e| CoreError::rejected(ProblemCode::DetailsMismatch, e.to_string()))?;
        if !secrets::constant_time_eq(&claims.details_hash, &expected_hash) {
            return Err(CoreError::rejected(
                ProblemCode::DetailsMismatch,
                "the signed details hash does not match the request's details",
            ));
        }

        let (state, reason, wrong_code) = match claims.decision {
            Decision::Approve => match (&approval.display_code, &claims.code) {
                (None, _) => (ApprovalState::Approved, None, false),
                (Some(_), None) => {
                    return Err(CoreError::rejected(
                        ProblemCode::CodeRequired,
                        "type the code shown on the sign-in screen",
                    ));
                }
                (Some(expected), Some(typed)) if secrets::constant_time_eq(expected, typed) => {
                    (ApprovalState::Approved, None, false)
                }
                (Some(_), Some(_)) => (ApprovalState::Denied, Some(reasons::WRONG_CODE), true),
            },
            Decision::Deny => (ApprovalState::Denied, Some(reasons::DENIED_BY_USER), false),
            Decision::Fraud => (
                ApprovalState::Fraud,
                Some(reasons::REPORTED_AS_FRAUD),
                false,
            ),
        };
        let evidence = if state == ApprovalState::Approved && approval.user_verification {
            Some(
                self.check_user_verification(&device, statement, user_verification)
                    .await?,
            )
        } else {
            None
        };
        let mut outcome = self.outcome(&approval, state, reason, Some((&device, statement)))?;
        if let Some(evidence) = evidence {
            outcome.receipt =
                self.sign_receipt(&approval, &outcome, Some(&device), Some(evidence))?;
        }
        if !self
            .finish(&approval, outcome, Actor::Device(device.id.clone()))
            .await?
        {
            let current = self
                .records
                .approval(self.store.as_ref(), &approval.id)
                .await?
                .unwrap_or(approval);
            return Err(already_decided(&current));
        }
        if state == ApprovalState::Approved {
            self.detect_on_approval(&approval, &device, self.now(), device_ip)
                .await;
        }
        if state == ApprovalState::Fraud {
            // "This wasn't me": stop all pushes to this user at once.
            self.report_network(&approval).await?;
            let reason = super::fatigue::suspension_reasons::FRAUD_REPORTED;
            self.suspend_push(&approval.user_id, reason, 0).await?;
        }
        if wrong_code {
            return Err(CoreError::rejected(
                ProblemCode::WrongCode,
                "the code does not match the one shown on the sign-in screen; the request was denied",
            ));
        }
        Ok(DecisionAccepted {
            id: id.to_owned(),
            state,
            decision: claims.decision,
        })
    }

    /// Builds the final record, with the server-signed receipt.
    fn outcome(
        &self,
        approval: &Approval,
        state: ApprovalState,
        reason: Option<&str>,
        answer: Option<(&Device, &str)>,
    ) -> Result<Outcome, CoreError> {
        let mut outcome = Outcome {
            state,
            reason: reason.map(str::to_owned),
            decided_at: self.now(),
            device_id: answer.map(|(d, _)| d.id.clone()),
            statement: answer.map(|(_, s)| s.to_owned()),
            receipt: String::new(),
        };
        outcome.receipt = self.sign_receipt(approval, &outcome, answer.map(|(d, _)| d), None)?;
        Ok(outcome)
    }

    /// Signs the receipt of an outcome.
    fn sign_receipt(
        &self,
        approval: &Approval,
        outcome: &Outcome,
        device: Option<&Device>,
        user_verification: Option<ReceiptUserVerification>,
    ) -> Result<String, CoreError> {
        let details_hash = details_hash(
            approval.kind.as_str(),
            approval.binding_message.as_deref(),
            &approval.authorization_details,
        )
        .unwrap_or_default();
        let receipt = Receipt {
            iss: self.settings.public_url.clone(),
            approval_id: approval.id.to_string(),
            application: approval.app_id.to_string(),
            user: approval.user_id.to_string(),
            kind: approval.kind.as_str().to_owned(),
            state: outcome.state.as_str().to_owned(),
            reason: outcome.reason.clone(),
            details_hash,
            created_at: approval.created_at.unix_timestamp(),
            decided_at: outcome.decided_at.unix_timestamp(),
            device: device.map(|d| ReceiptDevice {
                id: d.id.to_string(),
                jwk: d.jwk.clone(),
            }),
            statement: outcome.statement.clone(),
            user_verification,
            iat: outcome.decided_at.unix_timestamp(),
        };
        Ok(self
            .key
            .sign(RECEIPT_TYP, Some(&self.kid), false, &receipt)?)
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
        webauthn::verify(assertion, &expected)
            .map_err(|e| CoreError::rejected(ProblemCode::UserVerificationFailed, e.to_string()))?;
        Ok(ReceiptUserVerification {
            origin: self.settings.origin().to_owned(),
            rp_id: self.settings.rp_id().to_owned(),
            public_key: assent_proto::jose::Jwk::from_sec1(&passkey.public_key)?,
            assertion: assertion.clone(),
        })
    }

    /// Ends a request without a device's answer (cancel, supersede, expiry).
    pub(crate) async fn end(
        &self,
        approval: &Approval,
        state: ApprovalState,
        reason: &str,
        actor: Actor,
    ) -> Result<bool, CoreError> {
        let outcome = self.outcome(approval, state, Some(reason), None)?;
        self.finish(approval, outcome, actor).await
    }

    /// Writes the outcome if the request is still pending, and wakes everyone waiting on it.
    async fn finish(
        &self,
        approval: &Approval,
        outcome: Outcome,
        actor: Actor,
    ) -> Result<bool, CoreError> {
        let event = AuditEvent::decided(
            &approval.id,
            outcome.state.as_str(),
            outcome.reason.as_deref(),
            outcome.device_id.as_ref(),
        );
        let won = self
            .store
            .finalize(&approval.id, &outcome, self.audit(actor, event))
            .await?;
        if won {
            // Those woken read it back at once: from memory (unless too large to keep), as the
            // store now holds it.
            self.records
                .remember_decided(&approval.clone().decided(&outcome));
            self.notifier.notify(&Topic::Approval(approval.id.clone()));
            self.notifier.notify(&Topic::User(approval.user_id.clone()));
        }
        Ok(won)
    }
}

fn already_decided(approval: &Approval) -> CoreError {
    CoreError::rejected(
        ProblemCode::AlreadyDecided,
        format!("the request is already {}", approval.state.as_str()),
    )
}

impl Assent {
    /// Whether a device's stream may go on: `false` once the device is revoked or removed
    /// (the stream then ends). Checked when the stream opens, on every [`Topic::Account`]
    /// wake-up (sent by every revocation and removal) and on the stream's periodic re-check.
    pub async fn stream_may_continue(
        &self,
        device: &AuthenticatedDevice,
    ) -> Result<bool, CoreError> {
        let current = self.store.device(&device.device().id).await?;
        Ok(current.is_some_and(|d| d.state != DeviceState::Revoked))
    }

    /// What a device stream shows: the user's pending requests.
    pub async fn stream_pending(
        &self,
        device: &AuthenticatedDevice,
    ) -> Result<Vec<Approval>, CoreError> {
        Ok(self
            .store
            .pending_for_user(&device.device().user_id, self.now())
            .await?)
    }

    /// The state of a request, by id, for stream events.
    pub async fn current_state(&self, id: &str) -> Result<ApprovalState, CoreError> {
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such approval request");
        let id = ApprovalId::parse(id).ok_or_else(not_found)?;
        let approval = self
            .records
            .approval(self.store.as_ref(), &id)
            .await?
            .ok_or_else(not_found)?;
        Ok(self.settle(approval).await?.state)
    }

    /// Time from now until `t` by the service's clock (zero if past).
    pub fn time_until(&self, t: time::OffsetDateTime) -> std::time::Duration {
        (t - self.now()).max(Duration::ZERO).unsigned_abs()
    }
}

//! Push fatigue and prompt-bombing defense: at most one pending prompt per user and application,
//! a per-user prompt budget since the last approval, and push suspended (with one alert to the
//! user and an admin alert in the audit log) when the budget is spent or fraud is reported.

use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::UserId;
use crate::model::{App, Approval, EndReason, Suspension, SuspensionReason, User};
use crate::service::Assent;
use assent_proto::states::ApprovalKind;
use time::Duration;

/// The longest a suspension grows to through back-off.
const MAX_SUSPENSION: Duration = Duration::days(1);

impl Assent {
    /// Decides whether one more prompt may reach the user. Refuses while push is suspended; spends
    /// the budget and suspends when it runs out (the refused prompt is never sent).
    pub(crate) async fn admit_prompt(&self, user: &User) -> Result<(), CoreError> {
        let now = self.now();
        let suspension = self.store.suspension(&user.id).await?;
        if let Some(current) = &suspension
            && current.until > now
        {
            return Err(self.suspended(current).await);
        }
        let window_start = now - self.settings.budget_window;
        let mut since = match self.store.last_approved_at(&user.id).await? {
            Some(approved) if approved > window_start => approved,
            _ => window_start,
        };
        // Prompts made before a suspension ended were paid for by it (or forgiven by the admin
        // who lifted it): the budget counts from its end.
        if let Some(ended) = suspension.map(|s| s.until)
            && ended > since
        {
            since = ended;
        }
        let recent = self.store.prompts_since(&user.id, since).await?;
        if recent >= u64::from(self.settings.prompt_budget) {
            let suspension = self
                .suspend_push(&user.id, SuspensionReason::PromptBudget, recent)
                .await?;
            return Err(self.suspended(&suspension).await);
        }
        Ok(())
    }

    /// Ends a user's push suspension now, on an admin's word, and forgives the prompts before
    /// it (the budget counts from now, and the next suspension is not lengthened by back-off).
    pub async fn lift_push_suspension(
        &self,
        by: &crate::service::Principal,
        username: &str,
    ) -> Result<(), CoreError> {
        let user = self.user_named(username).await?;
        let now = self.now();
        let current = self
            .store
            .suspension(&user.id)
            .await?
            .filter(|s| s.until > now)
            .ok_or_else(|| {
                CoreError::rejected(
                    assent_proto::ProblemCode::NotFound,
                    format!("push is not suspended for {}", user.username),
                )
            })?;
        let lifted = Suspension {
            until: now,
            created_at: now,
            ..current
        };
        let event = AuditEvent::PushSuspensionLifted {
            user_id: user.id.to_string(),
        };
        self.store
            .suspend(&lifted, self.audit(by.actor(), event))
            .await?;
        Ok(())
    }

    /// Pauses push for a user on an admin's word, for `length` (1 minute to a day): a user whose
    /// account is under attack, before anyone has approved anything. Audited under the admin,
    /// the user alerted on every device.
    pub async fn suspend_push_as_admin(
        &self,
        by: &crate::service::Principal,
        username: &str,
        length: Duration,
    ) -> Result<Suspension, CoreError> {
        if length < Duration::minutes(1) || length > MAX_SUSPENSION {
            return Err(CoreError::rejected(
                assent_proto::ProblemCode::InvalidRequest,
                "a suspension lasts 1 minute to 24 hours",
            ));
        }
        let user = self.user_named(username).await?;
        let now = self.now();
        let suspension = Suspension {
            user_id: user.id.clone(),
            until: now + length,
            reason: SuspensionReason::Admin,
            created_at: now,
        };
        let event = AuditEvent::PushSuspended {
            user_id: user.id.to_string(),
            until: suspension.until.unix_timestamp(),
            reason: SuspensionReason::Admin.as_str().to_owned(),
            recent_prompts: 0,
        };
        self.store
            .suspend(&suspension, self.audit(by.actor(), event))
            .await?;
        crate::measures::suspended(SuspensionReason::Admin);
        let message = format!(
            "Your administrators paused push requests to your account until {}. Until then, sign in with another factor or contact them.",
            crate::clock::rfc3339(suspension.until)
        );
        self.alert(&user.id, "push_suspended", message).await;
        Ok(suspension)
    }

    /// The user's push suspension while it lasts.
    pub async fn push_suspension(&self, user: &UserId) -> Result<Option<Suspension>, CoreError> {
        let now = self.now();
        Ok(self.store.suspension(user).await?.filter(|s| s.until > now))
    }

    /// Suspends push for a user, alerting the user once and the admins through the audit log.
    pub(crate) async fn suspend_push(
        &self,
        user: &UserId,
        reason: SuspensionReason,
        recent_prompts: u64,
    ) -> Result<Suspension, CoreError> {
        let now = self.now();
        // Back-off: a user suspended again within a day of the last suspension ending gets twice
        // the previous length.
        let length = match self.store.suspension(user).await? {
            Some(previous) if now - previous.until < Duration::days(1) => (previous.until
                - previous.created_at)
                .saturating_mul(2)
                .min(MAX_SUSPENSION)
                .max(self.settings.suspension),
            _ => self.settings.suspension,
        };
        let suspension = Suspension {
            user_id: user.clone(),
            until: now + length,
            reason,
            created_at: now,
        };
        let event = AuditEvent::PushSuspended {
            user_id: user.to_string(),
            until: suspension.until.unix_timestamp(),
            reason: reason.as_str().to_owned(),
            recent_prompts,
        };
        self.store
            .suspend(&suspension, self.audit(Actor::System, event))
            .await?;
        crate::measures::suspended(reason);
        let why = if reason == SuspensionReason::FraudReported {
            "you reported a request as not yours"
        } else {
            "too many requests arrived in a short time"
        };
        let message = format!(
            "Push requests are paused for your account until {} because {why}. If you did not start them, someone may know your password: change it.",
            crate::clock::rfc3339(suspension.until)
        );
        self.alert(user, "push_suspended", message).await;
        let username = self.username_of(user).await;
        let subject = format!("Assent admin alert: push suspended for {username}");
        let cause = if reason == SuspensionReason::FraudReported {
            "the user reported a request as not theirs".to_owned()
        } else {
            format!("{recent_prompts} prompts in the budget window")
        };
        let text = format!(
            "Push requests for {username} are suspended until {} ({}: {cause}).\n\nReview it in the audit log (push_suspended events).\n",
            crate::clock::rfc3339(suspension.until),
            reason.as_str()
        );
        self.email_admins(&subject, &text).await;
        tracing::warn!(user = %user, reason = reason.as_str(), recent_prompts, "push suspended");
        Ok(suspension)
    }

    /// Cancels the application's pending requests for the user (reason `superseded`).
    pub(crate) async fn supersede(&self, app: &App, user: &User) -> Result<(), CoreError> {
        if !self.settings.supersede_pending {
            return Ok(());
        }
        let pending: Vec<Approval> = self
            .store
            .pending_for_user(&user.id, self.now())
            .await?
            .into_iter()
            .filter(|a| a.app_id == app.id)
            .collect();
        for approval in pending {
            // An approver's prompt of an access request is someone else's request: the
            // approver's own sign-in does not withdraw it.
            if approval.kind == ApprovalKind::Access
                && self
                    .store
                    .access_request_of_approval(&approval.id)
                    .await?
                    .is_some()
            {
                continue;
            }
            let actor = Actor::App(app.id.clone());
            self.close(&approval, EndReason::Superseded, actor).await?;
        }
        Ok(())
    }
}

impl Assent {
    /// The refusal for a suspended user, naming the factors that still work.
    async fn suspended(&self, suspension: &Suspension) -> CoreError {
        let fallback_factors = match self.fallback_factors(&suspension.user_id).await {
            Ok(factors) => factors.iter().map(|f| f.as_str().to_owned()).collect(),
            Err(e) => {
                tracing::error!(error = %e, "fallback factors unknown");
                Vec::new()
            }
        };
        CoreError::Suspended {
            until: suspension.until,
            reason: suspension.reason.as_str().to_owned(),
            retry_after: (suspension.until - self.now()).whole_seconds(),
            fallback_factors,
        }
    }
}

//! Break-glass: when the approvers cannot be reached, the requester's application may end a
//! pending access request with a grant under a stricter rule than the quorum: the sealed
//! break-glass code, which the security team holds and an admin sets (shown once, stored as an
//! Argon2id hash, spent by its first use). The grant is short (`access.break_glass_grant_secs`
//! at most), every admin is alerted on every channel (an `admin_alert` audit row, delivered as an
//! `alert` webhook; e-mail to the admin recipients; an alert on the devices of the admin group's
//! members), and the grant stays unreviewed until an admin records a review.

use super::not_found;
use super::records::{AccessEnding, AccessReason, AccessRequest, AccessState, BreakGlassUse};
use super::{MAX_JUSTIFICATION, already_ended};
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::factors::otp;
use crate::ids::AccessRequestId;
use crate::model::App;
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;

/// Longest review note, in characters.
pub const MAX_REVIEW_NOTE: usize = 1000;

/// The canonical form of a typed break-glass code (two recovery-code halves, 120 bits), or
/// `None` when it cannot be one: 24 characters of the recovery-code alphabet, read the same in
/// upper case, with spaces or without dashes.
pub fn normalize_code(code: &str) -> Option<String> {
    let compact: String = code.chars().filter(|c| !matches!(c, '-' | ' ')).collect();
    if compact.chars().count() != 24 {
        return None;
    }
    let (first, second) = compact.split_at(compact.char_indices().nth(12)?.0);
    Some(otp::normalize_recovery_code(first)? + &otp::normalize_recovery_code(second)?)
}

fn printable(text: &str, max: usize) -> Option<String> {
    let text = text.trim();
    (!text.is_empty() && text.chars().count() <= max && !text.chars().any(char::is_control))
        .then(|| text.to_owned())
}

impl Assent {
    /// A new break-glass code, replacing any earlier one; shown once, here.
    pub async fn set_break_glass_code(&self, by: &Principal) -> Result<String, CoreError> {
        let code = format!(
            "{}-{}",
            otp::new_recovery_code()?,
            otp::new_recovery_code()?
        );
        let normalized = normalize_code(&code).ok_or_else(|| {
            CoreError::Internal("a new break-glass code does not read back".into())
        })?;
        let hash = self
            .hashing
            .run(move |memory| otp::hash_recovery_code(&normalized, memory))
            .await??;
        self.store
            .set_break_glass_code(
                &hash,
                self.now(),
                self.audit(by.actor(), AuditEvent::BreakGlassCodeSet {}),
            )
            .await?;
        Ok(code)
    }

    /// Ends the application's pending access request `id` with a break-glass grant, given the
    /// break-glass code and the requester's reason.
    pub async fn break_glass(
        &self,
        app: &App,
        id: &str,
        reason: &str,
        code: &str,
    ) -> Result<AccessRequest, CoreError> {
        let reason = printable(reason, MAX_JUSTIFICATION).ok_or_else(|| {
            CoreError::rejected(
                ProblemCode::InvalidRequest,
                format!("reason is 1 to {MAX_JUSTIFICATION} printable characters"),
            )
        })?;
        let request = self.access_request_for_app(app, id).await?;
        if request.state != AccessState::Pending {
            return Err(already_ended(&request));
        }
        if request.holds.is_some() {
            return Err(CoreError::rejected(
                ProblemCode::InvalidRequest,
                "break-glass opens access requests, not the co-approval of a request: cancel the request instead",
            ));
        }
        let Some(code_hash) = self.matching_break_glass_code(code).await? else {
            return Err(self
                .refuse_break_glass(app, &request, "the code given is not the break-glass code")
                .await?);
        };
        let now = self.now();
        let asked = time::Duration::seconds(i64::from(request.grant_seconds));
        let length = asked.min(self.settings.access.break_glass_grant);
        let grant = self
            .sign_grant(&request, &[], now, length, Some(reason.clone()))
            .await?;
        let event = AuditEvent::AccessRequestEnded {
            request_id: request.id.to_string(),
            app_id: request.app_id.to_string(),
            requester_id: request.requester.to_string(),
            state: AccessState::Granted.as_str().to_owned(),
            reason: AccessReason::BreakGlass.as_str().to_owned(),
            approved_by: Vec::new(),
            denied_by: Vec::new(),
            grant_id: Some(grant.id.clone()),
            grant_expires_at: Some(grant.expires_at.unix_timestamp()),
            break_glass_reason: Some(reason.clone()),
            review_required: true,
        };
        let expires_at = grant.expires_at;
        let ending = AccessEnding {
            reason: AccessReason::BreakGlass,
            at: now,
            grant: Some(grant),
            break_glass: Some(BreakGlassUse {
                code_hash,
                reason: reason.clone(),
            }),
        };
        let votes = self.votes(&request).await?;
        let won = self
            .store
            .end_access_request(
                &request.id,
                &ending,
                self.audit(Actor::App(app.id.clone()), event),
            )
            .await?;
        if !won {
            // The request ended meanwhile, or the code was spent (or replaced) by another use.
            let now_stored = self.count_access_votes(&request.id).await?;
            if now_stored.state != AccessState::Pending {
                return Err(already_ended(&now_stored));
            }
            return Err(self
                .refuse_break_glass(app, &now_stored, "the code was spent or replaced meanwhile")
                .await?);
        }
        // The grant is committed: the admins must hear of it whatever happens to the prompts.
        if let Err(e) = self.withdraw_open_prompts(&votes).await {
            tracing::error!(error = %e, access_request = %request.id, "prompts not withdrawn after break-glass");
        }
        let evidence = format!(
            "break-glass invoked for access request {}: \"{reason}\"; the grant lasts until {}; review it",
            request.id,
            crate::clock::rfc3339(expires_at)
        );
        self.raise_admin_alert(&request, evidence).await;
        self.store
            .access_request(&request.id)
            .await?
            .ok_or_else(not_found)
    }

    /// A refused break-glass: audited, every admin alerted, and the refusal to answer (which
    /// never says more than that the code is not the break-glass code).
    async fn refuse_break_glass(
        &self,
        app: &App,
        request: &AccessRequest,
        why: &str,
    ) -> Result<CoreError, CoreError> {
        let event = AuditEvent::BreakGlassRefused {
            request_id: request.id.to_string(),
            app_id: app.id.to_string(),
            requester_id: request.requester.to_string(),
        };
        self.store
            .append_audit(self.audit(Actor::App(app.id.clone()), event))
            .await?;
        let evidence = format!(
            "break-glass was refused for access request {}: {why}",
            request.id
        );
        self.raise_admin_alert(request, evidence).await;
        Ok(CoreError::rejected(
            ProblemCode::Forbidden,
            "that is not the break-glass code (or none is set, or it was spent)",
        ))
    }

    /// The stored code's hash when `code` is it.
    async fn matching_break_glass_code(&self, code: &str) -> Result<Option<String>, CoreError> {
        let (Some(hash), Some(typed)) =
            (self.store.break_glass_code().await?, normalize_code(code))
        else {
            return Ok(None);
        };
        let stored = hash.clone();
        let matches = self
            .hashing
            .run(move |memory| otp::recovery_code_matches(&typed, &stored, memory))
            .await?;
        Ok(matches.then_some(hash))
    }

    /// Tells every admin, on every channel: the audit log's `admin_alert` (delivered as an
    /// `alert` webhook and logged), e-mail to the admin recipients, and an alert on the devices
    /// of every member of the admin group. Failures are logged: the change is committed.
    async fn raise_admin_alert(&self, request: &AccessRequest, evidence: String) {
        let requester = self.username_of(&request.requester).await;
        tracing::warn!(access_request = %request.id, requester = %requester, %evidence, "admin alert");
        crate::measures::alert("break_glass");
        let event = AuditEvent::AdminAlert {
            detector: "break_glass".into(),
            user_id: request.requester.to_string(),
            approval_id: None,
            evidence: evidence.clone(),
        };
        if let Err(e) = self
            .store
            .append_audit(self.audit(Actor::System, event))
            .await
        {
            tracing::error!(error = %e, "break-glass admin alert not recorded");
        }
        let subject = format!("Assent admin alert: break-glass by {requester}");
        self.email_admins(&subject, &format!("{requester}: {evidence}\n"))
            .await;
        let members = match self
            .store
            .group_members(&self.settings.access.admin_group)
            .await
        {
            Ok(members) => members,
            Err(e) => {
                tracing::error!(error = %e, "the admin group cannot be read; no device alerts");
                return;
            }
        };
        for admin in members {
            self.alert(&admin, "break_glass", format!("{requester}: {evidence}"))
                .await;
        }
    }

    /// Records an admin's review of a break-glass grant.
    pub async fn review_break_glass(
        &self,
        by: &Principal,
        id: &str,
        note: &str,
    ) -> Result<AccessRequest, CoreError> {
        let note = printable(note, MAX_REVIEW_NOTE).ok_or_else(|| {
            CoreError::rejected(
                ProblemCode::InvalidRequest,
                format!("note is 1 to {MAX_REVIEW_NOTE} printable characters"),
            )
        })?;
        let id = AccessRequestId::parse(id).ok_or_else(not_found)?;
        let request = self
            .store
            .access_request(&id)
            .await?
            .ok_or_else(not_found)?;
        let Some(break_glass) = &request.break_glass else {
            return Err(CoreError::rejected(
                ProblemCode::InvalidRequest,
                "only a break-glass grant is reviewed",
            ));
        };
        if break_glass.reviewed_at.is_some() {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyDecided,
                "this break-glass grant was reviewed already",
            ));
        }
        let by_name = by.actor().label();
        let event = AuditEvent::BreakGlassReviewed {
            request_id: id.to_string(),
            note: note.clone(),
        };
        let won = self
            .store
            .review_break_glass(
                &id,
                self.now(),
                &by_name,
                &note,
                self.audit(by.actor(), event),
            )
            .await?;
        if !won {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyDecided,
                "this break-glass grant was reviewed already",
            ));
        }
        self.store.access_request(&id).await?.ok_or_else(not_found)
    }

    /// Break-glass grants no admin has reviewed yet, oldest first.
    pub async fn unreviewed_break_glass(&self) -> Result<Vec<AccessRequest>, CoreError> {
        Ok(self.store.unreviewed_break_glass(500).await?)
    }
}

#[cfg(test)]
mod tests {
    use super::normalize_code as normalize;

    #[test]
    fn a_code_reads_the_same_in_any_case_with_or_without_dashes() {
        let a = normalize("abcd-efgh-jkmn-pqrs-tvwx-yz01").unwrap();
        assert_eq!(a.len(), 24);
        assert_eq!(normalize("ABCD EFGH JKMN PQRS TVWX YZ01").unwrap(), a);
        assert_eq!(
            normalize("abcdefghjkmnpqrstvwxyzo1").unwrap(),
            a,
            "o reads as 0"
        );
        assert!(normalize("abcd-efgh-jkmn-pqrs-tvwx-yz0").is_none(), "short");
        assert!(
            normalize("abcd-efgh-jkmn-pqrs-tvwx-yz01-2").is_none(),
            "long"
        );
        assert!(
            normalize("abcd-efgh-jkmn-pqrs-tvwx-yzu1").is_none(),
            "u is no code letter"
        );
        assert!(normalize("ééééééééééééééééééééééé1").is_none());
    }
}

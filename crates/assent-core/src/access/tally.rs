//! Counting the answers of an access request, and ending it: granted at M approvals, rejected at
//! K denials or once too few approvers can still answer, expired when its time is up, cancelled
//! by its application. The ending is one conditional write; the prompts still open are then
//! withdrawn, so nobody is asked about a request that is over.

use super::not_found;
use super::records::{AccessEnding, AccessReason, AccessRequest, AccessState, Approver, Grant};
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::{AccessRequestId, ApprovalId, UserId};
use crate::model::{App, Approval, EndReason};
use crate::notifier::Topic;
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::states::ApprovalState;

/// The answers so far: each approver with their prompt as it is now.
pub(crate) struct Votes {
    pub approvers: Vec<(Approver, Option<Approval>)>,
}

impl Votes {
    /// Approvals given by a device (an approval the policy allowed without a prompt is nobody's
    /// vote).
    pub fn approved(&self) -> Vec<&Approval> {
        self.prompts()
            .filter(|a| a.state == ApprovalState::Approved && a.device_id.is_some())
            .collect()
    }

    pub fn denied(&self) -> Vec<&Approval> {
        self.prompts()
            .filter(|a| matches!(a.state, ApprovalState::Denied | ApprovalState::Fraud))
            .collect()
    }

    /// The answers (device approvals, denials and fraud reports) in the order they were
    /// written, and the threshold the first of them crossed: M approvals or K denials. A denial
    /// written before the approval that would have completed the quorum wins, whichever count
    /// sees them both.
    pub fn first_threshold(&self, m: usize, k: usize) -> Option<AccessReason> {
        let mut answers: Vec<&Approval> = self
            .prompts()
            .filter(|a| a.decided_at.is_some())
            .filter(|a| {
                (a.state == ApprovalState::Approved && a.device_id.is_some())
                    || matches!(a.state, ApprovalState::Denied | ApprovalState::Fraud)
            })
            .collect();
        answers.sort_by_key(|a| (a.decided_at, a.id.clone()));
        let (mut approvals, mut denials) = (0, 0);
        for answer in answers {
            if answer.state == ApprovalState::Approved {
                approvals += 1;
                if approvals >= m {
                    return Some(AccessReason::QuorumReached);
                }
            } else {
                denials += 1;
                if denials >= k {
                    return Some(AccessReason::Denied);
                }
            }
        }
        None
    }

    /// The M approvals that reached the quorum, in the order they were written.
    pub fn quorum(&self, m: usize) -> Vec<&Approval> {
        let mut approved = self.approved();
        approved.sort_by_key(|a| (a.decided_at, a.id.clone()));
        approved.truncate(m);
        approved
    }

    /// Whether some prompt ended without an approval (a denial, an expiry, a withdrawal): only
    /// then can the quorum become unreachable. Approvers who could not be prompted at all leave
    /// the request pending until its time is up, so break-glass stays possible.
    fn some_prompt_ended_unapproved(&self) -> bool {
        self.prompts()
            .any(|a| a.state != ApprovalState::Pending && a.state != ApprovalState::Approved)
    }

    fn open(&self) -> usize {
        self.prompts()
            .filter(|a| a.state == ApprovalState::Pending)
            .count()
    }

    fn prompts(&self) -> impl Iterator<Item = &Approval> {
        self.approvers.iter().filter_map(|(_, a)| a.as_ref())
    }
}

impl Assent {
    /// Counts the votes of a pending access request and ends it when they decide it; returns
    /// the request as it is now. Called after every approver's answer, by the sweeper and on
    /// every read, so an ending missed by a node that died after an answer is made up later.
    pub async fn count_access_votes(
        &self,
        id: &AccessRequestId,
    ) -> Result<AccessRequest, CoreError> {
        let request = self.store.access_request(id).await?.ok_or_else(not_found)?;
        if request.state != AccessState::Pending {
            return Ok(request);
        }
        let votes = self.votes(&request).await?;
        let m = request.approvals_required as usize;
        let k = request.denials_required as usize;
        let reason = if let Some(crossed) = votes.first_threshold(m, k) {
            Some(crossed)
        } else if self.now() >= request.expires_at {
            Some(AccessReason::Expired)
        } else if votes.approved().len() + votes.open() < m && votes.some_prompt_ended_unapproved()
        {
            Some(AccessReason::QuorumUnreachable)
        } else {
            None
        };
        match reason {
            Some(reason) => {
                self.end_access(request, &votes, reason, Actor::System)
                    .await
            }
            None => Ok(request),
        }
    }

    /// The approvers with their prompts, each expired first when its time is up.
    pub(crate) async fn votes(&self, request: &AccessRequest) -> Result<Votes, CoreError> {
        let mut approvers = Vec::new();
        for approver in self.store.access_approvers(&request.id).await? {
            let approval = match &approver.approval_id {
                Some(id) => match self.records.approval(self.store.as_ref(), id).await? {
                    Some(a) => Some(self.expire_if_due(a).await?),
                    None => None,
                },
                None => None,
            };
            approvers.push((approver, approval));
        }
        Ok(Votes { approvers })
    }

    /// Ends a pending access request for `reason` (with its grant when the quorum is reached);
    /// returns it as it is now, whoever won.
    pub(crate) async fn end_access(
        &self,
        request: AccessRequest,
        votes: &Votes,
        reason: AccessReason,
        actor: Actor,
    ) -> Result<AccessRequest, CoreError> {
        let now = self.now();
        let grant = match (reason, &request.holds) {
            // A co-approval grants no privilege: its outcome is the held request's receipt. The
            // store keeps a record in the grant's place, with no token to present anywhere.
            (AccessReason::QuorumReached, Some(held)) => Some(Grant {
                id: format!("co-approval:{}", held.approval_id),
                token: String::new(),
                not_before: now,
                expires_at: now,
                revoked_at: None,
                revoked_by: None,
            }),
            (AccessReason::QuorumReached, None) => {
                // The approvals that reached the quorum, in the order written: one that came
                // after it is recorded in the request's status, not named in the grant.
                let quorum = votes.quorum(request.approvals_required as usize);
                Some(self.mint_grant(&request, &quorum, now).await?)
            }
            _ => None,
        };
        let issued = grant.as_ref().filter(|_| request.holds.is_none());
        let user_ids = |list: Vec<&Approval>| -> Vec<String> {
            list.iter().map(|a| a.user_id.to_string()).collect()
        };
        let event = AuditEvent::AccessRequestEnded {
            request_id: request.id.to_string(),
            app_id: request.app_id.to_string(),
            requester_id: request.requester.to_string(),
            state: reason.state().as_str().to_owned(),
            reason: reason.as_str().to_owned(),
            approved_by: user_ids(votes.approved()),
            denied_by: user_ids(votes.denied()),
            grant_id: issued.map(|g| g.id.clone()),
            grant_expires_at: issued.map(|g| g.expires_at.unix_timestamp()),
            break_glass_reason: None,
            review_required: false,
        };
        let ending = AccessEnding {
            reason,
            at: now,
            grant,
            break_glass: None,
        };
        let won = self
            .store
            .end_access_request(&request.id, &ending, self.audit(actor, event))
            .await?;
        let ended = self
            .store
            .access_request(&request.id)
            .await?
            .ok_or_else(not_found)?;
        if won {
            self.withdraw_open_prompts(votes).await?;
            self.notifier
                .notify(&Topic::User(request.requester.clone()));
            // A co-approval's ending is its request's outcome.
            self.finish_held_approval(&ended, votes).await?;
        }
        Ok(ended)
    }

    /// Withdraws the prompts still open once the request is over.
    pub(crate) async fn withdraw_open_prompts(&self, votes: &Votes) -> Result<(), CoreError> {
        for (_, approval) in &votes.approvers {
            if let Some(approval) = approval
                .as_ref()
                .filter(|a| a.state == ApprovalState::Pending)
            {
                self.close(approval, EndReason::AccessRequestEnded, Actor::System)
                    .await?;
            }
        }
        Ok(())
    }

    /// After an approver's prompt ended (their answer): counts the request it belongs to.
    pub(crate) async fn after_access_answer(&self, approval: &ApprovalId) {
        let counted = match self.store.access_request_of_approval(approval).await {
            Ok(Some(id)) => self.count_access_votes(&id).await.map(|_| ()),
            Ok(None) => Ok(()),
            Err(e) => Err(e.into()),
        };
        // The answer itself is written; a count that failed here is made up by the sweeper.
        if let Err(e) = counted {
            tracing::warn!(error = %e, "counting an access request after an answer failed");
        }
    }

    /// Counts every pending access request whose time is up (expiring it); how many ended.
    pub async fn expire_due_access(&self) -> Result<usize, CoreError> {
        let due = self.store.access_requests_due(self.now(), 200).await?;
        let mut ended = 0;
        for request in due {
            if self.count_access_votes(&request.id).await?.state != AccessState::Pending {
                ended += 1;
            }
        }
        Ok(ended)
    }

    /// The application's access request, counted first.
    pub async fn access_request_for_app(
        &self,
        app: &App,
        id: &str,
    ) -> Result<AccessRequest, CoreError> {
        let id = AccessRequestId::parse(id).ok_or_else(not_found)?;
        let request = self
            .store
            .access_request(&id)
            .await?
            .filter(|r| r.app_id == app.id)
            .ok_or_else(not_found)?;
        self.count_access_votes(&request.id).await
    }

    /// Any access request, for an admin, counted first.
    pub async fn access_request_for_admin(&self, id: &str) -> Result<AccessRequest, CoreError> {
        let id = AccessRequestId::parse(id).ok_or_else(not_found)?;
        self.count_access_votes(&id).await
    }

    /// Withdraws a pending access request on the requester's behalf (through its application).
    pub async fn cancel_access_request(
        &self,
        app: &App,
        id: &str,
    ) -> Result<AccessRequest, CoreError> {
        let request = self.access_request_for_app(app, id).await?;
        if request.state != AccessState::Pending {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyDecided,
                format!("the access request is already {}", request.state.as_str()),
            ));
        }
        let votes = self.votes(&request).await?;
        let ended = self
            .end_access(
                request,
                &votes,
                AccessReason::CancelledByRequester,
                Actor::App(app.id.clone()),
            )
            .await?;
        if ended.reason != Some(AccessReason::CancelledByRequester) {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyDecided,
                format!("the access request is already {}", ended.state.as_str()),
            ));
        }
        Ok(ended)
    }

    /// Whether `user` is one of the request's approvers.
    pub(crate) async fn is_approver(
        &self,
        request: &AccessRequest,
        user: &UserId,
    ) -> Result<bool, CoreError> {
        Ok(self
            .store
            .access_approvers(&request.id)
            .await?
            .iter()
            .any(|a| &a.user_id == user))
    }
}

#[cfg(test)]
mod tests {
    use super::Votes;
    use crate::access::records::{AccessReason, Approver};
    use crate::fixtures::transfer;
    use crate::ids::DeviceId;
    use crate::model::{Approval, EndReason, Outcome};
    use assent_proto::states::ApprovalState;
    use time::{Duration, OffsetDateTime};

    /// A prompt answered at `second` with `state` (by a device, or not).
    fn answered(state: ApprovalState, second: i64, by_device: bool) -> Approval {
        let reason = match state {
            ApprovalState::Denied => Some(EndReason::DeniedByUser),
            ApprovalState::Fraud => Some(EndReason::ReportedAsFraud),
            ApprovalState::Approved if !by_device => Some(EndReason::AllowedByPolicy),
            _ => None,
        };
        transfer(serde_json::json!({"type": "t"})).decided(&Outcome {
            state,
            reason,
            decided_at: OffsetDateTime::UNIX_EPOCH + Duration::seconds(second),
            device_id: by_device.then(DeviceId::generate),
            statement: None,
            receipt: String::new(),
            reported_network: None,
        })
    }

    fn votes(prompts: Vec<Approval>) -> Votes {
        Votes {
            approvers: prompts
                .into_iter()
                .map(|a| {
                    let approver = Approver {
                        user_id: a.user_id.clone(),
                        approval_id: Some(a.id.clone()),
                        unreachable: None,
                    };
                    (approver, Some(a))
                })
                .collect(),
        }
    }

    #[test]
    fn the_first_threshold_crossed_in_the_order_written_decides() {
        use ApprovalState::{Approved, Denied, Fraud};
        // A denial written before the approval that would complete the quorum wins, whatever
        // order the count reads them in.
        let v = votes(vec![
            answered(Approved, 3, true),
            answered(Approved, 1, true),
            answered(Denied, 2, true),
        ]);
        assert_eq!(v.first_threshold(2, 1), Some(AccessReason::Denied));
        // With a deny threshold of two, the same answers grant it, naming the first two
        // approvals written.
        assert_eq!(v.first_threshold(2, 2), Some(AccessReason::QuorumReached));
        let quorum = v.quorum(2);
        assert_eq!(quorum.len(), 2);
        assert!(quorum[0].decided_at < quorum[1].decided_at);
        // A fraud report is a denial; an approval nobody's device gave is no vote.
        let v = votes(vec![answered(Fraud, 1, true), answered(Approved, 2, false)]);
        assert_eq!(v.first_threshold(1, 1), Some(AccessReason::Denied));
        let v = votes(vec![answered(Approved, 1, false)]);
        assert_eq!(v.first_threshold(1, 1), None);
    }
}

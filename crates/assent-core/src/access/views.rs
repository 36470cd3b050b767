//! What the application, an admin and an approver's device see of an access request.

use super::records::AccessRequest;
use crate::error::CoreError;
use crate::ids::{ApprovalId, Username};
use crate::model::Approval;
use crate::service::Assent;
use assent_proto::states::ApprovalState;
use time::OffsetDateTime;

/// One approver and where their prompt stands.
#[derive(Debug, Clone)]
pub struct ApproverView {
    pub user: Username,
    pub approval_id: Option<ApprovalId>,
    /// Their prompt's state; `None` when no prompt reached them.
    pub state: Option<ApprovalState>,
    pub decided_at: Option<OffsetDateTime>,
    /// Why no prompt reached them.
    pub unreachable: Option<String>,
}

impl ApproverView {
    fn approved(&self) -> bool {
        self.state == Some(ApprovalState::Approved)
    }

    fn denied(&self) -> bool {
        matches!(
            self.state,
            Some(ApprovalState::Denied | ApprovalState::Fraud)
        )
    }
}

/// An access request with the names of those involved.
#[derive(Debug, Clone)]
pub struct AccessView {
    pub request: AccessRequest,
    pub requester: Username,
    pub approvers: Vec<ApproverView>,
}

impl AccessView {
    /// Those who approved so far, in the order stored.
    pub fn approved_by(&self) -> Vec<Username> {
        self.approvers
            .iter()
            .filter(|a| a.approved())
            .map(|a| a.user.clone())
            .collect()
    }

    /// Those who denied so far.
    pub fn denied_by(&self) -> Vec<Username> {
        self.approvers
            .iter()
            .filter(|a| a.denied())
            .map(|a| a.user.clone())
            .collect()
    }
}

impl Assent {
    /// The request with the requester's and approvers' names and their prompts' states.
    pub async fn access_view(&self, request: AccessRequest) -> Result<AccessView, CoreError> {
        let votes = self.votes(&request).await?;
        let requester = self.username_for_id(&request.requester).await?;
        let mut approvers = Vec::with_capacity(votes.approvers.len());
        for (approver, approval) in votes.approvers {
            // A prompt the policy allowed without anyone's answer is nobody's vote.
            let state = approval.as_ref().map(|a: &Approval| match a.device_id {
                None if a.state == ApprovalState::Approved => ApprovalState::Cancelled,
                _ => a.state,
            });
            approvers.push(ApproverView {
                user: self.username_for_id(&approver.user_id).await?,
                approval_id: approver.approval_id,
                state,
                decided_at: approval.and_then(|a| a.decided_at),
                unreachable: approver.unreachable,
            });
        }
        Ok(AccessView {
            request,
            requester,
            approvers,
        })
    }

    /// For an approver's prompt: the access request it asks about, as it stands now (who has
    /// approved so far), or `None` for any other request.
    pub async fn access_progress(
        &self,
        approval: &Approval,
    ) -> Result<Option<AccessView>, CoreError> {
        if approval.kind != assent_proto::states::ApprovalKind::Access {
            return Ok(None);
        }
        let Some(id) = self.store.access_request_of_approval(&approval.id).await? else {
            return Ok(None);
        };
        let request = self.count_access_votes(&id).await?;
        Ok(Some(self.access_view(request).await?))
    }
}

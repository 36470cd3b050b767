//! What each side may see of a request, as domain records: the relying party sees the outcome
//! and the receipt with the user's and the answering device's names, never the nonce or device
//! keys; the device sees the full context and what to sign, with the asking application's name.
//! Each protocol renders these in its own format.

use crate::error::CoreError;
use crate::model::{Approval, Device, User};
use crate::outbox::pushes::PushJob;
use crate::service::Assent;

/// A request as its relying party sees it.
#[derive(Debug, Clone)]
pub struct ApprovalForApp {
    pub approval: Approval,
    /// The user asked (`None` only if the record is gone, which stores never allow).
    pub user: Option<User>,
    /// The device that answered, if one did.
    pub answered_by: Option<Device>,
    /// The pushes that announced it, oldest first.
    pub pushes: Vec<PushJob>,
    /// For a request with a quorum the user approved: the co-approval asking the others.
    pub co_approval: Option<crate::ids::AccessRequestId>,
}

/// A request as the user's device sees it.
#[derive(Debug, Clone)]
pub struct ApprovalForDevice {
    pub approval: Approval,
    /// The asking application's name (empty if unknown).
    pub app_name: String,
    /// What the device signs over: the hash of the kind, binding message and details.
    pub details_hash: String,
    /// For an approver's prompt of an access request: the request as it stands now, with who
    /// has approved and denied so far (shown, not signed: it changes as others answer).
    pub access: Option<crate::access::AccessView>,
}

impl Assent {
    /// The relying party's view of a request.
    pub async fn for_app(&self, approval: Approval) -> Result<ApprovalForApp, CoreError> {
        let user = self
            .records
            .user(self.store.as_ref(), &approval.user_id)
            .await?;
        let answered_by = match &approval.device_id {
            Some(id) => self.store.device(id).await?,
            None => None,
        };
        let pushes = self.store.pushes_for_approval(&approval.id).await?;
        let co_approval = match approval.quorum {
            Some(_) => self.store.access_request_holding(&approval.id).await?,
            None => None,
        };
        Ok(ApprovalForApp {
            approval,
            user,
            answered_by,
            pushes,
            co_approval,
        })
    }

    /// The device's view of a request.
    pub async fn for_device(&self, approval: Approval) -> Result<ApprovalForDevice, CoreError> {
        let app_name = self
            .records
            .app(self.store.as_ref(), &approval.app_id)
            .await?
            .map(|a| a.name)
            .unwrap_or_default();
        let details_hash = approval.details_hash().unwrap_or_default();
        let access = self.access_progress(&approval).await?;
        Ok(ApprovalForDevice {
            approval,
            app_name,
            details_hash,
            access,
        })
    }
}

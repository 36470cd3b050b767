//! Reading requests: a relying party reads its own, a device reads its user's (and each fetch is
//! recorded as a delivery). Every read returns the request as it is now, expiring it first if
//! its time is up.

use crate::audit::{Actor, AuditEvent, PendingAudit};
use crate::devices::auth::{AuthenticatedDevice, UnspentProof};
use crate::error::CoreError;
use crate::ids::ApprovalId;
use crate::model::{App, Approval, DeliveryChannel, Device};
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::states::{ApprovalState, DeviceState};
use time::Duration;

pub(crate) fn not_found() -> CoreError {
    CoreError::rejected(ProblemCode::NotFound, "no such approval request")
}

impl Assent {
    /// Request `id` as stored (or kept in memory), whoever asks; `not_found` if there is none.
    async fn stored(&self, id: &str) -> Result<Approval, CoreError> {
        let id = ApprovalId::parse(id).ok_or_else(not_found)?;
        self.records
            .approval(self.store.as_ref(), &id)
            .await?
            .ok_or_else(not_found)
    }

    /// Any request as stored, for an admin's eyes (the console's live feed and history).
    pub async fn approval_for_admin(&self, id: &str) -> Result<Approval, CoreError> {
        self.stored(id).await
    }

    /// One of the application's requests, current as of now (expiring it if its time is up).
    /// Another application's request is reported as not found, so ids reveal nothing.
    pub async fn approval_for_app(&self, app: &App, id: &str) -> Result<Approval, CoreError> {
        let approval = self.stored(id).await?;
        if approval.app_id != app.id {
            return Err(not_found());
        }
        self.expire_if_due(approval).await
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
        let pending = self.without_held(pending).await?;
        for approval in &pending {
            let audit = self.fetch_audit(approval, device);
            self.store
                .record_delivery(&approval.id, &device.id, DeliveryChannel::Fetch, audit)
                .await?;
        }
        Ok(pending)
    }

    /// One request of the device's user, with its full context; records its delivery together
    /// with the proof that fetched it.
    pub async fn fetch_for_device(
        &self,
        device: &AuthenticatedDevice,
        proof: UnspentProof,
        id: &str,
    ) -> Result<Approval, CoreError> {
        let device = device.device();
        let approval = match self.approval_of_user(device, id).await {
            Ok(approval) => approval,
            Err(refusal) => {
                // A replayed proof is refused as a replay, whatever it asks for.
                self.spend_proof(proof).await?;
                return Err(refusal);
            }
        };
        if approval.state == ApprovalState::Pending {
            // The delivery and the proof in one transaction; a replay is refused.
            let audit = self.fetch_audit(&approval, device);
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
                .ok_or_else(crate::devices::auth::proof_replayed)?;
        } else {
            self.spend_proof(proof).await?;
        }
        self.seen(device).await?;
        Ok(approval)
    }

    /// Request `id`, current, if it is for `device`'s user.
    async fn approval_of_user(&self, device: &Device, id: &str) -> Result<Approval, CoreError> {
        let approval = self.stored(id).await?;
        if approval.user_id != device.user_id {
            return Err(another_users_request());
        }
        self.expire_if_due(approval).await
    }

    fn fetch_audit(&self, approval: &Approval, device: &Device) -> PendingAudit {
        let event = AuditEvent::ApprovalDelivered {
            approval_id: approval.id.to_string(),
            device_id: device.id.to_string(),
            channel: DeliveryChannel::Fetch.as_str().to_owned(),
        };
        self.audit(Actor::Device(device.id.clone()), event)
    }

    /// Whether a device's stream may go on: `false` once the device is revoked or removed
    /// (the stream then ends). Checked when the stream opens, on every
    /// [`crate::Topic::Account`] wake-up (sent by every revocation and removal) and on the
    /// stream's periodic re-check.
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
        let pending = self
            .store
            .pending_for_user(&device.device().user_id, self.now())
            .await?;
        self.without_held(pending).await
    }

    /// Pending requests without those the user approved already and whose quorum holds them
    /// for the co-approvers: there is nothing left for the user's devices to answer.
    async fn without_held(&self, pending: Vec<Approval>) -> Result<Vec<Approval>, CoreError> {
        let mut open = Vec::with_capacity(pending.len());
        for approval in pending {
            if approval.quorum.is_none()
                || self
                    .store
                    .access_request_holding(&approval.id)
                    .await?
                    .is_none()
            {
                open.push(approval);
            }
        }
        Ok(open)
    }

    /// How many requests are pending now, for the metrics.
    pub async fn pending_count(&self) -> Result<u64, CoreError> {
        Ok(self.store.pending_count(self.now()).await?)
    }

    /// The state of a request, by id, for stream events.
    pub async fn current_state(&self, id: &str) -> Result<ApprovalState, CoreError> {
        let approval = self.stored(id).await?;
        Ok(self.expire_if_due(approval).await?.state)
    }

    /// Time from now until `t` by the service's clock (zero if past).
    pub fn time_until(&self, t: time::OffsetDateTime) -> std::time::Duration {
        (t - self.now()).max(Duration::ZERO).unsigned_abs()
    }
}

/// The refusal of a device asking about a request for someone else.
pub(crate) fn another_users_request() -> CoreError {
    CoreError::rejected(
        ProblemCode::DeviceNotAuthorized,
        "this request is for another user's devices",
    )
}

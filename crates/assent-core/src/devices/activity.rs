//! The account's recent activity, for the user's own authenticators: the requests that ended
//! (approved, denied, reported, expired, withdrawn) with their context, and the devices
//! enrolled and revoked, so the user can spot what they did not do, and report an approval they
//! did not make from there.

use super::auth::AuthenticatedDevice;
use crate::audit::export::{AuditFilter, MAX_PAGE};
use crate::error::CoreError;
use crate::ids::ApprovalId;
use crate::model::{Approval, Suspension, SuspensionReason};
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::states::ApprovalState;

/// The detector name of a report from the activity, in the admin alert.
const REPORTED: &str = "reported_from_activity";

/// Most requests the activity lists.
pub const ACTIVITY_LIMIT: u32 = 50;

/// One request in the activity, with the names the user knows.
#[derive(Debug, Clone)]
pub struct ActivityRequest {
    pub approval: Approval,
    pub app_name: String,
    /// The name of the device that answered, if one did.
    pub answered_by: Option<String>,
}

impl Assent {
    /// The user's requests that ended, newest first (at most [`ACTIVITY_LIMIT`]).
    pub async fn activity(
        &self,
        device: &AuthenticatedDevice,
    ) -> Result<Vec<ActivityRequest>, CoreError> {
        let user = &device.device().user_id;
        let ended = self.store.ended_for_user(user, ACTIVITY_LIMIT).await?;
        let devices = self.store.list_devices(Some(user)).await?;
        let mut out = Vec::with_capacity(ended.len());
        for approval in ended {
            let app_name = self
                .store
                .app(&approval.app_id)
                .await?
                .map(|a| a.name)
                .unwrap_or_default();
            let answered_by = approval
                .device_id
                .as_ref()
                .and_then(|id| devices.iter().find(|d| &d.id == id))
                .map(|d| d.name.clone());
            out.push(ActivityRequest {
                approval,
                app_name,
                answered_by,
            });
        }
        Ok(out)
    }

    /// "I did not make this approval", from the activity: push is suspended for the user at
    /// once (as for a fraud report on a prompt), the network the request came from is reported,
    /// and every admin is alerted (`admin_alert`, detector `reported_from_activity`, with the
    /// request). Only an approved request can be reported: a denial or an expiry let nothing
    /// through.
    pub async fn report_activity(
        &self,
        device: &AuthenticatedDevice,
        id: &str,
    ) -> Result<Suspension, CoreError> {
        let not_found = || CoreError::rejected(ProblemCode::NotFound, "no such request");
        let id = ApprovalId::parse(id).ok_or_else(not_found)?;
        let approval = self
            .store
            .approval(&id)
            .await?
            .filter(|a| a.user_id == device.device().user_id)
            .ok_or_else(not_found)?;
        if approval.state != ApprovalState::Approved {
            return Err(CoreError::rejected(
                ProblemCode::InvalidRequest,
                format!(
                    "the request was {}: nothing was approved to report",
                    approval.state.as_str()
                ),
            ));
        }
        if self.reported_already(&approval).await? {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyDecided,
                "this approval was reported already; the administrators were alerted",
            ));
        }
        let suspension = self
            .suspend_push(&approval.user_id, SuspensionReason::FraudReported, 0)
            .await?;
        let network = Assent::reported_network(&approval);
        if let Some(network) = &network {
            self.store
                .record_network_report(network, self.now())
                .await?;
        }
        let evidence = format!(
            "the user reported, from device {}, the {} request {} approved at {} as not theirs; network reported: {}",
            device.device().name,
            approval.kind.as_str(),
            approval.id,
            approval
                .decided_at
                .map(|t| t.unix_timestamp().to_string())
                .unwrap_or_default(),
            network.as_deref().unwrap_or("none given")
        );
        self.admin_alert(REPORTED, &approval, evidence).await;
        Ok(suspension)
    }

    /// Whether the user's admin alerts already hold a report of this approval: a report is
    /// made once, so that a user (or whoever holds the device) cannot flood the admins.
    async fn reported_already(&self, approval: &Approval) -> Result<bool, CoreError> {
        let mut filter = AuditFilter {
            kind: Some("admin_alert".into()),
            user: Some(approval.user_id.clone()),
            ..AuditFilter::default()
        };
        loop {
            let page = self.store.audit_search(&filter, MAX_PAGE).await?;
            let Some(last) = page.last() else {
                return Ok(false);
            };
            filter.after = last.seq;
            let reported = page.iter().any(|row| {
                serde_json::from_str::<serde_json::Value>(&row.data).is_ok_and(|d| {
                    d["detector"] == REPORTED && d["approval_id"] == approval.id.as_str()
                })
            });
            if reported {
                return Ok(true);
            }
        }
    }
}

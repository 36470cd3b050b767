//! "Why would this be asked?": a request scored and decided exactly as a real one would be (the
//! user's history, the networks reported, the lists, the running policy), with nothing written
//! and no one prompted.

use super::RiskAssessment;
use super::assessment::Asking;
use super::policy::PolicyDecision;
use crate::approvals::{AuthorizationDetails, CodeDisplay, Lifetime, NewApproval};
use crate::error::CoreError;
use crate::model::App;
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::context::RequestContext;
use assent_proto::states::{ApprovalKind, DeviceState};
use serde_json::Value;

/// What a request would meet.
#[derive(Debug, Clone)]
pub struct DryRun {
    pub risk: RiskAssessment,
    pub decision: PolicyDecision,
    /// The facts the policy's conditions saw.
    pub facts: Value,
    pub active_devices: usize,
}

/// A request to try.
#[derive(Debug, Clone, Default)]
pub struct TryRequest {
    /// The application, by name.
    pub app: String,
    pub user: String,
    pub kind: ApprovalKind,
    /// A transaction's amount, as the relying party would send it.
    pub amount: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

impl Assent {
    /// Scores and decides `request` as if an application had made it; writes nothing.
    pub async fn dry_run(&self, request: &TryRequest) -> Result<DryRun, CoreError> {
        let app: App = self
            .store
            .list_apps()
            .await?
            .into_iter()
            .find(|a| a.name == request.app)
            .ok_or_else(|| {
                CoreError::rejected(
                    ProblemCode::NotFound,
                    format!("no application named {:?}", request.app),
                )
            })?;
        let user = self.user_named(&request.user).await?;
        let details = match &request.amount {
            Some(amount) => vec![serde_json::json!({"type": "payment", "amount": amount})],
            None => Vec::new(),
        };
        let new = NewApproval {
            user: user.username.clone(),
            kind: request.kind,
            binding_message: None,
            authorization_details: AuthorizationDetails::parse(details)?,
            context: RequestContext {
                ip: request.ip.clone(),
                user_agent: request.user_agent.clone(),
                ..RequestContext::default()
            },
            lifetime: Lifetime::parse(None, &self.settings)?,
            user_verification: false,
            code_display: CodeDisplay::Shown,
            passkey_authentication: None,
        };
        let active_devices = self
            .store
            .list_devices(Some(&user.id))
            .await?
            .iter()
            .filter(|d| d.state == DeviceState::Active)
            .count();
        let asking = Asking {
            kind: None,
            passkey: false,
        };
        let (risk, decision, facts) = self
            .assess_request(&app, &user, &new, active_devices, asking)
            .await?;
        Ok(DryRun {
            risk,
            decision,
            facts,
            active_devices,
        })
    }
}

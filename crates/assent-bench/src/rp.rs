//! The relying party's side of a flow: create a request, wait for its final state.

use crate::error::CallError;
use crate::http::call;
use assent_proto::api::{
    ApprovalCreated, ApprovalState, ApprovalStatus, CreateApproval, RequestContext,
};
use std::time::Duration;

/// The longest a relying party asks one long poll to wait; the server caps it at its
/// `http.max_wait_secs` (60 by default) and the relying party then asks again.
pub const WAIT_SECS: u64 = 60;

/// A relying party: where the server is and its API key.
#[derive(Debug, Clone)]
pub struct Rp {
    pub base: String,
    pub api_key: String,
}

/// A sign-in request as a web application sends it: a binding message and where the browser is.
/// Each user signs in from its own address, so the risk engine sees a familiar network.
pub fn login(user: &str, user_index: usize, expires_in: Option<u32>) -> CreateApproval {
    let [a, b] = u16::try_from(user_index % 65_536)
        .unwrap_or(0)
        .to_be_bytes();
    CreateApproval {
        user: user.to_owned(),
        binding_message: Some("Sign in to Acme".into()),
        context: Some(RequestContext {
            ip: Some(format!("10.{a}.{b}.7")),
            user_agent: Some("Mozilla/5.0 (X11; Linux x86_64) Firefox/140.0".into()),
            ..Default::default()
        }),
        expires_in,
        ..Default::default()
    }
}

impl Rp {
    /// `POST /v1/approvals`.
    pub async fn create(
        &self,
        http: &reqwest::Client,
        request: &CreateApproval,
    ) -> Result<ApprovalCreated, CallError> {
        call(
            "create",
            http.post(format!("{}/v1/approvals", self.base))
                .bearer_auth(&self.api_key)
                .json(request)
                .timeout(Duration::from_secs(60)),
        )
        .await
    }

    /// Long-polls `GET /v1/approvals/{id}?wait=` until the request is final (asking again when
    /// one poll ends with the request still pending) or `give_up` has passed.
    pub async fn wait_final(
        &self,
        http: &reqwest::Client,
        id: &str,
        give_up: Duration,
    ) -> Result<ApprovalStatus, CallError> {
        let deadline = tokio::time::Instant::now() + give_up;
        loop {
            let status: ApprovalStatus = call(
                "wait",
                http.get(format!("{}/v1/approvals/{id}?wait={WAIT_SECS}", self.base))
                    .bearer_auth(&self.api_key)
                    .timeout(Duration::from_secs(WAIT_SECS + 30)),
            )
            .await?;
            if status.state != ApprovalState::Pending {
                return Ok(status);
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(CallError::new("wait", "still pending", id.to_owned()));
            }
        }
    }
}

/// Checks that a flow ended as the device answered: approved, with a receipt.
pub fn check_outcome(status: &ApprovalStatus) -> Result<(), CallError> {
    if status.state != ApprovalState::Approved {
        let reason = status.reason.clone().unwrap_or_default();
        return Err(CallError::new(
            "outcome",
            status.state.as_str(),
            format!("{} ended {} ({reason})", status.id, status.state.as_str()),
        ));
    }
    if status.receipt.is_none() {
        return Err(CallError::new("outcome", "no receipt", status.id.clone()));
    }
    Ok(())
}

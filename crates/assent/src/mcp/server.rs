//! The MCP server's tools: `request_approval` asks the agent's owner through Assent and waits
//! for the grant; `approval_status` keeps waiting on a request it started. Inputs are bounded
//! and checked here; a refusal the agent can correct is a tool error, not a protocol error.

use super::wait::{self, Open, OpenRequests, Outcome};
use assent_client::{AgentClient, AgentRequest};
use assent_proto::oauth::tokens::TokenResponse;
use rmcp::handler::server::router::tool::ToolRouter;
use rmcp::handler::server::wrapper::Parameters;
use rmcp::model::{
    CallToolResult, Implementation, ProgressNotificationParam, ServerCapabilities, ServerConfig,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData, RoleServer, ServerHandler, tool, tool_handler, tool_router};
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Map, Value, json};
use std::sync::Arc;
use std::time::Duration;
use tokio::time::Instant;

/// The longest wait a call may ask for: Assent's requests live ten minutes at most.
pub const MAX_WAIT_SECONDS: u64 = 600;
/// Longest username accepted.
const MAX_USER: usize = 256;
/// Longest action line: Assent's `binding_message` limit.
const MAX_ACTION: usize = 500;
/// Largest `authorization_details`, serialized: a described action, not a document.
const MAX_DETAILS: usize = 16 * 1024;
/// Longest request id: Assent's are 43 characters.
const MAX_REQUEST_ID: usize = 128;

const INSTRUCTIONS: &str = "Assent asks a person (the owner this agent acts for) to approve one \
specific action on their own device, and returns a grant: a short-lived DPoP-bound access token \
whose authorization_details are exactly what the owner approved, with a signed receipt. Call \
request_approval before acting. To let the owner see the code they must type on the device, \
call it with wait_seconds 0, tell the owner the display_code, then call approval_status with \
the request_id to wait for the answer. A denial or an expiry is final: do not perform the action.";

/// `request_approval`'s input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestApproval {
    /// The Assent username of the person who approves: the owner this agent acts for.
    pub user: String,
    /// One line the owner reads on their device: what you are about to do (at most 500
    /// characters; sent as the CIBA binding_message).
    pub action: String,
    /// The exact action as RFC 9396 authorization details: objects with a "type" this agent
    /// is registered for, e.g. [{"type": "payment_initiation", "instructedAmount": {"currency":
    /// "EUR", "amount": "1250.00"}, "creditorName": "ACME GmbH"}].
    pub authorization_details: Vec<Map<String, Value>>,
    /// Seconds to wait for the answer, 0 to 600. 0 returns at once with the display_code to show
    /// the owner and a request_id for approval_status. Default: until the request expires.
    pub wait_seconds: Option<u64>,
    /// Seconds the grant should live, if shorter than the server's default.
    pub token_lifetime_seconds: Option<u64>,
}

/// `approval_status`'s input.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalStatus {
    /// The request_id that request_approval returned.
    pub request_id: String,
    /// Seconds to wait for the answer, 0 to 600. Default: until the request expires.
    pub wait_seconds: Option<u64>,
}

/// The MCP server of one agent.
#[derive(Clone)]
pub struct AssentMcp {
    agent: Arc<AgentClient>,
    open: Arc<OpenRequests>,
    tool_router: ToolRouter<Self>,
}

impl std::fmt::Debug for AssentMcp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssentMcp").finish_non_exhaustive()
    }
}

/// Checks the bounds of a `request_approval` call; the message says what to correct.
pub fn check_request(input: &RequestApproval) -> Result<(), String> {
    if input.user.is_empty() || input.user.chars().count() > MAX_USER {
        return Err(format!("user must be 1 to {MAX_USER} characters"));
    }
    let action = input.action.trim();
    if action.is_empty() || action.chars().count() > MAX_ACTION {
        return Err(format!(
            "action must be one line of 1 to {MAX_ACTION} characters"
        ));
    }
    if action.contains(['\n', '\r']) {
        return Err("action must be one line".into());
    }
    if input.authorization_details.is_empty() {
        return Err("authorization_details must describe the action: at least one object".into());
    }
    if input
        .authorization_details
        .iter()
        .any(|d| !d.get("type").is_some_and(Value::is_string))
    {
        return Err("every authorization_details object needs a string \"type\"".into());
    }
    if serde_json::to_string(&input.authorization_details).map_or(usize::MAX, |s| s.len())
        > MAX_DETAILS
    {
        return Err(format!(
            "authorization_details must be under {MAX_DETAILS} bytes"
        ));
    }
    check_wait(input.wait_seconds)?;
    if input.token_lifetime_seconds == Some(0) {
        return Err("token_lifetime_seconds must be at least 1".into());
    }
    Ok(())
}

fn check_wait(wait_seconds: Option<u64>) -> Result<(), String> {
    match wait_seconds {
        Some(w) if w > MAX_WAIT_SECONDS => {
            Err(format!("wait_seconds must be at most {MAX_WAIT_SECONDS}"))
        }
        _ => Ok(()),
    }
}

#[tool_router]
impl AssentMcp {
    pub fn new(agent: AgentClient) -> Self {
        AssentMcp {
            agent: Arc::new(agent),
            open: Arc::new(OpenRequests::default()),
            tool_router: Self::tool_router(),
        }
    }

    /// Asks the owner through Assent (CIBA poll mode) and waits for the grant.
    #[tool(
        description = "Ask your owner to approve one specific action on their Assent device, \
        and wait for the grant. Returns access_token (DPoP-bound to this agent's key), \
        token_type, expires_in, the approved authorization_details, approval_id and the signed \
        receipt. With wait_seconds 0 it returns at once with the display_code the owner must \
        type and a request_id for approval_status. A denial, an expiry or the end of the wait \
        is an error result: do not act without a grant."
    )]
    async fn request_approval(
        &self,
        Parameters(input): Parameters<RequestApproval>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        if let Err(defect) = check_request(&input) {
            return Ok(wait::tool_error("invalid_input", &defect, None));
        }
        if !self.open.has_room() {
            return Ok(wait::tool_error(
                "too_many_requests",
                "too many requests are waiting for an answer: wait on them with approval_status",
                None,
            ));
        }
        let details: Vec<Value> = input
            .authorization_details
            .iter()
            .cloned()
            .map(Value::Object)
            .collect();
        let ask = AgentRequest {
            user: &input.user,
            binding_message: input.action.trim(),
            authorization_details: &details,
            token_lifetime: input.token_lifetime_seconds,
        };
        let started = match self.agent.start(&ask).await {
            Ok(started) => started,
            Err(error) => {
                let status = error.oauth_code().unwrap_or("error").to_owned();
                let message = format!("Assent refused the request: {error}");
                return Ok(wait::tool_error(&status, &message, None));
            }
        };
        let now = Instant::now();
        let interval = started.interval.unwrap_or(5).max(1);
        let open = Open {
            auth_req_id: started.auth_req_id,
            user: input.user,
            display_code: started.display_code,
            interval,
            // The owner cannot have answered yet: the first poll waits one interval.
            next_poll: now + Duration::from_secs(interval),
            expires_at: now + Duration::from_secs(started.expires_in),
        };
        if input.wait_seconds == Some(0) {
            let body = open.as_json(now);
            self.open.put(open);
            return Ok(CallToolResult::structured(body));
        }
        self.wait_for(open, input.wait_seconds, &context).await
    }

    /// Waits on a request that `request_approval` started.
    #[tool(
        description = "Keep waiting for the owner's answer to a request that request_approval \
        started (its request_id). Returns the grant as request_approval does, or an error \
        result when the owner denied, the request expired or the wait ended."
    )]
    async fn approval_status(
        &self,
        Parameters(input): Parameters<ApprovalStatus>,
        context: RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        if let Err(defect) = check_wait(input.wait_seconds) {
            return Ok(wait::tool_error("invalid_input", &defect, None));
        }
        let open = (input.request_id.len() <= MAX_REQUEST_ID)
            .then(|| self.open.take(&input.request_id))
            .flatten();
        let Some(open) = open else {
            return Ok(wait::tool_error(
                "unknown_request",
                "no open request has this request_id here: it ended, expired, is being waited \
                 on by another call, or this server restarted. Ask again with request_approval.",
                None,
            ));
        };
        self.wait_for(open, input.wait_seconds, &context).await
    }
}

impl AssentMcp {
    /// Waits on `open` and turns the outcome into the tool's result.
    async fn wait_for(
        &self,
        open: Open,
        wait_seconds: Option<u64>,
        context: &RequestContext<RoleServer>,
    ) -> Result<CallToolResult, ErrorData> {
        let now = Instant::now();
        // Waiting past the expiry leaves room for one poll after it, whose answer says how
        // the request ended.
        let last_poll = open.expires_at + Duration::from_secs(open.interval.saturating_add(1));
        let deadline = match wait_seconds {
            Some(w) => (now + Duration::from_secs(w)).min(last_poll),
            None => last_poll,
        };
        let total = deadline.saturating_duration_since(now).as_secs();
        let token = context.meta.get_progress_token();
        let peer = context.peer.clone();
        // Progress notifications carry the note with the code: an MCP client may show them
        // while the call waits, and a client that times out on silence sees the call alive.
        let notify = move |open: &Open, elapsed: u64| {
            if let Some(token) = token.clone() {
                let param = ProgressNotificationParam::new(token, elapsed as f64)
                    .with_total(total as f64)
                    .with_message(open.note());
                let peer = peer.clone();
                tokio::spawn(async move {
                    let _ = peer.notify_progress(param).await;
                });
            }
        };
        notify(&open, 0);
        let request_id = open.auth_req_id.clone();
        match wait::wait(&self.agent, open, deadline, &context.ct, &notify).await {
            Outcome::Granted(tokens) => Ok(self.granted(&request_id, &tokens).await),
            Outcome::StillPending(open) => {
                let body = open.as_json(Instant::now());
                let kept = self.open.put(open);
                let message = if kept {
                    "The owner has not answered yet. The request is still open: call \
                     approval_status with its request_id to keep waiting."
                } else {
                    "The owner has not answered yet, and too many requests are open to keep \
                     this one."
                };
                Ok(wait::tool_error("pending", message, Some(body)))
            }
            Outcome::Ended { status, message } => Ok(wait::tool_error(
                status,
                &message,
                Some(json!({"request_id": request_id})),
            )),
        }
    }

    /// The grant as the tool's result, after checking the access token against Assent's JWKS.
    async fn granted(&self, request_id: &str, tokens: &TokenResponse) -> CallToolResult {
        let claims = match self.agent.verify_grant(&tokens.access_token).await {
            Ok(claims) => claims,
            Err(error) => {
                return wait::tool_error(
                    "error",
                    &format!("the grant Assent returned does not verify: {error}"),
                    Some(json!({"request_id": request_id})),
                );
            }
        };
        CallToolResult::structured(json!({
            "status": "approved",
            "request_id": request_id,
            "access_token": tokens.access_token,
            "token_type": tokens.token_type,
            "expires_in": tokens.expires_in,
            "authorization_details": claims.get("authorization_details").cloned().unwrap_or(Value::Array(vec![])),
            "approval_id": claims.get("approval_id").cloned().unwrap_or(Value::Null),
            "receipt": tokens.receipt,
        }))
    }
}

#[tool_handler(router = self.tool_router)]
impl ServerHandler for AssentMcp {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("assent", env!("CARGO_PKG_VERSION")))
            .with_instructions(INSTRUCTIONS)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(value: Value) -> RequestApproval {
        serde_json::from_value(value).unwrap()
    }

    fn valid() -> Value {
        json!({
            "user": "alice", "action": "Pay invoice 2026-114",
            "authorization_details": [{"type": "payment_initiation", "amount": "1.00"}],
        })
    }

    #[test]
    fn a_well_formed_request_passes() {
        assert_eq!(check_request(&input(valid())), Ok(()));
    }

    #[test]
    fn each_bound_is_refused_with_what_to_correct() {
        let cases: [(&str, Value, &str); 8] = [
            ("user", json!(""), "user"),
            ("user", json!("a".repeat(300)), "user"),
            ("action", json!("two\nlines"), "one line"),
            ("action", json!("x".repeat(501)), "action"),
            ("authorization_details", json!([]), "at least one"),
            ("authorization_details", json!([{"amount": "1"}]), "type"),
            (
                "authorization_details",
                json!([{"type": "t", "blob": "x".repeat(17_000)}]),
                "bytes",
            ),
            ("wait_seconds", json!(601), "600"),
        ];
        for (field, value, expected) in cases {
            let mut body = valid();
            body[field] = value;
            let refused = check_request(&input(body)).unwrap_err();
            assert!(refused.contains(expected), "{field}: {refused}");
        }
    }

    #[test]
    fn unknown_fields_are_refused() {
        let mut body = valid();
        body["scope"] = json!("admin");
        assert!(serde_json::from_value::<RequestApproval>(body).is_err());
    }
}

//! A relying party's request for an approval, parsed once at the edge into parts that are valid
//! by construction, whatever protocol carried it.

use crate::error::CoreError;
use crate::ids::Username;
use crate::service::Settings;
use assent_proto::ProblemCode;
use assent_proto::context::RequestContext;
use assent_proto::states::ApprovalKind;
use serde_json::Value;
use time::Duration;

/// Longest binding message, in characters: a sentence, not a document.
pub const MAX_BINDING_MESSAGE: usize = 500;
/// Most authorization details objects per request.
pub const MAX_AUTHORIZATION_DETAILS: usize = 16;

fn invalid(detail: String) -> CoreError {
    CoreError::rejected(ProblemCode::InvalidRequest, detail)
}

/// The short sentence shown on the device: printable, at most [`MAX_BINDING_MESSAGE`]
/// characters (line breaks allowed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BindingMessage(String);

impl BindingMessage {
    pub fn parse(message: String) -> Result<Self, CoreError> {
        if message.chars().count() > MAX_BINDING_MESSAGE
            || message.chars().any(|c| c.is_control() && c != '\n')
        {
            return Err(invalid(format!(
                "binding_message is at most {MAX_BINDING_MESSAGE} printable characters"
            )));
        }
        Ok(BindingMessage(message))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// RFC 9396 authorization details: at most [`MAX_AUTHORIZATION_DETAILS`] objects, each with a
/// non-empty string `type`.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct AuthorizationDetails(Vec<Value>);

impl AuthorizationDetails {
    pub fn parse(details: Vec<Value>) -> Result<Self, CoreError> {
        if details.len() > MAX_AUTHORIZATION_DETAILS {
            return Err(invalid(format!(
                "at most {MAX_AUTHORIZATION_DETAILS} authorization_details"
            )));
        }
        for detail in &details {
            let has_type = detail
                .get("type")
                .and_then(|t| t.as_str())
                .is_some_and(|t| !t.is_empty());
            if !has_type {
                return Err(invalid("every authorization_details entry is an object with a string \"type\" (RFC 9396)".into()));
            }
            // Refused here, before the policy can write a refusal to the audit log, rather than
            // when the details hash is taken. The wire edge also checks the text as written,
            // which a parsed value can no longer show (assent_proto::exact_json).
            assent_proto::canonical::to_canonical_string(detail)
                .map_err(|e| invalid(format!("authorization_details: {e}")))?;
        }
        Ok(AuthorizationDetails(details))
    }

    pub fn as_slice(&self) -> &[Value] {
        &self.0
    }

    pub fn into_vec(self) -> Vec<Value> {
        self.0
    }
}

/// How long a request lives: at least a second, at most `max_ttl`; the default when the relying
/// party does not say.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Lifetime(Duration);

impl Lifetime {
    /// `seconds` as the relying party asked, checked against the settings.
    pub fn parse(seconds: Option<u32>, settings: &Settings) -> Result<Self, CoreError> {
        let ttl = match seconds {
            Some(0) => return Err(invalid("expires_in must be at least 1 second".into())),
            Some(s) => Duration::seconds(i64::from(s)),
            None => settings.default_ttl,
        };
        if ttl > settings.max_ttl {
            return Err(invalid(format!(
                "expires_in is at most {} seconds",
                settings.max_ttl.whole_seconds()
            )));
        }
        Ok(Lifetime(ttl))
    }

    pub fn duration(self) -> Duration {
        self.0
    }
}

/// A request for one user's approval, as the core takes it from any protocol.
#[derive(Debug, Clone)]
pub struct NewApproval {
    pub user: Username,
    pub kind: ApprovalKind,
    pub binding_message: Option<BindingMessage>,
    pub authorization_details: AuthorizationDetails,
    /// Where the request comes from, shown on the device.
    pub context: RequestContext,
    pub lifetime: Lifetime,
    /// The relying party asks for a passkey check with user verification on the device.
    pub user_verification: bool,
    /// Whether the relying party can show the number-matching code.
    pub code_display: CodeDisplay,
    /// A passkey authentication of the user at the application's own origin (its
    /// `authentication_id`), for a policy that asks for it; used by this request.
    pub passkey_authentication: Option<String>,
}

/// Whether the relying party can show the user the code to type on the device. Assent's own
/// API and CIBA always can; a Duo client says so per request (`client_supports_verified_push`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CodeDisplay {
    /// The code is returned to the relying party, which shows it.
    #[default]
    Shown,
    /// The client cannot show a code: a request whose policy asks for number matching is
    /// refused (`number_matching_unavailable`) before any prompt or budget is spent.
    Unavailable,
    /// The client cannot show a code and the operator accepted pushes without number matching
    /// for it: the request goes without a code, and its audit row says so.
    Waived,
}

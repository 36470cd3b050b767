//! The backchannel authentication request: who is asked (from the hint), what they are asked
//! (binding message, authorization details), and the approval it becomes. The approval goes
//! through exactly what a request on Assent's own API goes through: risk, policy, the fatigue
//! budget, number matching, the device prompt, the signed decision and the receipt.

use super::clients::AuthenticatedClient;
use super::error::{CibaError, refuse};
use super::records::{CibaRequest, DeliveryMode};
use crate::approvals::{AuthorizationDetails, BindingMessage, CodeDisplay, Lifetime, NewApproval};
use crate::error::CoreError;
use crate::ids::{UserId, Username};
use crate::model::User;
use crate::secrets;
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::context::RequestContext;
use assent_proto::jose::{Parsed, random_token};
use assent_proto::oauth::backchannel::{BackchannelRequest, Hint};
use assent_proto::oauth::error::OAuthErrorCode;
use assent_proto::oauth::keys::ClientKeySet;
use assent_proto::oauth::tokens::IdTokenClaims;
use assent_proto::states::ApprovalKind;
use serde_json::Value;

/// The `acr` value that asks for (and reports) user verification on the device.
pub const ACR_USER_VERIFICATION: &str = "urn:assent:acr:uv";
/// The `acr` value of a decision signed by an enrolled device key.
pub const ACR_DEVICE: &str = "urn:assent:acr:device";
/// The `acr` value of a request the policy allowed without a prompt.
pub const ACR_POLICY: &str = "urn:assent:acr:policy";

/// A backchannel request as parsed at the edge, with Assent's extension.
#[derive(Debug, Clone)]
pub struct StartBackchannel {
    pub request: BackchannelRequest,
    /// The longest life, in seconds, the client wants for its access token.
    pub token_lifetime: Option<u32>,
}

/// What the backchannel endpoint answers.
#[derive(Debug, Clone)]
pub struct Started {
    pub auth_req_id: String,
    pub expires_in: u64,
    /// Seconds between polls (poll and ping modes).
    pub interval: Option<u64>,
    /// The number to show the user, who types it on the device (when policy applies number
    /// matching): the secret travels from the client's screen to the device, as NIST SP
    /// 800-63B-4 asks.
    pub display_code: Option<String>,
}

/// What the sealed notification token is bound to.
pub(crate) fn notification_context(id_hash: &[u8]) -> String {
    format!("ciba-notification:{}", assent_proto::jose::b64(id_hash))
}

impl Assent {
    /// Starts a backchannel authentication request for an authenticated client.
    pub async fn start_backchannel(
        &self,
        client: &AuthenticatedClient,
        start: StartBackchannel,
    ) -> Result<Started, CibaError> {
        let AuthenticatedClient { client, app, keys } = client;
        let request = start.request;
        let token = match (client.mode, request.client_notification_token) {
            (DeliveryMode::Poll, _) => None,
            (_, Some(token)) => Some(token),
            (_, None) => {
                return Err(refuse(
                    OAuthErrorCode::InvalidRequest,
                    "client_notification_token is required in ping and push modes",
                ));
            }
        };
        let user = match self
            .hinted_user(keys.as_ref(), &client.client_id, &request.hint)
            .await
        {
            // An agent learns nothing about other users: a name that is not its owner's is
            // refused the same way whether or not such a user exists.
            Err(CibaError::OAuth(e))
                if client.agent.is_some() && e.error == OAuthErrorCode::UnknownUserId =>
            {
                return Err(refuse(
                    OAuthErrorCode::AccessDenied,
                    "an agent may ask only its owner",
                ));
            }
            other => other?,
        };
        let kind = match &client.agent {
            Some(agent) => {
                if agent.owner != user.id {
                    return Err(refuse(
                        OAuthErrorCode::AccessDenied,
                        "an agent may ask only its owner",
                    ));
                }
                if request.authorization_details.is_empty() {
                    return Err(refuse(
                        OAuthErrorCode::InvalidAuthorizationDetails,
                        "an agent asks for a described action: authorization_details is required",
                    ));
                }
                let refused = request.authorization_details.iter().find_map(|d| {
                    let kind = d.get("type").and_then(Value::as_str).unwrap_or_default();
                    (!agent.allowed_types.iter().any(|t| t == kind)).then(|| kind.to_owned())
                });
                if let Some(kind) = refused {
                    return Err(refuse(
                        OAuthErrorCode::InvalidAuthorizationDetails,
                        format!(
                            "this agent may not ask for authorization_details of type {kind:?}"
                        ),
                    ));
                }
                ApprovalKind::AgentAction
            }
            None if request.authorization_details.is_empty() => ApprovalKind::Login,
            None => ApprovalKind::Transaction,
        };
        match (&request.user_code, client.requires_user_code) {
            (None, true) => {
                return Err(refuse(
                    OAuthErrorCode::MissingUserCode,
                    "this client must send the user's user_code",
                ));
            }
            (Some(code), _) => {
                self.verify_totp(&Principal::App(app.clone()), user.username.as_str(), code)
                    .await
                    .map_err(|e| match e {
                        CoreError::Store(s) => CibaError::from(s),
                        _ => refuse(
                            OAuthErrorCode::InvalidUserCode,
                            "the user_code is not the user's current code (their TOTP)",
                        ),
                    })?;
            }
            (None, false) => {}
        }
        let user_verification = request
            .acr_values
            .iter()
            .any(|a| a == ACR_USER_VERIFICATION);
        let binding_message = request
            .binding_message
            .map(BindingMessage::parse)
            .transpose()
            .map_err(|e| refuse(OAuthErrorCode::InvalidBindingMessage, e.to_string()))?;
        let authorization_details = AuthorizationDetails::parse(request.authorization_details)
            .map_err(|e| refuse(OAuthErrorCode::InvalidAuthorizationDetails, e.to_string()))?;
        let max = u32::try_from(self.settings.max_ttl.whole_seconds()).unwrap_or(600);
        let lifetime =
            Lifetime::parse(request.requested_expiry.map(|s| s.min(max)), &self.settings)
                .map_err(|e| refuse(OAuthErrorCode::InvalidRequest, e.to_string()))?;
        let new = NewApproval {
            user: user.username.clone(),
            kind,
            binding_message,
            authorization_details,
            context: RequestContext::default(),
            lifetime,
            user_verification,
            code_display: CodeDisplay::Shown,
            passkey_authentication: None,
        };
        let created = self
            .create_approval(app, new)
            .await
            .map_err(approval_refused)?;
        let auth_req_id = random_token(32).map_err(|_| CoreError::Crypto)?;
        let id_hash = secrets::sha256(auth_req_id.as_bytes());
        // The notification names the request by its `auth_req_id`, which is otherwise kept
        // only as a hash: both are sealed together for the delivery.
        let notification_token_sealed = token
            .map(|t| {
                let note =
                    serde_json::json!({"auth_req_id": auth_req_id, "client_notification_token": t});
                self.data_key
                    .seal(note.to_string().as_bytes(), &notification_context(&id_hash))
            })
            .transpose()
            .map_err(|e| CoreError::Internal(format!("sealing a notification token: {e}")))?;
        let now = self.now();
        let interval = self.settings.ciba.interval;
        let approval = &created.approval;
        let record = CibaRequest {
            id_hash,
            client_id: client.client_id.clone(),
            approval_id: approval.id.clone(),
            user_id: user.id.clone(),
            scope: request.scope,
            acr: user_verification.then(|| ACR_USER_VERIFICATION.to_owned()),
            notification_token_sealed,
            interval,
            next_poll_at: now,
            token_lifetime: start.token_lifetime,
            created_at: now,
            expires_at: approval.expires_at,
            tokens_issued_at: None,
        };
        self.store.insert_ciba_request(&record).await?;
        let expires_in = (approval.expires_at - now).whole_seconds().max(0);
        Ok(Started {
            auth_req_id,
            expires_in: u64::try_from(expires_in).unwrap_or(0),
            interval: (client.mode != DeliveryMode::Push).then_some(u64::from(interval)),
            display_code: created.display_code,
        })
    }

    /// The user a hint names. A hint that names no one is `unknown_user_id`; a hint that cannot
    /// be trusted (a forged or foreign ID token) is `invalid_request`.
    async fn hinted_user(
        &self,
        client_keys: Option<&ClientKeySet>,
        client_id: &str,
        hint: &Hint,
    ) -> Result<User, CibaError> {
        let unknown = || {
            refuse(
                OAuthErrorCode::UnknownUserId,
                "the hint names no user Assent knows",
            )
        };
        match hint {
            Hint::LoginHint(name) => {
                let name = Username::parse(name).map_err(|_| unknown())?;
                self.user_by_name_or(&name, unknown).await
            }
            Hint::IdTokenHint(token) => {
                let foreign = || {
                    refuse(
                        OAuthErrorCode::InvalidRequest,
                        "id_token_hint is not an ID token Assent issued to this client",
                    )
                };
                let claims: IdTokenClaims = Parsed::parse(token)
                    .and_then(|p| p.verify(self.key.jwk()))
                    .map_err(|_| foreign())?;
                // An expired ID token still names its user (OpenID Connect Core, 3.1.2.1).
                if claims.iss != self.issuer() || claims.aud != client_id {
                    return Err(foreign());
                }
                self.user_by_id_or(&claims.sub, unknown).await
            }
            Hint::LoginHintToken(token) => {
                let keys = client_keys.ok_or_else(|| {
                    refuse(
                        OAuthErrorCode::InvalidRequest,
                        "login_hint_token is signed with a key the client registered; this client has none",
                    )
                })?;
                let verified = keys.verify_jwt(token, None).map_err(|e| {
                    refuse(
                        OAuthErrorCode::InvalidRequest,
                        format!("login_hint_token: {e}"),
                    )
                })?;
                let exp = verified
                    .claims
                    .get("exp")
                    .and_then(Value::as_i64)
                    .ok_or_else(|| {
                        refuse(
                            OAuthErrorCode::InvalidRequest,
                            "login_hint_token has no exp",
                        )
                    })?;
                if exp <= self.now().unix_timestamp() {
                    return Err(refuse(
                        OAuthErrorCode::ExpiredLoginHintToken,
                        "login_hint_token has expired",
                    ));
                }
                let sub_id = verified.claims.get("sub_id").ok_or_else(|| {
                    refuse(
                        OAuthErrorCode::InvalidRequest,
                        "login_hint_token carries the user in sub_id (RFC 9493)",
                    )
                })?;
                let text =
                    |name: &str| sub_id.get(name).and_then(Value::as_str).unwrap_or_default();
                match text("format") {
                    "opaque" => {
                        let name = Username::parse(text("id")).map_err(|_| unknown())?;
                        self.user_by_name_or(&name, unknown).await
                    }
                    "iss_sub" if text("iss") == self.issuer() => {
                        self.user_by_id_or(text("sub"), unknown).await
                    }
                    _ => Err(refuse(
                        OAuthErrorCode::InvalidRequest,
                        "sub_id has format \"opaque\" (id: the username) or \"iss_sub\" (Assent's issuer and the user id)",
                    )),
                }
            }
        }
    }

    async fn user_by_name_or(
        &self,
        name: &Username,
        unknown: impl Fn() -> CibaError,
    ) -> Result<User, CibaError> {
        self.records
            .user_by_name(self.store.as_ref(), name)
            .await?
            .ok_or_else(unknown)
    }

    async fn user_by_id_or(
        &self,
        id: &str,
        unknown: impl Fn() -> CibaError,
    ) -> Result<User, CibaError> {
        let id = UserId::parse(id).ok_or_else(&unknown)?;
        self.records
            .user(self.store.as_ref(), &id)
            .await?
            .ok_or_else(unknown)
    }
}

/// A refusal of the approval, as CIBA names it.
fn approval_refused(e: CoreError) -> CibaError {
    match e {
        CoreError::Rejected { code, detail } => match code {
            ProblemCode::InvalidRequest => refuse(OAuthErrorCode::InvalidRequest, detail),
            ProblemCode::UnknownUser => refuse(OAuthErrorCode::UnknownUserId, detail),
            _ => refuse(OAuthErrorCode::AccessDenied, detail),
        },
        CoreError::Suspended { .. } | CoreError::RateLimited { .. } => {
            refuse(OAuthErrorCode::AccessDenied, e.to_string())
        }
        other => CibaError::Core(other),
    }
}

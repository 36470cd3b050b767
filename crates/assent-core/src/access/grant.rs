//! The grant of an access request: an ES256 JWT signed with the server key (verifiable against
//! `/.well-known/jwks.json`) naming the requester, the privilege, its start and end, and every
//! approver with the receipt of their decision, so anyone can check offline who approved what.
//! A grant can be revoked before its end by an admin or one of its approvers; introspection
//! and the `access_grant.revoked` webhook say so at once.

use super::not_found;
use super::records::{AccessRequest, AccessState, Grant};
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::ids::AccessRequestId;
use crate::model::{App, Approval};
use crate::service::{Assent, Principal};
use assent_proto::ProblemCode;
use assent_proto::jose::{Parsed, random_token};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use time::{Duration, OffsetDateTime};

/// What a grant's sealing is bound to: its request.
fn grant_context(id: &AccessRequestId) -> String {
    format!("access-grant:{id}")
}

/// The JOSE `typ` of a grant.
pub const GRANT_TYP: &str = "assent-grant+jwt";

/// One approver as the grant names them.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GrantApprover {
    pub user: String,
    pub approval_id: String,
    pub decided_at: i64,
    /// The server-signed receipt of their decision, which embeds the device-signed statement.
    pub receipt: String,
}

/// The claims of a grant.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct GrantClaims {
    pub iss: String,
    /// The requester's username.
    pub sub: String,
    /// The application that asked.
    pub aud: String,
    pub jti: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
    pub access_request_id: String,
    pub authorization_details: Vec<Value>,
    pub justification: String,
    pub approvals_required: u32,
    /// The approvals that reached the quorum; empty for a break-glass grant.
    pub approvers: Vec<GrantApprover>,
    /// Set for a grant issued by break-glass: the requester's reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub break_glass: Option<String>,
}

/// What introspection says of a grant.
#[derive(Debug, Clone)]
pub struct Introspection {
    /// Signed by this server, for this application, within its time and not revoked.
    pub active: bool,
    pub claims: Option<GrantClaims>,
    pub revoked_at: Option<OffsetDateTime>,
}

impl Assent {
    /// Signs the grant of a request whose quorum `approved` reached, starting `now`.
    pub(crate) async fn mint_grant(
        &self,
        request: &AccessRequest,
        approved: &[&Approval],
        now: OffsetDateTime,
    ) -> Result<Grant, CoreError> {
        let length = Duration::seconds(i64::from(request.grant_seconds));
        self.sign_grant(request, approved, now, length, None).await
    }

    /// Signs a grant of `length` from `now`; `break_glass` is the reason of one issued by
    /// break-glass, which names no approver.
    pub(crate) async fn sign_grant(
        &self,
        request: &AccessRequest,
        approved: &[&Approval],
        now: OffsetDateTime,
        length: Duration,
        break_glass: Option<String>,
    ) -> Result<Grant, CoreError> {
        let requester = self.username_for_id(&request.requester).await?;
        let mut approvers = Vec::with_capacity(approved.len());
        for approval in approved {
            approvers.push(GrantApprover {
                user: self.username_for_id(&approval.user_id).await?.to_string(),
                approval_id: approval.id.to_string(),
                decided_at: approval
                    .decided_at
                    .map_or(0, OffsetDateTime::unix_timestamp),
                receipt: approval.receipt.clone().unwrap_or_default(),
            });
        }
        let expires_at = now + length;
        let claims = GrantClaims {
            iss: self.settings.public_url.clone(),
            sub: requester.to_string(),
            aud: request.app_id.to_string(),
            jti: random_token(16)?,
            iat: now.unix_timestamp(),
            nbf: now.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
            access_request_id: request.id.to_string(),
            authorization_details: request.privilege.clone(),
            justification: request.justification.clone(),
            approvals_required: request.approvals_required,
            approvers,
            break_glass,
        };
        let token = self.key.sign(GRANT_TYP, Some(&self.kid), false, &claims)?;
        // A grant is a bearer credential until its end: kept sealed with the data key.
        let sealed = self
            .data_key
            .seal(token.as_bytes(), &grant_context(&request.id))
            .map_err(|_| CoreError::Crypto)?;
        Ok(Grant {
            id: claims.jti,
            token: assent_proto::jose::b64(&sealed),
            not_before: now,
            expires_at,
            revoked_at: None,
            revoked_by: None,
        })
    }

    /// The signed grant of a request, opened from its sealed form; `None` without a grant
    /// (a co-approval never has one).
    pub fn grant_token(&self, request: &AccessRequest) -> Result<Option<String>, CoreError> {
        let Some(grant) = request.grant.as_ref().filter(|_| request.holds.is_none()) else {
            return Ok(None);
        };
        let sealed = assent_proto::jose::b64_decode(&grant.token).map_err(|_| CoreError::Crypto)?;
        let token = self
            .data_key
            .open(&sealed, &grant_context(&request.id))
            .map_err(|_| CoreError::Crypto)?;
        String::from_utf8(token)
            .map(Some)
            .map_err(|_| CoreError::Crypto)
    }

    /// Revokes a request's grant on an admin's word.
    pub async fn revoke_grant_as_admin(
        &self,
        by: &Principal,
        id: &str,
    ) -> Result<AccessRequest, CoreError> {
        if let Principal::App(_) = by {
            return Err(CoreError::rejected(
                ProblemCode::Forbidden,
                "only an admin or an approver revokes a grant",
            ));
        }
        let request = self.access_request_for_admin(id).await?;
        self.revoke_grant(request, by.actor().label(), by.actor())
            .await
    }

    /// Revokes a request's grant from the device of one of its approvers.
    pub async fn revoke_grant_as_approver(
        &self,
        device: &crate::AuthenticatedDevice,
        id: &str,
    ) -> Result<AccessRequest, CoreError> {
        let id = AccessRequestId::parse(id).ok_or_else(not_found)?;
        let request = self.count_access_votes(&id).await?;
        let user = &device.device().user_id;
        // Anyone else is told it does not exist, not that it is someone else's.
        if !self.is_approver(&request, user).await? {
            return Err(not_found());
        }
        let by = format!("user:{user}");
        let actor = Actor::Device(device.device().id.clone());
        self.revoke_grant(request, by, actor).await
    }

    async fn revoke_grant(
        &self,
        request: AccessRequest,
        by: String,
        actor: Actor,
    ) -> Result<AccessRequest, CoreError> {
        let Some(grant) = request.grant.as_ref().filter(|_| request.holds.is_none()) else {
            return Err(CoreError::rejected(
                ProblemCode::InvalidRequest,
                format!(
                    "the access request is {} and has no grant to revoke",
                    request.state.as_str()
                ),
            ));
        };
        if grant.revoked_at.is_some() {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyDecided,
                "the grant is revoked already",
            ));
        }
        let event = AuditEvent::AccessGrantRevoked {
            request_id: request.id.to_string(),
            app_id: request.app_id.to_string(),
            grant_id: grant.id.clone(),
            by: by.clone(),
        };
        let won = self
            .store
            .revoke_access_grant(&request.id, self.now(), &by, self.audit(actor, event))
            .await?;
        if !won {
            return Err(CoreError::rejected(
                ProblemCode::AlreadyDecided,
                "the grant is revoked already",
            ));
        }
        self.notifier
            .notify(&crate::notifier::Topic::User(request.requester.clone()));
        self.store
            .access_request(&request.id)
            .await?
            .ok_or_else(not_found)
    }

    /// Introspects a grant for the application it was issued to (anything else, a forged or
    /// foreign token among it, is inactive and says nothing more).
    pub async fn introspect_grant(
        &self,
        app: &App,
        token: &str,
    ) -> Result<Introspection, CoreError> {
        let inactive = Introspection {
            active: false,
            claims: None,
            revoked_at: None,
        };
        let Ok(parsed) = Parsed::parse(token) else {
            return Ok(inactive);
        };
        if parsed.header.typ.as_deref() != Some(GRANT_TYP) {
            return Ok(inactive);
        }
        let Ok(claims) = parsed.verify::<GrantClaims>(self.key.jwk()) else {
            return Ok(inactive);
        };
        if claims.aud != app.id.as_str() || claims.iss != self.settings.public_url {
            return Ok(inactive);
        }
        let Some(request) = self.store.access_request_by_grant(&claims.jti).await? else {
            return Ok(inactive);
        };
        let revoked_at = request.grant.as_ref().and_then(|g| g.revoked_at);
        let now = self.now().unix_timestamp();
        let active = request.state == AccessState::Granted
            && revoked_at.is_none()
            && claims.nbf <= now
            && now < claims.exp;
        Ok(Introspection {
            active,
            claims: Some(claims),
            revoked_at,
        })
    }
}

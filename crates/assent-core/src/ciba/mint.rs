//! The tokens of an approved backchannel request: an ES256 ID token that says who approved and
//! how, and an access token (RFC 9068 profile) whose `authorization_details` are exactly the
//! approved ones, short-lived, bound to a DPoP key when there is one, and naming the approval
//! so its receipt can be fetched. Issued once: the issuance is a conditional write.

use super::error::CibaError;
use super::records::{CibaClient, CibaRequest, ClientAuth};
use super::start::{ACR_DEVICE, ACR_POLICY, ACR_USER_VERIFICATION};
use crate::audit::{Actor, AuditEvent};
use crate::error::CoreError;
use crate::model::{Approval, EndReason};
use crate::service::Assent;
use assent_proto::jose::Jwk;
use assent_proto::oauth::tokens::{
    ACCESS_TOKEN_TYP, AccessTokenClaims, Confirmation, IdTokenClaims, TokenResponse, at_hash,
};
use serde_json::Value;
use time::Duration;

/// How long an ID token is good for: it says who authenticated when, for the client to read now.
const ID_TOKEN_LIFETIME: Duration = Duration::minutes(10);

/// How an access token is bound to its holder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenBinding {
    /// A bearer token: whoever holds it may use it.
    Bearer,
    /// Bound to the key with this RFC 7638 thumbprint (RFC 9449 `cnf.jkt`).
    Dpop { jkt: String },
}

/// The token response of an approved request.
#[derive(Debug, Clone)]
pub struct IssuedTokens {
    pub response: TokenResponse,
}

/// The RFC 7638 thumbprints of a client's registered P-256 keys (the keys DPoP can use).
pub(crate) fn registered_thumbprints(client: &CibaClient) -> Vec<String> {
    let ClientAuth::PrivateKeyJwt { jwks } = &client.auth else {
        return Vec::new();
    };
    let Ok(set) = serde_json::from_str::<Value>(jwks) else {
        return Vec::new();
    };
    set.get("keys")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|k| serde_json::from_value::<Jwk>(k.clone()).ok())
        .filter(|k| k.to_sec1().is_ok())
        .map(|k| k.thumbprint())
        .collect()
}

/// `acr` and `amr` of a final approval: a decision signed by a device key proves possession of
/// that key and the user's presence (they read the request and typed the code); user
/// verification on the device adds a second factor. A policy allowance proves neither.
fn assurance(approval: &Approval) -> (&'static str, Vec<String>) {
    if approval.reason == Some(EndReason::AllowedByPolicy) {
        return (ACR_POLICY, Vec::new());
    }
    if approval.user_verification {
        (
            ACR_USER_VERIFICATION,
            vec!["pop".into(), "user".into(), "mfa".into()],
        )
    } else {
        (ACR_DEVICE, vec!["pop".into(), "user".into()])
    }
}

/// The access token id of a request: derived from the request, so tokens minted again for a
/// push delivery that is retried carry the same id (one revocation covers every copy), and
/// revealing nothing of the `auth_req_id` (it is a digest of its digest).
pub(crate) fn token_id(request: &CibaRequest) -> String {
    let mut input = b"assent-access-token:".to_vec();
    input.extend_from_slice(&request.id_hash);
    let digest = crate::secrets::sha256(&input);
    assent_proto::jose::b64(&digest[..16])
}

impl Assent {
    /// Records the issuance of an approved request's tokens (once) and signs them; `None` when
    /// they were issued already (another poll won).
    pub(crate) async fn issue_tokens(
        &self,
        client: &CibaClient,
        request: &CibaRequest,
        approval: &Approval,
        binding: TokenBinding,
    ) -> Result<Option<IssuedTokens>, CibaError> {
        let now = self.now();
        if !self.record_issuance(client, request, approval, now).await? {
            return Ok(None);
        }
        Ok(Some(
            self.mint(client, request, approval, binding, now, None)?,
        ))
    }

    /// The conditional write that lets tokens be issued once, with its audit row.
    pub(crate) async fn record_issuance(
        &self,
        client: &CibaClient,
        request: &CibaRequest,
        approval: &Approval,
        at: time::OffsetDateTime,
    ) -> Result<bool, CibaError> {
        let event = AuditEvent::CibaTokensIssued {
            approval_id: approval.id.to_string(),
            client_id: client.client_id.clone(),
            token_id: token_id(request),
            expires_at: (at + self.token_lifetime(request)).unix_timestamp(),
        };
        Ok(self
            .store
            .issue_ciba_tokens(
                &request.id_hash,
                at,
                self.audit(Actor::App(client.app_id.clone()), event),
            )
            .await?)
    }

    fn token_lifetime(&self, request: &CibaRequest) -> Duration {
        let settings = &self.settings.ciba;
        let asked = request
            .token_lifetime
            .map(|s| Duration::seconds(i64::from(s)))
            .unwrap_or(settings.token_lifetime);
        asked
            .min(settings.max_token_lifetime)
            .max(Duration::seconds(1))
    }

    /// Signs the tokens of an approved request as issued at `issued_at`. The claims depend only
    /// on the request, the approval and that time; `auth_req_id` goes into the ID token when the
    /// tokens travel without the request that asked for them (push mode).
    pub(crate) fn mint(
        &self,
        client: &CibaClient,
        request: &CibaRequest,
        approval: &Approval,
        binding: TokenBinding,
        issued_at: time::OffsetDateTime,
        auth_req_id: Option<&str>,
    ) -> Result<IssuedTokens, CibaError> {
        let lifetime = self.token_lifetime(request);
        let expires_at = issued_at + lifetime;
        let auth_time = approval.decided_at.unwrap_or(issued_at).unix_timestamp();
        let (acr, amr) = assurance(approval);
        let (token_type, cnf) = match binding {
            TokenBinding::Bearer => ("Bearer", None),
            TokenBinding::Dpop { jkt } => ("DPoP", Some(Confirmation { jkt })),
        };
        let issuer = self.issuer().to_owned();
        let settings = &self.settings.ciba;
        let access = AccessTokenClaims {
            iss: issuer.clone(),
            sub: approval.user_id.to_string(),
            aud: settings.audience.clone().unwrap_or_else(|| issuer.clone()),
            client_id: client.client_id.clone(),
            iat: issued_at.unix_timestamp(),
            exp: expires_at.unix_timestamp(),
            jti: token_id(request),
            scope: request.scope.join(" "),
            auth_time,
            acr: Some(acr.to_owned()),
            authorization_details: approval.authorization_details.clone(),
            cnf,
            approval_id: approval.id.to_string(),
        };
        let access_token = self
            .key
            .sign(ACCESS_TOKEN_TYP, Some(&self.kid), false, &access)
            .map_err(|_| CoreError::Crypto)?;
        let id = IdTokenClaims {
            iss: issuer,
            sub: approval.user_id.to_string(),
            aud: client.client_id.clone(),
            iat: issued_at.unix_timestamp(),
            exp: (issued_at + ID_TOKEN_LIFETIME).unix_timestamp(),
            auth_time,
            acr: Some(acr.to_owned()),
            amr,
            at_hash: Some(at_hash(&access_token)),
            auth_req_id: auth_req_id.map(str::to_owned),
        };
        let id_token = self
            .key
            .sign("JWT", Some(&self.kid), false, &id)
            .map_err(|_| CoreError::Crypto)?;
        Ok(IssuedTokens {
            response: TokenResponse {
                access_token,
                token_type: token_type.into(),
                expires_in: u64::try_from(lifetime.whole_seconds()).unwrap_or(0),
                id_token,
                scope: Some(request.scope.join(" ")),
                receipt: approval.receipt.clone().unwrap_or_default(),
            },
        })
    }
}

//! What happens to an access token after it is issued: its client may revoke it early (RFC
//! 7009) and any registered client may ask whether it is still good (RFC 7662), which is how a
//! resource server learns of a revocation that offline verification cannot see.

use super::clients::AuthenticatedClient;
use super::error::CibaError;
use crate::audit::{Actor, AuditEvent};
use crate::service::Assent;
use assent_proto::jose::Parsed;
use assent_proto::oauth::tokens::{AccessTokenClaims, IntrospectionResponse};

impl Assent {
    /// An access token Assent signed, whatever its age or state; `None` for anything else.
    fn own_access_token(&self, token: &str) -> Option<AccessTokenClaims> {
        let parsed = Parsed::parse(token).ok()?;
        if !parsed
            .header
            .typ
            .as_deref()
            .is_some_and(|t| t.eq_ignore_ascii_case(assent_proto::oauth::tokens::ACCESS_TOKEN_TYP))
        {
            return None;
        }
        let claims: AccessTokenClaims = parsed.verify(self.key.jwk()).ok()?;
        (claims.iss == self.issuer()).then_some(claims)
    }

    /// Revokes one of the client's own access tokens. Anything else (another client's token,
    /// garbage, an expired token) is answered the same way and changes nothing, as RFC 7009
    /// asks: the answer reveals nothing about tokens.
    pub async fn revoke_access_token(
        &self,
        client: &AuthenticatedClient,
        token: &str,
    ) -> Result<(), CibaError> {
        let Some(claims) = self.own_access_token(token) else {
            return Ok(());
        };
        let now = self.now();
        if claims.client_id != client.client.client_id || claims.exp <= now.unix_timestamp() {
            return Ok(());
        }
        let expires_at = time::OffsetDateTime::from_unix_timestamp(claims.exp).unwrap_or(now);
        let event = AuditEvent::AccessTokenRevoked {
            token_id: claims.jti.clone(),
            client_id: claims.client_id.clone(),
        };
        self.store
            .revoke_token(
                &claims.jti,
                expires_at,
                self.audit(Actor::App(client.app.id.clone()), event),
            )
            .await?;
        Ok(())
    }

    /// Whether an access token is good now: signed by Assent, not expired, not revoked.
    pub async fn introspect_access_token(
        &self,
        _client: &AuthenticatedClient,
        token: &str,
    ) -> Result<IntrospectionResponse, CibaError> {
        let Some(claims) = self.own_access_token(token) else {
            return Ok(IntrospectionResponse::inactive());
        };
        if claims.exp <= self.now().unix_timestamp()
            || self.store.token_revoked(&claims.jti).await?
        {
            return Ok(IntrospectionResponse::inactive());
        }
        let token_type = if claims.cnf.is_some() {
            "DPoP"
        } else {
            "Bearer"
        };
        Ok(IntrospectionResponse::active(&claims, token_type))
    }
}

impl Assent {
    /// Forgets backchannel requests and token revocations a day after they expired: by then
    /// every poll and every notification of theirs is long over, and a revoked token is refused
    /// for its age.
    pub async fn purge_ciba(&self) -> Result<u64, crate::error::CoreError> {
        Ok(self
            .store
            .purge_ciba(self.now() - time::Duration::days(1))
            .await?)
    }
}

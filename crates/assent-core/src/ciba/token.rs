//! The token endpoint's CIBA grant: the client collects the outcome of its request. While the
//! user has not answered it polls (`authorization_pending`, or `slow_down` when it polls too
//! soon); once the approval is final it gets the tokens, exactly once, or the reason it gets
//! none (`access_denied`, `expired_token`).

use super::clients::AuthenticatedClient;
use super::error::{CibaError, refuse};
use super::mint::{IssuedTokens, TokenBinding};
use super::records::{CibaRequest, DeliveryMode};
use crate::secrets;
use crate::service::Assent;
use assent_proto::oauth::dpop::VerifiedDpop;
use assent_proto::oauth::error::OAuthErrorCode;
use assent_proto::states::ApprovalState;
use time::Duration;

/// What `slow_down` adds to the interval (RFC 8628, 3.5, which CIBA follows).
const SLOW_DOWN_STEP: u32 = 5;
/// A poll this much before its turn is still on time: a client that sleeps exactly `interval`
/// between requests must not be told to slow down by the time its request takes to arrive.
const POLL_SLACK: Duration = Duration::milliseconds(500);

impl Assent {
    /// Answers a token request with the CIBA grant for `auth_req_id`.
    pub async fn ciba_token(
        &self,
        client: &AuthenticatedClient,
        auth_req_id: &str,
        dpop: Option<VerifiedDpop>,
    ) -> Result<IssuedTokens, CibaError> {
        let invalid_grant = || refuse(OAuthErrorCode::InvalidGrant, "unknown or spent auth_req_id");
        let request = self
            .store
            .ciba_request(&secrets::sha256(auth_req_id.as_bytes()))
            .await?
            .ok_or_else(invalid_grant)?;
        if request.client_id != client.client.client_id {
            return Err(invalid_grant());
        }
        if client.client.mode == DeliveryMode::Push {
            return Err(refuse(
                OAuthErrorCode::UnauthorizedClient,
                "a push-mode client receives its tokens at its notification endpoint",
            ));
        }
        if request.tokens_issued_at.is_some() {
            return Err(invalid_grant());
        }
        let binding = self.binding(client, dpop).await?;
        let approval = self
            .approval_for_app(&client.app, request.approval_id.as_str())
            .await?;
        match approval.state {
            ApprovalState::Pending => Err(self.poll_turn(&request).await?),
            ApprovalState::Expired => Err(refuse(
                OAuthErrorCode::ExpiredToken,
                "the request expired before the user answered",
            )),
            ApprovalState::Denied | ApprovalState::Fraud | ApprovalState::Cancelled => Err(refuse(
                OAuthErrorCode::AccessDenied,
                "the user or Assent denied the request",
            )),
            ApprovalState::Approved => self
                .issue_tokens(&client.client, &request, &approval, binding)
                .await?
                .ok_or_else(invalid_grant),
        }
    }

    /// `authorization_pending` when the poll is on time, `slow_down` (and a longer interval
    /// from now on) when it is early. Two polls at once: one moves the turn, the other is early.
    async fn poll_turn(&self, request: &CibaRequest) -> Result<CibaError, CibaError> {
        let now = self.now();
        let on_time = now + POLL_SLACK >= request.next_poll_at;
        let interval = if on_time {
            request.interval
        } else {
            request.interval.saturating_add(SLOW_DOWN_STEP)
        };
        let next = now + Duration::seconds(i64::from(interval));
        let moved = self
            .store
            .move_ciba_poll(&request.id_hash, request.next_poll_at, next, interval)
            .await?;
        Ok(if on_time && moved {
            refuse(
                OAuthErrorCode::AuthorizationPending,
                "the user has not answered yet",
            )
        } else {
            refuse(
                OAuthErrorCode::SlowDown,
                format!("poll at most every {interval} seconds"),
            )
        })
    }

    /// How the access token is bound: to the DPoP proof's key when there is one. An agent must
    /// present one, made with a key it registered, so its grant is useless to anyone without
    /// that key.
    async fn binding(
        &self,
        client: &AuthenticatedClient,
        dpop: Option<VerifiedDpop>,
    ) -> Result<TokenBinding, CibaError> {
        let Some(dpop) = dpop else {
            if client.client.agent.is_some() {
                return Err(refuse(
                    OAuthErrorCode::InvalidDpopProof,
                    "an agent's token request carries a DPoP proof made with its registered key",
                ));
            }
            return Ok(TokenBinding::Bearer);
        };
        if client.client.agent.is_some()
            && !super::mint::registered_thumbprints(&client.client).contains(&dpop.jkt)
        {
            return Err(refuse(
                OAuthErrorCode::InvalidDpopProof,
                "the DPoP proof is not made with a key this agent registered",
            ));
        }
        let forget_after = time::OffsetDateTime::from_unix_timestamp(dpop.iat)
            .unwrap_or_else(|_| self.now())
            + Duration::minutes(10);
        if !self
            .store
            .consume_proof(&dpop.jkt, &dpop.jti, forget_after)
            .await?
        {
            return Err(refuse(
                OAuthErrorCode::InvalidDpopProof,
                "this DPoP proof was already used",
            ));
        }
        Ok(TokenBinding::Dpop { jkt: dpop.jkt })
    }
}

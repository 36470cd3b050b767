//! Ping and push modes: once a request's approval is final, its client is told at its
//! notification endpoint, with the client's own bearer token. Ping says which request ended;
//! push carries the tokens themselves (or the error). The outbox is durable: a notification is
//! due as long as its approval is final and it was neither delivered nor given up, so a node
//! that dies mid-delivery leaves it for the next claim.

use super::error::CibaError;
use super::mint::TokenBinding;
use super::records::{CibaRequest, DeliveryMode, NotificationDone};
use super::start::notification_context;
use crate::error::{CoreError, StoreError};
use crate::service::Assent;
use assent_proto::states::ApprovalState;
use serde_json::{Value, json};
use time::Duration;

/// One notification to send, claimed for its sender.
#[derive(Debug, Clone)]
pub struct ClientNotification {
    pub id_hash: Vec<u8>,
    pub url: String,
    /// The client's `client_notification_token`, sent as `Authorization: Bearer`.
    pub bearer: String,
    pub body: Value,
    /// Attempts made before this one.
    pub attempts: u32,
}

impl Assent {
    /// Claims the notifications due now, up to `limit`, each for `lease`, with their bodies.
    /// A notification whose body cannot be made (its sealed token does not open) is given up
    /// and logged, not retried forever.
    pub async fn claim_ciba_notifications(
        &self,
        limit: u32,
        lease: Duration,
    ) -> Result<Vec<ClientNotification>, CoreError> {
        let now = self.now();
        let mut claimed = Vec::new();
        for request in self.store.due_ciba_notifications(now, limit).await? {
            let Some(attempts) = self
                .store
                .claim_ciba_notification(&request.id_hash, now, now + lease)
                .await?
            else {
                continue;
            };
            match self.notification(&request, attempts).await {
                Ok(Some(notification)) => claimed.push(notification),
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(error = %e, "a CIBA notification cannot be made; given up");
                    let done = NotificationDone::GaveUp {
                        at: now,
                        error: "the notification could not be made".into(),
                    };
                    self.store
                        .finish_ciba_notification(&request.id_hash, &done)
                        .await?;
                }
            }
        }
        Ok(claimed)
    }

    /// Records how an attempt ended.
    pub async fn finish_ciba_notification(
        &self,
        id_hash: &[u8],
        done: &NotificationDone,
    ) -> Result<(), CoreError> {
        Ok(self.store.finish_ciba_notification(id_hash, done).await?)
    }

    async fn notification(
        &self,
        request: &CibaRequest,
        attempts: u32,
    ) -> Result<Option<ClientNotification>, CibaError> {
        let Some(client) = self.store.ciba_client(&request.client_id).await? else {
            return Ok(None);
        };
        let (Some(url), Some(sealed)) = (
            client.notification_endpoint.clone(),
            request.notification_token_sealed.as_ref(),
        ) else {
            return Ok(None);
        };
        let opened = self
            .data_key
            .open(sealed, &notification_context(&request.id_hash))
            .map_err(|e| CoreError::Internal(format!("notification token: {e}")))?;
        let note: Value = serde_json::from_slice(&opened)
            .map_err(|e| StoreError::Corrupt(format!("notification token: {e}")))?;
        let text = |name: &str| note[name].as_str().unwrap_or_default().to_owned();
        let (auth_req_id, bearer) = (text("auth_req_id"), text("client_notification_token"));
        let body = match client.mode {
            DeliveryMode::Poll => return Ok(None),
            DeliveryMode::Ping => json!({"auth_req_id": auth_req_id}),
            DeliveryMode::Push => self.push_body(&client, request, &auth_req_id).await?,
        };
        Ok(Some(ClientNotification {
            id_hash: request.id_hash.clone(),
            url,
            bearer,
            body,
            attempts,
        }))
    }

    /// Push mode's body: the tokens (issued once; a retry sends the same claims again) or the
    /// error, each naming the request (CIBA Core 1.0, 10.3.1 and 12).
    async fn push_body(
        &self,
        client: &super::records::CibaClient,
        request: &CibaRequest,
        auth_req_id: &str,
    ) -> Result<Value, CibaError> {
        let Some(approval) = self.store.approval(&request.approval_id).await? else {
            return Err(StoreError::Corrupt("a CIBA request without its approval".into()).into());
        };
        let error = |code: &str, description: &str| json!({"auth_req_id": auth_req_id, "error": code, "error_description": description});
        match approval.state {
            ApprovalState::Approved => {}
            ApprovalState::Expired => {
                return Ok(error(
                    "expired_token",
                    "the request expired before the user answered",
                ));
            }
            _ => {
                return Ok(error(
                    "access_denied",
                    "the user or Assent denied the request",
                ));
            }
        }
        let issued_at = match request.tokens_issued_at {
            Some(at) => at,
            None => {
                let now = self.now();
                if self
                    .record_issuance(client, request, &approval, now)
                    .await?
                {
                    now
                } else {
                    // Another node issued them first: mint the same claims it did.
                    self.store
                        .ciba_request(&request.id_hash)
                        .await?
                        .and_then(|r| r.tokens_issued_at)
                        .ok_or_else(|| StoreError::Corrupt("tokens issued without a time".into()))?
                }
            }
        };
        let tokens = self.mint(
            client,
            request,
            &approval,
            TokenBinding::Bearer,
            issued_at,
            Some(auth_req_id),
        )?;
        let mut body = serde_json::to_value(&tokens.response)
            .map_err(|e| CoreError::Internal(format!("token response: {e}")))?;
        if let Some(map) = body.as_object_mut() {
            map.insert("auth_req_id".into(), auth_req_id.into());
        }
        Ok(body)
    }
}

//! A recipient's side of a broadcast: the device lists its user's broadcasts and acknowledges
//! one with a signed statement. The statement is checked like a decision (the device's own key,
//! a `typ` of its own so neither can stand for the other, the time it was made) and against the
//! broadcast it names (its id, the user, the hash of the message shown), and is accepted once.

use super::records::{Acknowledgement, Broadcast, Recipient};
use super::{audit, no_broadcast};
use crate::audit::{Actor, AuditEvent};
use crate::devices::auth::{AuthenticatedDevice, ensure_can_answer};
use crate::error::CoreError;
use crate::ids::{BroadcastId, Username};
use crate::notifier::Topic;
use crate::secrets;
use crate::service::Assent;
use assent_proto::ProblemCode;
use assent_proto::jose::Parsed;
use assent_proto::statement::{BROADCAST_ACK_TYP, BroadcastAckStatement, broadcast_message_hash};

/// Most unacknowledged broadcasts a device is shown.
const PENDING_PAGE: u32 = 100;
/// Most acknowledged broadcasts a device is shown.
const ACKNOWLEDGED_PAGE: u32 = 20;

/// A broadcast with the user's row of it.
#[derive(Debug, Clone)]
pub struct UserBroadcast {
    pub broadcast: Broadcast,
    pub recipient: Recipient,
}

impl UserBroadcast {
    /// What an acknowledgement must carry as `message_hash`.
    pub fn message_hash(&self) -> String {
        broadcast_message_hash(&self.broadcast.message)
    }
}

/// A user's broadcasts, as their device lists them.
#[derive(Debug, Clone)]
pub struct DeviceBroadcasts {
    /// The user, whose name an acknowledgement carries.
    pub username: Username,
    /// Not acknowledged yet, oldest first.
    pub pending: Vec<UserBroadcast>,
    /// Acknowledged, most recent acknowledgement first.
    pub acknowledged: Vec<UserBroadcast>,
}

fn mismatch(detail: &str) -> CoreError {
    CoreError::rejected(ProblemCode::StatementMismatch, detail.to_owned())
}

fn invalid(detail: String) -> CoreError {
    CoreError::rejected(ProblemCode::InvalidStatement, detail)
}

impl Assent {
    /// The broadcasts of the device's user: those waiting for an acknowledgement and the
    /// recently acknowledged ones.
    pub async fn device_broadcasts(
        &self,
        device: &AuthenticatedDevice,
    ) -> Result<DeviceBroadcasts, CoreError> {
        let user = &device.device().user_id;
        let rows = |acknowledged: bool, limit: u32| async move {
            Ok::<_, CoreError>(
                self.store
                    .user_broadcasts(user, acknowledged, limit)
                    .await?
                    .into_iter()
                    .map(|(broadcast, recipient)| UserBroadcast {
                        broadcast,
                        recipient,
                    })
                    .collect(),
            )
        };
        Ok(DeviceBroadcasts {
            username: self.username_for_id(user).await?,
            pending: rows(false, PENDING_PAGE).await?,
            acknowledged: rows(true, ACKNOWLEDGED_PAGE).await?,
        })
    }

    /// The ids of the broadcasts the device's user has not acknowledged (for its stream).
    pub async fn unacknowledged_broadcasts(
        &self,
        device: &AuthenticatedDevice,
    ) -> Result<Vec<BroadcastId>, CoreError> {
        Ok(self
            .store
            .user_broadcasts(&device.device().user_id, false, PENDING_PAGE)
            .await?
            .into_iter()
            .map(|(b, _)| b.id)
            .collect())
    }

    /// Accepts the device's signed acknowledgement of broadcast `id` for its user, once.
    /// Another user's broadcast is not found; a statement that is not this device's, or names
    /// another broadcast or user, or another message, is refused; a second acknowledgement (from
    /// this device or another of the user's) is `already_decided`.
    pub async fn acknowledge_broadcast(
        &self,
        device: &AuthenticatedDevice,
        id: &str,
        statement: &str,
    ) -> Result<UserBroadcast, CoreError> {
        let device = device.device();
        let broadcast_id = BroadcastId::parse(id).ok_or_else(no_broadcast)?;
        let broadcast = self
            .store
            .broadcast(&broadcast_id)
            .await?
            .ok_or_else(no_broadcast)?;
        let recipient = self
            .store
            .broadcast_recipient(&broadcast_id, &device.user_id)
            .await?
            .ok_or_else(no_broadcast)?;

        let parsed = Parsed::parse(statement).map_err(|e| invalid(e.to_string()))?;
        if parsed.header.typ.as_deref() != Some(BROADCAST_ACK_TYP) {
            return Err(invalid(format!(
                "a broadcast acknowledgement has typ {BROADCAST_ACK_TYP}"
            )));
        }
        // The statement must be this device's: signed by its key and naming it, so one
        // device's signature is never recorded as another's.
        if parsed.header.kid.as_deref() != Some(device.id.as_str()) {
            return Err(CoreError::rejected(
                ProblemCode::InvalidSignature,
                "the statement's kid is not this device",
            ));
        }
        // A signature that holds over claims that are not an acknowledgement's is a malformed
        // statement, not a forgery.
        let claims: BroadcastAckStatement = parsed.verify(&device.jwk).map_err(|e| match e {
            assent_proto::jose::JoseError::BadPayload(detail) => invalid(detail),
            other => CoreError::rejected(ProblemCode::InvalidSignature, other.to_string()),
        })?;
        if claims.broadcast_id != broadcast.id.as_str() {
            return Err(mismatch("the statement names another broadcast"));
        }
        let username = self.username_for_id(&device.user_id).await?;
        if claims.user != username.as_str() {
            return Err(mismatch("the statement names another user"));
        }
        let expected = broadcast_message_hash(&broadcast.message);
        if !secrets::constant_time_eq(&claims.message_hash, &expected) {
            return Err(CoreError::rejected(
                ProblemCode::DetailsMismatch,
                "the signed message hash does not match the broadcast's message",
            ));
        }
        self.check_iat(claims.iat, self.now())?;
        if recipient.acknowledgement.is_some() {
            return Err(already_acknowledged());
        }
        // Read again: a device revoked since its proof was checked does not acknowledge.
        let current = self
            .store
            .device(&device.id)
            .await?
            .ok_or_else(no_broadcast)?;
        ensure_can_answer(&current)?;

        let acknowledgement = Acknowledgement {
            at: self.now(),
            device_id: device.id.clone(),
            statement: statement.to_owned(),
        };
        let event = AuditEvent::BroadcastAcknowledged(audit::Acknowledged {
            broadcast_id: broadcast.id.to_string(),
            user_id: device.user_id.to_string(),
            device_id: device.id.to_string(),
        });
        let written = self
            .store
            .acknowledge_broadcast(
                &broadcast.id,
                &device.user_id,
                &acknowledgement,
                self.audit(Actor::Device(device.id.clone()), event),
            )
            .await?;
        if !written {
            // Revoked between the check above and the write (the store writes only for an
            // active device), or acknowledged from another device meanwhile.
            let current = self
                .store
                .device(&device.id)
                .await?
                .ok_or_else(no_broadcast)?;
            ensure_can_answer(&current)?;
            return Err(already_acknowledged());
        }
        // The user's other devices take it off their lists.
        self.notifier
            .notify(&Topic::Account(device.user_id.clone()));
        Ok(UserBroadcast {
            broadcast,
            recipient: Recipient {
                acknowledgement: Some(acknowledgement),
                ..recipient
            },
        })
    }
}

fn already_acknowledged() -> CoreError {
    CoreError::rejected(
        ProblemCode::AlreadyDecided,
        "this broadcast was already acknowledged",
    )
}

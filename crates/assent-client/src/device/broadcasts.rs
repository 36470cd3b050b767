//! Incident broadcasts, the recipient's side: list them, and acknowledge one with a statement
//! signed over exactly the message shown.

use super::{DeviceClient, unix_now};
use crate::error::ClientError;
use assent_proto::api::{
    AcknowledgeBroadcast, BroadcastAcknowledged, DeviceBroadcast, DeviceBroadcastList,
};
use assent_proto::statement::{BROADCAST_ACK_TYP, BroadcastAckStatement, broadcast_message_hash};

impl DeviceClient {
    /// The user's broadcasts: those waiting for an acknowledgement and the recent acknowledged
    /// ones.
    pub async fn broadcasts(&self) -> Result<DeviceBroadcastList, ClientError> {
        self.get("/v1/device/broadcasts").await
    }

    /// Signs an acknowledgement of `broadcast`. Refuses when the server's `message_hash` is not
    /// the digest of the message it sent, or names another user than this device's: the device
    /// acknowledges what the user was shown, for its own account, nothing else.
    pub fn sign_broadcast_ack(&self, broadcast: &DeviceBroadcast) -> Result<String, ClientError> {
        let hash = broadcast_message_hash(&broadcast.message);
        if hash != broadcast.message_hash {
            return Err(ClientError::Protocol(
                "the server's message hash does not match the message shown; refusing to acknowledge"
                    .into(),
            ));
        }
        if !broadcast.user.eq_ignore_ascii_case(&self.profile.user) {
            return Err(ClientError::Protocol(format!(
                "the broadcast is for {}, not this device's user {}",
                broadcast.user, self.profile.user
            )));
        }
        self.sign_broadcast_statement(&BroadcastAckStatement {
            broadcast_id: broadcast.id.clone(),
            user: broadcast.user.clone(),
            message_hash: hash,
            iat: unix_now(),
        })
    }

    /// Signs any acknowledgement statement with this device's key (`kid` its id); for tests
    /// of what the server refuses.
    pub fn sign_broadcast_statement(
        &self,
        statement: &BroadcastAckStatement,
    ) -> Result<String, ClientError> {
        self.key
            .sign(
                BROADCAST_ACK_TYP,
                Some(&self.profile.device_id),
                false,
                statement,
            )
            .map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Sends a signed acknowledgement of broadcast `id`.
    pub async fn submit_broadcast_ack(
        &self,
        id: &str,
        statement: String,
    ) -> Result<BroadcastAcknowledged, ClientError> {
        let body = self
            .post(
                &format!("/v1/device/broadcasts/{id}/ack"),
                &AcknowledgeBroadcast { statement },
            )
            .await?
            .unwrap_or_default();
        serde_json::from_value(body).map_err(|e| ClientError::Protocol(e.to_string()))
    }

    /// Finds broadcast `id` among those waiting, signs its acknowledgement and sends it.
    pub async fn acknowledge_broadcast(
        &self,
        id: &str,
    ) -> Result<BroadcastAcknowledged, ClientError> {
        let list = self.broadcasts().await?;
        let broadcast = list
            .pending
            .iter()
            .chain(&list.acknowledged)
            .find(|b| b.id == id)
            .ok_or_else(|| ClientError::Protocol(format!("no broadcast {id} for this account")))?;
        let statement = self.sign_broadcast_ack(broadcast)?;
        self.submit_broadcast_ack(id, statement).await
    }
}

//! Incident broadcasts, the admin's side: send one, list them, read who acknowledged.

use super::{AdminClient, segment};
use crate::error::ClientError;
use assent_proto::api::{BroadcastCreated, BroadcastDetail, BroadcastList, CreateBroadcast};

impl AdminClient {
    /// Sends a broadcast to every user (`group` absent) or to a group's members.
    pub async fn create_broadcast(
        &self,
        body: &CreateBroadcast,
    ) -> Result<BroadcastCreated, ClientError> {
        self.0.post("/v1/admin/broadcasts", body).await
    }

    /// The most recent broadcasts, newest first, with their counts.
    pub async fn broadcasts(&self) -> Result<BroadcastList, ClientError> {
        self.0.get("/v1/admin/broadcasts").await
    }

    /// One broadcast with each recipient's state.
    pub async fn broadcast(&self, id: &str) -> Result<BroadcastDetail, ClientError> {
        self.0
            .get(&format!("/v1/admin/broadcasts/{}", segment(id)))
            .await
    }
}

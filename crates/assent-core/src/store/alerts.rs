//! A user's alerts: notices written after the change they describe has committed with its own
//! audit row, so writing one takes no audit event; read newest first.

use crate::error::StoreError;
use crate::ids::UserId;
use crate::model::Alert;
use async_trait::async_trait;

/// Alerts shown to a user's devices.
#[async_trait]
pub trait AlertStore: Send + Sync {
    async fn insert_alert(&self, alert: &Alert) -> Result<(), StoreError>;
    /// A user's most recent alerts, newest first.
    async fn alerts_for_user(&self, user: &UserId, limit: u32) -> Result<Vec<Alert>, StoreError>;
}

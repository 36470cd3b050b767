//! A user's alerts.

use super::execute;
use crate::error::backend;
use crate::rows::{self, alert_columns};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::clock::to_millis;
use assent_core::ids::{DeviceId, UserId};
use assent_core::model::Alert;
use assent_core::store::AlertStore;
use async_trait::async_trait;

#[async_trait]
impl AlertStore for PostgresStore {
    async fn insert_alert(&self, a: &Alert) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO alerts (id, user_id, kind, message, created_at, device_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(a.id.to_string())
        .bind(a.user_id.to_string())
        .bind(a.kind.clone())
        .bind(a.message.clone())
        .bind(to_millis(a.created_at))
        .bind(a.device_id.as_ref().map(DeviceId::to_string));
        execute(&self.pool, insert).await.map(drop)
    }

    async fn alerts_for_user(&self, user: &UserId, limit: u32) -> Result<Vec<Alert>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            alert_columns!(),
            " FROM alerts WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
        ))
        .bind(user.as_str())
        .bind(i64::from(limit))
        .try_map(rows::alert)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }
}

//! A user's alerts.

use super::SqliteStore;
use crate::connection::backend;
use crate::rows;
use assent_core::StoreError;
use assent_core::clock::to_millis;
use assent_core::ids::{DeviceId, UserId};
use assent_core::model::Alert;
use assent_core::store::AlertStore;
use async_trait::async_trait;
use rusqlite::params;

#[async_trait]
impl AlertStore for SqliteStore {
    async fn insert_alert(&self, a: &Alert) -> Result<(), StoreError> {
        let a = a.clone();
        self.write(move |c| {
            c.prepare_cached("INSERT INTO alerts (id, user_id, kind, message, created_at, device_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")
                .and_then(|mut s| {
                    s.execute(params![a.id.as_str(), a.user_id.as_str(), a.kind, a.message, to_millis(a.created_at),
                        a.device_id.as_ref().map(DeviceId::as_str)
                    ])
                })
                .map_err(backend)?;
            Ok(())
        })
        .await
    }

    async fn alerts_for_user(&self, user: &UserId, limit: u32) -> Result<Vec<Alert>, StoreError> {
        let sql = format!(
            "SELECT {} FROM alerts WHERE user_id = ?1 ORDER BY created_at DESC, id DESC LIMIT ?2",
            rows::ALERT_COLUMNS
        );
        let user = user.to_string();
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![user, limit], rows::alert)?
                .collect()
        })
        .await
    }
}

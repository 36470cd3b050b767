//! Duo Auth API integrations on SQLite: inserted once with their audit row, never changed.

use super::SqliteStore;
use super::audit::append_audit;
use crate::connection::backend;
use crate::rows;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::duo::records::DuoIntegration;
use assent_core::store::DuoStore;
use async_trait::async_trait;
use rusqlite::params;

#[async_trait]
impl DuoStore for SqliteStore {
    /// A taken integration key (or an unknown application) fails on its constraint, which
    /// [`backend`] reports as a conflict; the savepoint rolls back with its audit row unwritten.
    async fn insert_duo_integration(
        &self,
        integration: &DuoIntegration,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let integration = integration.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO duo_integrations (ikey, app_id, skey_sealed, api_host,
                    allow_unmatched_push, allow_legacy_v1, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    integration.ikey,
                    integration.app_id.as_str(),
                    integration.skey_sealed,
                    integration.api_host,
                    integration.allow_unmatched_push,
                    integration.allow_legacy_v1,
                    to_millis(integration.created_at),
                ])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn duo_integration(&self, ikey: &str) -> Result<Option<DuoIntegration>, StoreError> {
        let sql = format!(
            "SELECT {} FROM duo_integrations WHERE ikey = ?1",
            rows::DUO_INTEGRATION_COLUMNS
        );
        self.one(sql, ikey.to_owned(), rows::duo_integration).await
    }

    async fn list_duo_integrations(&self) -> Result<Vec<DuoIntegration>, StoreError> {
        let sql = format!(
            "SELECT {} FROM duo_integrations ORDER BY created_at, ikey",
            rows::DUO_INTEGRATION_COLUMNS
        );
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map([], rows::duo_integration)?
                .collect()
        })
        .await
    }
}

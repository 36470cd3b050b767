//! Duo Auth API integrations on PostgreSQL: inserted once with their audit row, never changed.

use super::write_audited;
use crate::error::backend;
use crate::rows::{self, duo_integration_columns};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::clock::to_millis;
use assent_core::duo::records::DuoIntegration;
use assent_core::store::DuoStore;
use async_trait::async_trait;

#[async_trait]
impl DuoStore for PostgresStore {
    /// A taken integration key (or an unknown application) fails on its constraint, which
    /// [`backend`] reports as a conflict; the transaction rolls back with its audit row
    /// unwritten.
    async fn insert_duo_integration(
        &self,
        integration: &DuoIntegration,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO duo_integrations (ikey, app_id, skey_sealed, api_host,
                allow_unmatched_push, allow_legacy_v1, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(integration.ikey.clone())
        .bind(integration.app_id.to_string())
        .bind(integration.skey_sealed.clone())
        .bind(integration.api_host.clone())
        .bind(integration.allow_unmatched_push)
        .bind(integration.allow_legacy_v1)
        .bind(to_millis(integration.created_at));
        write_audited(&self.pool, vec![insert], &audit).await
    }

    async fn duo_integration(&self, ikey: &str) -> Result<Option<DuoIntegration>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            duo_integration_columns!(),
            " FROM duo_integrations WHERE ikey = $1"
        ))
        .bind(ikey)
        .try_map(rows::duo_integration)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn list_duo_integrations(&self) -> Result<Vec<DuoIntegration>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            duo_integration_columns!(),
            " FROM duo_integrations ORDER BY created_at, ikey"
        ))
        .try_map(rows::duo_integration)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }
}

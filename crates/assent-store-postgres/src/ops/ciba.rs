//! OpenID CIBA's records on PostgreSQL: clients, backchannel requests with their
//! compare-and-set poll turn and once-only token issuance, and revoked access tokens. Each
//! "only once" decision is one conditional statement, so nodes racing on a request or a token
//! find exactly one winner (see [`change_once`]).

use super::{begin, change_once, execute, run, write_audited};
use crate::error::backend;
use crate::rows::{
    self, ciba_auth, ciba_client_columns, ciba_request_columns, scope_text, to_json,
};
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::ciba::records::{CibaClient, CibaRequest, NotificationDone};
use assent_core::clock::to_millis;
use assent_core::ids::ApprovalId;
use assent_core::store::CibaStore;
use async_trait::async_trait;
use time::OffsetDateTime;

#[async_trait]
impl CibaStore for PostgresStore {
    /// A taken client id (or an unknown application or owner) fails on its constraint, which
    /// [`backend`] reports as a conflict; the transaction rolls back with its audit row
    /// unwritten.
    async fn insert_ciba_client(
        &self,
        client: &CibaClient,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let (auth_kind, secret_hash, jwks) = ciba_auth(&client.auth);
        let allowed_types = client
            .agent
            .as_ref()
            .map(|a| to_json(&a.allowed_types))
            .transpose()?;
        let insert = sqlx::query(
            "INSERT INTO ciba_clients (client_id, app_id, name, mode, notification_endpoint,
                auth_kind, secret_hash, jwks, requires_user_code, agent_owner,
                agent_allowed_types, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(client.client_id.clone())
        .bind(client.app_id.to_string())
        .bind(client.name.clone())
        .bind(client.mode.as_str())
        .bind(client.notification_endpoint.clone())
        .bind(auth_kind)
        .bind(secret_hash)
        .bind(jwks)
        .bind(client.requires_user_code)
        .bind(client.agent.as_ref().map(|a| a.owner.to_string()))
        .bind(allowed_types)
        .bind(to_millis(client.created_at));
        write_audited(&self.pool, vec![insert], &audit).await
    }

    async fn ciba_client(&self, client_id: &str) -> Result<Option<CibaClient>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            ciba_client_columns!(),
            " FROM ciba_clients WHERE client_id = $1"
        ))
        .bind(client_id)
        .try_map(rows::ciba_client)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn list_ciba_clients(&self) -> Result<Vec<CibaClient>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            ciba_client_columns!(),
            " FROM ciba_clients ORDER BY created_at, client_id"
        ))
        .try_map(rows::ciba_client)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn insert_ciba_request(&self, r: &CibaRequest) -> Result<(), StoreError> {
        let insert = sqlx::query(
            "INSERT INTO ciba_requests (id_hash, client_id, approval_id, user_id, scope, acr,
                notification_token_sealed, poll_interval, next_poll_at, token_lifetime,
                created_at, expires_at, tokens_issued_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
        )
        .bind(r.id_hash.clone())
        .bind(r.client_id.clone())
        .bind(r.approval_id.to_string())
        .bind(r.user_id.to_string())
        .bind(scope_text(&r.scope))
        .bind(r.acr.clone())
        .bind(r.notification_token_sealed.clone())
        .bind(i64::from(r.interval))
        .bind(to_millis(r.next_poll_at))
        .bind(r.token_lifetime.map(i64::from))
        .bind(to_millis(r.created_at))
        .bind(to_millis(r.expires_at))
        .bind(r.tokens_issued_at.map(to_millis));
        if r.notification_token_sealed.is_none() {
            return execute(&self.pool, insert).await.map(drop);
        }
        // A client that is notified gets its outbox row with the request, in one transaction.
        let outbox = sqlx::query(
            "INSERT INTO ciba_notifications (id_hash, next_attempt_at) VALUES ($1, $2)",
        )
        .bind(r.id_hash.clone())
        .bind(to_millis(r.created_at));
        let mut tx = begin(&self.pool).await?;
        run(&mut tx, insert).await?;
        run(&mut tx, outbox).await?;
        tx.commit().await.map_err(backend)
    }

    async fn ciba_request(&self, id_hash: &[u8]) -> Result<Option<CibaRequest>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            ciba_request_columns!(),
            " FROM ciba_requests WHERE id_hash = $1"
        ))
        .bind(id_hash)
        .try_map(rows::ciba_request)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    async fn ciba_request_for_approval(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<CibaRequest>, StoreError> {
        sqlx::query(concat!(
            "SELECT ",
            ciba_request_columns!(),
            " FROM ciba_requests WHERE approval_id = $1"
        ))
        .bind(approval.as_str())
        .try_map(rows::ciba_request)
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)
    }

    /// Polls racing on several nodes queue on the row lock; after the first commits, the
    /// others re-read the row and find `next_poll_at` moved, so their update changes nothing.
    async fn move_ciba_poll(
        &self,
        id_hash: &[u8],
        seen: OffsetDateTime,
        next_poll_at: OffsetDateTime,
        interval: u32,
    ) -> Result<bool, StoreError> {
        let moved = sqlx::query(
            "UPDATE ciba_requests SET next_poll_at = $3, poll_interval = $4
             WHERE id_hash = $1 AND next_poll_at = $2",
        )
        .bind(id_hash.to_vec())
        .bind(to_millis(seen))
        .bind(to_millis(next_poll_at))
        .bind(i64::from(interval));
        Ok(execute(&self.pool, moved).await? == 1)
    }

    async fn issue_ciba_tokens(
        &self,
        id_hash: &[u8],
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let issue = sqlx::query(
            "UPDATE ciba_requests SET tokens_issued_at = $2
             WHERE id_hash = $1 AND tokens_issued_at IS NULL",
        )
        .bind(id_hash.to_vec())
        .bind(to_millis(at));
        change_once(&self.pool, issue, &audit).await
    }

    async fn revoke_token(
        &self,
        jti: &str,
        expires_at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let revoke = sqlx::query(
            "INSERT INTO revoked_tokens (jti, expires_at) VALUES ($1, $2) ON CONFLICT DO NOTHING",
        )
        .bind(jti.to_owned())
        .bind(to_millis(expires_at));
        change_once(&self.pool, revoke, &audit).await
    }

    async fn token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = $1)")
            .bind(jti)
            .fetch_one(&self.pool)
            .await
            .map_err(backend)
    }

    /// Both deletes in one transaction, so a purge is counted whole or not at all.
    async fn due_ciba_notifications(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<CibaRequest>, StoreError> {
        sqlx::query(
            "SELECT r.id_hash, r.client_id, r.approval_id, r.user_id, r.scope, r.acr,
                    r.notification_token_sealed, r.poll_interval, r.next_poll_at,
                    r.token_lifetime, r.created_at, r.expires_at, r.tokens_issued_at
             FROM ciba_notifications n
             JOIN ciba_requests r ON r.id_hash = n.id_hash
             JOIN approvals a ON a.id = r.approval_id
             WHERE n.delivered_at IS NULL AND n.gave_up_at IS NULL
               AND n.next_attempt_at <= $1 AND n.lease_until <= $1 AND a.state <> 'pending'
             ORDER BY n.next_attempt_at LIMIT $2",
        )
        .bind(to_millis(now))
        .bind(i64::from(limit))
        .try_map(rows::ciba_request)
        .fetch_all(&self.pool)
        .await
        .map_err(backend)
    }

    async fn claim_ciba_notification(
        &self,
        id_hash: &[u8],
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<u32>, StoreError> {
        let attempts: Option<i64> = sqlx::query_scalar(
            "UPDATE ciba_notifications SET lease_until = $3
             WHERE id_hash = $1 AND delivered_at IS NULL AND gave_up_at IS NULL
               AND next_attempt_at <= $2 AND lease_until <= $2
             RETURNING attempts",
        )
        .bind(id_hash.to_vec())
        .bind(to_millis(now))
        .bind(to_millis(lease_until))
        .fetch_optional(&self.pool)
        .await
        .map_err(backend)?;
        Ok(attempts.map(|a| u32::try_from(a).unwrap_or(u32::MAX)))
    }

    async fn finish_ciba_notification(
        &self,
        id_hash: &[u8],
        done: &NotificationDone,
    ) -> Result<(), StoreError> {
        let query = match done {
            NotificationDone::Delivered { at } => sqlx::query(
                "UPDATE ciba_notifications
                 SET attempts = attempts + 1, delivered_at = $2, lease_until = 0, last_error = NULL
                 WHERE id_hash = $1",
            )
            .bind(id_hash.to_vec())
            .bind(to_millis(*at)),
            NotificationDone::Retry { retry_at, error } => sqlx::query(
                "UPDATE ciba_notifications
                 SET attempts = attempts + 1, next_attempt_at = $2, lease_until = 0, last_error = $3
                 WHERE id_hash = $1",
            )
            .bind(id_hash.to_vec())
            .bind(to_millis(*retry_at))
            .bind(error.clone()),
            NotificationDone::GaveUp { at, error } => sqlx::query(
                "UPDATE ciba_notifications
                 SET attempts = attempts + 1, gave_up_at = $2, lease_until = 0, last_error = $3
                 WHERE id_hash = $1",
            )
            .bind(id_hash.to_vec())
            .bind(to_millis(*at))
            .bind(error.clone()),
        };
        execute(&self.pool, query).await.map(drop)
    }

    async fn purge_ciba(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        let mut tx = begin(&self.pool).await?;
        let mut purged = 0;
        for sql in [
            "DELETE FROM ciba_notifications WHERE id_hash IN
                (SELECT id_hash FROM ciba_requests WHERE expires_at < $1)",
            "DELETE FROM ciba_requests WHERE expires_at < $1",
            "DELETE FROM revoked_tokens WHERE expires_at < $1",
        ] {
            purged += run(&mut tx, sqlx::query(sql).bind(to_millis(now))).await?;
        }
        tx.commit().await.map_err(backend)?;
        Ok(purged)
    }
}

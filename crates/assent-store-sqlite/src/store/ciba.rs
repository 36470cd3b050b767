//! OpenID CIBA's records on SQLite: clients (inserted once, then kept in memory), backchannel
//! requests with their compare-and-set poll turn and once-only token issuance, and revoked
//! access tokens.

use super::audit::append_audit;
use super::{SqliteStore, change_once};
use crate::connection::backend;
use crate::rows::{self, ciba_auth, scope_text, to_json};
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::ciba::records::{CibaClient, CibaRequest, NotificationDone};
use assent_core::clock::to_millis;
use assent_core::ids::ApprovalId;
use assent_core::store::CibaStore;
use async_trait::async_trait;
use rusqlite::{OptionalExtension, params};
use time::OffsetDateTime;

/// A request by the hash of its `auth_req_id`: the token endpoint's read on every poll.
pub(crate) fn request_by_hash_sql() -> String {
    format!(
        "SELECT {} FROM ciba_requests WHERE id_hash = ?1",
        rows::CIBA_REQUEST_COLUMNS
    )
}

/// The request an approval came from: read when the approval is decided, to notify the client.
pub(crate) fn request_by_approval_sql() -> String {
    format!(
        "SELECT {} FROM ciba_requests WHERE approval_id = ?1",
        rows::CIBA_REQUEST_COLUMNS
    )
}

/// Moves the poll turn only if no other poll moved it since `?2` was read.
pub(crate) const MOVE_POLL: &str = "UPDATE ciba_requests SET next_poll_at = ?3, poll_interval = ?4
     WHERE id_hash = ?1 AND next_poll_at = ?2";

/// Marks the tokens issued only if they were not issued before.
pub(crate) const ISSUE_TOKENS: &str = "UPDATE ciba_requests SET tokens_issued_at = ?2
     WHERE id_hash = ?1 AND tokens_issued_at IS NULL";

pub(crate) const REVOKE_TOKEN: &str =
    "INSERT INTO revoked_tokens (jti, expires_at) VALUES (?1, ?2) ON CONFLICT DO NOTHING";

pub(crate) const TOKEN_REVOKED: &str =
    "SELECT EXISTS (SELECT 1 FROM revoked_tokens WHERE jti = ?1)";

pub(crate) const PURGE_NOTIFICATIONS: &str = "DELETE FROM ciba_notifications WHERE id_hash IN
     (SELECT id_hash FROM ciba_requests WHERE expires_at < ?1)";
pub(crate) const PURGE_REQUESTS: &str = "DELETE FROM ciba_requests WHERE expires_at < ?1";

/// Notifications due at `?1` whose approval is final: the open ones by the partial index, each
/// request and approval by its key.
pub(crate) fn due_notifications_sql() -> String {
    let columns: Vec<String> = rows::CIBA_REQUEST_COLUMNS
        .split(", ")
        .map(|c| format!("r.{}", c.trim()))
        .collect();
    format!(
        "SELECT {} FROM ciba_notifications n
         JOIN ciba_requests r ON r.id_hash = n.id_hash
         JOIN approvals a ON a.id = r.approval_id
         WHERE n.delivered_at IS NULL AND n.gave_up_at IS NULL
           AND n.next_attempt_at <= ?1 AND n.lease_until <= ?1 AND a.state <> 'pending'
         ORDER BY n.next_attempt_at LIMIT ?2",
        columns.join(", ")
    )
}

/// Takes a due notification until `?3`, only if it is still open, due and unclaimed.
pub(crate) const CLAIM_NOTIFICATION: &str = "UPDATE ciba_notifications SET lease_until = ?3
     WHERE id_hash = ?1 AND delivered_at IS NULL AND gave_up_at IS NULL
       AND next_attempt_at <= ?2 AND lease_until <= ?2
     RETURNING attempts";
pub(crate) const NOTIFICATION_DELIVERED: &str = "UPDATE ciba_notifications
     SET attempts = attempts + 1, delivered_at = ?2, lease_until = 0, last_error = NULL
     WHERE id_hash = ?1";
pub(crate) const NOTIFICATION_RETRY: &str = "UPDATE ciba_notifications
     SET attempts = attempts + 1, next_attempt_at = ?2, lease_until = 0, last_error = ?3
     WHERE id_hash = ?1";
pub(crate) const NOTIFICATION_GAVE_UP: &str = "UPDATE ciba_notifications
     SET attempts = attempts + 1, gave_up_at = ?2, lease_until = 0, last_error = ?3
     WHERE id_hash = ?1";
pub(crate) const PURGE_REVOKED: &str = "DELETE FROM revoked_tokens WHERE expires_at < ?1";

#[async_trait]
impl CibaStore for SqliteStore {
    /// A taken client id (or an unknown application or owner) fails on its constraint, which
    /// [`backend`] reports as a conflict; the savepoint rolls back with its audit row unwritten.
    async fn insert_ciba_client(
        &self,
        client: &CibaClient,
        audit: PendingAudit,
    ) -> Result<(), StoreError> {
        let client = client.clone();
        let allowed_types = client
            .agent
            .as_ref()
            .map(|a| to_json(&a.allowed_types))
            .transpose()?;
        self.write(move |c| {
            let (auth_kind, secret_hash, jwks) = ciba_auth(&client.auth);
            c.prepare_cached(
                "INSERT INTO ciba_clients (client_id, app_id, name, mode, notification_endpoint,
                    auth_kind, secret_hash, jwks, requires_user_code, agent_owner,
                    agent_allowed_types, created_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    client.client_id,
                    client.app_id.as_str(),
                    client.name,
                    client.mode.as_str(),
                    client.notification_endpoint,
                    auth_kind,
                    secret_hash,
                    jwks,
                    client.requires_user_code,
                    client.agent.as_ref().map(|a| a.owner.as_str()),
                    allowed_types,
                    to_millis(client.created_at),
                ])
            })
            .map_err(backend)?;
            append_audit(c, &audit)
        })
        .await
    }

    async fn ciba_client(&self, client_id: &str) -> Result<Option<CibaClient>, StoreError> {
        if let Some(client) = self.memo.ciba_client(client_id) {
            return Ok(Some(client));
        }
        let sql = format!(
            "SELECT {} FROM ciba_clients WHERE client_id = ?1",
            rows::CIBA_CLIENT_COLUMNS
        );
        let found = self
            .one(sql, client_id.to_owned(), rows::ciba_client)
            .await?;
        if let Some(client) = &found {
            self.memo.keep_ciba_client(client);
        }
        Ok(found)
    }

    async fn list_ciba_clients(&self) -> Result<Vec<CibaClient>, StoreError> {
        let sql = format!(
            "SELECT {} FROM ciba_clients ORDER BY created_at, client_id",
            rows::CIBA_CLIENT_COLUMNS
        );
        self.read_heavy(move |c| {
            c.prepare_cached(&sql)?
                .query_map([], rows::ciba_client)?
                .collect()
        })
        .await
    }

    async fn insert_ciba_request(&self, request: &CibaRequest) -> Result<(), StoreError> {
        let r = request.clone();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO ciba_requests (id_hash, client_id, approval_id, user_id, scope, acr,
                    notification_token_sealed, poll_interval, next_poll_at, token_lifetime,
                    created_at, expires_at, tokens_issued_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
            )
            .and_then(|mut s| {
                s.execute(params![
                    r.id_hash,
                    r.client_id,
                    r.approval_id.as_str(),
                    r.user_id.as_str(),
                    scope_text(&r.scope),
                    r.acr,
                    r.notification_token_sealed,
                    r.interval,
                    to_millis(r.next_poll_at),
                    r.token_lifetime,
                    to_millis(r.created_at),
                    to_millis(r.expires_at),
                    r.tokens_issued_at.map(to_millis),
                ])
            })
            .map_err(backend)?;
            // A client that is notified gets its outbox row with the request.
            if r.notification_token_sealed.is_some() {
                c.prepare_cached(
                    "INSERT INTO ciba_notifications (id_hash, next_attempt_at) VALUES (?1, ?2)",
                )
                .and_then(|mut s| s.execute(params![r.id_hash, to_millis(r.created_at)]))
                .map_err(backend)?;
            }
            Ok(())
        })
        .await
    }

    async fn ciba_request(&self, id_hash: &[u8]) -> Result<Option<CibaRequest>, StoreError> {
        let (sql, id_hash) = (request_by_hash_sql(), id_hash.to_vec());
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_row([id_hash], rows::ciba_request)
                .optional()
        })
        .await
    }

    async fn ciba_request_for_approval(
        &self,
        approval: &ApprovalId,
    ) -> Result<Option<CibaRequest>, StoreError> {
        self.one(
            request_by_approval_sql(),
            approval.to_string(),
            rows::ciba_request,
        )
        .await
    }

    async fn move_ciba_poll(
        &self,
        id_hash: &[u8],
        seen: OffsetDateTime,
        next_poll_at: OffsetDateTime,
        interval: u32,
    ) -> Result<bool, StoreError> {
        let id_hash = id_hash.to_vec();
        self.write(move |c| {
            let moved = c
                .prepare_cached(MOVE_POLL)
                .and_then(|mut s| {
                    s.execute(params![
                        id_hash,
                        to_millis(seen),
                        to_millis(next_poll_at),
                        interval
                    ])
                })
                .map_err(backend)?;
            Ok(moved == 1)
        })
        .await
    }

    async fn issue_ciba_tokens(
        &self,
        id_hash: &[u8],
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let id_hash = id_hash.to_vec();
        self.write(move |c| change_once(c, ISSUE_TOKENS, params![id_hash, to_millis(at)], &audit))
            .await
    }

    async fn revoke_token(
        &self,
        jti: &str,
        expires_at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError> {
        let jti = jti.to_owned();
        self.write(move |c| {
            change_once(c, REVOKE_TOKEN, params![jti, to_millis(expires_at)], &audit)
        })
        .await
    }

    async fn token_revoked(&self, jti: &str) -> Result<bool, StoreError> {
        let jti = jti.to_owned();
        self.read(move |c| {
            c.prepare_cached(TOKEN_REVOKED)?
                .query_row([jti], |r| r.get(0))
        })
        .await
    }

    async fn due_ciba_notifications(
        &self,
        now: OffsetDateTime,
        limit: u32,
    ) -> Result<Vec<CibaRequest>, StoreError> {
        let sql = due_notifications_sql();
        self.read(move |c| {
            c.prepare_cached(&sql)?
                .query_map(params![to_millis(now), limit], rows::ciba_request)?
                .collect()
        })
        .await
    }

    async fn claim_ciba_notification(
        &self,
        id_hash: &[u8],
        now: OffsetDateTime,
        lease_until: OffsetDateTime,
    ) -> Result<Option<u32>, StoreError> {
        let id_hash = id_hash.to_vec();
        self.write(move |c| {
            c.prepare_cached(CLAIM_NOTIFICATION)
                .and_then(|mut s| {
                    s.query_row(
                        params![id_hash, to_millis(now), to_millis(lease_until)],
                        |row| row.get::<_, u32>(0),
                    )
                    .optional()
                })
                .map_err(backend)
        })
        .await
    }

    async fn finish_ciba_notification(
        &self,
        id_hash: &[u8],
        done: &NotificationDone,
    ) -> Result<(), StoreError> {
        let (id_hash, done) = (id_hash.to_vec(), done.clone());
        self.write(move |c| {
            let result = match &done {
                NotificationDone::Delivered { at } => c
                    .prepare_cached(NOTIFICATION_DELIVERED)
                    .and_then(|mut s| s.execute(params![id_hash, to_millis(*at)])),
                NotificationDone::Retry { retry_at, error } => c
                    .prepare_cached(NOTIFICATION_RETRY)
                    .and_then(|mut s| s.execute(params![id_hash, to_millis(*retry_at), error])),
                NotificationDone::GaveUp { at, error } => c
                    .prepare_cached(NOTIFICATION_GAVE_UP)
                    .and_then(|mut s| s.execute(params![id_hash, to_millis(*at), error])),
            };
            result.map(drop).map_err(backend)
        })
        .await
    }

    async fn purge_ciba(&self, now: OffsetDateTime) -> Result<u64, StoreError> {
        self.write(move |c| {
            let mut purged = 0;
            for sql in [PURGE_NOTIFICATIONS, PURGE_REQUESTS, PURGE_REVOKED] {
                purged += c
                    .prepare_cached(sql)
                    .and_then(|mut s| s.execute([to_millis(now)]))
                    .map_err(backend)?;
            }
            Ok(purged as u64)
        })
        .await
    }
}

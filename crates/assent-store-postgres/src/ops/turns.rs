//! Users' prompt turns across nodes: a transaction that holds a transaction-level advisory lock
//! keyed by the user, open for as long as the [`Turn`] lives. Dropping the turn drops the
//! transaction, which sqlx rolls back before the connection is used again, and the lock goes with
//! it; so does a node that dies holding one (its session ends), and one that stalls in the middle
//! of a turn past `idle_in_transaction_session_timeout` (PostgreSQL ends the session).

use super::begin;
use crate::error::backend;
use crate::migrate::PROMPT_TURN_CLASS;
use crate::store::PostgresStore;
use assent_core::StoreError;
use assent_core::ids::UserId;
use assent_core::store::Turn;

impl PostgresStore {
    /// Waits for the user's turn here (so one process's waiters queue in memory, not on
    /// connections), then for a turn connection, then for the lock in the database, which the
    /// other nodes take too.
    pub(crate) async fn take_prompt_turn(&self, user: &UserId) -> Result<Turn, StoreError> {
        let local = self.turns.enter(user).await;
        let permit = self
            .turn_connections
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Backend("the store is closed".into()))?;
        let mut tx = begin(&self.pool).await?;
        // `hashtext` is PostgreSQL's, so every node, whatever it was built with, locks the same
        // key for a user; two users whose hashes meet share a lock and merely wait in turn.
        sqlx::query("SELECT pg_advisory_xact_lock($1, hashtext($2))")
            .bind(PROMPT_TURN_CLASS)
            .bind(user.as_str())
            .execute(&mut *tx)
            .await
            .map_err(backend)?;
        Ok(Turn::new((tx, permit, local)))
    }
}

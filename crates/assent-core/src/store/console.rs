//! The admin console's sessions, kept in the store so that a sign-out, an idle timeout or an
//! absolute expiry holds on every node at once.

use crate::audit::PendingAudit;
use crate::error::StoreError;
use crate::model::ConsoleSession;
use async_trait::async_trait;
use time::{Duration, OffsetDateTime};

#[async_trait]
pub trait ConsoleStore: Send + Sync {
    /// Stores a new session with its audit event (the sign-in), and forgets sessions whose
    /// absolute end is more than a day before its creation.
    async fn insert_console_session(
        &self,
        session: &ConsoleSession,
        audit: PendingAudit,
    ) -> Result<(), StoreError>;
    /// The session with this token hash if it is live at `now` (not signed out, before its
    /// absolute end, and used within `idle`), marked as used at `now`; `None` otherwise.
    async fn touch_console_session(
        &self,
        id_hash: &[u8],
        now: OffsetDateTime,
        idle: Duration,
    ) -> Result<Option<ConsoleSession>, StoreError>;
    /// The session with this token hash as stored, whatever its state; nothing is changed.
    async fn console_session(&self, id_hash: &[u8]) -> Result<Option<ConsoleSession>, StoreError>;
    /// Signs a session out, once: `false`, with nothing written, when it already was.
    async fn end_console_session(
        &self,
        id_hash: &[u8],
        at: OffsetDateTime,
        audit: PendingAudit,
    ) -> Result<bool, StoreError>;
}

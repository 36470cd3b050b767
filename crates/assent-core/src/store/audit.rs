//! The audit log as the store keeps it: pages in sequence order, the recorded head, and the
//! append of an event that accompanies no other change. Every other audit row is written by the
//! change it records, in the same transaction.

use crate::audit::PendingAudit;
use crate::audit::export::AuditFilter;
use crate::error::StoreError;
use crate::model::AuditRecord;
use async_trait::async_trait;

/// Reading the audit chain, and appending to it alone.
#[async_trait]
pub trait AuditStore: Send + Sync {
    /// Audit rows with `seq > after`, in order, at most `limit`.
    async fn audit_page(&self, after: u64, limit: u32) -> Result<Vec<AuditRecord>, StoreError>;
    /// The rows `filter` selects, in sequence order after `filter.after`, at most `limit`.
    async fn audit_search(
        &self,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditRecord>, StoreError>;
    /// The sequence number of the last row, as recorded with the last append.
    async fn audit_head(&self) -> Result<Option<u64>, StoreError>;
    /// Appends an event that accompanies no other change (start-up events).
    async fn append_audit(&self, audit: PendingAudit) -> Result<(), StoreError>;
}

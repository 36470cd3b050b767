//! Bodies of the audit log's search and checkpoint (admin key).

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One row of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditEventView {
    pub seq: u64,
    /// RFC 3339.
    pub at: String,
    pub kind: String,
    /// `system`, `admin:KEY_ID`, `app:APP_ID` or `device:DEVICE_ID`.
    pub actor: String,
    /// What the row is about: `user:ID`, `approval:ID`, `device:ID`, `app:ID`, …
    pub subject: String,
    /// The event itself.
    pub data: Value,
    /// The previous row's hash and this row's, hex: a copy can be checked against the chain.
    pub prev_hash: String,
    pub hash: String,
}

/// `GET /v1/admin/audit`: a page of the rows the search selects, in sequence order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditPage {
    pub events: Vec<AuditEventView>,
    /// Give it as `after` for the next page: the last row's sequence number here, or the
    /// `after` asked for when the page is empty.
    pub next_after: u64,
}

/// `GET /v1/admin/audit/checkpoint`: the chain's head, signed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AuditCheckpoint {
    /// Compact JWS (ES256, `typ` `assent-audit-checkpoint+jws`, the server key's `kid`) over
    /// `{"iss", "seq", "hash", "at", "iat"}`: keep it outside Assent.
    pub checkpoint: String,
    pub seq: u64,
    /// The head row's hash, hex.
    pub hash: String,
    /// When the head row was written, RFC 3339.
    pub at: String,
}

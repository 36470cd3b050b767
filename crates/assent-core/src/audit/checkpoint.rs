//! A signed checkpoint of the chain's head: the last row's sequence number and hash, signed with
//! the server key. The chain itself detects edits, insertions and deletions inside it and a row
//! cut from its end (the recorded head); a checkpoint kept outside Assent also detects a log cut
//! back together with its recorded head, or replaced whole: whoever kept one can check that the
//! row it names is still there with the same hash.

use super::export::{AuditFilter, hex};
use crate::error::CoreError;
use crate::service::Assent;
use crate::store::Store;
use assent_proto::ProblemCode;
use serde::{Deserialize, Serialize};

/// The JOSE `typ` of a checkpoint.
pub const CHECKPOINT_TYP: &str = "assent-audit-checkpoint+jws";

/// What a checkpoint signs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Checkpoint {
    /// The server's public URL.
    pub iss: String,
    /// The head row's sequence number.
    pub seq: u64,
    /// The head row's hash, hex.
    pub hash: String,
    /// When the head row was written, Unix seconds.
    pub at: i64,
    /// When the checkpoint was signed, Unix seconds.
    pub iat: i64,
}

impl Assent {
    /// Signs a checkpoint of the chain's head as it is now (the compact JWS, and its claims).
    pub async fn audit_checkpoint(&self) -> Result<(String, Checkpoint), CoreError> {
        let head = self.store.audit_head().await?.ok_or_else(|| {
            CoreError::rejected(ProblemCode::NotFound, "the audit log has no row yet")
        })?;
        let row = self
            .store
            .audit_page(head.saturating_sub(1), 1)
            .await?
            .into_iter()
            .find(|r| r.seq == head)
            .ok_or_else(|| CoreError::Internal("the recorded head row is missing".into()))?;
        let claims = Checkpoint {
            iss: self.settings.public_url.clone(),
            seq: row.seq,
            hash: hex(&row.hash),
            at: row.at.unix_timestamp(),
            iat: self.now().unix_timestamp(),
        };
        let jws = self
            .key
            .sign(CHECKPOINT_TYP, Some(&self.kid), false, &claims)?;
        Ok((jws, claims))
    }
}

/// Whether the chain in `store` still holds the row a checkpoint names, with its hash, at or
/// before its recorded head. The checkpoint's signature is checked by the caller.
pub async fn check_checkpoint(store: &dyn Store, checkpoint: &Checkpoint) -> Result<(), String> {
    let head = store
        .audit_head()
        .await
        .map_err(|e| e.to_string())?
        .unwrap_or(0);
    if head < checkpoint.seq {
        return Err(format!(
            "the log ends at row {head}, before the checkpoint's row {}: rows were cut from its end",
            checkpoint.seq
        ));
    }
    let filter = AuditFilter {
        after: checkpoint.seq.saturating_sub(1),
        ..AuditFilter::default()
    };
    let row = store
        .audit_search(&filter, 1)
        .await
        .map_err(|e| e.to_string())?
        .into_iter()
        .find(|r| r.seq == checkpoint.seq);
    match row {
        Some(row) if hex(&row.hash) == checkpoint.hash => Ok(()),
        Some(_) => Err(format!(
            "row {} has another hash than the checkpoint's: the log was rewritten",
            checkpoint.seq
        )),
        None => Err(format!(
            "row {} of the checkpoint is gone: the log was cut",
            checkpoint.seq
        )),
    }
}

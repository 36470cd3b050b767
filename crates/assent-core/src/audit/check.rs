//! Checking the audit chain from end to end.

use crate::audit::ChainVerifier;
use crate::error::CoreError;
use crate::service::Assent;
use crate::store::Store;
use assent_proto::jose::b64;

/// Rows read per page while verifying, to bound memory on long logs.
const PAGE: u32 = 1000;

/// What checking the audit chain found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainReport {
    pub intact: bool,
    /// Rows checked.
    pub rows: u64,
    /// Sequence number and hash (base64url) of the last row: kept elsewhere, they reveal a
    /// truncated log.
    pub head_seq: Option<u64>,
    pub head_hash: Option<String>,
    /// The first damaged row and what is wrong with it, when the chain is broken.
    pub first_bad_seq: Option<u64>,
    pub problem: Option<String>,
}

impl Assent {
    /// Verifies the whole audit chain.
    pub async fn verify_audit(&self) -> Result<ChainReport, CoreError> {
        verify_chain(self.store.as_ref()).await
    }
}

/// Verifies the chain in a store directly, for the offline `assent audit verify` command.
pub async fn verify_chain(store: &dyn Store) -> Result<ChainReport, CoreError> {
    let mut verifier = ChainVerifier::default();
    let mut after = 0;
    let broken = 'walk: loop {
        let page = store.audit_page(after, PAGE).await?;
        let Some(last) = page.last() else {
            break 'walk None;
        };
        after = last.seq;
        for record in &page {
            if let Err(b) = verifier.check(record) {
                break 'walk Some(b);
            }
        }
    };
    let broken = match broken {
        Some(b) => Some(b),
        None => verifier.finish(store.audit_head().await?).err(),
    };
    let rows = verifier.rows();
    Ok(ChainReport {
        intact: broken.is_none(),
        rows,
        head_seq: (rows > 0).then_some(rows),
        head_hash: (rows > 0).then(|| b64(verifier.head_hash())),
        first_bad_seq: broken.as_ref().map(|b| b.seq),
        problem: broken.map(|b| b.problem),
    })
}

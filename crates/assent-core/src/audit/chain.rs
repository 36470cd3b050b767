//! The hash chain over the audit rows: how a row's hash is made, and the check that walks the
//! chain and names the first row that breaks it.

use crate::model::AuditRecord;
use assent_proto::canonical::to_canonical_string;
use serde_json::json;

/// The hash of the chain's (virtual) row 0.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// SHA-256 over the previous hash and the canonical JSON of this row's fields.
pub fn row_hash(record: &AuditRecord) -> Vec<u8> {
    let body = json!({
        "seq": record.seq,
        "at": crate::clock::to_millis(record.at),
        "kind": record.kind,
        "actor": record.actor,
        "subject": record.subject,
        "data": record.data,
    });
    let canonical = to_canonical_string(&body).unwrap_or_default();
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&record.prev_hash);
    ctx.update(canonical.as_bytes());
    ctx.finish().as_ref().to_vec()
}

/// The first defect found in a chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainBreak {
    pub seq: u64,
    pub problem: String,
}

/// Walks the chain incrementally, so a store can stream rows through it in pages.
#[derive(Debug, Clone)]
pub struct ChainVerifier {
    expected_seq: u64,
    prev_hash: Vec<u8>,
    rows: u64,
}

impl Default for ChainVerifier {
    fn default() -> Self {
        ChainVerifier {
            expected_seq: 1,
            prev_hash: GENESIS_HASH.to_vec(),
            rows: 0,
        }
    }
}

impl ChainVerifier {
    /// Checks the next row; the first defect names the row where the chain breaks.
    pub fn check(&mut self, record: &AuditRecord) -> Result<(), ChainBreak> {
        let seq = record.seq;
        if seq < self.expected_seq {
            return Err(ChainBreak {
                seq,
                problem: "row out of order or duplicated".into(),
            });
        }
        if seq > self.expected_seq {
            return Err(ChainBreak {
                seq: self.expected_seq,
                problem: format!("row {} is missing (deleted)", self.expected_seq),
            });
        }
        if record.prev_hash != self.prev_hash {
            return Err(ChainBreak {
                seq,
                problem: "its link to the previous row does not match (a row before it was deleted or inserted)".into(),
            });
        }
        if row_hash(record) != record.hash {
            return Err(ChainBreak {
                seq,
                problem: "its content does not match its hash (edited or forged)".into(),
            });
        }
        self.prev_hash = record.hash.clone();
        self.expected_seq += 1;
        self.rows += 1;
        Ok(())
    }

    /// Checks the chain's end against the head the store recorded with the last append, which
    /// catches a deleted last row.
    pub fn finish(&self, head_seq: Option<u64>) -> Result<(), ChainBreak> {
        let last = self.expected_seq - 1;
        match head_seq {
            Some(head) if head > last => Err(ChainBreak {
                seq: last + 1,
                problem: format!(
                    "rows {}..={head} are missing (deleted from the end)",
                    last + 1
                ),
            }),
            Some(head) if head < last => Err(ChainBreak {
                seq: head + 1,
                problem: "rows after the recorded head were added outside Assent".into(),
            }),
            None if last > 0 => Err(ChainBreak {
                seq: 1,
                problem: "the chain head record is missing".into(),
            }),
            _ => Ok(()),
        }
    }

    pub fn rows(&self) -> u64 {
        self.rows
    }

    pub fn head_hash(&self) -> &[u8] {
        &self.prev_hash
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::{Actor, AuditEvent, PendingAudit};
    use crate::clock::{Clock, SystemClock};

    fn chain(n: u64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_vec();
        (1..=n)
            .map(|seq| {
                let event = AuditEvent::ServerKeyCreated {
                    kid: format!("k{seq}"),
                };
                let r = PendingAudit::new(SystemClock.now(), Actor::System, event).seal(seq, &prev);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    fn verify(rows: &[AuditRecord], head: Option<u64>) -> Result<(), ChainBreak> {
        let mut v = ChainVerifier::default();
        for r in rows {
            v.check(r)?;
        }
        v.finish(head)
    }

    #[test]
    fn intact_chain_verifies() {
        assert_eq!(verify(&chain(5), Some(5)), Ok(()));
        assert_eq!(verify(&[], None), Ok(()));
    }

    #[test]
    fn edit_delete_insert_are_named() {
        let mut rows = chain(5);
        rows[2].data = r#"{"event":"server_key_created","kid":"evil"}"#.into();
        assert_eq!(verify(&rows, Some(5)).unwrap_err().seq, 3);

        let mut rows = chain(5);
        rows.remove(1);
        assert_eq!(verify(&rows, Some(5)).unwrap_err().seq, 2);

        let rows = chain(5);
        assert_eq!(verify(&rows[..4], Some(5)).unwrap_err().seq, 5);

        let mut rows = chain(5);
        let mut forged = rows[4].clone();
        forged.seq = 6;
        rows.push(forged);
        assert_eq!(verify(&rows, Some(5)).unwrap_err().seq, 6);
    }
}

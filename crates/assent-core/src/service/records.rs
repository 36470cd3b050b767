//! Memory of the records that never change once written: applications, users, and approval
//! requests once final. Every relying-party call resolves its application, most name a user,
//! and a decided request is read again by the relying party's wait and the device streams just
//! after its decision. API keys are not kept: one can be revoked, and that must hold on every
//! node at once. Neither store has a statement that updates or deletes such a row (`finalize`
//! only changes a pending request; the store contract says so), so a copy stays true for the
//! life of the process, on every node. Only found records are kept, and a request only once
//! final and of at most [`MAX_KEPT_APPROVAL_BYTES`]: anything created later, changed, written on
//! another node, or larger is read from the store.
//! A feature that changes or removes one of these records must forget it here.

use crate::error::StoreError;
use crate::ids::{AppId, ApprovalId, UserId, Username};
use crate::model::{App, Approval, MAX_KEPT_APPROVAL_BYTES, User};
use crate::store::Store;
use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;

/// Records kept per kind. Past it a kind starts over empty: a burst of reads, never unbounded
/// memory (a directory of a hundred thousand users must not grow the server by their number).
const CAPACITY: usize = 16_384;
/// Decided requests kept: they are read again within milliseconds of the decision, and each
/// holds its statement and receipt (a few KB), so a short memory is enough.
const DECIDED_CAPACITY: usize = 2_048;

/// The remembered records.
pub(crate) struct Records {
    apps: Shelf<AppId, App>,
    users: Shelf<UserId, User>,
    users_by_name: Shelf<Username, User>,
    decided: Shelf<ApprovalId, Approval>,
}

impl Default for Records {
    fn default() -> Self {
        Records {
            apps: Shelf::new(CAPACITY),
            users: Shelf::new(CAPACITY),
            users_by_name: Shelf::new(CAPACITY),
            decided: Shelf::new(DECIDED_CAPACITY),
        }
    }
}

impl Records {
    pub(crate) async fn app(
        &self,
        store: &dyn Store,
        id: &AppId,
    ) -> Result<Option<App>, StoreError> {
        let read = || store.app(id);
        self.apps
            .get_or_read(id, read, |app| Some(app.id.clone()))
            .await
    }

    pub(crate) async fn user(
        &self,
        store: &dyn Store,
        id: &UserId,
    ) -> Result<Option<User>, StoreError> {
        let read = || store.user(id);
        self.users
            .get_or_read(id, read, |user| Some(user.id.clone()))
            .await
    }

    pub(crate) async fn user_by_name(
        &self,
        store: &dyn Store,
        name: &Username,
    ) -> Result<Option<User>, StoreError> {
        let read = || store.user_by_name(name);
        self.users_by_name
            .get_or_read(name, read, |user| Some(user.username.clone()))
            .await
    }

    /// A request, from memory when it is final, not too large to keep, and was seen (or decided
    /// here) before.
    pub(crate) async fn approval(
        &self,
        store: &dyn Store,
        id: &ApprovalId,
    ) -> Result<Option<Approval>, StoreError> {
        let read = || store.approval(id);
        self.decided.get_or_read(id, read, decided_key).await
    }

    /// Keeps a request that is final and not too large; a pending one still changes, so it is
    /// never kept.
    pub(crate) fn remember_decided(&self, approval: &Approval) {
        if let Some(id) = decided_key(approval) {
            self.decided.put(id, approval);
        }
    }
}

/// The key under which a request may be kept: only a final one, of at most
/// [`MAX_KEPT_APPROVAL_BYTES`], so the memory holds 2,048 of them in about 16 MiB at most, however
/// large the relying parties make their requests.
fn decided_key(approval: &Approval) -> Option<ApprovalId> {
    (approval.state.is_final() && approval.free_form_bytes() <= MAX_KEPT_APPROVAL_BYTES)
        .then(|| approval.id.clone())
}

/// One kind of record, by key.
struct Shelf<K, V> {
    map: Mutex<HashMap<K, V>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Shelf<K, V> {
    /// The kept value for `key`, or else what `read` finds, kept under the key `keep` gives
    /// (none: not kept).
    async fn get_or_read<Q, F, Fut>(
        &self,
        key: &Q,
        read: F,
        keep: impl Fn(&V) -> Option<K>,
    ) -> Result<Option<V>, StoreError>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<Option<V>, StoreError>>,
    {
        if let Some(value) = self.get(key) {
            return Ok(Some(value));
        }
        let found = read().await?;
        if let Some(value) = &found
            && let Some(key) = keep(value)
        {
            self.put(key, value);
        }
        Ok(found)
    }

    fn new(capacity: usize) -> Self {
        Shelf {
            map: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        self.map.lock().ok()?.get(key).cloned()
    }

    fn put(&self, key: K, value: &V) {
        let Ok(mut map) = self.map.lock() else { return };
        if map.len() >= self.capacity {
            map.clear();
        }
        map.insert(key, value.clone());
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[tokio::test]
    async fn only_found_records_that_may_be_kept_are_kept() {
        // (id, final): like a request, kept only once final.
        let shelf: Shelf<u32, (u32, bool)> = Shelf::new(10);
        let reads = AtomicUsize::new(0);
        let read = |found: Option<(u32, bool)>| {
            reads.fetch_add(1, Ordering::SeqCst);
            async move { Ok(found) }
        };
        let keep = |record: &(u32, bool)| record.1.then_some(record.0);
        for _ in 0..2 {
            assert_eq!(
                shelf.get_or_read(&1, || read(None), keep).await.unwrap(),
                None
            );
        }
        assert_eq!(reads.load(Ordering::SeqCst), 2, "a miss is read again");
        for _ in 0..2 {
            let pending = shelf.get_or_read(&2, || read(Some((2, false))), keep);
            assert_eq!(pending.await.unwrap(), Some((2, false)));
        }
        assert_eq!(
            reads.load(Ordering::SeqCst),
            4,
            "a pending record is read again"
        );
        for _ in 0..2 {
            let decided = shelf.get_or_read(&3, || read(Some((3, true))), keep);
            assert_eq!(decided.await.unwrap(), Some((3, true)));
        }
        assert_eq!(
            reads.load(Ordering::SeqCst),
            5,
            "a final record is read once"
        );
    }

    #[test]
    fn only_final_requests_of_bounded_size_are_kept() {
        use crate::fixtures::{approved, transfer};
        let small = transfer(serde_json::json!({"type": "payment", "amount": "10.00"}));
        assert_eq!(decided_key(&small), None, "pending: it still changes");
        let small = approved(small, 1_000);
        assert_eq!(decided_key(&small), Some(small.id.clone()));
        let large = approved(
            transfer(serde_json::json!({"note": "x".repeat(MAX_KEPT_APPROVAL_BYTES)})),
            1_000,
        );
        assert_eq!(decided_key(&large), None, "memory bounded in bytes too");
        let large_receipt = approved(
            transfer(serde_json::json!({})),
            MAX_KEPT_APPROVAL_BYTES / 2 + 1,
        );
        assert_eq!(decided_key(&large_receipt), None, "the outcome counts");

        // At the bound exactly it is kept; a byte more, not.
        let mut at_bound = small.clone();
        at_bound.policy_rule = None;
        let room = MAX_KEPT_APPROVAL_BYTES - at_bound.free_form_bytes();
        at_bound.policy_rule = Some("r".repeat(room));
        assert_eq!(at_bound.free_form_bytes(), MAX_KEPT_APPROVAL_BYTES);
        assert_eq!(decided_key(&at_bound), Some(at_bound.id.clone()));
        at_bound.policy_rule = at_bound.policy_rule.map(|r| r + "r");
        assert_eq!(decided_key(&at_bound), None);

        let records = Records::default();
        records.remember_decided(&small);
        records.remember_decided(&large);
        assert_eq!(records.decided.get(&small.id), Some(small));
        assert_eq!(records.decided.get(&large.id), None);
    }

    #[test]
    fn a_full_shelf_starts_over_instead_of_growing() {
        let shelf: Shelf<u32, u32> = Shelf::new(100);
        for i in 0..100 {
            shelf.put(i, &i);
        }
        assert_eq!(shelf.get(&7), Some(7));
        shelf.put(u32::MAX, &1);
        assert_eq!(shelf.get(&7), None, "the shelf started over");
        assert_eq!(shelf.get(&u32::MAX), Some(1));
        assert_eq!(shelf.map.lock().map(|m| m.len()).unwrap_or(0), 1);
    }
}

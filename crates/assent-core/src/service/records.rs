//! Memory of the records that never change once written: API keys, applications, users, and
//! approval requests once final. Every relying-party call resolves its key and application,
//! most name a user, and a decided request is read again by the relying party's wait and the
//! device streams just after its decision: these lookups were a third of the store reads of a
//! complete flow. Neither store has a statement that updates or deletes such a row (`finalize`
//! only changes a pending request; the store contract says so), so a copy stays true for the
//! life of the process, on every node. Only found records are kept, and a request only once
//! final: anything created later, changed, or written on another node is read from the store.
//! A feature that changes or removes one of these records must forget it here.

use crate::error::StoreError;
use crate::ids::{AppId, ApprovalId, UserId, Username};
use crate::model::{ApiKeyRecord, App, Approval, User};
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
    api_keys: Shelf<String, ApiKeyRecord>,
    apps: Shelf<AppId, App>,
    users: Shelf<UserId, User>,
    users_by_name: Shelf<Username, User>,
    decided: Shelf<ApprovalId, Approval>,
}

impl Default for Records {
    fn default() -> Self {
        Records {
            api_keys: Shelf::new(CAPACITY),
            apps: Shelf::new(CAPACITY),
            users: Shelf::new(CAPACITY),
            users_by_name: Shelf::new(CAPACITY),
            decided: Shelf::new(DECIDED_CAPACITY),
        }
    }
}

impl Records {
    pub(crate) async fn api_key(
        &self,
        store: &dyn Store,
        id: &str,
    ) -> Result<Option<ApiKeyRecord>, StoreError> {
        if let Some(key) = self.api_keys.get(id) {
            return Ok(Some(key));
        }
        let found = store.api_key(id).await?;
        if let Some(key) = &found {
            self.api_keys.put(key.id.clone(), key);
        }
        Ok(found)
    }

    pub(crate) async fn app(
        &self,
        store: &dyn Store,
        id: &AppId,
    ) -> Result<Option<App>, StoreError> {
        if let Some(app) = self.apps.get(id) {
            return Ok(Some(app));
        }
        let found = store.app(id).await?;
        if let Some(app) = &found {
            self.apps.put(app.id.clone(), app);
        }
        Ok(found)
    }

    pub(crate) async fn user(
        &self,
        store: &dyn Store,
        id: &UserId,
    ) -> Result<Option<User>, StoreError> {
        if let Some(user) = self.users.get(id) {
            return Ok(Some(user));
        }
        let found = store.user(id).await?;
        if let Some(user) = &found {
            self.users.put(user.id.clone(), user);
        }
        Ok(found)
    }

    /// A request, from memory when it is final and was seen (or decided here) before.
    pub(crate) async fn approval(
        &self,
        store: &dyn Store,
        id: &ApprovalId,
    ) -> Result<Option<Approval>, StoreError> {
        if let Some(approval) = self.decided.get(id) {
            return Ok(Some(approval));
        }
        let found = store.approval(id).await?;
        if let Some(approval) = &found {
            self.remember_decided(approval);
        }
        Ok(found)
    }

    /// Keeps a request that is final; a pending one still changes, so it is never kept.
    pub(crate) fn remember_decided(&self, approval: &Approval) {
        if approval.state.is_final() {
            self.decided.put(approval.id.clone(), approval);
        }
    }

    pub(crate) async fn user_by_name(
        &self,
        store: &dyn Store,
        name: &Username,
    ) -> Result<Option<User>, StoreError> {
        if let Some(user) = self.users_by_name.get(name) {
            return Ok(Some(user));
        }
        let found = store.user_by_name(name).await?;
        if let Some(user) = &found {
            self.users_by_name.put(user.username.clone(), user);
        }
        Ok(found)
    }
}

/// One kind of record, by key.
struct Shelf<K, V> {
    map: Mutex<HashMap<K, V>>,
    capacity: usize,
}

impl<K: Eq + Hash, V: Clone> Shelf<K, V> {
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

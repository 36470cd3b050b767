//! Turns: one holder at a time per key (a user's prompt admission), across every node that shares
//! the database. A store hands out a [`Turn`] and the turn lasts as long as the value: dropping it
//! (at the end of the work, on an error, or when the task is cancelled) lets the next holder in.

use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher, Hash};
use std::sync::Arc;

/// A held turn; it ends when dropped. What it holds depends on the store (a lock of this
/// process, a database transaction holding an advisory lock).
pub struct Turn {
    _held: Box<dyn Send>,
}

impl Turn {
    /// A turn that lasts as long as `held`.
    pub fn new(held: impl Send + 'static) -> Self {
        Turn {
            _held: Box::new(held),
        }
    }
}

impl std::fmt::Debug for Turn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Turn")
    }
}

/// Locks of this process shared by keys through a hash: a few unrelated keys may wait for one
/// another's turn (a read or two and one write), never for longer. What a store that is the
/// only process on its database needs for turns, and what a shared database's store puts in
/// front of its database lock, so that one process's waiters queue here rather than each hold a
/// connection while they wait.
pub struct KeyedGate {
    shards: Vec<Arc<tokio::sync::Mutex<()>>>,
}

/// Shards of a [`KeyedGate`].
const GATE_SHARDS: usize = 1024;

impl Default for KeyedGate {
    fn default() -> Self {
        KeyedGate {
            shards: (0..GATE_SHARDS)
                .map(|_| Arc::new(tokio::sync::Mutex::new(())))
                .collect(),
        }
    }
}

impl KeyedGate {
    /// Waits for `key`'s turn in this process; the turn lasts as long as the guard.
    pub async fn enter(&self, key: &impl Hash) -> tokio::sync::OwnedMutexGuard<()> {
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(key);
        let shard = usize::try_from(hash % GATE_SHARDS as u64).unwrap_or(0);
        self.shards[shard].clone().lock_owned().await
    }
}

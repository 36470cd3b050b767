//! What the fatigue defense and the detectors remember on this node, between requests: the
//! prompt gate that admits one prompt per user at a time, and when each pattern alert last
//! fired. Each node has its own (several nodes on one database each keep theirs).

use crate::ids::UserId;
use std::collections::HashMap;
use std::sync::Mutex;
use time::{Duration, OffsetDateTime};

/// Locks of the prompt gate; users share them by hash, so a few unrelated users may wait for one
/// another's admission (a read or two and one write), never for longer.
const GATE_SHARDS: usize = 1024;

/// Admits one prompt per user at a time on this node. Admission reads (the suspension, the
/// budget spent, the pending prompt) and then writes the new request: without the gate, forty
/// sign-ins sent at once all read the same empty budget and all reached the user's device.
/// Several nodes on one PostgreSQL database each have their own gate, so a burst spread over
/// them can pass the budget once per node.
pub(crate) struct PromptGate {
    shards: Vec<tokio::sync::Mutex<()>>,
}

impl Default for PromptGate {
    fn default() -> Self {
        PromptGate {
            shards: (0..GATE_SHARDS)
                .map(|_| tokio::sync::Mutex::new(()))
                .collect(),
        }
    }
}

impl PromptGate {
    /// Waits for `user`'s turn; the turn lasts as long as the guard.
    pub(crate) async fn enter(&self, user: &UserId) -> tokio::sync::MutexGuard<'_, ()> {
        use std::hash::{BuildHasher, BuildHasherDefault, DefaultHasher};
        let hash = BuildHasherDefault::<DefaultHasher>::default().hash_one(user);
        let shard = usize::try_from(hash % GATE_SHARDS as u64).unwrap_or(0);
        self.shards[shard].lock().await
    }
}

/// After a pattern alert, how long the same pattern for the same user raises no other: the
/// burst window of the risk engine, so a burst that goes on alerts again every ten minutes.
pub const PATTERN_QUIET: Duration = Duration::minutes(10);

/// Users remembered; past it the memory starts over empty (at worst one more alert per user).
const PATTERN_CAPACITY: usize = 16_384;

/// When each user last raised each pattern alert, on this node (with several nodes, a burst
/// spread over them may alert once per node).
#[derive(Default)]
pub(crate) struct PatternAlerts(Mutex<HashMap<(&'static str, UserId), OffsetDateTime>>);

impl PatternAlerts {
    /// Whether `detector` should alert for `user` at `now`; if so, remembers it.
    pub(crate) fn due(&self, detector: &'static str, user: &UserId, now: OffsetDateTime) -> bool {
        let Ok(mut last) = self.0.lock() else {
            return true;
        };
        let key = (detector, user.clone());
        if last.get(&key).is_some_and(|at| now - *at < PATTERN_QUIET) {
            return false;
        }
        if last.len() >= PATTERN_CAPACITY {
            last.clear();
        }
        last.insert(key, now);
        true
    }
}

//! Wake-ups between the side that changes an approval and the sides waiting on it. A wake-up
//! carries no data: the waiter re-reads the store, which stays the only source of truth. That is
//! what lets a PostgreSQL LISTEN/NOTIFY notifier carry the same signal between nodes.

mod local;

use crate::ids::{ApprovalId, UserId};
use tokio::sync::watch;

pub use local::LocalNotifier;

/// What a waiter waits on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Topic {
    /// One approval changed state (relying-party waits and streams).
    Approval(ApprovalId),
    /// Something changed in a user's pending requests (device streams).
    User(UserId),
    /// One of a user's devices changed state (revoked, activated, removed) or the user has a
    /// new alert (device streams, which then check their device and alerts again; a request
    /// coming or going does not make them re-read either).
    Account(UserId),
    /// New pushes were queued (the push senders, which then claim what is due).
    Outbox,
}

/// Publishes and subscribes to wake-ups.
pub trait Notifier: Send + Sync + 'static {
    /// Wakes every current subscriber of `topic`.
    fn notify(&self, topic: &Topic);
    /// Subscribes to `topic`. Subscribe before reading the store, then wait: a change made
    /// between the read and the wait still wakes the waiter.
    fn subscribe(&self, topic: &Topic) -> Subscription;
}

/// A live subscription; dropping it unsubscribes.
pub struct Subscription {
    receiver: watch::Receiver<u64>,
    _guard: Option<Box<dyn Send + Sync>>,
}

impl std::fmt::Debug for Subscription {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Subscription").finish_non_exhaustive()
    }
}

impl Subscription {
    /// Wraps a watch receiver; `guard` is dropped after the receiver, so it can clean up.
    pub fn new(receiver: watch::Receiver<u64>, guard: Option<Box<dyn Send + Sync>>) -> Self {
        Subscription {
            receiver,
            _guard: guard,
        }
    }

    /// Resolves at the next wake-up after subscribing (or after the previous call).
    /// Returns `false` when the notifier is gone and no wake-up will ever come.
    pub async fn changed(&mut self) -> bool {
        self.receiver.changed().await.is_ok()
    }

    /// Whether a wake-up came since the last one seen, marking it seen; never waits. A gone
    /// notifier counts as a change, so the caller checks rather than trusts a silence.
    pub fn take_change(&mut self) -> bool {
        match self.receiver.has_changed() {
            Ok(true) => {
                self.receiver.borrow_and_update();
                true
            }
            Ok(false) => false,
            Err(_) => true,
        }
    }
}

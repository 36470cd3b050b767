//! The local hand-off: on a node that runs a push sender, the pushes a request (or an alert)
//! owes are written already claimed by this node and handed to its sender in memory as soon as
//! they are committed. The common case thus costs no claim, no wake-up of every node and no
//! re-reading of what was just written; the outbox stays the record. If the node stops before
//! the push is sent, the claim's lease runs out and any node sends it, as after a crash.

use super::pushes::{PushJob, PushState};
use crate::service::Assent;
use std::sync::OnceLock;
use tokio::sync::mpsc;

/// Where this node's sender receives the pushes handed to it; empty until a sender attaches.
#[derive(Debug, Default)]
pub(crate) struct Handoff {
    sender: OnceLock<mpsc::Sender<PushJob>>,
}

/// Room reserved in the sender's queue for pushes not yet committed: a push is claimed locally
/// only when it is sure to fit, so a full queue never strands a claimed push until its lease.
pub(crate) struct Reserved<'a> {
    permits: mpsc::PermitIterator<'a, PushJob>,
}

impl Assent {
    /// Attaches this node's push sender: from now on, pushes queued here are claimed for it and
    /// handed over through the returned queue (`capacity` pushes at most waiting; beyond that
    /// they go through the outbox). `None` if a sender is already attached.
    pub fn attach_push_sender(&self, capacity: usize) -> Option<mpsc::Receiver<PushJob>> {
        let (sender, receiver) = mpsc::channel(capacity.max(1));
        self.handoff.sender.set(sender).ok().map(|()| receiver)
    }

    /// Claims `jobs` for this node's sender when one is attached and has room for all of them;
    /// the claim is written with them, a lease like any sender's. `None` leaves them queued.
    pub(crate) fn claim_for_local_sender(&self, jobs: &mut [PushJob]) -> Option<Reserved<'_>> {
        if jobs.is_empty() {
            return None;
        }
        let permits = self
            .handoff
            .sender
            .get()?
            .try_reserve_many(jobs.len())
            .ok()?;
        let lease_end = self.now() + self.settings.push.lease;
        for job in jobs.iter_mut() {
            job.state = PushState::Sent;
            job.attempts = 1;
            job.due_at = lease_end;
        }
        Some(Reserved { permits })
    }

    /// After the pushes are committed: hands them to the local sender if they were claimed for
    /// it, or wakes the senders of every node to claim them from the outbox.
    pub(crate) fn dispatch_queued(&self, reserved: Option<Reserved<'_>>, jobs: Vec<PushJob>) {
        if jobs.is_empty() {
            return;
        }
        match reserved {
            Some(Reserved { permits }) => {
                for (permit, job) in permits.zip(jobs) {
                    permit.send(job);
                }
            }
            None => self.notify_outbox(),
        }
    }
}

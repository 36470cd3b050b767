//! Watching one request until it ends: the single place that follows a request for long polls
//! and server-sent event streams alike. It subscribes before it reads (the notifier's rule), so
//! a change committed between the read and the wait still wakes it, and it also wakes at the
//! request's expiry, which makes no noise of its own.

use super::read::not_found;
use crate::error::CoreError;
use crate::ids::ApprovalId;
use crate::model::{App, Approval};
use crate::notifier::{Subscription, Topic};
use crate::service::Assent;
use assent_proto::states::ApprovalState;
use time::{Duration, OffsetDateTime};

/// A relying party's watch on one of its requests. It holds only what waiting needs (a hundred
/// thousand may wait at once): the request is re-read on every wake-up, not kept.
pub struct ApprovalWatch<'a> {
    assent: &'a Assent,
    app: &'a App,
    id: &'a str,
    subscription: Subscription,
    /// The state last returned, and when the request expires.
    last: Option<(ApprovalState, OffsetDateTime)>,
}

impl Assent {
    /// Starts watching one of the application's requests. Refused as not found, like a read,
    /// when the request is not the application's.
    pub async fn watch_for_app<'a>(
        &'a self,
        app: &'a App,
        id: &'a str,
    ) -> Result<ApprovalWatch<'a>, CoreError> {
        let topic = Topic::Approval(ApprovalId::parse(id).ok_or_else(not_found)?);
        // Subscribing to another application's request reveals nothing: the first read refuses
        // it before anything is returned.
        let subscription = self.notifier.subscribe(&topic);
        Ok(ApprovalWatch {
            assent: self,
            app,
            id,
            subscription,
            last: None,
        })
    }

    /// Waits until the request is final or `wait` has passed, then returns it.
    pub async fn wait_for_app(
        &self,
        app: &App,
        id: &str,
        wait: Duration,
    ) -> Result<Approval, CoreError> {
        if wait <= Duration::ZERO {
            return Box::pin(self.approval_for_app(app, id)).await;
        }
        let mut watch = self.watch_for_app(app, id).await?;
        // The first call reads the request as it is now.
        if let Some(first) = watch.next_change().await?
            && first.state.is_final()
        {
            return Ok(first);
        }
        // The wait starts once the request was found pending, and holds nothing of it.
        let deadline = tokio::time::Instant::now() + wait.unsigned_abs();
        loop {
            tokio::select! {
                change = watch.next_change() => match change? {
                    Some(current) if current.state.is_final() => return Ok(current),
                    Some(_) => {}
                    None => return Box::pin(self.approval_for_app(app, id)).await,
                },
                _ = tokio::time::sleep_until(deadline) => return Box::pin(self.approval_for_app(app, id)).await,
            }
        }
    }
}

impl ApprovalWatch<'_> {
    /// The request as it is now on the first call; afterwards, the request the next time its
    /// state changes. `None` once a final state has been returned.
    pub async fn next_change(&mut self) -> Result<Option<Approval>, CoreError> {
        loop {
            if let Some((state, expires_at)) = self.last {
                if state.is_final() {
                    return Ok(None);
                }
                let until_expiry = self.assent.time_until(expires_at);
                tokio::select! {
                    _ = self.subscription.changed() => {}
                    _ = tokio::time::sleep(until_expiry + std::time::Duration::from_millis(5)) => {}
                }
            }
            // Boxed: a read's state lives on the heap only while it runs, so a watch that waits
            // holds a few hundred bytes, not every nested step of a read and an expiry.
            let current = Box::pin(self.assent.approval_for_app(self.app, self.id)).await?;
            let changed = self.last.is_none_or(|(state, _)| state != current.state);
            self.last = Some((current.state, current.expires_at));
            if changed {
                return Ok(Some(current));
            }
        }
    }
}

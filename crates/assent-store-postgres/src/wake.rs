//! Wake-ups inside one process: one watch channel per topic that has subscribers, dropped with
//! its last subscriber so idle topics cost nothing.
//!
//! This is `assent_delivery::LocalNotifier`'s design plus [`Local::wake_all`], which the
//! LISTEN/NOTIFY bridge needs after it reconnects (notifications sent while its connection was
//! down are gone, and it cannot know which topics they named) and which `LocalNotifier` cannot
//! offer from outside: its topic map is private.

use assent_core::notifier::{Subscription, Topic};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use tokio::sync::watch;

type Topics = Arc<Mutex<HashMap<Topic, watch::Sender<u64>>>>;

fn lock(topics: &Topics) -> MutexGuard<'_, HashMap<Topic, watch::Sender<u64>>> {
    // A panic while the map was held cannot leave it inconsistent: every change is one call.
    topics
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn bump(sender: &watch::Sender<u64>) {
    sender.send_modify(|n| *n = n.wrapping_add(1));
}

/// The subscribers of this process.
#[derive(Debug, Default, Clone)]
pub(crate) struct Local {
    topics: Topics,
}

impl Local {
    /// Wakes every subscriber of `topic`.
    pub(crate) fn wake(&self, topic: &Topic) {
        if let Some(sender) = lock(&self.topics).get(topic) {
            bump(sender);
        }
    }

    /// Wakes every subscriber of every topic.
    pub(crate) fn wake_all(&self) {
        lock(&self.topics).values().for_each(bump);
    }

    pub(crate) fn subscribe(&self, topic: &Topic) -> Subscription {
        let receiver = lock(&self.topics)
            .entry(topic.clone())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe();
        let guard = Unsubscribe {
            topics: self.topics.clone(),
            topic: topic.clone(),
        };
        Subscription::new(receiver, Some(Box::new(guard)))
    }

    /// Topics with at least one subscriber.
    pub(crate) fn active_topics(&self) -> usize {
        lock(&self.topics).len()
    }
}

/// Removes a topic's channel when its last subscriber goes.
struct Unsubscribe {
    topics: Topics,
    topic: Topic,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        let mut topics = lock(&self.topics);
        if topics
            .get(&self.topic)
            .is_some_and(|s| s.receiver_count() == 0)
        {
            topics.remove(&self.topic);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use assent_core::ids::UserId;
    use std::time::Duration;

    async fn woken(sub: &mut Subscription) -> bool {
        tokio::time::timeout(Duration::from_millis(200), sub.changed())
            .await
            .is_ok()
    }

    #[tokio::test]
    async fn wakes_one_topic_or_all_and_forgets_idle_topics() {
        let local = Local::default();
        let (t1, t2) = (
            Topic::User(UserId::generate()),
            Topic::User(UserId::generate()),
        );
        let mut a = local.subscribe(&t1);
        let mut b = local.subscribe(&t2);
        local.wake(&t1);
        assert!(woken(&mut a).await);
        assert!(!woken(&mut b).await);
        local.wake_all();
        assert!(woken(&mut a).await);
        assert!(woken(&mut b).await);
        assert_eq!(local.active_topics(), 2);
        drop(a);
        drop(b);
        assert_eq!(local.active_topics(), 0);
    }
}

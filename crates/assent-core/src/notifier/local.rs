//! In-process wake-ups: one watch channel per topic that has subscribers, dropped with its last
//! subscriber so idle topics cost nothing.

use super::{Notifier, Subscription, Topic};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::watch;

type Topics = Arc<Mutex<HashMap<Topic, watch::Sender<u64>>>>;

/// Wakes subscribers in this process.
#[derive(Debug, Default, Clone)]
pub struct LocalNotifier {
    topics: Topics,
}

impl LocalNotifier {
    pub fn new() -> Self {
        Self::default()
    }

    /// Topics with at least one subscriber (for metrics and tests).
    pub fn active_topics(&self) -> usize {
        self.topics.lock().map(|t| t.len()).unwrap_or(0)
    }

    /// Wakes every subscriber of every topic. A bridge between processes calls it when it may
    /// have missed messages (after a lost connection) and cannot know which topics they named:
    /// a spurious wake-up costs a re-read, a lost one a hung waiter.
    pub fn notify_all(&self) {
        if let Ok(topics) = self.topics.lock() {
            for sender in topics.values() {
                sender.send_modify(|n| *n = n.wrapping_add(1));
            }
        }
    }
}

/// Removes a topic's channel when its last subscriber goes.
struct Unsubscribe {
    topics: Topics,
    topic: Topic,
}

impl Drop for Unsubscribe {
    fn drop(&mut self) {
        if let Ok(mut topics) = self.topics.lock()
            && topics
                .get(&self.topic)
                .is_some_and(|s| s.receiver_count() == 0)
        {
            topics.remove(&self.topic);
        }
    }
}

impl Notifier for LocalNotifier {
    fn notify(&self, topic: &Topic) {
        if let Ok(topics) = self.topics.lock()
            && let Some(sender) = topics.get(topic)
        {
            sender.send_modify(|n| *n = n.wrapping_add(1));
        }
    }

    fn subscribe(&self, topic: &Topic) -> Subscription {
        let mut topics = match self.topics.lock() {
            Ok(t) => t,
            Err(poisoned) => poisoned.into_inner(),
        };
        let receiver = topics
            .entry(topic.clone())
            .or_insert_with(|| watch::channel(0).0)
            .subscribe();
        let guard = Unsubscribe {
            topics: self.topics.clone(),
            topic: topic.clone(),
        };
        Subscription::new(receiver, Some(Box::new(guard)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::UserId;
    use std::time::Duration;

    #[tokio::test]
    async fn notify_all_wakes_every_topic() {
        let notifier = LocalNotifier::new();
        let mut a = notifier.subscribe(&Topic::User(UserId::generate()));
        let mut b = notifier.subscribe(&Topic::User(UserId::generate()));
        notifier.notify_all();
        for sub in [&mut a, &mut b] {
            assert!(
                tokio::time::timeout(Duration::from_secs(1), sub.changed())
                    .await
                    .unwrap()
            );
        }
    }

    #[tokio::test]
    async fn wakes_subscribers_and_forgets_idle_topics() {
        let notifier = LocalNotifier::new();
        let topic = Topic::User(UserId::generate());
        let mut a = notifier.subscribe(&topic);
        let mut b = notifier.subscribe(&topic);
        notifier.notify(&topic);
        assert!(
            tokio::time::timeout(Duration::from_secs(1), a.changed())
                .await
                .unwrap()
        );
        assert!(
            tokio::time::timeout(Duration::from_secs(1), b.changed())
                .await
                .unwrap()
        );
        assert_eq!(notifier.active_topics(), 1);
        drop(a);
        assert_eq!(notifier.active_topics(), 1);
        drop(b);
        assert_eq!(notifier.active_topics(), 0);
    }

    #[tokio::test]
    async fn a_wake_up_before_waiting_is_not_lost() {
        let notifier = LocalNotifier::new();
        let topic = Topic::User(UserId::generate());
        let mut sub = notifier.subscribe(&topic);
        notifier.notify(&topic);
        assert!(
            tokio::time::timeout(Duration::from_secs(1), sub.changed())
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn other_topics_do_not_wake() {
        let notifier = LocalNotifier::new();
        let mut sub = notifier.subscribe(&Topic::User(UserId::generate()));
        notifier.notify(&Topic::User(UserId::generate()));
        assert!(
            tokio::time::timeout(Duration::from_millis(50), sub.changed())
                .await
                .is_err()
        );
    }
}

//! The `[push]` section: how pushes reach devices (Web Push with the server's VAPID key, APNs,
//! FCM) and the dispatcher's pacing.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PushConfig {
    /// Whether this node sends pushes. Any number of nodes may: each push is claimed by one.
    pub deliver: bool,
    /// RFC 8292 `sub` of the VAPID JWT: how a push service reaches the operator
    /// (`mailto:` or `https:`).
    pub vapid_subject: String,
    /// Whether push endpoints may be on loopback, private or link-local addresses, and over
    /// plain http (test endpoints, a UnifiedPush server on the local network).
    pub allow_private_endpoints: bool,
    /// Time allowed for one send, in seconds.
    pub timeout_secs: u64,
    /// How long a claimed push is held by its sender, in seconds; after that (the sender died)
    /// another node, or this one after a restart, sends it again. Longer than `timeout_secs`.
    pub lease_secs: u64,
    /// How often the outbox is looked at without a wake-up (retries come due), in milliseconds.
    pub poll_ms: u64,
    /// Wait before the first retry, in milliseconds; each later one waits twice as long (up to
    /// five minutes), never less than a push service's `Retry-After`.
    pub initial_backoff_ms: u64,
    /// Sends of one push before it is given up, if its request has not expired first.
    pub max_attempts: u32,
    /// Sends in flight at once.
    pub concurrency: usize,
}

impl Default for PushConfig {
    fn default() -> Self {
        PushConfig {
            deliver: true,
            vapid_subject: "mailto:admin@localhost".into(),
            allow_private_endpoints: false,
            timeout_secs: 10,
            lease_secs: 60,
            poll_ms: 1000,
            initial_backoff_ms: 2000,
            max_attempts: 10,
            concurrency: 64,
        }
    }
}

impl PushConfig {
    /// What is wrong with the section, if anything.
    pub fn problem(&self) -> Option<String> {
        if !(self.vapid_subject.starts_with("mailto:")
            || self.vapid_subject.starts_with("https://"))
        {
            return Some("push.vapid_subject must be a mailto: or https: URL".into());
        }
        if self.timeout_secs == 0 || self.lease_secs <= self.timeout_secs {
            return Some(
                "push.timeout_secs must be at least 1 and push.lease_secs longer than it".into(),
            );
        }
        if self.max_attempts == 0 || self.concurrency == 0 {
            return Some("push.max_attempts and push.concurrency must be at least 1".into());
        }
        None
    }

    /// The dispatcher's pacing.
    pub fn dispatch(&self) -> assent_delivery::push::dispatch::DispatchSettings {
        use std::time::Duration;
        assent_delivery::push::dispatch::DispatchSettings {
            batch: 64,
            concurrency: self.concurrency,
            poll: Duration::from_millis(self.poll_ms.max(10)),
            initial_backoff: Duration::from_millis(self.initial_backoff_ms.max(1)),
            max_backoff: Duration::from_secs(300),
            max_attempts: self.max_attempts,
        }
    }
}

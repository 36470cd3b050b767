//! Wake-ups between nodes over PostgreSQL LISTEN/NOTIFY.
//!
//! A wake-up carries no data: the waiter re-reads the store. So the bridge only has to make
//! sure that no wake-up is lost; a spurious one costs one read. Hence:
//!
//! - [`Notifier::notify`] wakes this process's subscribers at once, then hands the topic to a
//!   background task that sends `NOTIFY assent_wake` (it is a sync call and must not wait for
//!   the database). The hand-over is a bounded set of pending topics: a burst of the same topic
//!   is sent once, and when too many distinct topics wait, they collapse into one "wake
//!   everyone" message rather than block the caller or grow without bound. A failed send is
//!   retried.
//! - One listener connection per process receives the other nodes' messages and wakes the
//!   local subscribers of the topic. Its own messages it skips (each payload names its node).
//! - Notifications sent while the listener's connection is down are never delivered, so after
//!   every reconnection it wakes **all** local subscribers.
//! - A connection can also die silently (a network cut without a reset). Every node sends a
//!   ping on the channel every [`PING_INTERVAL`]; a listener that hears nothing, not even its
//!   own pings, for three intervals treats its connection as dead and reconnects.
//!
//! Payloads are `<topic> <node>`, with topic `a:<approval id>`, `u:<user id>`, `*` (everyone)
//! or `ping`, and node a random id chosen at start.

use crate::connect;
use crate::error::backend;
use assent_core::StoreError;
use assent_core::ids::{ApprovalId, UserId};
use assent_core::notifier::LocalNotifier as Local;
use assent_core::notifier::{Notifier, Subscription, Topic};
use sqlx::postgres::{PgConnectOptions, PgListener, PgPool};
use std::collections::HashSet;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio::task::JoinHandle;

/// The one channel all Assent nodes of a database share.
pub const CHANNEL: &str = "assent_wake";

/// Distinct topics waiting to be sent before they collapse into one "wake everyone".
const MAX_PENDING: usize = 1024;

/// How often each node pings the channel (see the module documentation).
pub(crate) const PING_INTERVAL: Duration = Duration::from_secs(10);

/// Longest wait between two attempts to reach the database.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Connections: the listener's, the sender's, and one spare so a reconnection never waits for
/// the dead connection to be given back.
const CONNECTIONS: u32 = 3;

const EVERYONE: &str = "*";
const PING: &str = "ping";

/// The LISTEN/NOTIFY notifier. Dropping it stops its background tasks.
pub struct PostgresNotifier {
    local: Local,
    outbox: Arc<Outbox>,
    tasks: [JoinHandle<()>; 2],
}

impl std::fmt::Debug for PostgresNotifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PostgresNotifier")
            .field("node", &self.outbox.node)
            .field("active_topics", &self.local.active_topics())
            .finish_non_exhaustive()
    }
}

impl Drop for PostgresNotifier {
    fn drop(&mut self) {
        self.tasks.iter().for_each(JoinHandle::abort);
    }
}

impl PostgresNotifier {
    /// Connects to the database at `url` and starts listening. Once this returns, wake-ups that
    /// other nodes send reach this node's subscribers. Errors never contain the URL's password.
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        let options = connect::options_from_url(url)?;
        Self::start(options, Some(url)).await
    }

    /// Like [`connect`](Self::connect), with options built by the caller.
    pub async fn connect_with(options: PgConnectOptions) -> Result<Self, StoreError> {
        Self::start(options, None).await
    }

    async fn start(options: PgConnectOptions, url: Option<&str>) -> Result<Self, StoreError> {
        let pool = connect::pool(connect::with_session_settings(options), CONNECTIONS, url).await?;
        let listener = listen(&pool).await?;
        let local = Local::default();
        let outbox = Arc::new(Outbox::new());
        let tasks = [
            tokio::spawn(receive(
                listener,
                pool.clone(),
                local.clone(),
                outbox.clone(),
            )),
            tokio::spawn(send(pool, outbox.clone())),
        ];
        Ok(PostgresNotifier {
            local,
            outbox,
            tasks,
        })
    }

    /// Topics with at least one subscriber in this process.
    pub fn active_topics(&self) -> usize {
        self.local.active_topics()
    }
}

impl Notifier for PostgresNotifier {
    fn notify(&self, topic: &Topic) {
        self.local.notify(topic);
        self.outbox.push(encode(topic));
    }

    fn subscribe(&self, topic: &Topic) -> Subscription {
        self.local.subscribe(topic)
    }
}

fn encode(topic: &Topic) -> String {
    match topic {
        Topic::Approval(id) => format!("a:{id}"),
        Topic::User(id) => format!("u:{id}"),
        Topic::Account(id) => format!("d:{id}"),
        Topic::Outbox => "o:".to_owned(),
    }
}

/// What a received payload asks of this node.
#[derive(Debug, PartialEq, Eq)]
enum Wake {
    Topic(Topic),
    Everyone,
    Nothing,
}

fn decode(payload: &str, own_node: &str) -> Wake {
    let (topic, node) = payload.split_once(' ').unwrap_or((payload, ""));
    if node == own_node {
        // Woken locally when it was sent.
        return Wake::Nothing;
    }
    let parsed = match topic.split_once(':') {
        Some(("a", id)) => ApprovalId::parse(id).map(Topic::Approval),
        Some(("u", id)) => UserId::parse(id).map(Topic::User),
        Some(("d", id)) => UserId::parse(id).map(Topic::Account),
        Some(("o", "")) => Some(Topic::Outbox),
        _ => None,
    };
    match (topic, parsed) {
        (_, Some(topic)) => Wake::Topic(topic),
        (EVERYONE, None) => Wake::Everyone,
        _ => Wake::Nothing,
    }
}

/// Topics waiting for the sender task.
struct Outbox {
    node: String,
    pending: Mutex<Pending>,
    ready: tokio::sync::Notify,
}

#[derive(Default)]
struct Pending {
    topics: HashSet<String>,
    everyone: bool,
}

impl Outbox {
    fn new() -> Self {
        Outbox {
            node: uuid::Uuid::new_v4().simple().to_string(),
            pending: Mutex::new(Pending::default()),
            ready: tokio::sync::Notify::new(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Queues a topic without ever waiting (beyond the set's lock).
    fn push(&self, topic: String) {
        {
            let mut pending = self.lock();
            if pending.everyone {
                // Already waking everyone.
            } else if pending.topics.len() >= MAX_PENDING && !pending.topics.contains(&topic) {
                pending.topics.clear();
                pending.everyone = true;
            } else {
                pending.topics.insert(topic);
            }
        }
        self.ready.notify_one();
    }

    /// Takes everything queued, as payloads.
    fn take(&self) -> Vec<String> {
        let pending = std::mem::take(&mut *self.lock());
        let topics: Vec<String> = if pending.everyone {
            vec![EVERYONE.to_owned()]
        } else {
            pending.topics.into_iter().collect()
        };
        topics
            .into_iter()
            .map(|topic| format!("{topic} {}", self.node))
            .collect()
    }

    /// Puts back payloads whose sending failed.
    fn put_back(&self, payloads: Vec<String>) {
        for payload in payloads {
            let topic = payload.split_once(' ').map_or(&*payload, |(t, _)| t);
            if topic == EVERYONE {
                let mut pending = self.lock();
                pending.topics.clear();
                pending.everyone = true;
            } else if topic != PING {
                self.push(topic.to_owned());
            }
        }
    }
}

async fn listen(pool: &PgPool) -> Result<PgListener, StoreError> {
    let mut listener = PgListener::connect_with(pool).await.map_err(backend)?;
    listener.listen(CHANNEL).await.map_err(backend)?;
    Ok(listener)
}

/// Sends the queued topics, one statement per batch, and a ping every [`PING_INTERVAL`].
async fn send(pool: PgPool, outbox: Arc<Outbox>) {
    let mut ping = tokio::time::interval(PING_INTERVAL);
    ping.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut backoff = Backoff::default();
    loop {
        tokio::select! {
            () = outbox.ready.notified() => {}
            _ = ping.tick() => outbox.push(PING.to_owned()),
        }
        let payloads = outbox.take();
        if payloads.is_empty() {
            continue;
        }
        let sent = sqlx::query("SELECT pg_notify($1, payload) FROM unnest($2::text[]) AS payload")
            .bind(CHANNEL)
            .bind(&payloads)
            .execute(&pool)
            .await;
        match sent {
            Ok(_) => backoff.reset(),
            Err(e) => {
                tracing::warn!(error = %e, "cannot send wake-ups to the other nodes; retrying");
                outbox.put_back(payloads);
                backoff.wait().await;
                outbox.ready.notify_one();
            }
        }
    }
}

/// Receives the other nodes' wake-ups; reconnects, and then wakes everyone, whenever the
/// connection is lost or falls silent.
async fn receive(mut listener: PgListener, pool: PgPool, local: Local, outbox: Arc<Outbox>) {
    let silence = PING_INTERVAL * 3;
    loop {
        let lost = match tokio::time::timeout(silence, listener.try_recv()).await {
            Ok(Ok(Some(message))) => {
                match decode(message.payload(), &outbox.node) {
                    Wake::Topic(topic) => local.notify(&topic),
                    Wake::Everyone => local.notify_all(),
                    Wake::Nothing => {}
                }
                continue;
            }
            Ok(Ok(None)) => {
                // sqlx reconnected and listens again; what was sent in between is lost.
                tracing::warn!("the LISTEN connection was lost and is back; waking every waiter");
                local.notify_all();
                continue;
            }
            Ok(Err(e)) => e.to_string(),
            Err(_) => format!("nothing heard for {} s", silence.as_secs()),
        };
        tracing::warn!(reason = %lost, "the LISTEN connection is lost; reconnecting");
        drop(listener);
        listener = reconnect(&pool).await;
        local.notify_all();
    }
}

async fn reconnect(pool: &PgPool) -> PgListener {
    let mut backoff = Backoff::default();
    loop {
        match listen(pool).await {
            Ok(listener) => {
                tracing::info!("listening for wake-ups again; waking every waiter");
                return listener;
            }
            Err(e) => {
                tracing::warn!(error = %e, "cannot listen for wake-ups yet");
                backoff.wait().await;
            }
        }
    }
}

/// Doubling waits between attempts, from 100 ms to [`MAX_BACKOFF`].
#[derive(Default)]
struct Backoff {
    next: Option<Duration>,
}

impl Backoff {
    async fn wait(&mut self) {
        let wait = self.next.unwrap_or(Duration::from_millis(100));
        tokio::time::sleep(wait).await;
        self.next = Some((wait * 2).min(MAX_BACKOFF));
    }

    fn reset(&mut self) {
        self.next = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_name_a_topic_and_a_node() {
        let id = ApprovalId::generate();
        let payload = format!("{} other", encode(&Topic::Approval(id.clone())));
        assert_eq!(decode(&payload, "me"), Wake::Topic(Topic::Approval(id)));
        assert_eq!(decode(&payload, "other"), Wake::Nothing, "own messages");
        assert_eq!(decode("* other", "me"), Wake::Everyone);
        assert_eq!(decode("ping other", "me"), Wake::Nothing);
        assert_eq!(decode("a:not-a-uuid other", "me"), Wake::Nothing);
        let user = UserId::generate();
        assert_eq!(
            decode(&format!("u:{user}"), "me"),
            Wake::Topic(Topic::User(user.clone())),
            "a payload without a node (sent by hand) is someone else's"
        );
        let account = Topic::Account(user);
        assert_eq!(
            decode(&format!("{} other", encode(&account)), "me"),
            Wake::Topic(account)
        );
    }

    #[test]
    fn the_outbox_coalesces_and_never_grows_past_its_bound() {
        let outbox = Outbox::new();
        outbox.push("a:1".into());
        outbox.push("a:1".into());
        assert_eq!(outbox.take().len(), 1);
        for i in 0..MAX_PENDING + 10 {
            outbox.push(format!("u:{i}"));
        }
        let payloads = outbox.take();
        assert_eq!(payloads, vec![format!("* {}", outbox.node)]);
        assert!(outbox.take().is_empty());
        outbox.put_back(payloads);
        assert_eq!(outbox.take().len(), 1, "a failed wake-everyone is kept");
    }
}

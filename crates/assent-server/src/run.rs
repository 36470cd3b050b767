//! Starting and stopping a server: open the data directory, build the service, listen, run the
//! expiry sweeper, and shut down gracefully (in-flight answers complete; waits and streams end).

use crate::admission::{Caps, Gate};
use crate::config::{Config, Database, HttpConfig};
use crate::data_dir::{self, DataDirError};
use crate::http::{AppState, router};
use crate::middleware::Deadlines;
use crate::serve::{ConnectionLimits, serve};
use assent_core::Store;
use assent_core::notifier::LocalNotifier;
use assent_core::notifier::Notifier;
use assent_core::{Assent, Clock, StoreError};
use assent_store_postgres::{PostgresNotifier, PostgresStore};
use assent_store_sqlite::SqliteStore;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// How often pending requests past their expiry are closed.
const SWEEP_INTERVAL: Duration = Duration::from_millis(500);
/// How often the broadcast reminders are looked for.
const REMINDER_INTERVAL: Duration = Duration::from_secs(10);

/// Why a server could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error(transparent)]
    DataDir(#[from] DataDirError),
    #[error("database: {0}")]
    Store(#[from] StoreError),
    #[error("start-up: {0}")]
    Core(#[from] assent_core::CoreError),
    #[error("policy: {0}")]
    Policy(#[from] crate::policy_files::PolicyLoadError),
    #[error("push: {0}")]
    Push(String),
    #[error("tls: {0}")]
    Tls(#[from] crate::tls::TlsError),
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// A server ready to run.
pub struct Server;

/// A running server.
pub struct RunningServer {
    /// The address it listens on (the real port when the configuration said 0).
    pub addr: SocketAddr,
    /// The admin API key, when this start created it (first start only): show it once.
    pub new_admin_key: Option<String>,
    pub assent: Arc<Assent>,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<std::io::Result<()>>,
    /// The sweeper and the webhook and push dispatchers, which end on the shutdown signal.
    background: Vec<JoinHandle<()>>,
    policy_sources: crate::policy_files::PolicySources,
    /// TLS on the listener, reloaded on SIGHUP.
    tls: Option<Arc<crate::tls::Tls>>,
}

impl std::fmt::Debug for RunningServer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningServer")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

impl Server {
    /// Opens the data directory and starts listening. With port 0 in `config.listen`, an
    /// ephemeral port is chosen, and an empty `public_url` follows it.
    pub async fn start(
        mut config: Config,
        clock: Arc<dyn Clock>,
    ) -> Result<RunningServer, StartError> {
        let listener = listen(config.listen).map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
        let addr = listener.local_addr().map_err(|source| StartError::Listen {
            addr: config.listen,
            source,
        })?;
        config.listen = addr;

        // The policy files are read before anything is created, so a bad file refuses the start
        // without leaving a half-initialised data directory behind.
        let policy_sources = config.policy_sources();
        policy_sources.load()?;
        data_dir::ensure_dir(&config.data_dir)?;
        // The database first: on SQLite, opening it takes the data directory for this server,
        // so a second server started at the same moment cannot race this one to create the keys.
        let (store, notifier) = open_database(&config).await?;
        let (key, key_created) = data_dir::load_or_create_signing_key(&config.data_dir)?;
        let vapid = data_dir::load_or_create_vapid_key(&config.data_dir)?;
        let vapid_public_key = assent_proto::jose::b64(vapid.jwk().to_sec1().unwrap_or_default());
        let senders = push_senders(&config, vapid)?;
        let assent = Arc::new(Assent::new(
            store,
            notifier,
            clock,
            Arc::new(key),
            Arc::new(match config.data_key_path() {
                Some(path) => data_dir::load_data_key_file(&path)?,
                None => data_dir::load_or_create_data_key(&config.data_dir)?,
            }),
            config.settings(),
        ));
        policy_sources.apply(&assent)?;
        if key_created {
            assent.record_server_key_created().await?;
        }
        let new_admin_key = assent.ensure_admin_key().await?;
        if let Some(token) = &new_admin_key {
            data_dir::replace_private(
                &config.data_dir.join(data_dir::ADMIN_KEY_FILE),
                token.as_bytes(),
            )?;
        }

        let (shutdown, shutdown_rx) = watch::channel(false);
        let state = AppState {
            assent: assent.clone(),
            max_wait: Duration::from_secs(config.http.max_wait_secs),
            vapid_public_key,
            policy_sources: policy_sources.clone(),
            shutdown: shutdown_rx.clone(),
            sign_in_throttle: Arc::default(),
        };
        let normal = Duration::from_secs(config.http.request_timeout_secs);
        let deadlines = Deadlines {
            normal,
            long_poll: normal + Duration::from_secs(config.http.max_wait_secs),
            body_idle: Duration::from_secs(config.http.header_read_timeout_secs),
        };
        // The recorder first, so every measurement from here on is kept.
        let metrics = config.metrics.enabled && crate::prometheus::handle().is_some();
        let metrics_apart = config.metrics.own_listener().filter(|_| metrics);
        let app = router(
            state.clone(),
            deadlines,
            config.http.body_limit_bytes,
            metrics && metrics_apart.is_none(),
            config.console.enabled,
        );

        let mut background = vec![tokio::spawn(sweep(assent.clone(), shutdown_rx.clone()))];
        if config.webhooks.deliver {
            background.push(assent_delivery::webhooks::spawn(
                assent.clone(),
                config.webhooks.settings(),
                crate::http::webhook_data,
                shutdown_rx.clone(),
            ));
            // CIBA ping and push notifications go through the same kind of outbox, with the
            // same retry settings.
            background.push(assent_delivery::ciba_notify::spawn(
                assent.clone(),
                config.webhooks.settings(),
                shutdown_rx.clone(),
            ));
        }
        if config.push.deliver {
            background.push(assent_delivery::push::dispatch::spawn(
                assent.clone(),
                Arc::new(senders),
                config.push.dispatch(),
                shutdown_rx.clone(),
            ));
        }
        let http = &config.http;
        let limits = ConnectionLimits {
            header_read_timeout: Duration::from_secs(http.header_read_timeout_secs),
            idle_timeout: Duration::from_secs(http.idle_timeout_secs),
            http2_keep_alive: (http.http2_keep_alive_secs > 0)
                .then(|| Duration::from_secs(http.http2_keep_alive_secs)),
            http2_max_streams: http.http2_max_concurrent_streams,
            drain_timeout: normal,
        };
        let gate = Gate::new(connection_caps(
            http,
            crate::file_limit::raise_to_hard_limit(),
        ));
        let tls = config
            .tls
            .files()
            .map(crate::tls::Tls::new)
            .transpose()?
            .map(Arc::new);
        if let Some(at) = metrics_apart {
            let listener = tokio::net::TcpListener::bind(at)
                .await
                .map_err(|source| StartError::Listen { addr: at, source })?;
            let app = crate::prometheus::own_router(state);
            let down = shutdown_rx.clone();
            background.push(tokio::spawn(async move {
                let served = axum::serve(listener, app)
                    .with_graceful_shutdown(crate::http::shutting_down(down))
                    .await;
                if let Err(e) = served {
                    tracing::error!(error = %e, "the metrics listener stopped");
                }
            }));
            tracing::info!(%at, "metrics listening");
        }
        let task = tokio::spawn(serve(listener, app, limits, gate, tls.clone(), shutdown_rx));
        tracing::info!(%addr, public_url = %config.public_url(), kid = assent.key_id(), "listening");
        Ok(RunningServer {
            addr,
            new_admin_key,
            assent,
            shutdown,
            task,
            background,
            policy_sources,
            tls,
        })
    }
}

/// Descriptors kept out of the connection caps: the database, log and list files, outgoing
/// push, webhook and e-mail connections.
const DESCRIPTOR_HEADROOM: u64 = 128;

/// The configured connection caps, lowered where the open-file limit could not hold them (a
/// descriptor per connection, the health reserve and [`DESCRIPTOR_HEADROOM`] besides), so the
/// caps refuse connections before the process runs out of descriptors.
fn connection_caps(http: &HttpConfig, file_limit: Option<u64>) -> Caps {
    let reserve = http.health_reserve_connections;
    let mut total = http.max_connections;
    if let Some(limit) = file_limit {
        let room = limit.saturating_sub(DESCRIPTOR_HEADROOM + reserve as u64);
        let room = usize::try_from(room).unwrap_or(usize::MAX).max(1);
        if room < total {
            tracing::warn!(
                configured = total,
                allowed = room,
                open_file_limit = limit,
                "http.max_connections is above what the open-file limit allows; lowered"
            );
            total = room;
        }
    }
    let caps = Caps {
        total,
        per_address: http.max_connections_per_address.min(total),
        health_reserve: reserve,
    };
    tracing::info!(
        max_connections = caps.total,
        max_connections_per_address = caps.per_address,
        health_reserve_connections = caps.health_reserve,
        "connection caps"
    );
    caps
}

/// The store and the wake-up channel the configuration names: SQLite with in-process wake-ups
/// for one node, or PostgreSQL with LISTEN/NOTIFY so nodes sharing it wake each other.
async fn open_database(config: &Config) -> Result<(Arc<dyn Store>, Arc<dyn Notifier>), StoreError> {
    Ok(match config.database() {
        Database::Sqlite(path) => {
            // Off the async threads: opening may wait a few seconds for a store of this
            // process that is closing to let go of the database, and that store's last tasks
            // need those threads to finish.
            let store = tokio::task::spawn_blocking(move || SqliteStore::open(&path))
                .await
                .map_err(|e| StoreError::Backend(format!("opening the database failed: {e}")))??;
            (Arc::new(store), Arc::new(LocalNotifier::new()))
        }
        Database::Postgres(url) => (
            Arc::new(PostgresStore::connect(url).await?),
            Arc::new(PostgresNotifier::connect(url).await?),
        ),
    })
}

impl RunningServer {
    /// Stops accepting connections, ends waits and streams, lets in-flight requests finish.
    ///
    /// Returns once the sweeper and the webhook dispatcher have stopped too, so that when the
    /// caller drops its own handles the store closes (a SQLite database is then free for the
    /// next server).
    pub async fn shutdown(self) -> std::io::Result<()> {
        let _ = self.shutdown.send(true);
        let served = match self.task.await {
            Ok(result) => result,
            Err(e) => Err(std::io::Error::other(e)),
        };
        for task in self.background {
            let _ = task.await;
        }
        served
    }

    /// Runs until the process receives SIGINT or SIGTERM, then shuts down gracefully. SIGHUP
    /// reloads the policy, the risk lists and the TLS certificate and key.
    pub async fn run_until_signal(self) -> std::io::Result<()> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            if let Ok(mut hangup) = signal(SignalKind::hangup()) {
                loop {
                    tokio::select! {
                        _ = wait_for_signal() => break,
                        _ = hangup.recv() => {
                            if let Err(e) = self.policy_sources.apply(&self.assent) {
                                tracing::error!(error = %e, "policy reload refused; the running policy stays");
                            }
                            if let Some(tls) = &self.tls {
                                match tls.reload() {
                                    Ok(()) => tracing::info!("TLS certificate and key reloaded"),
                                    Err(e) => tracing::error!(error = %e, "TLS reload refused; the running certificate stays"),
                                }
                            }
                        }
                    }
                }
                tracing::info!("shutting down");
                return self.shutdown().await;
            }
        }
        wait_for_signal().await;
        tracing::info!("shutting down");
        self.shutdown().await
    }
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

/// Closes expired requests (so waiting relying parties learn at once), forgets old proof ids and
/// removes devices that were never activated.
async fn sweep(assent: Arc<Assent>, mut shutdown: watch::Receiver<bool>) {
    // Reminders run on their own: a large broadcast falling due must not hold up expiries.
    let reminders = tokio::spawn(remind(assent.clone(), shutdown.clone()));
    let mut ticks: u64 = 0;
    loop {
        tokio::select! {
            _ = tokio::time::sleep(SWEEP_INTERVAL) => {}
            _ = shutdown.wait_for(|down| *down) => break,
        }
        if let Err(e) = assent.expire_due().await {
            tracing::error!(error = %e, "expiry sweep failed");
        }
        if let Err(e) = assent.expire_due_access().await {
            tracing::error!(error = %e, "access request expiry sweep failed");
        }
        ticks += 1;
        if ticks.is_multiple_of(120) {
            if let Err(e) = assent.purge_proofs().await {
                tracing::error!(error = %e, "purging old device proof ids failed");
            }
            if let Err(e) = assent.expire_pending_devices().await {
                tracing::error!(error = %e, "removing devices never activated failed");
            }
            if let Err(e) = assent.purge_ciba().await {
                tracing::error!(error = %e, "purging old CIBA requests failed");
            }
        }
    }
    let _ = reminders.await;
}

/// Reminds the recipients of broadcasts who have not acknowledged, every ten seconds (ample for
/// intervals of five minutes and more); on several nodes each reminder is claimed by one.
async fn remind(assent: Arc<Assent>, mut shutdown: watch::Receiver<bool>) {
    loop {
        tokio::select! {
            _ = tokio::time::sleep(REMINDER_INTERVAL) => {}
            _ = shutdown.wait_for(|down| *down) => return,
        }
        if let Err(e) = assent.remind_due_broadcasts().await {
            tracing::error!(error = %e, "broadcast reminder sweep failed");
        }
    }
}

/// The push senders the configuration asks for; a sender that cannot be set up (a missing key
/// file, a malformed account) refuses the start, naming what to fix.
fn push_senders(
    config: &Config,
    vapid: assent_proto::jose::SigningKey,
) -> Result<assent_delivery::push::dispatch::Senders, StartError> {
    let timeout = Duration::from_secs(config.push.timeout_secs.max(1));
    let web_push = assent_delivery::push::webpush::WebPushSender::new(
        vapid,
        config.push.vapid_subject.clone(),
        config.push.allow_private_endpoints,
        timeout,
    )
    .map_err(|e| StartError::Push(e.0))?;
    let apns = match config.push.apns.settings(timeout) {
        Some(settings) => Some(
            assent_delivery::push::apns::ApnsSender::new(settings)
                .map_err(|e| StartError::Push(format!("push.apns: {}", e.0)))?,
        ),
        None => None,
    };
    let fcm = match config.push.fcm.settings(timeout) {
        Some(settings) => Some(
            assent_delivery::push::fcm::FcmSender::new(settings)
                .map_err(|e| StartError::Push(format!("push.fcm: {}", e.0)))?,
        ),
        None => None,
    };
    let mailer = match config.email.settings().map_err(StartError::Push)? {
        Some(settings) => {
            if settings.tls == assent_delivery::email::SmtpTls::None {
                tracing::warn!(host = %settings.host, "e-mail is sent without TLS (email.tls = \"none\")");
            }
            Some(
                assent_delivery::email::Mailer::new(settings)
                    .map_err(|e| StartError::Push(format!("email: {}", e.0)))?,
            )
        }
        None => None,
    };
    Ok(assent_delivery::push::dispatch::Senders {
        web_push,
        apns,
        fcm,
        mailer,
    })
}

/// Connections the kernel may hold for Assent before it accepts them. Larger than the usual
/// 1,024, so that a burst of connections (a flood among them) overflows it later and a
/// health check's or a client's handshake is less likely to be dropped; the kernel caps it at
/// `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

/// Binds the listening socket, with address reuse as `TcpListener::bind` sets it.
fn listen(addr: std::net::SocketAddr) -> std::io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        tokio::net::TcpSocket::new_v4()?
    } else {
        tokio::net::TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

//! Accepting connections: HTTP/1.1 and HTTP/2 over cleartext (prior knowledge) on one port,
//! with the limits `axum::serve` does not set.
//!
//! - A connection must deliver a complete request head within `header_read_timeout` of being
//!   accepted, or it is closed: a socket that sends nothing, or only an HTTP/2 preface, holds a
//!   descriptor for no longer than a client trickling its headers.
//! - A connection with no request in progress (HTTP/1.1 keep-alive, an HTTP/2 connection whose
//!   last stream ended) is closed after `idle_timeout`. A long poll or an event stream is a
//!   request in progress until its response body ends, so waits are never cut by this.
//! - HTTP/2 connections are pinged, so a peer that vanished under a long poll is noticed.
//! - Open connections are capped ([`crate::admission`]).
//!
//! HTTP/2 lets a relying party multiplex many long polls over one connection, so open waits are
//! not bounded by the number of connections.

use crate::admission::{Admission, Gate, Refusal, Refusals, Slot};
use crate::parse_errors::ParseErrorProblems;
use crate::tracked::{Activity, Tracked};
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::time::Instant;
use tower::ServiceExt as _;

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Longest time from accepting a connection to its first complete request head (and, for
    /// HTTP/1, from the first byte of any later request to its complete head).
    pub header_read_timeout: Duration,
    /// Longest time a connection may stay open with no request in progress.
    pub idle_timeout: Duration,
    /// Interval of HTTP/2 keep-alive pings, and how long an answer may take; `None`: no pings.
    pub http2_keep_alive: Option<Duration>,
    /// Requests one HTTP/2 connection may have in progress at once.
    pub http2_max_streams: u32,
    /// How long a connection may take to finish after shutdown began; then it is closed, so a
    /// client that never lets go (an unfinished HTTP/2 handshake, say) cannot hold the process.
    pub drain_timeout: Duration,
}

/// How long accepting pauses after an error such as running out of descriptors, so the loop
/// does not spin while connections close.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// How often refusals are summed up in the log (each one alone is logged at debug level).
const REFUSAL_LOG_INTERVAL: Duration = Duration::from_secs(10);

/// Serves `app` on `listener` until `shutdown` turns true; then stops accepting, asks every
/// connection to finish its in-flight requests, and returns once all are closed.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    gate: Gate,
    tls: Option<Arc<crate::tls::Tls>>,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    // Every connection task holds a receiver; `closed()` resolves when the last one is gone.
    let (open_tx, open_rx) = watch::channel(());
    let refusals = Refusals::new();
    let mut refused = RefusalLog::default();
    loop {
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = shutdown.wait_for(|down| *down) => break,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(e) => {
                tracing::warn!(error = %e, "accepting a connection failed");
                tokio::time::sleep(ACCEPT_BACKOFF).await;
                continue;
            }
        };
        let (slot, health_only) = match gate.admit(peer.ip()) {
            Admission::Full(slot) => (slot, false),
            Admission::HealthOnly(slot) => (slot, true),
            Admission::Refused(why) => {
                refusals.refuse(stream, why);
                refused.count(why);
                continue;
            }
        };
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY refused");
        }
        let served = Served {
            app: app.clone(),
            limits,
            health_only,
            _slot: slot,
        };
        let (shutdown, open) = (shutdown.clone(), open_rx.clone());
        match &tls {
            None => {
                tokio::spawn(connection(stream, peer, served, shutdown, open));
            }
            Some(tls) => {
                let acceptor = tls.acceptor();
                tokio::spawn(async move {
                    // The handshake is part of the first deadline: a client that starts one and
                    // stalls holds a slot no longer than one that sends no request head.
                    let handshake =
                        tokio::time::timeout(limits.header_read_timeout, acceptor.accept(stream));
                    match handshake.await {
                        Ok(Ok(stream)) => connection(stream, peer, served, shutdown, open).await,
                        Ok(Err(e)) => tracing::debug!(error = %e, "TLS handshake failed"),
                        Err(_) => tracing::debug!("TLS handshake not done within the deadline"),
                    }
                });
            }
        }
    }
    drop(open_rx);
    drop(listener);
    open_tx.closed().await;
    Ok(())
}

/// Refusals since the last summary in the log, so a flood writes one line per interval.
struct RefusalLog {
    per_address: u64,
    total: u64,
    since: Instant,
}

impl Default for RefusalLog {
    fn default() -> Self {
        RefusalLog {
            per_address: 0,
            total: 0,
            since: Instant::now(),
        }
    }
}

impl RefusalLog {
    fn count(&mut self, why: Refusal) {
        tracing::debug!(?why, "connection refused");
        match why {
            Refusal::PerAddress => self.per_address += 1,
            Refusal::Total => self.total += 1,
        }
        if self.since.elapsed() >= REFUSAL_LOG_INTERVAL {
            tracing::warn!(
                per_address = self.per_address,
                total = self.total,
                "connections refused: the connection caps are reached"
            );
            *self = RefusalLog::default();
        }
    }
}

/// What one connection serves, and its place in the connection counts.
struct Served {
    app: Router,
    limits: ConnectionLimits,
    /// A connection from the health reserve: `/health/*` only, one request.
    health_only: bool,
    _slot: Slot,
}

/// One connection, until the client closes it, a deadline passes, or shutdown drains it.
async fn connection<S>(
    stream: S,
    peer: SocketAddr,
    served: Served,
    mut shutdown: watch::Receiver<bool>,
    _open: watch::Receiver<()>,
) where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let limits = served.limits;
    let health_only = served.health_only;
    let activity = Activity::new();
    let mut requests = activity.subscribe();
    let app = served.app.clone();
    let tracker = activity.clone();
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // Counted from the moment the head is complete until the response body is dropped.
        let in_flight = tracker.start();
        // Handlers learn where the request came from (a device's answer records it).
        request.extensions_mut().insert(ConnectInfo(peer));
        let app = app.clone();
        async move {
            let response = if health_only && !request.uri().path().starts_with("/health/") {
                crate::tracked::reserve_refusal()
            } else {
                match app.oneshot(request.map(axum::body::Body::new)).await {
                    Ok(response) => response,
                    Err(never) => match never {},
                }
            };
            Ok::<_, Infallible>(response.map(|body| Tracked::new(body, in_flight)))
        }
    });
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .keep_alive(!health_only)
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(limits.http2_keep_alive)
        .keep_alive_timeout(limits.http2_keep_alive.unwrap_or(Duration::from_secs(20)))
        .max_concurrent_streams(if health_only {
            1
        } else {
            limits.http2_max_streams
        });
    let mut conn =
        pin!(builder.serve_connection(TokioIo::new(ParseErrorProblems::new(stream)), service));
    // The first deadline runs from the accept: a complete request head must arrive within it.
    let idle = tokio::time::sleep(limits.header_read_timeout);
    let mut idle = pin!(idle);
    let mut idle_armed = true;
    let drained = tokio::time::sleep(Duration::MAX);
    let mut drained = pin!(drained);
    let mut draining = false;
    loop {
        tokio::select! {
            result = conn.as_mut() => {
                if let Err(e) = result {
                    tracing::debug!(error = %e, "connection ended with an error");
                }
                break;
            }
            Ok(()) = requests.changed() => {
                let now = *requests.borrow_and_update();
                idle_armed = now.in_flight == 0;
                if idle_armed {
                    idle.as_mut().reset(Instant::now() + limits.idle_timeout);
                }
            }
            () = idle.as_mut(), if idle_armed && !draining => {
                if requests.borrow().started == 0 {
                    // Nothing was ever asked: there is nothing to finish politely.
                    tracing::debug!("no complete request head within the deadline; closed");
                    break;
                }
                draining = true;
                conn.as_mut().graceful_shutdown();
                drained.as_mut().reset(Instant::now() + limits.drain_timeout);
            }
            _ = shutdown.wait_for(|down| *down), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
                drained.as_mut().reset(Instant::now() + limits.drain_timeout);
            }
            () = drained.as_mut(), if draining => {
                tracing::debug!("connection still open after the drain timeout; closed");
                break;
            }
        }
    }
    drop(activity);
}

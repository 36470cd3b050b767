//! Accepting connections: HTTP/1.1 and HTTP/2 over cleartext (prior knowledge) on one port,
//! with the limits `axum::serve` does not set. A client that trickles its request headers is cut
//! off after `header_read_timeout` (the request deadlines only start once headers are in), and
//! HTTP/2 lets a relying party multiplex many long polls over one connection, so open waits are
//! not bounded by the number of descriptors a process may hold.

use crate::parse_errors::ParseErrorProblems;
use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto::Builder;
use std::net::SocketAddr;
use std::pin::pin;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

/// How connections are served.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ConnectionLimits {
    /// Longest time a client may take to send an HTTP/1 request's headers.
    pub header_read_timeout: Duration,
    /// Requests one HTTP/2 connection may have in progress at once.
    pub http2_max_streams: u32,
    /// How long a connection may take to finish after shutdown began; then it is closed, so a
    /// client that never lets go (an unfinished HTTP/2 handshake, say) cannot hold the process.
    pub drain_timeout: Duration,
}

/// How long accepting pauses after an error such as running out of descriptors, so the loop
/// does not spin while connections close.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `app` on `listener` until `shutdown` turns true; then stops accepting, asks every
/// connection to finish its in-flight requests, and returns once all are closed.
pub(crate) async fn serve(
    listener: TcpListener,
    app: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
) -> std::io::Result<()> {
    // Every connection task holds a receiver; `closed()` resolves when the last one is gone.
    let (open_tx, open_rx) = watch::channel(());
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
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "TCP_NODELAY refused");
        }
        tokio::spawn(connection(
            stream,
            peer,
            app.clone(),
            limits,
            shutdown.clone(),
            open_rx.clone(),
        ));
    }
    drop(open_rx);
    drop(listener);
    open_tx.closed().await;
    Ok(())
}

/// One connection, until the client closes it or shutdown drains it.
async fn connection(
    stream: tokio::net::TcpStream,
    peer: SocketAddr,
    app: Router,
    limits: ConnectionLimits,
    mut shutdown: watch::Receiver<bool>,
    _open: watch::Receiver<()>,
) {
    let service = hyper::service::service_fn(move |mut request: hyper::Request<Incoming>| {
        // Handlers learn where the request came from (a device's answer records it).
        request.extensions_mut().insert(ConnectInfo(peer));
        app.clone().oneshot(request.map(axum::body::Body::new))
    });
    let mut builder = Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder
        .http2()
        .timer(TokioTimer::new())
        .max_concurrent_streams(limits.http2_max_streams);
    let mut conn =
        pin!(builder.serve_connection(TokioIo::new(ParseErrorProblems::new(stream)), service));
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
            _ = shutdown.wait_for(|down| *down), if !draining => {
                draining = true;
                conn.as_mut().graceful_shutdown();
                drained.as_mut().reset(tokio::time::Instant::now() + limits.drain_timeout);
            }
            () = drained.as_mut(), if draining => {
                tracing::debug!("connection still open after the drain timeout; closed");
                break;
            }
        }
    }
}

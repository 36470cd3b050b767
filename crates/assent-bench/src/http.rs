//! HTTP clients of the load generator. Loopback has only ~28,000 ephemeral ports per source
//! address, so a run that holds more connections than that spreads them over several
//! 127.0.0.x source addresses (every 127/8 address is local on Linux).

use crate::error::{BenchResult, CallError};
use serde::de::DeserializeOwned;
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

/// Connections one source address carries at most (the default ephemeral range is ~28,000).
pub const CONNECTIONS_PER_SOURCE: usize = 20_000;

/// A client with keep-alive and no overall timeout (streams and long polls stay open; each
/// call sets its own timeout), bound to `source` when given.
pub fn client(source: Option<IpAddr>) -> BenchResult<reqwest::Client> {
    // reqwest is built without a default crypto provider; without one the builder panics.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(20))
        .pool_idle_timeout(Duration::from_secs(600))
        .tcp_nodelay(true)
        .user_agent(concat!("assent-bench/", env!("CARGO_PKG_VERSION")));
    if let Some(source) = source {
        builder = builder.local_address(source);
    }
    Ok(builder.build()?)
}

/// A client that speaks cleartext HTTP/2 with prior knowledge: all its requests share one
/// connection as streams, as a relying party's connection pool would carry many long polls.
pub fn http2_client() -> BenchResult<reqwest::Client> {
    let _ = rustls::crypto::ring::default_provider().install_default();
    Ok(reqwest::Client::builder()
        .http2_prior_knowledge()
        .connect_timeout(Duration::from_secs(20))
        .pool_idle_timeout(Duration::from_secs(600))
        .tcp_nodelay(true)
        .user_agent(concat!("assent-bench/", env!("CARGO_PKG_VERSION")))
        .build()?)
}

/// `count` clients bound to 127.0.0.10, 127.0.0.11, ...: one per source address.
pub fn spread_clients(count: usize) -> BenchResult<Vec<reqwest::Client>> {
    (0..count.max(1))
        .map(|i| {
            let last = u8::try_from(10 + i).map_err(|_| "too many source addresses")?;
            client(Some(IpAddr::V4(Ipv4Addr::new(127, 0, 0, last))))
        })
        .collect()
}

/// Source addresses needed for `connections` simultaneous connections.
pub fn sources_for(connections: usize) -> usize {
    connections.div_ceil(CONNECTIONS_PER_SOURCE).max(1)
}

/// Sends `request` and decodes a success answer; anything else becomes a [`CallError`] of
/// `step`.
pub async fn call<T: DeserializeOwned>(
    step: &str,
    request: reqwest::RequestBuilder,
) -> Result<T, CallError> {
    let response = request
        .send()
        .await
        .map_err(|e| CallError::transport(step, &e))?;
    let status = response.status();
    let body = response
        .bytes()
        .await
        .map_err(|e| CallError::transport(step, &e))?;
    if !status.is_success() {
        return Err(CallError::answer(step, status.as_u16(), &body));
    }
    serde_json::from_slice(&body).map_err(|e| CallError::new(step, "bad json", e.to_string()))
}

//! How often one address may start a console sign-in. Each start for an admin's name sends a
//! push to that admin (the fatigue defense counts them like any other), so a stranger who
//! knows an admin's name must not be able to send them a stream of pushes from one address.
//! Kept in the server's memory: with several nodes an address gets this many per node.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Sign-ins one address may start per window.
const STARTS: usize = 10;
const WINDOW: Duration = Duration::from_secs(600);
/// Addresses remembered at most; past it the ones whose window ended are dropped, then all.
const ADDRESSES: usize = 10_000;

/// The recent sign-in starts of each address, for one server.
#[derive(Debug, Default)]
pub(crate) struct SignInThrottle {
    starts: Mutex<HashMap<IpAddr, Vec<Instant>>>,
}

impl SignInThrottle {
    /// Counts a start from `ip`; `false` when the address has had its share of the window.
    pub(crate) fn admit(&self, ip: Option<IpAddr>) -> bool {
        let Some(ip) = ip else { return true };
        let now = Instant::now();
        let Ok(mut all) = self.starts.lock() else {
            return true;
        };
        if all.len() >= ADDRESSES {
            all.retain(|_, times| times.last().is_some_and(|t| now - *t < WINDOW));
            if all.len() >= ADDRESSES {
                all.clear();
            }
        }
        let times = all.entry(ip).or_default();
        times.retain(|t| now - *t < WINDOW);
        if times.len() >= STARTS {
            return false;
        }
        times.push(now);
        true
    }
}

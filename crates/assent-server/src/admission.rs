//! Which accepted connections are served. Open connections are capped in total and per client
//! address, so one client (or a flood of silent sockets) cannot take every descriptor; a few
//! connections past the total cap are kept for `/health/*`, at most
//! [`RESERVE_PER_ADDRESS`] per client address so one flooding client cannot take them all, and
//! readiness still answers while the server is full. A refused connection gets a fixed 503 problem document written straight
//! to the socket (no parsing, no task) and is closed.

use assent_proto::ProblemCode;
use assent_proto::problem::Problem;
use std::collections::HashMap;
use std::io::{Read as _, Write as _};
use std::net::IpAddr;
use std::sync::{Arc, Mutex, PoisonError};

/// Seconds a refused client is asked to wait before it tries again.
pub(crate) const RETRY_AFTER_SECS: u64 = 5;

/// Health-reserve connections one client address may hold.
pub(crate) const RESERVE_PER_ADDRESS: usize = 2;

/// The caps, as configured and clamped to the descriptors the process may hold.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Caps {
    /// Connections served in full.
    pub total: usize,
    /// Connections from one client address (an IPv6 client's /64), health connections included.
    pub per_address: usize,
    /// Connections beyond `total` that may only ask for `/health/*`.
    pub health_reserve: usize,
}

/// What an accepted connection may do.
pub(crate) enum Admission {
    /// Anything: it holds a slot until dropped.
    Full(Slot),
    /// Only `/health/*`, one request: the server is full, this is the reserve.
    HealthOnly(Slot),
    /// Nothing: answer 503 and close.
    Refused(Refusal),
}

/// Why a connection was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Refusal {
    PerAddress,
    Total,
}

/// Counts open connections and decides on new ones.
#[derive(Clone)]
pub(crate) struct Gate {
    inner: Arc<Inner>,
}

struct Inner {
    caps: Caps,
    open: Mutex<Open>,
}

#[derive(Default)]
struct Open {
    /// Connections served in full.
    full: usize,
    /// Connections from the health reserve.
    reserve: usize,
    by_address: HashMap<IpAddr, FromAddress>,
}

/// The open connections of one client address.
#[derive(Default)]
struct FromAddress {
    all: usize,
    reserve: usize,
}

/// One open connection's place in the counts, given back when dropped.
pub(crate) struct Slot {
    inner: Arc<Inner>,
    address: IpAddr,
    reserve: bool,
}

impl Gate {
    pub(crate) fn new(caps: Caps) -> Self {
        Gate {
            inner: Arc::new(Inner {
                caps,
                open: Mutex::new(Open::default()),
            }),
        }
    }

    /// Decides on a connection from `peer`, counting it if it is let in.
    pub(crate) fn admit(&self, peer: IpAddr) -> Admission {
        let address = client_address(peer);
        let caps = self.inner.caps;
        let mut open = self
            .inner
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let (all, reserve) = open
            .by_address
            .get(&address)
            .map_or((0, 0), |a| (a.all, a.reserve));
        if all >= caps.per_address {
            return Admission::Refused(Refusal::PerAddress);
        }
        let full = open.full >= caps.total;
        if full && (open.reserve >= caps.health_reserve || reserve >= RESERVE_PER_ADDRESS) {
            return Admission::Refused(Refusal::Total);
        }
        if full {
            open.reserve += 1;
        } else {
            open.full += 1;
        }
        let from = open.by_address.entry(address).or_default();
        from.all += 1;
        from.reserve += usize::from(full);
        let slot = Slot {
            inner: self.inner.clone(),
            address,
            reserve: full,
        };
        if full {
            Admission::HealthOnly(slot)
        } else {
            Admission::Full(slot)
        }
    }

    /// Connections open now.
    #[cfg(test)]
    fn open(&self) -> usize {
        let open = self
            .inner
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        open.full + open.reserve
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self
            .inner
            .open
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if self.reserve {
            open.reserve = open.reserve.saturating_sub(1);
        } else {
            open.full = open.full.saturating_sub(1);
        }
        if let Some(from) = open.by_address.get_mut(&self.address) {
            from.all = from.all.saturating_sub(1);
            if self.reserve {
                from.reserve = from.reserve.saturating_sub(1);
            }
            if from.all == 0 {
                open.by_address.remove(&self.address);
            }
        }
    }
}

/// The address a client is counted under: IPv4 as is (an IPv4-mapped IPv6 address as its IPv4
/// address), IPv6 by its /64, the block one subscriber usually holds in full.
fn client_address(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let prefix = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(prefix.into())
            }
        },
    }
}

/// The problem document sent for a refusal, as it goes on the wire.
pub(crate) fn problem_body(detail: &str) -> Vec<u8> {
    let mut problem = Problem::new(
        ProblemCode::TooManyConnections,
        Some(detail.to_owned()),
        None,
    );
    problem
        .extensions
        .insert("retry_after".into(), RETRY_AFTER_SECS.into());
    serde_json::to_vec(&problem).unwrap_or_default()
}

/// The complete HTTP/1.1 answers to refused connections, built once.
pub(crate) struct Refusals {
    per_address: Vec<u8>,
    total: Vec<u8>,
}

impl Refusals {
    pub(crate) fn new() -> Self {
        let answer = |detail: &str| {
            let body = problem_body(detail);
            let mut wire = format!(
                "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/problem+json\r\n\
                 retry-after: {RETRY_AFTER_SECS}\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
                body.len()
            )
            .into_bytes();
            wire.extend_from_slice(&body);
            wire
        };
        Refusals {
            per_address: answer("too many open connections from this address; try again later"),
            total: answer("the server has too many open connections; try again later"),
        }
    }

    /// Writes the answer without waiting (a fresh socket's send buffer takes it whole), reads
    /// what the client already sent so the close is orderly rather than a reset, and closes.
    /// A client that cannot be answered at once is just closed.
    pub(crate) fn refuse(&self, stream: tokio::net::TcpStream, why: Refusal) {
        let answer = match why {
            Refusal::PerAddress => &self.per_address,
            Refusal::Total => &self.total,
        };
        let Ok(mut stream) = stream.into_std() else {
            return;
        };
        let _ = stream.write(answer);
        let mut sink = [0u8; 2048];
        let _ = stream.read(&mut sink);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gate(total: usize, per_address: usize, health_reserve: usize) -> Gate {
        Gate::new(Caps {
            total,
            per_address,
            health_reserve,
        })
    }

    #[test]
    fn one_address_cannot_pass_its_cap() {
        let gate = gate(10, 2, 0);
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        let first = gate.admit(a);
        let _second = gate.admit(a);
        assert!(matches!(
            gate.admit(a),
            Admission::Refused(Refusal::PerAddress)
        ));
        assert!(matches!(gate.admit(b), Admission::Full(_)));
        drop(first);
        assert!(matches!(gate.admit(a), Admission::Full(_)));
    }

    #[test]
    fn past_the_total_only_the_health_reserve_is_let_in_then_nothing() {
        let gate = gate(2, 10, 1);
        let peer = |n: u8| IpAddr::from([192, 0, 2, n]);
        let held: Vec<_> = (1..=2).map(|n| gate.admit(peer(n))).collect();
        assert!(held.iter().all(|a| matches!(a, Admission::Full(_))));
        let reserve = gate.admit(peer(3));
        assert!(matches!(reserve, Admission::HealthOnly(_)));
        assert!(matches!(
            gate.admit(peer(4)),
            Admission::Refused(Refusal::Total)
        ));
        assert_eq!(gate.open(), 3);
        drop(held);
        drop(reserve);
        assert_eq!(gate.open(), 0);
        assert!(matches!(gate.admit(peer(4)), Admission::Full(_)));
    }

    #[test]
    fn one_address_takes_at_most_its_share_of_the_health_reserve() {
        let gate = gate(1, 10, 4);
        let flooder: IpAddr = "192.0.2.1".parse().unwrap();
        let _full = gate.admit(flooder);
        let reserve: Vec<_> = (0..RESERVE_PER_ADDRESS)
            .map(|_| gate.admit(flooder))
            .collect();
        assert!(
            reserve
                .iter()
                .all(|a| matches!(a, Admission::HealthOnly(_)))
        );
        assert!(matches!(
            gate.admit(flooder),
            Admission::Refused(Refusal::Total)
        ));
        let checker: IpAddr = "198.51.100.1".parse().unwrap();
        assert!(matches!(gate.admit(checker), Admission::HealthOnly(_)));
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_mapped_ipv4_as_ipv4() {
        let gate = gate(10, 1, 0);
        let _held = gate.admit("2001:db8:1:2::1".parse().unwrap());
        assert!(matches!(
            gate.admit("2001:db8:1:2:ffff::9".parse().unwrap()),
            Admission::Refused(Refusal::PerAddress)
        ));
        assert!(matches!(
            gate.admit("2001:db8:1:3::1".parse().unwrap()),
            Admission::Full(_)
        ));
        let _v4 = gate.admit("192.0.2.7".parse().unwrap());
        assert!(matches!(
            gate.admit("::ffff:192.0.2.7".parse().unwrap()),
            Admission::Refused(Refusal::PerAddress)
        ));
    }

    #[test]
    fn a_refusal_is_a_problem_document_with_a_stable_code() {
        let refusals = Refusals::new();
        let wire = String::from_utf8(refusals.total.clone()).unwrap();
        let (head, body) = wire.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 503 "), "{head}");
        assert!(head.contains("retry-after: 5"), "{head}");
        assert!(head.contains(&format!("content-length: {}", body.len())));
        let problem: Problem = serde_json::from_str(body).unwrap();
        assert_eq!(
            problem.problem_code(),
            Some(ProblemCode::TooManyConnections)
        );
        assert_eq!(problem.status, 503);
    }
}

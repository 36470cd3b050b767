//! `--web-push`: a Web Push endpoint inside the bench (a real HTTP server on loopback that
//! accepts every push with 201, as a push service does), a subscription at it for every
//! simulated device, and what the pushes that arrived tell: how long after its request each
//! came, and the server's CPU per push.
//!
//! The endpoint cannot decrypt (it holds no private keys), so a push is matched to its request
//! by where it was sent: device `i` subscribes at `/push/i`, and a push arriving there belongs
//! to that device's latest request created before it. A user has at most one request at a time
//! and its next one starts only after the worker has gone through its other users, so the match
//! is unambiguous unless a push is later than that (it would then be taken for the newer
//! request's, and that request's own push counted as a duplicate).

use crate::error::BenchResult;
use crate::stats::{Latency, Samples, round3};
use assent_proto::api::{PushKeys, PushSubscriptionBody};
use assent_proto::jose::{SigningKey, b64, random_token};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::post;
use serde::Serialize;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How long the end of a level waits for pushes still on their way (it stops early once none
/// arrived for [`QUIET`]).
const GRACE: Duration = Duration::from_secs(5);
const QUIET: Duration = Duration::from_millis(500);

/// One push as it arrived: the device it was addressed to and when its body was complete.
#[derive(Debug, Clone, Copy)]
pub struct Arrival {
    pub device: usize,
    pub at: Instant,
}

type Log = Arc<Mutex<Vec<Arrival>>>;

/// The bench's push endpoint, listening until dropped.
#[derive(Debug)]
pub struct PushEndpoint {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    log: Log,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for PushEndpoint {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Takes the whole body before stamping the arrival (and so the connection stays reusable).
async fn accept(
    State(log): State<Log>,
    Path(device): Path<usize>,
    _body: axum::body::Bytes,
) -> StatusCode {
    let at = Instant::now();
    if let Ok(mut log) = log.lock() {
        log.push(Arrival { device, at });
    }
    StatusCode::CREATED
}

impl PushEndpoint {
    /// Listens on 127.0.0.1, on a port of the system's choice.
    pub async fn start() -> BenchResult<Self> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let log: Log = Arc::default();
        let app = axum::Router::new()
            .route("/push/{device}", post(accept))
            .with_state(log.clone());
        let task = tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                eprintln!("the push endpoint stopped: {e}");
            }
        });
        Ok(PushEndpoint { base, log, task })
    }

    /// A subscription for device `device`, as a browser would hand it over: the endpoint's
    /// path names the device, `p256dh` is a fresh P-256 public key (uncompressed point) and
    /// `auth` 16 random bytes, both base64url.
    pub fn subscription(&self, device: usize) -> BenchResult<PushSubscriptionBody> {
        let key = SigningKey::generate()?;
        Ok(PushSubscriptionBody {
            endpoint: format!("{}/push/{device}", self.base),
            keys: PushKeys {
                p256dh: b64(key.jwk().to_sec1()?),
                auth: random_token(16)?,
            },
            expiration_time: None,
        })
    }

    /// Pushes received so far.
    pub fn received(&self) -> usize {
        self.log.lock().map_or(0, |l| l.len())
    }

    /// Waits for pushes still on their way, then takes every arrival logged so far.
    pub async fn settle_and_take(&self) -> Vec<Arrival> {
        let until = Instant::now() + GRACE;
        let mut seen = self.received();
        while Instant::now() < until {
            tokio::time::sleep(QUIET).await;
            let now = self.received();
            if now == seen {
                break;
            }
            seen = now;
        }
        self.log
            .lock()
            .map(|mut l| std::mem::take(&mut *l))
            .unwrap_or_default()
    }
}

/// The request of a flow, as the push figures need it: its device and when its create was sent.
#[derive(Debug, Clone, Copy)]
pub struct Created {
    pub device: usize,
    pub at: Instant,
}

/// What the pushes of one level tell.
#[derive(Debug, Clone, Serialize)]
pub struct PushFigures {
    /// Pushes that arrived during the measurement (CPU window).
    pub received: u64,
    pub received_per_s: f64,
    /// `received` per complete flow measured.
    pub per_flow: f64,
    /// Requests created during the measurement.
    pub requests: u64,
    /// Of those, requests whose push arrived (within the level and a grace of up to 5 s).
    pub requests_pushed: u64,
    /// Pushes beyond the first for the same request (delivery is at least once).
    pub duplicates: u64,
    /// Pushes to a device that had no request created before them in this level.
    pub unmatched: u64,
    /// The relying party's create sent until the push's body had arrived at the endpoint.
    pub create_to_push: Latency,
    /// Server CPU milliseconds per push received during the measurement.
    pub server_cpu_ms_per_push: Option<f64>,
}

/// Matches arrivals to requests (per device, the latest request created before the push) and
/// sums up the level: requests created in `[start, end]` for the latency and the share pushed,
/// pushes arrived in `[start, end]` for the rate and the CPU per push.
pub fn figures(
    mut created: Vec<Created>,
    arrivals: &[Arrival],
    start: Instant,
    end: Instant,
    flows: u64,
    server_cpu_seconds: Option<f64>,
) -> PushFigures {
    created.sort_by_key(|c| (c.device, c.at));
    let in_window = |at: Instant| at >= start && at <= end;
    let mut pushed = vec![false; created.len()];
    let (mut samples, mut duplicates, mut unmatched) = (Samples::default(), 0u64, 0u64);
    for a in arrivals {
        // The requests of this device form one run of `created`; take the last one before `a`.
        let first = created.partition_point(|c| c.device < a.device);
        let past = created.partition_point(|c| (c.device, c.at) <= (a.device, a.at));
        if past <= first {
            unmatched += 1;
            continue;
        }
        let i = past - 1;
        if std::mem::replace(&mut pushed[i], true) {
            duplicates += 1;
        } else if in_window(created[i].at) {
            samples.push(a.at - created[i].at);
        }
    }
    let requests = created.iter().filter(|c| in_window(c.at)).count() as u64;
    let requests_pushed = created
        .iter()
        .zip(&pushed)
        .filter(|(c, p)| **p && in_window(c.at))
        .count() as u64;
    let received = arrivals.iter().filter(|a| in_window(a.at)).count() as u64;
    let seconds = end.duration_since(start).as_secs_f64().max(1e-9);
    PushFigures {
        received,
        received_per_s: round3(received as f64 / seconds),
        per_flow: if flows > 0 {
            round3(received as f64 / flows as f64)
        } else {
            0.0
        },
        requests,
        requests_pushed,
        duplicates,
        unmatched,
        create_to_push: samples.summary(),
        server_cpu_ms_per_push: server_cpu_seconds
            .filter(|_| received > 0)
            .map(|s| round3(s * 1000.0 / received as f64)),
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn a_push_belongs_to_its_devices_latest_earlier_request() {
        let t = Instant::now();
        let ms = |n: u64| t + Duration::from_millis(n);
        let created = vec![
            Created {
                device: 1,
                at: ms(10),
            },
            Created {
                device: 0,
                at: ms(10),
            },
            Created {
                device: 0,
                at: ms(100),
            },
            Created {
                device: 1,
                at: ms(200),
            },
        ];
        let arrivals = [
            Arrival {
                device: 0,
                at: ms(13),
            },
            Arrival {
                device: 0,
                at: ms(104),
            },
            Arrival {
                device: 0,
                at: ms(105),
            },
            Arrival {
                device: 1,
                at: ms(17),
            },
            Arrival {
                device: 2,
                at: ms(20),
            },
            Arrival {
                device: 1,
                at: ms(5),
            },
        ];
        let f = figures(created, &arrivals, ms(0), ms(1000), 4, Some(0.012));
        assert_eq!(f.received, 6);
        assert_eq!(f.requests, 4);
        assert_eq!(f.requests_pushed, 3);
        assert_eq!(f.duplicates, 1);
        assert_eq!(f.unmatched, 2);
        assert_eq!(f.create_to_push.count, 3);
        assert_eq!(f.create_to_push.max_ms, 7.0);
        assert_eq!(f.server_cpu_ms_per_push, Some(2.0));
    }
}

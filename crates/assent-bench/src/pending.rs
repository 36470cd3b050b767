//! Pending mode: N requests waiting at once, each with a relying-party long poll open, to
//! measure what a pending request costs the server in memory and to check that every wait
//! completes once the devices answer. Devices fetch their request by id here (no live stream
//! each), so the open connections are the relying parties' waits.

use crate::cli::WaitProtocol;
use crate::error::{BenchResult, CallError};
use crate::http::{client, http2_client, sources_for, spread_clients};
use crate::procstat::{CpuSnapshot, CpuUse, Proc};
use crate::report::Pending;
use crate::rp::{check_outcome, login};
use crate::setup::Population;
use crate::stats::{Counts, Samples, round3};
use futures_util::StreamExt as _;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinHandle;

/// Lifetime asked for each request: the longest allowed, so none expires while held.
const EXPIRES_IN: u32 = 600;
/// Error details kept for the report.
const EXAMPLES: usize = 5;

/// A created request, what its device needs to answer it, and its relying party's wait.
struct Held {
    user: usize,
    id: String,
    code: Option<String>,
    wait: JoinHandle<(Result<(), CallError>, Instant)>,
}

/// Options of a pending run.
#[derive(Debug, Clone, Copy)]
pub struct PendingPlan {
    pub count: usize,
    pub concurrency: usize,
    pub protocol: WaitProtocol,
    pub streams_per_connection: usize,
    pub server: Option<Proc>,
    pub same_process: bool,
    pub quiet: bool,
    /// How long every wait is held open before memory is read, so each one reached the server.
    pub hold: Duration,
}

/// Runs pending mode over a population of at least `plan.count` users.
pub async fn run_pending(pop: &Arc<Population>, plan: PendingPlan) -> BenchResult<Pending> {
    let PendingPlan {
        count,
        concurrency,
        protocol,
        streams_per_connection,
        server,
        same_process,
        quiet,
        hold,
    } = plan;
    let count = count.min(pop.devices.len());
    // One client per connection: with HTTP/2 each carries many waits, with HTTP/1 the clients
    // are per source address and open a connection per wait.
    let (sources, waiters) = match protocol {
        WaitProtocol::Http2 => {
            let connections = count.div_ceil(streams_per_connection).max(1);
            let clients = (0..connections)
                .map(|_| http2_client())
                .collect::<BenchResult<Vec<_>>>()?;
            (1, clients)
        }
        WaitProtocol::Http1 => {
            let sources = sources_for(count);
            (sources, spread_clients(sources)?)
        }
    };
    let wait_connections = match protocol {
        WaitProtocol::Http2 => waiters.len(),
        WaitProtocol::Http1 => count,
    };
    let waiters = Arc::new(waiters);
    let http = client(None)?;
    let mut errors = Counts::default();
    let mut examples: Vec<String> = Vec::new();
    let mut note = |e: &CallError, errors: &mut Counts| {
        errors.add(&e.kind);
        if examples.len() < EXAMPLES {
            examples.push(e.to_string());
        }
    };

    let mib = |b: u64| round3(b as f64 / 1_048_576.0);
    let idle = server.and_then(Proc::rss_bytes);
    if let Some(p) = server {
        p.reset_peak();
    }

    // Create every request and open its wait.
    let bar = crate::progress::bar(count as u64, "creating", quiet);
    let create_start = CpuSnapshot::take(server);
    let created: Vec<Result<Held, CallError>> = futures_util::stream::iter(0..count)
        .map(|user| {
            let (pop, http, waiters, bar) = (pop.clone(), &http, waiters.clone(), &bar);
            async move {
                let device = pop
                    .devices
                    .get(user)
                    .ok_or_else(|| CallError::new("setup", "no device", user.to_string()))?;
                let request = login(&device.username, user, Some(EXPIRES_IN));
                let created = pop.rp.create(http, &request).await?;
                let id = created.id.clone();
                let wait = tokio::spawn(async move {
                    let client = &waiters[user % waiters.len()];
                    let give_up = Duration::from_secs(u64::from(EXPIRES_IN) + 60);
                    let outcome = pop.rp.wait_final(client, &id, give_up).await;
                    let at = Instant::now();
                    (outcome.and_then(|s| check_outcome(&s)), at)
                });
                bar.inc(1);
                Ok(Held {
                    user,
                    id: created.id,
                    code: created.display_code,
                    wait,
                })
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let create_end = CpuSnapshot::take(server);
    bar.finish_and_clear();
    let mut held = Vec::with_capacity(created.len());
    for c in created {
        match c {
            Ok(h) => held.push(h),
            Err(e) => note(&e, &mut errors),
        }
    }
    let create_seconds = create_end.at.duration_since(create_start.at).as_secs_f64();

    // Hold: every wait open at once; read the server's memory.
    tokio::time::sleep(hold).await;
    let early = held.iter().filter(|h| h.wait.is_finished()).count();
    if early > 0 {
        errors
            .0
            .insert("wait: ended before the answer".into(), early as u64);
    }
    let holding = server.and_then(Proc::rss_bytes);
    let server_fds = server.and_then(Proc::open_fds);
    let server_threads = server.and_then(Proc::threads);
    let bench_fds = Proc::current().open_fds();
    let bench_rss = Proc::current().rss_bytes().unwrap_or(0);

    // Answer every request; each relying party's wait then returns.
    let bar = crate::progress::bar(held.len() as u64, "answering", quiet);
    let answer_start = CpuSnapshot::take(server);
    let answered: Vec<(usize, Result<Instant, CallError>)> =
        futures_util::stream::iter(held.iter().enumerate())
            .map(|(k, h)| {
                let (pop, http, bar) = (pop.clone(), &http, &bar);
                async move {
                    let result = async {
                        let device = pop.devices.get(h.user).ok_or_else(|| {
                            CallError::new("setup", "no device", h.user.to_string())
                        })?;
                        let approval = device.fetch(http, &pop.rp.base, &h.id).await?;
                        let statement = device.sign_approval(&approval, h.code.as_deref())?;
                        let sent = Instant::now();
                        device.submit(http, &pop.rp.base, &h.id, statement).await?;
                        Ok(sent)
                    }
                    .await;
                    bar.inc(1);
                    (k, result)
                }
            })
            .buffer_unordered(concurrency.max(1))
            .collect()
            .await;
    bar.finish_and_clear();
    let mut sent_at = vec![None; held.len()];
    for (k, result) in answered {
        match result {
            Ok(at) => {
                if let Some(slot) = sent_at.get_mut(k) {
                    *slot = Some(at);
                }
            }
            Err(e) => note(&e, &mut errors),
        }
    }
    let mut completed = 0u64;
    let mut latency = Samples::default();
    let created_count = held.len() as u64;
    for (k, h) in held.into_iter().enumerate() {
        let (outcome, at) = h.wait.await?;
        match outcome {
            Ok(()) => {
                completed += 1;
                if let Some(Some(sent)) = sent_at.get(k) {
                    latency.push(at.saturating_duration_since(*sent));
                }
            }
            Err(e) => note(&e, &mut errors),
        }
    }
    let answer_end = CpuSnapshot::take(server);
    let peak = server.and_then(Proc::peak_rss_bytes);
    let per_pending = match (idle, holding) {
        (Some(i), Some(h)) if created_count > 0 => {
            Some(round3((h as f64 - i as f64) / created_count as f64))
        }
        _ => None,
    };
    Ok(Pending {
        requested: count,
        created: created_count,
        completed,
        errors,
        error_examples: examples,
        protocol,
        wait_connections,
        source_addresses: sources,
        create_seconds: round3(create_seconds),
        answer_seconds: round3(answer_end.at.duration_since(answer_start.at).as_secs_f64()),
        server_rss_idle_mib: idle.map(mib),
        server_rss_holding_mib: holding.map(mib),
        server_peak_rss_mib: peak.map(mib),
        server_bytes_per_pending: per_pending,
        server_open_fds_holding: server_fds,
        server_threads_holding: server_threads,
        bench_open_fds_holding: bench_fds,
        bench_rss_holding_mib: mib(bench_rss),
        answer_to_result: latency.summary(),
        cpu_create: CpuUse::between(&create_start, &create_end, same_process),
        cpu_answer: CpuUse::between(&answer_start, &answer_end, same_process),
    })
}

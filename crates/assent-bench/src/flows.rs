//! Flow mode: C relying-party workers in a closed loop, each driving complete flows for its own
//! users (so each user has at most one request at a time, as the fatigue defenses expect):
//! create, the device hears of it on its stream, fetches it, signs the answer with the displayed
//! code, and the relying party's long poll returns the final state with its receipt. With
//! `--web-push` the server also pushes each request to the bench's endpoint, and the level
//! reports when those pushes arrived.

use crate::device::Announced;
use crate::error::{BenchResult, CallError};
use crate::procstat::{CpuSnapshot, CpuUse, Proc};
use crate::push_endpoint::{Created, PushEndpoint};
use crate::report::{FlowLatency, Level};
use crate::rp::{check_outcome, login};
use crate::setup::Population;
use crate::stats::{Counts, FlowSamples, round3};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use tokio::sync::mpsc::UnboundedReceiver;

/// How long a device waits for its stream to announce a request before the flow fails.
const NOTIFY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a relying party waits for the final state before the flow fails.
const FLOW_TIMEOUT: Duration = Duration::from_secs(60);
/// Error details kept for the report.
const EXAMPLES: usize = 5;

/// A user's device stream, owned by the worker that serves the user.
pub type Slot = (usize, UnboundedReceiver<Announced>);

/// The timings of one complete flow.
struct FlowTimes {
    create: Duration,
    notify: Duration,
    answer_to_result: Duration,
    flow: Duration,
    signals: Vec<String>,
}

/// The measured part of a level: flows that start and end inside it count.
#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    end: Instant,
}

/// What a worker brings back.
#[derive(Default)]
struct WorkerOut {
    samples: FlowSamples,
    errors: Counts,
    examples: Vec<String>,
    signals: Counts,
    slots: Vec<Slot>,
    /// Requests created, when pushes are watched.
    created: Vec<Created>,
}

/// Waits until the stream announces request `id` (earlier announcements are stale).
async fn announced(rx: &mut UnboundedReceiver<Announced>, id: &str) -> Result<Instant, CallError> {
    let deadline = tokio::time::Instant::now() + NOTIFY_TIMEOUT;
    loop {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Err(_) => return Err(CallError::new("notify", "timeout", id.to_owned())),
            Ok(None) => return Err(CallError::new("notify", "stream closed", id.to_owned())),
            Ok(Some(a)) if a.id == id => return Ok(a.at),
            Ok(Some(_)) => {}
        }
    }
}

/// One complete flow for user `user`; its request is noted in `created` when given.
async fn one_flow(
    pop: &Population,
    http: &reqwest::Client,
    user: usize,
    rx: &mut UnboundedReceiver<Announced>,
    created_at: Option<&mut Vec<Created>>,
) -> Result<FlowTimes, CallError> {
    let device = pop
        .devices
        .get(user)
        .ok_or_else(|| CallError::new("setup", "no device", user.to_string()))?;
    let base = &pop.rp.base;
    if let Some(ciba) = &pop.ciba {
        return ciba_flow(ciba, (user, device), base, http, rx, created_at).await;
    }
    let request = login(&device.username, user, None);
    let t0 = Instant::now();
    let created = pop.rp.create(http, &request).await?;
    let t1 = Instant::now();
    if let Some(log) = created_at {
        log.push(Created {
            device: user,
            at: t0,
        });
    }
    let id = created.id.as_str();
    let wait = pop.rp.wait_final(http, id, FLOW_TIMEOUT);
    let answer = async {
        let t2 = announced(rx, id).await?;
        let approval = device.fetch(http, base, id).await?;
        let statement = device.sign_approval(&approval, created.display_code.as_deref())?;
        let t3 = Instant::now();
        device.submit(http, base, id, statement).await?;
        Ok::<_, CallError>((t2, t3))
    };
    tokio::pin!(wait);
    tokio::pin!(answer);
    // Both run at once: the relying party may learn the outcome before the device has its
    // own answer back. A failed answer ends the flow (dropping the wait).
    let mut answered = None;
    let mut finished = None;
    while answered.is_none() || finished.is_none() {
        tokio::select! {
            a = &mut answer, if answered.is_none() => answered = Some(a?),
            s = &mut wait, if finished.is_none() => finished = Some((s, Instant::now())),
        }
    }
    let (Some((t2, t3)), Some((status, t4))) = (answered, finished) else {
        return Err(CallError::new("flow", "incomplete", id.to_owned()));
    };
    let status = status?;
    check_outcome(&status)?;
    Ok(FlowTimes {
        create: t1 - t0,
        notify: t2.saturating_duration_since(t0),
        answer_to_result: t4 - t3,
        flow: t4 - t0,
        signals: created.risk.reasons.into_iter().map(|r| r.signal).collect(),
    })
}

/// One complete flow over CIBA: the backchannel request, the device's answer, then the token
/// request (the four latencies keep their meaning: create is the backchannel request, the
/// result is the token response).
async fn ciba_flow(
    ciba: &crate::ciba::CibaClient,
    (user, device): (usize, &crate::device::SimDevice),
    base: &str,
    http: &reqwest::Client,
    rx: &mut UnboundedReceiver<Announced>,
    created_at: Option<&mut Vec<Created>>,
) -> Result<FlowTimes, CallError> {
    let t0 = Instant::now();
    let started = ciba.start(http, &device.username).await?;
    let t1 = Instant::now();
    if let Some(log) = created_at {
        log.push(Created {
            device: user,
            at: t0,
        });
    }
    // The device learns the approval's id from its stream, as with any request; an
    // announcement left from an earlier flow is passed over.
    let (id, t2, approval) = loop {
        let (id, at) = next_announced(rx).await?;
        let approval = device.fetch(http, base, &id).await?;
        if approval.state == assent_proto::api::ApprovalState::Pending {
            break (id, at, approval);
        }
    };
    let statement = device.sign_approval(&approval, started.display_code.as_deref())?;
    let t3 = Instant::now();
    device.submit(http, base, &id, statement).await?;
    ciba.tokens(http, &started.auth_req_id).await?;
    let t4 = Instant::now();
    Ok(FlowTimes {
        create: t1 - t0,
        notify: t2.saturating_duration_since(t0),
        answer_to_result: t4 - t3,
        flow: t4 - t0,
        signals: Vec::new(),
    })
}

/// The next request the stream announces (a CIBA client never sees the approval's id).
async fn next_announced(
    rx: &mut UnboundedReceiver<Announced>,
) -> Result<(String, Instant), CallError> {
    match tokio::time::timeout(NOTIFY_TIMEOUT, rx.recv()).await {
        Err(_) => Err(CallError::new("notify", "timeout", String::new())),
        Ok(None) => Err(CallError::new("notify", "stream closed", String::new())),
        Ok(Some(a)) => Ok((a.id, a.at)),
    }
}

/// One worker: its users in turn, until the window ends.
async fn worker(
    pop: Arc<Population>,
    http: reqwest::Client,
    mut slots: Vec<Slot>,
    window: Window,
    done: Arc<AtomicU64>,
    failed: Arc<AtomicU64>,
    note_created: bool,
) -> WorkerOut {
    let mut out = WorkerOut::default();
    'run: loop {
        if slots.is_empty() {
            break;
        }
        for (user, rx) in slots.iter_mut() {
            let started = Instant::now();
            if started >= window.end {
                break 'run;
            }
            let log = note_created.then_some(&mut out.created);
            let result = one_flow(&pop, &http, *user, rx, log).await;
            let measured = started >= window.start && Instant::now() <= window.end;
            match result {
                Ok(t) => {
                    done.fetch_add(1, Ordering::Relaxed);
                    if measured {
                        out.samples.create.push(t.create);
                        out.samples.notify.push(t.notify);
                        out.samples.answer_to_result.push(t.answer_to_result);
                        out.samples.flow.push(t.flow);
                        for s in &t.signals {
                            out.signals.add(s);
                        }
                    }
                }
                Err(e) => {
                    failed.fetch_add(1, Ordering::Relaxed);
                    if started >= window.start && started <= window.end {
                        out.errors.add(&e.kind);
                        if out.examples.len() < EXAMPLES {
                            out.examples.push(e.to_string());
                        }
                    }
                    // Not a hot loop against a failing server.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
            }
        }
    }
    out.slots = slots;
    out
}

/// One level to run.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub concurrency: usize,
    pub warmup: Duration,
    pub duration: Duration,
    pub quiet: bool,
}

/// The server process to watch, and whether it is the bench's own.
#[derive(Debug, Clone, Copy)]
pub struct Watch<'a> {
    pub server: Option<Proc>,
    pub same_process: bool,
    /// The database runs as processes of its own (PostgreSQL): its CPU is not the server's,
    /// so what the cores allow cannot be told from the server's and the bench's alone.
    pub database_apart: bool,
    /// The bench's Web Push endpoint, when every device has a subscription there.
    pub push: Option<&'a PushEndpoint>,
}

/// Runs one concurrency level and measures it.
pub async fn run_level(
    pop: &Arc<Population>,
    http: &reqwest::Client,
    slots: &mut Vec<Slot>,
    watch: Watch<'_>,
    plan: Plan,
) -> BenchResult<Level> {
    let Plan {
        warmup,
        duration,
        quiet,
        ..
    } = plan;
    let Watch {
        server,
        same_process,
        database_apart,
        push,
    } = watch;
    let concurrency = plan.concurrency.clamp(1, slots.len().max(1));
    let now = Instant::now();
    let window = Window {
        start: now + warmup,
        end: now + warmup + duration,
    };
    let done = Arc::new(AtomicU64::new(0));
    let failed = Arc::new(AtomicU64::new(0));
    let mut shares: Vec<Vec<Slot>> = (0..concurrency).map(|_| Vec::new()).collect();
    for (i, slot) in std::mem::take(slots).into_iter().enumerate() {
        if let Some(share) = shares.get_mut(i % concurrency) {
            share.push(slot);
        }
    }
    let tasks: Vec<_> = shares
        .into_iter()
        .map(|share| {
            tokio::spawn(worker(
                pop.clone(),
                http.clone(),
                share,
                window,
                done.clone(),
                failed.clone(),
                push.is_some(),
            ))
        })
        .collect();

    // Watch: CPU at the window's edges, the server's resident set while it runs, the bar.
    let total_ms = (warmup + duration).as_millis() as u64;
    let bar = crate::progress::bar(total_ms / 1000, &format!("c={concurrency}"), quiet);
    tokio::time::sleep_until(window.start.into()).await;
    if let Some(p) = server {
        p.reset_peak();
    }
    let first = CpuSnapshot::take(server);
    let counted_from = done.load(Ordering::Relaxed);
    let mut rss_max = 0u64;
    let mut threads_max = 0u64;
    while Instant::now() < window.end {
        let step = window
            .end
            .saturating_duration_since(Instant::now())
            .min(Duration::from_millis(250));
        tokio::time::sleep(step).await;
        if let Some(p) = server {
            rss_max = rss_max.max(p.rss_bytes().unwrap_or(0));
            threads_max = threads_max.max(p.threads().unwrap_or(0));
        }
        let elapsed = window.start.elapsed().as_secs_f64().max(1e-3);
        let flows = done.load(Ordering::Relaxed) - counted_from;
        bar.set_position((warmup.as_secs_f64() + elapsed) as u64);
        bar.set_message(format!(
            "{:.0} flows/s, {} errors",
            flows as f64 / elapsed,
            failed.load(Ordering::Relaxed)
        ));
    }
    let last = CpuSnapshot::take(server);
    let peak = server.and_then(Proc::peak_rss_bytes);
    bar.finish_and_clear();

    let mut samples = FlowSamples::default();
    let mut errors = Counts::default();
    let mut signals = Counts::default();
    let mut examples = Vec::new();
    let mut created = Vec::new();
    for task in tasks {
        let out = task.await?;
        samples.extend(out.samples);
        errors.merge(out.errors);
        signals.merge(out.signals);
        examples.extend(
            out.examples
                .into_iter()
                .take(EXAMPLES - examples.len().min(EXAMPLES)),
        );
        slots.extend(out.slots);
        created.extend(out.created);
    }
    slots.sort_by_key(|(user, _)| *user);
    let seconds = last.at.duration_since(first.at).as_secs_f64();
    let flows = samples.flow.len() as u64;
    let per_s = flows as f64 / seconds.max(1e-9);
    let cpu = CpuUse::between(&first, &last, same_process);
    let web_push = match push {
        Some(endpoint) => {
            let arrivals = endpoint.settle_and_take().await;
            Some(crate::push_endpoint::figures(
                created,
                &arrivals,
                first.at,
                last.at,
                flows,
                cpu.server_cores.map(|c| c * seconds),
            ))
        }
        None => None,
    };
    let per_flow = |cores: Option<f64>| {
        cores
            .filter(|_| flows > 0)
            .map(|c| round3(c * seconds * 1000.0 / flows as f64))
    };
    let server_ms = per_flow(cpu.server_cores);
    let bench_ms = per_flow(cpu.bench_cores);
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let mib = |b: u64| round3(b as f64 / 1_048_576.0);
    Ok(Level {
        concurrency,
        seconds: round3(seconds),
        flows,
        flows_per_s: round3(per_s),
        errors,
        error_examples: examples,
        latency: FlowLatency {
            create: samples.create.summary(),
            notify: samples.notify.summary(),
            answer_to_result: samples.answer_to_result.summary(),
            flow: samples.flow.summary(),
        },
        server_cpu_ms_per_flow: server_ms,
        bench_cpu_ms_per_flow: bench_ms,
        cpu_bound_flows_per_s: flows_the_cores_allow(
            cores,
            server_ms.zip(bench_ms).map(|(s, b)| s + b),
            database_apart,
        ),
        server_bound_flows_per_s: flows_the_cores_allow(
            cores,
            server_ms.filter(|_| bench_ms.is_some()),
            database_apart,
        ),
        cpu,
        server_peak_rss_mib: peak.map(mib),
        server_rss_max_sampled_mib: server.map(|_| mib(rss_max)),
        server_threads_max: server.map(|_| threads_max),
        risk_signals: signals,
        web_push,
    })
}

/// Flows per second that `cores` would carry at `ms_per_flow` of CPU if nothing else ran and no
/// core idled; unknown when the database's own CPU is not counted in it.
fn flows_the_cores_allow(
    cores: usize,
    ms_per_flow: Option<f64>,
    database_apart: bool,
) -> Option<f64> {
    ms_per_flow
        .filter(|ms| *ms > 0.0 && !database_apart)
        .map(|ms| round3(cores as f64 * 1000.0 / ms))
}

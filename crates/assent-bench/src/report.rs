//! The results of a run, written as JSON (and drawn by [`crate::chart`]).

use crate::calibrate::Calibration;
use crate::machine::Machine;
use crate::procstat::CpuUse;
use crate::push_endpoint::PushFigures;
use crate::stats::{Counts, Latency};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Everything a run measured, with what it ran on and how.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub tool: String,
    /// RFC 3339 time the run started.
    pub started_at: String,
    /// The command line.
    pub command: String,
    pub machine: Machine,
    /// The machine's speed at the protocol's fixed work, measured before the run.
    pub calibration: Calibration,
    pub server: ServerInfo,
    pub setup: SetupInfo,
    /// Flow mode: one entry per concurrency level, in the order run.
    pub levels: Vec<Level>,
    /// Pending mode.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pending: Option<Pending>,
}

/// The server under test.
#[derive(Debug, Clone, Serialize)]
pub struct ServerInfo {
    /// `child` (a separate process, measured alone), `in-process` (shares the bench's process:
    /// CPU and memory include the load generator) or `remote`.
    pub mode: String,
    pub url: String,
    pub database: String,
    /// Settings that differ from the defaults, and why.
    pub changed_settings: Vec<String>,
    /// The first error lines of the server's log (a started child only).
    pub log_errors: Vec<String>,
}

/// The population.
#[derive(Debug, Clone, Serialize)]
pub struct SetupInfo {
    pub users: usize,
    /// Seconds to create the users and enroll their devices.
    pub seconds: f64,
}

/// The four latencies of a flow.
#[derive(Debug, Clone, Serialize)]
pub struct FlowLatency {
    /// (a) `POST /v1/approvals` until its answer.
    pub create: Latency,
    /// (b) create start until the device's stream announced the request.
    pub notify: Latency,
    /// (c) the device sending its signed answer until the relying party has the final state.
    pub answer_to_result: Latency,
    /// (d) create start until the relying party has the final state and receipt.
    pub flow: Latency,
}

/// One concurrency level of flow mode.
#[derive(Debug, Clone, Serialize)]
pub struct Level {
    pub concurrency: usize,
    /// Seconds measured (after the warm-up).
    pub seconds: f64,
    /// Complete flows (approved, receipt received) that started and ended in the measurement.
    pub flows: u64,
    pub flows_per_s: f64,
    /// Failed flows by kind (`<step>: <problem code or cause>`).
    pub errors: Counts,
    pub error_examples: Vec<String>,
    pub latency: FlowLatency,
    pub cpu: CpuUse,
    /// Server CPU milliseconds per complete flow.
    pub server_cpu_ms_per_flow: Option<f64>,
    /// The load generator's CPU milliseconds per complete flow (simulated relying parties and
    /// devices); unknown when the server runs inside the bench.
    pub bench_cpu_ms_per_flow: Option<f64>,
    /// The most flows per second this machine's cores could carry at these costs (server and
    /// load generator per flow, both measured here) if nothing else ran and no core idled: how
    /// far the rate measured is from what the CPU allows. Unknown on PostgreSQL, whose own CPU
    /// is counted under `other_cores`.
    pub cpu_bound_flows_per_s: Option<f64>,
    /// The same for the server alone, as if the load generator ran on other cores: the rate a
    /// server-only bar would be judged by. Unknown where `cpu_bound_flows_per_s` is, and when
    /// the server runs inside the bench.
    pub server_bound_flows_per_s: Option<f64>,
    /// The kernel's peak resident set of the server during the measurement (VmHWM).
    pub server_peak_rss_mib: Option<f64>,
    /// The largest VmRSS seen by sampling every 250 ms.
    pub server_rss_max_sampled_mib: Option<f64>,
    pub server_threads_max: Option<u64>,
    /// Risk signals the server reported on the measured requests (how often each).
    pub risk_signals: Counts,
    /// With `--web-push`: the pushes the bench's endpoint received.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub web_push: Option<PushFigures>,
}

/// Pending mode: many requests waiting at once.
#[derive(Debug, Clone, Serialize)]
pub struct Pending {
    pub requested: usize,
    pub created: u64,
    /// Relying-party waits that returned the final state with a receipt.
    pub completed: u64,
    pub errors: Counts,
    pub error_examples: Vec<String>,
    /// How the waits reached the server.
    pub protocol: crate::cli::WaitProtocol,
    /// Connections carrying the waits (with HTTP/2, each carries many).
    pub wait_connections: usize,
    /// Source addresses the relying-party connections were spread over.
    pub source_addresses: usize,
    pub create_seconds: f64,
    pub answer_seconds: f64,
    /// Server VmRSS with the population enrolled and nothing pending.
    pub server_rss_idle_mib: Option<f64>,
    /// Server VmRSS with every request pending and every wait open.
    pub server_rss_holding_mib: Option<f64>,
    /// Peak resident set (VmHWM) over the whole pending phase.
    pub server_peak_rss_mib: Option<f64>,
    /// (holding - idle) / pending requests.
    pub server_bytes_per_pending: Option<f64>,
    /// Open descriptors of the server while holding (about one socket per wait).
    pub server_open_fds_holding: Option<u64>,
    /// Threads of the server while holding.
    pub server_threads_holding: Option<u64>,
    /// Open descriptors of the bench while holding.
    pub bench_open_fds_holding: Option<u64>,
    pub bench_rss_holding_mib: f64,
    /// The device's answer until the relying party's open wait returned, under the answering load.
    pub answer_to_result: Latency,
    pub cpu_create: CpuUse,
    pub cpu_answer: CpuUse,
}

impl Report {
    /// Writes `<dir>/<name>.json` and `<dir>/<name>.svg`; returns their paths.
    pub fn write(&self, dir: &Path, name: &str) -> crate::BenchResult<(PathBuf, PathBuf)> {
        std::fs::create_dir_all(dir)?;
        let json = dir.join(format!("{name}.json"));
        let mut text = serde_json::to_string_pretty(self)?;
        text.push('\n');
        std::fs::write(&json, text)?;
        let svg = dir.join(format!("{name}.svg"));
        std::fs::write(&svg, crate::chart::render(self))?;
        Ok((json, svg))
    }
}

/// One line per level for the terminal.
pub fn level_line(l: &Level) -> String {
    let lat = &l.latency;
    let figure = |v: Option<f64>, digits: usize| {
        v.map(|v| format!("{v:.digits$}"))
            .unwrap_or_else(|| "-".into())
    };
    let cores = |c: Option<f64>| figure(c, 2);
    format!(
        "c={:<4} {:>8.1} flows/s  create p50/p99 {:.2}/{:.2} ms  notify {:.2}/{:.2}  answer->result {:.2}/{:.2}  flow {:.2}/{:.2}  errors {}  server {} cores, bench {}, other {}  CPU per flow: server {} ms, bench {} ms (cores allow {} flows/s, the server alone {})  peak RSS {} MiB",
        l.concurrency,
        l.flows_per_s,
        lat.create.p50_ms,
        lat.create.p99_ms,
        lat.notify.p50_ms,
        lat.notify.p99_ms,
        lat.answer_to_result.p50_ms,
        lat.answer_to_result.p99_ms,
        lat.flow.p50_ms,
        lat.flow.p99_ms,
        l.errors.total(),
        cores(l.cpu.server_cores),
        cores(l.cpu.bench_cores),
        cores(l.cpu.other_cores),
        figure(l.server_cpu_ms_per_flow, 3),
        figure(l.bench_cpu_ms_per_flow, 3),
        figure(l.cpu_bound_flows_per_s, 0),
        figure(l.server_bound_flows_per_s, 0),
        l.server_peak_rss_mib
            .map(|m| format!("{m:.0}"))
            .unwrap_or_else(|| "-".into()),
    )
}

/// The Web Push figures of a level, for the terminal.
pub fn push_line(p: &PushFigures) -> String {
    let lat = &p.create_to_push;
    format!(
        "       web push: {} received ({:.1}/s, {:.3} per flow), {} of {} requests pushed, {} duplicates, {} unmatched  create->push p50/p99 {:.2}/{:.2} ms  server CPU per push {} ms",
        p.received,
        p.received_per_s,
        p.per_flow,
        p.requests_pushed,
        p.requests,
        p.duplicates,
        p.unmatched,
        lat.p50_ms,
        lat.p99_ms,
        p.server_cpu_ms_per_push
            .map(|v| format!("{v:.3}"))
            .unwrap_or_else(|| "-".into()),
    )
}

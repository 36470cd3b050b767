//! CPU time and memory of a process, read from `/proc/PID`: `stat` for user and system time
//! (summed over all threads), `status` for the resident set (VmRSS) and its peak (VmHWM).

use std::path::PathBuf;

/// A process to watch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Proc(pub u32);

impl Proc {
    /// The bench's own process.
    pub fn current() -> Self {
        Proc(std::process::id())
    }

    fn path(self, file: &str) -> PathBuf {
        PathBuf::from(format!("/proc/{}/{file}", self.0))
    }

    /// User plus system CPU seconds used so far by all the process's threads.
    pub fn cpu_seconds(self) -> Option<f64> {
        let stat = std::fs::read_to_string(self.path("stat")).ok()?;
        // The command name is in parentheses and may contain spaces: fields follow the last ')'.
        let rest = stat.rsplit_once(')')?.1;
        let fields: Vec<&str> = rest.split_whitespace().collect();
        // After ')': state is field 3 of the man page, utime 14 and stime 15.
        let utime: f64 = fields.get(11)?.parse().ok()?;
        let stime: f64 = fields.get(12)?.parse().ok()?;
        Some((utime + stime) / ticks_per_second())
    }

    /// Current resident set, in bytes.
    pub fn rss_bytes(self) -> Option<u64> {
        self.status_kib("VmRSS:").map(|k| k * 1024)
    }

    /// Peak resident set since start or since [`Proc::reset_peak`], in bytes.
    pub fn peak_rss_bytes(self) -> Option<u64> {
        self.status_kib("VmHWM:").map(|k| k * 1024)
    }

    /// Resets the peak resident set to the current one (`clear_refs` 5), so a measurement
    /// covers one phase only. Needs to own the process (or root); silently does nothing else.
    pub fn reset_peak(self) {
        let _ = std::fs::write(self.path("clear_refs"), "5");
    }

    /// Open file descriptors (sockets included).
    pub fn open_fds(self) -> Option<u64> {
        Some(std::fs::read_dir(self.path("fd")).ok()?.count() as u64)
    }

    /// Threads of the process.
    pub fn threads(self) -> Option<u64> {
        self.status_kib("Threads:")
    }

    fn status_kib(self, key: &str) -> Option<u64> {
        let status = std::fs::read_to_string(self.path("status")).ok()?;
        status
            .lines()
            .find_map(|l| l.strip_prefix(key))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
    }
}

/// Clock ticks per second of `/proc` CPU times.
fn ticks_per_second() -> f64 {
    rustix::param::clock_ticks_per_second() as f64
}

/// CPU seconds the whole machine spent busy (all but idle and iowait), from `/proc/stat`; with
/// the server's and the bench's own time it tells how much else ran during a measurement.
pub fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    let values: Vec<f64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal (guest time is already in user).
    let busy: f64 = values
        .iter()
        .take(8)
        .enumerate()
        .filter(|(i, _)| *i != 3 && *i != 4)
        .map(|(_, v)| v)
        .sum();
    Some(busy / ticks_per_second())
}

/// One CPU snapshot of the server, the bench and the machine.
#[derive(Debug, Clone, Copy)]
pub struct CpuSnapshot {
    pub server: Option<f64>,
    pub bench: Option<f64>,
    pub machine: Option<f64>,
    pub at: std::time::Instant,
}

impl CpuSnapshot {
    pub fn take(server: Option<Proc>) -> Self {
        CpuSnapshot {
            server: server.and_then(Proc::cpu_seconds),
            bench: Proc::current().cpu_seconds(),
            machine: machine_busy_seconds(),
            at: std::time::Instant::now(),
        }
    }
}

/// Cores used between two snapshots (1.0 = one core busy all the time).
#[derive(Debug, Clone, Copy, Default, serde::Serialize)]
pub struct CpuUse {
    /// The server process; `null` when it is not observable (a remote server without a PID).
    pub server_cores: Option<f64>,
    /// The load generator (simulated relying parties and devices).
    pub bench_cores: Option<f64>,
    /// Everything else on the machine (other builds, the kernel's own threads).
    pub other_cores: Option<f64>,
}

impl CpuUse {
    /// When the server runs inside the bench, its time is the bench's: only the sum is known.
    pub fn between(a: &CpuSnapshot, b: &CpuSnapshot, same_process: bool) -> Self {
        let secs = b.at.duration_since(a.at).as_secs_f64().max(1e-9);
        let delta = |x: Option<f64>, y: Option<f64>| Some((y? - x?) / secs);
        let server = delta(a.server, b.server);
        let bench = if same_process {
            None
        } else {
            delta(a.bench, b.bench)
        };
        let machine = delta(a.machine, b.machine);
        let other = machine.map(|m| m - server.unwrap_or(0.0) - bench.unwrap_or(0.0));
        CpuUse {
            server_cores: server,
            bench_cores: bench,
            other_cores: other.map(|o| o.max(0.0)),
        }
    }
}

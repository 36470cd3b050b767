//! The machine a run was measured on, recorded with every result.

use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Machine {
    /// Logical CPUs the bench may run on.
    pub cores: usize,
    pub memory_mib: u64,
    pub cpu_model: String,
    pub kernel: String,
    /// Load averages (1, 5, 15 min) when the run started.
    pub load_average: String,
}

impl Machine {
    pub fn detect() -> Self {
        let read = |p: &str| std::fs::read_to_string(p).unwrap_or_default();
        let meminfo = read("/proc/meminfo");
        let memory_kib: u64 = meminfo
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        let cpu_model = read("/proc/cpuinfo")
            .lines()
            .find_map(|l| l.strip_prefix("model name"))
            .map(|v| v.trim_start_matches([' ', '\t', ':']).trim().to_owned())
            .unwrap_or_default();
        let load = read("/proc/loadavg");
        Machine {
            cores: std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
            memory_mib: memory_kib / 1024,
            cpu_model,
            kernel: read("/proc/sys/kernel/osrelease").trim().to_owned(),
            load_average: load
                .split_whitespace()
                .take(3)
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

//! Raising the open-file limit: every pending request holds a relying-party connection in the
//! bench and one in the server, so 100,000 of them need far more than the usual 1,024 or 20,000
//! descriptors. A server child inherits the raised limit.

use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};

/// Raises the soft limit on open files to `wanted` (or the hard limit, raising that too when
/// the process may); returns the soft limit now in force.
pub fn raise_open_files(wanted: u64) -> u64 {
    let current = getrlimit(Resource::Nofile);
    let soft = current.current.unwrap_or(u64::MAX);
    if soft >= wanted {
        return soft;
    }
    // Root may raise the hard limit up to fs.nr_open; others stop at the hard limit.
    let raised = Rlimit {
        current: Some(wanted),
        maximum: Some(wanted.max(current.maximum.unwrap_or(0))),
    };
    if setrlimit(Resource::Nofile, raised).is_ok() {
        return wanted;
    }
    let hard = current.maximum.unwrap_or(u64::MAX).min(wanted);
    let within = Rlimit {
        current: Some(hard),
        maximum: current.maximum,
    };
    if setrlimit(Resource::Nofile, within).is_ok() {
        return hard;
    }
    soft
}

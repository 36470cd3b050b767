//! The open-file limit. Every connection holds a descriptor, and many systems start services
//! with a soft limit of 1,024 while allowing far more: the soft limit is raised to the hard one
//! at start, so the connection caps, not `Too many open files`, decide what is refused.

/// Raises the soft limit on open files to the hard limit, logs what it did, and returns the
/// soft limit now in force (`None` where it cannot be read, or is unlimited).
pub(crate) fn raise_to_hard_limit() -> Option<u64> {
    #[cfg(unix)]
    {
        use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
        let before = getrlimit(Resource::Nofile);
        if before.current == before.maximum {
            tracing::info!(
                soft = before.current,
                "the open-file limit is already at its hard limit"
            );
            return before.current;
        }
        let raised = Rlimit {
            current: before.maximum,
            maximum: before.maximum,
        };
        match setrlimit(Resource::Nofile, raised) {
            Ok(()) => {
                let after = getrlimit(Resource::Nofile);
                tracing::info!(
                    from = before.current,
                    to = after.current,
                    "raised the open-file limit to its hard limit"
                );
                after.current
            }
            Err(e) => {
                tracing::warn!(
                    soft = before.current,
                    hard = before.maximum,
                    error = %e,
                    "could not raise the open-file limit; connections are capped below it"
                );
                before.current
            }
        }
    }
    #[cfg(not(unix))]
    {
        None
    }
}

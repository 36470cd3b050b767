//! One process at a time writes a database. Wake-ups (a new request for a device's stream, an
//! answer for a relying party's wait) travel inside the process that wrote the change, so two
//! servers started on one SQLite file would each accept requests and each miss the other's:
//! devices would not hear of requests, waits would run to their timeout. The store therefore
//! holds an exclusive lock on a file beside the database for as long as it can write; a second
//! writer is refused with an error that says why. Several nodes share PostgreSQL instead.

use assent_core::StoreError;
use std::fs::{File, OpenOptions, TryLockError};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// How long opening waits for the lock: long enough for a store of this same process that is
/// shutting down (its writer thread lets go when its last job is done) to release it.
const PATIENCE: Duration = Duration::from_secs(5);
/// Pause between attempts.
const RETRY: Duration = Duration::from_millis(25);

/// The held lock; dropping it (or the process ending, however it ends) releases it.
#[derive(Debug)]
pub(crate) struct Ownership {
    _file: File,
}

/// The lock file of the database at `database`: its name with `-lock` appended, beside the
/// `-wal` and `-shm` files SQLite keeps.
pub(crate) fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push("-lock");
    PathBuf::from(name)
}

/// Takes the database's lock, waiting up to [`PATIENCE`] for a store that is closing.
pub(crate) fn acquire(database: &Path) -> Result<Ownership, StoreError> {
    let path = lock_path(database);
    let file = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(|e| StoreError::Backend(format!("cannot open {}: {e}", path.display())))?;
    let deadline = Instant::now() + PATIENCE;
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(Ownership { _file: file }),
            Err(TryLockError::WouldBlock) if Instant::now() < deadline => {
                std::thread::sleep(RETRY);
            }
            Err(TryLockError::WouldBlock) => {
                return Err(StoreError::Backend(format!(
                    "{} is in use by another Assent server (it holds {}); two servers on one \
                     SQLite database would not hear of each other's requests and answers. Stop \
                     the other one, or share a PostgreSQL database between nodes",
                    database.display(),
                    path.display()
                )));
            }
            Err(TryLockError::Error(e)) => {
                return Err(StoreError::Backend(format!(
                    "cannot lock {}: {e}",
                    path.display()
                )));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_owner_is_refused_until_the_first_lets_go() {
        let dir = tempfile::tempdir().unwrap();
        let database = dir.path().join("assent.db");
        let first = acquire(&database).unwrap();
        let started = Instant::now();
        let refused = acquire(&database).unwrap_err().to_string();
        assert!(
            started.elapsed() >= PATIENCE,
            "it waited for the owner first"
        );
        assert!(
            refused.contains("in use by another Assent server"),
            "{refused}"
        );
        assert!(refused.contains("assent.db-lock"), "{refused}");
        drop(first);
        acquire(&database).expect("free once the owner let go");
    }
}

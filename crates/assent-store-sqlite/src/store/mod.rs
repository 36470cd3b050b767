//! [`Store`](assent_core::Store) on SQLite: the handle, how it opens the database, and how reads
//! and writes reach their connections. Each capability of the port is implemented in its own
//! file.

mod access;
mod alerts;
pub(crate) mod approvals;
mod audit;
mod broadcasts;
pub(crate) mod ciba;
mod console;
pub(crate) mod devices;
mod duo;
mod enrollments;
mod factors;
pub(crate) mod groups;
mod identity;
mod passkeys;
mod pushes;
pub(crate) mod signals;
mod webhooks;

use crate::connection::{backend, migrate, open, schema_version};
use crate::memo::Memo;
use crate::owner;
use crate::rows;
use crate::writer::Writer;
use assent_core::StoreError;
use assent_core::audit::PendingAudit;
use assent_core::ids::DeviceId;
use assent_core::model::Device;
use audit::append_audit;
use rusqlite::{Connection, OptionalExtension};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

/// Point-read connections kept open: one per async thread is what is ever in use at once; the
/// margin covers reads made from blocking threads.
const MAX_IDLE_INLINE_READERS: usize = 16;

/// Heavy-read connections, all kept open. Heavy reads beyond this many wait for a free connection rather
/// than open a new one: opening a connection (pragmas, parsing the schema) costs more than a
/// read, and a fixed set bounds the threads reads occupy. Eight keeps two cores busy while some
/// reads wait on the disk.
const READERS: usize = 8;

/// The SQLite store. Cheap to clone; all clones share the writer thread and the readers.
#[derive(Clone)]
pub struct SqliteStore {
    /// `None` for a store opened read-only.
    writer: Option<Writer>,
    readers: Arc<Readers>,
    memo: Arc<Memo>,
    /// Users' prompt turns: one process owns the database, so a lock of this process is a lock
    /// for every writer there is.
    turns: Arc<assent_core::store::KeyedGate>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.readers.path)
            .finish_non_exhaustive()
    }
}

impl Readers {
    fn new(path: &Path, read_only: bool) -> Arc<Self> {
        Arc::new(Readers {
            path: path.to_owned(),
            idle: Mutex::new(Vec::new()),
            heavy: Mutex::new(Vec::with_capacity(READERS)),
            permits: Arc::new(tokio::sync::Semaphore::new(READERS)),
            read_only,
        })
    }

    /// A new reader connection; for a read-only store, one that refuses to write
    /// (`query_only`).
    fn connect(&self) -> Result<Connection, StoreError> {
        let conn = open(&self.path)?;
        if self.read_only {
            conn.pragma_update(None, "query_only", true)
                .map_err(backend)?;
        }
        Ok(conn)
    }
}

struct Readers {
    path: PathBuf,
    /// Connections for point reads on the async threads.
    idle: Mutex<Vec<Connection>>,
    /// Connections for heavy reads in the blocking pool.
    heavy: Mutex<Vec<Connection>>,
    /// One permit per reader connection.
    permits: Arc<tokio::sync::Semaphore>,
    /// Set for a store opened read-only.
    read_only: bool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and brings its schema up to date. The
    /// store owns the database until it is dropped: another process (or another store in this
    /// one) that opens it meanwhile is refused, after waiting a few seconds for a store that is
    /// closing (see [`crate::owner`]).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        let ownership = owner::acquire(path)?;
        let mut conn = open(path)?;
        migrate(&mut conn)?;
        Ok(SqliteStore {
            writer: Some(Writer::spawn(conn, ownership)?),
            readers: Readers::new(path, false),
            memo: Arc::default(),
            turns: Arc::default(),
        })
    }

    /// Opens an existing database to read it only, beside the server that owns it (checking the
    /// audit chain of a running server): no lock, no migration, and every write fails.
    pub fn open_read_only(path: &Path) -> Result<Self, StoreError> {
        if !path.is_file() {
            return Err(StoreError::Backend(format!(
                "no database at {}",
                path.display()
            )));
        }
        schema_version(&open(path)?)?;
        Ok(SqliteStore {
            writer: None,
            readers: Readers::new(path, true),
            memo: Arc::default(),
            turns: Arc::default(),
        })
    }

    /// A point read (a row or a handful, by key), run on the calling thread. Such a read takes
    /// microseconds on pages SQLite or the OS already hold, far less than handing it to another
    /// thread and waking the caller again, which cost a third of the server's CPU when every read
    /// went through the blocking pool. At most one read runs on a thread at a time, so the
    /// connections in use never outnumber the runtime's threads.
    async fn read<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let idle = self
            .readers
            .idle
            .lock()
            .ok()
            .and_then(|mut idle| idle.pop());
        let conn = match idle {
            Some(conn) => conn,
            None => self.readers.connect()?,
        };
        let result = f(&conn).map_err(backend);
        if let Ok(mut idle) = self.readers.idle.lock()
            && idle.len() < MAX_IDLE_INLINE_READERS
        {
            idle.push(conn);
        }
        result
    }

    /// A read that may scan many rows (lists, history, audit pages): off the async threads, on
    /// one of a fixed set of connections.
    async fn read_heavy<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> rusqlite::Result<R> + Send + 'static,
    {
        let readers = self.readers.clone();
        let permit = readers
            .permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Backend("the reader pool is closed".into()))?;
        tokio::task::spawn_blocking(move || {
            let idle = readers.heavy.lock().ok().and_then(|mut idle| idle.pop());
            let conn = match idle {
                Some(conn) => conn,
                None => readers.connect()?,
            };
            let result = f(&conn).map_err(backend);
            // Holding a permit, this task owns one of at most READERS connections, so the
            // connection always goes back for the next read.
            if let Ok(mut idle) = readers.heavy.lock() {
                idle.push(conn);
            }
            drop(permit);
            result
        })
        .await
        .map_err(|e| StoreError::Backend(format!("read task failed: {e}")))?
    }

    async fn write<R, F>(&self, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        self.write_then(f, |_| {}).await
    }

    /// A write followed, on the writer thread after its commit, by `after` (see [`memo`]).
    async fn write_then<R, F, A>(&self, f: F, after: A) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        A: FnOnce(&Result<R, StoreError>) + Send + 'static,
    {
        match &self.writer {
            Some(writer) => writer.write_then(f, after).await,
            None => Err(StoreError::Backend(
                "this store was opened read-only".into(),
            )),
        }
    }

    /// A write that may change device `id`, which the memory forgets after the commit.
    async fn write_device<R, F>(&self, id: DeviceId, f: F) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
    {
        let memo = self.memo.clone();
        self.write_then(f, move |_| memo.forget_device(&id)).await
    }

    /// A device by a unique column, from memory or else read and remembered.
    async fn device_where(
        &self,
        column: &'static str,
        key: String,
        remembered: Option<Device>,
    ) -> Result<Option<Device>, StoreError> {
        if remembered.is_some() {
            return Ok(remembered);
        }
        let ticket = self.memo.ticket();
        let sql = format!(
            "SELECT {} FROM devices WHERE {column} = ?1",
            rows::DEVICE_COLUMNS
        );
        let found = self.one(sql, key, rows::device).await?;
        if let Some(device) = &found {
            self.memo.keep_device(ticket, device);
        }
        Ok(found)
    }

    async fn one<R, F>(&self, sql: String, param: String, map: F) -> Result<Option<R>, StoreError>
    where
        R: Send + 'static,
        F: Fn(&rusqlite::Row<'_>) -> rusqlite::Result<R> + Send + 'static,
    {
        self.read(move |c| c.prepare_cached(&sql)?.query_row([param], map).optional())
            .await
    }
}

/// Runs one conditional write ("only if still ...") and appends its audit row only when it
/// changed exactly one row; `false` when the condition no longer held and nothing was written.
fn change_once(
    c: &Connection,
    sql: &str,
    params: impl rusqlite::Params,
    audit: &PendingAudit,
) -> Result<bool, StoreError> {
    let changed = c
        .prepare_cached(sql)
        .and_then(|mut s| s.execute(params))
        .map_err(backend)?;
    if changed == 1 {
        append_audit(c, audit)?;
    }
    Ok(changed == 1)
}

//! The single writer: jobs arrive on a channel; whatever has queued up while the previous
//! transaction committed runs in the next one, each job in its own savepoint so a failing job
//! rolls back alone. Results are released only after the commit, so nothing is acknowledged
//! that is not durable.

use crate::connection::backend;
use crate::owner::Ownership;
use assent_core::StoreError;
use rusqlite::Connection;
use std::sync::mpsc;

/// What the writer calls after the transaction's commit, with its result: the job's own
/// after-commit work, which returns how to answer the job's caller.
pub(crate) type Completion = Box<dyn FnOnce(Result<(), StoreError>) -> Reply + Send>;
/// Answers a job's caller.
pub(crate) type Reply = Box<dyn FnOnce() + Send>;
/// One unit of work: runs inside a savepoint; `true` keeps its changes.
pub(crate) type Job = Box<dyn FnOnce(&Connection) -> (bool, Completion) + Send>;

/// Most jobs grouped into one transaction.
const MAX_BATCH: usize = 256;

/// Handle to the writer thread; the thread ends when the last handle is dropped.
#[derive(Clone)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    /// Starts the writer thread on `conn`. The thread keeps `ownership` of the database until
    /// it ends, which is when the last handle is dropped and every queued job is done.
    pub(crate) fn spawn(conn: Connection, ownership: Ownership) -> Result<Self, StoreError> {
        let (jobs, queue) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("assent-sqlite-writer".into())
            .spawn(move || {
                run(conn, queue);
                drop(ownership);
            })
            .map_err(|e| StoreError::Backend(format!("cannot start the writer thread: {e}")))?;
        Ok(Writer { jobs })
    }

    /// Runs `f` in the next transaction and returns its result once that transaction committed.
    /// Before that, on the writer thread once the commit was attempted, it calls `after` with
    /// `f`'s result: what a write changed is forgotten there (see [`crate::memo`]), where no
    /// cancelled caller can skip it.
    pub(crate) async fn write_then<R, F, A>(&self, f: F, after: A) -> Result<R, StoreError>
    where
        R: Send + 'static,
        F: FnOnce(&Connection) -> Result<R, StoreError> + Send + 'static,
        A: FnOnce(&Result<R, StoreError>) + Send + 'static,
    {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move |conn| {
            let result = f(conn);
            let keep = result.is_ok();
            let completion: Completion = Box::new(move |commit| {
                after(&result);
                Box::new(move || {
                    let _ = tx.send(commit.and(result));
                })
            });
            (keep, completion)
        });
        self.jobs
            .send(job)
            .map_err(|_| StoreError::Backend("the writer thread has stopped".into()))?;
        rx.await
            .map_err(|_| StoreError::Backend("the writer thread has stopped".into()))?
    }
}

fn run(mut conn: Connection, queue: mpsc::Receiver<Job>) {
    while let Ok(first) = queue.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match queue.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        let (completions, commit) = run_batch(&mut conn, batch);
        // The batch's transaction, its jobs and the commit (the fsync): what a write waits for.
        metrics::histogram!(assent_core::measures::STORE_COMMIT_SECONDS, "backend" => "sqlite")
            .record(started.elapsed().as_secs_f64());
        // Every job's after-commit work first, then the answers: no caller hears of its write
        // while the memory still holds a row another job of the batch changed.
        let replies: Vec<Reply> = completions
            .into_iter()
            .map(|completion| completion(commit.clone()))
            .collect();
        for reply in replies {
            reply();
        }
    }
}

fn run_batch(conn: &mut Connection, batch: Vec<Job>) -> (Vec<Completion>, Result<(), StoreError>) {
    let mut completions = Vec::with_capacity(batch.len());
    let mut tx = match conn.transaction() {
        Ok(tx) => tx,
        // Dropping the jobs drops their reply channels: each caller gets an error.
        Err(e) => return (completions, Err(backend(e))),
    };
    for job in batch {
        let Ok(sp) = tx.savepoint() else { continue };
        let (keep, completion) = job(&sp);
        let closed = if keep { sp.commit() } else { sp.finish() };
        if let Err(e) = closed {
            tracing::error!(error = %e, "savepoint failed");
        }
        completions.push(completion);
    }
    let commit = tx.commit().map_err(backend);
    if let Err(e) = &commit {
        tracing::error!(error = %e, "commit failed; every write in the batch is reported as failed");
    }
    (completions, commit)
}

//! The Argon2id workers: a few threads, each hashing in one memory area that it allocates on its
//! first hash and reuses for every later one, so password-style hashing holds a bounded amount
//! of memory however many requests arrive at once.
//!
//! Why not a fresh allocation per hash on the blocking pool: each Argon2id hash needs 19 MiB.
//! glibc's malloc serves such a block from the calling thread's arena once it has freed one
//! (the free raises its mmap threshold), and keeps what is freed in that arena; the blocking pool
//! runs work on many threads, hence many arenas. Three recovery-code sets took a server from 23
//! to 218 MB, and bursts to about 550 MB, none of it given back. Here the memory is allocated
//! once per worker and never freed while the server runs: at most [`HashPool::memory_bound`].

use crate::error::CoreError;
use argon2::{Algorithm, Argon2, Block, Params, Version};
use std::sync::{Arc, Mutex, PoisonError};
use tokio::sync::{mpsc, oneshot};

/// The most workers, whatever the number of cores: the memory bound is this many areas.
const MAX_WORKERS: usize = 4;

/// Hashes waiting for a worker before callers wait to hand in theirs.
const QUEUE: usize = 64;

/// One worker's Argon2 memory, reused from hash to hash.
#[derive(Debug, Default)]
pub struct HashMemory {
    blocks: Vec<Block>,
}

impl HashMemory {
    /// Argon2 of `password` and `salt` into `out`, in this memory. It grows to what `params`
    /// need the first time (every block is written before it is read, so what an earlier hash
    /// left in it changes nothing).
    pub fn hash(
        &mut self,
        algorithm: Algorithm,
        version: Version,
        params: Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> Result<(), CoreError> {
        let needed = params.block_count();
        if self.blocks.len() < needed {
            self.blocks = vec![Block::default(); needed];
        }
        Argon2::new(algorithm, version, params)
            .hash_password_into_with_memory(password, salt, out, &mut self.blocks[..])
            .map_err(|e| CoreError::Internal(format!("argon2: {e}")))
    }
}

type Job = Box<dyn FnOnce(&mut HashMemory) + Send>;

/// The workers, fed through a bounded queue.
#[derive(Debug)]
pub struct HashPool {
    jobs: mpsc::Sender<Job>,
    workers: usize,
}

impl HashPool {
    /// One worker per core, at most [`MAX_WORKERS`].
    pub fn new() -> Self {
        let workers = std::thread::available_parallelism()
            .map_or(1, std::num::NonZero::get)
            .clamp(1, MAX_WORKERS);
        Self::with_workers(workers)
    }

    /// `workers` threads that live as long as the pool; a worker that cannot be started is left
    /// out (with none, every hash fails rather than waits).
    pub fn with_workers(workers: usize) -> Self {
        let (jobs, queue) = mpsc::channel::<Job>(QUEUE);
        let queue = Arc::new(Mutex::new(queue));
        let started = (0..workers)
            .filter(|i| {
                let queue = Arc::clone(&queue);
                std::thread::Builder::new()
                    .name(format!("assent-hash-{i}"))
                    .spawn(move || work(&queue))
                    .map_err(|e| tracing::error!(error = %e, "a hashing worker did not start"))
                    .is_ok()
            })
            .count();
        HashPool {
            jobs,
            workers: started,
        }
    }

    /// The most memory the workers hold for hashes with `params`: one area per worker.
    pub fn memory_bound(&self, params: &Params) -> usize {
        self.workers * params.block_count() * Block::SIZE
    }

    /// Runs `job` on a worker, with that worker's memory, and returns what it returned.
    pub async fn run<R: Send + 'static>(
        &self,
        job: impl FnOnce(&mut HashMemory) -> R + Send + 'static,
    ) -> Result<R, CoreError> {
        let (done, result) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = done.send(job(memory));
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| CoreError::Internal("no hashing worker is running".into()))?;
        result
            .await
            .map_err(|_| CoreError::Internal("a hashing worker failed".into()))
    }
}

impl Default for HashPool {
    fn default() -> Self {
        Self::new()
    }
}

/// A worker: takes jobs until the pool is dropped. A job that panics is dropped (its caller gets
/// an error) and the worker goes on with the same memory.
fn work(queue: &Mutex<mpsc::Receiver<Job>>) {
    let mut memory = HashMemory::default();
    loop {
        let job = queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .blocking_recv();
        let Some(job) = job else { return };
        let run = std::panic::AssertUnwindSafe(|| job(&mut memory));
        if std::panic::catch_unwind(run).is_err() {
            tracing::error!("a hashing job panicked");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small hash in the worker's memory: which worker, where its memory is, how large.
    fn small_hash(memory: &mut HashMemory) -> (Option<String>, usize, usize) {
        let params = Params::new(64, 1, 1, None).unwrap();
        let mut out = [0u8; 32];
        memory
            .hash(
                Algorithm::Argon2id,
                Version::V0x13,
                params,
                b"code",
                b"saltsalt",
                &mut out,
            )
            .unwrap();
        let name = std::thread::current().name().map(str::to_owned);
        (name, memory.blocks.as_ptr() as usize, memory.blocks.len())
    }

    #[tokio::test]
    async fn jobs_run_on_the_workers_and_reuse_their_memory() {
        let pool = Arc::new(HashPool::with_workers(2));
        let params = Params::new(64, 1, 1, None).unwrap();
        assert_eq!(pool.memory_bound(&params), 2 * 64 * 1024);
        let mut runs = tokio::task::JoinSet::new();
        for _ in 0..16 {
            let pool = Arc::clone(&pool);
            runs.spawn(async move { pool.run(small_hash).await });
        }
        let mut areas = std::collections::HashMap::new();
        for run in runs.join_all().await {
            let (name, area, len) = run.unwrap();
            let name = name.unwrap();
            assert!(name.starts_with("assent-hash-"), "{name}");
            // Grown once, to what the parameters need, then the same area each time.
            assert_eq!(len, 64);
            assert_eq!(*areas.entry(name).or_insert(area), area);
        }
        assert!(areas.len() <= 2);
    }

    #[tokio::test]
    async fn a_panicking_job_fails_its_caller_and_not_the_worker() {
        let pool = HashPool::with_workers(1);
        let failed = pool.run(|_| -> u8 { panic!("boom") }).await;
        assert!(failed.is_err());
        assert_eq!(pool.run(|_| 7u8).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn without_workers_a_hash_fails_rather_than_waits() {
        let pool = HashPool::with_workers(0);
        assert!(pool.run(|_| ()).await.is_err());
    }
}

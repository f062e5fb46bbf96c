//! The bounded pool the password grant's argon2id verifications run in.
//!
//! A verification costs ~20 ms of a core by design. Unbounded, a flood of
//! password grants would take every core and slow the client credentials
//! grant, which does no such work. Here at most `concurrency` run at once
//! (fewer than the machine's cores, so one is always left for cheap
//! requests), at most `max_waiting` more queue, and the rest are told to
//! come back (429) at once instead of piling up.

use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::{Error, Result};

/// The queue behind each running verification: a second or so of work.
const QUEUED_PER_WORKER: usize = 32;

/// The pool; one per process, held by the services.
#[derive(Debug)]
pub struct PasswordWork {
    running: Semaphore,
    waiting: AtomicUsize,
    max_waiting: usize,
}

/// Returns its queue place when dropped, however the wait ended.
struct QueuePlace<'a>(&'a AtomicUsize);

impl Drop for QueuePlace<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

/// The pool for this machine: half its cores (at least one) verify.
pub(crate) fn password_work_for_this_machine() -> PasswordWork {
    let cores = std::thread::available_parallelism().map_or(2, std::num::NonZeroUsize::get);
    let workers = (cores / 2).max(1);
    PasswordWork::new(workers, workers * QUEUED_PER_WORKER)
}

impl PasswordWork {
    pub fn new(concurrency: usize, max_waiting: usize) -> Self {
        Self { running: Semaphore::new(concurrency.max(1)), waiting: AtomicUsize::new(0), max_waiting }
    }

    /// Runs `work` on the blocking pool once a worker is free; `Busy` when
    /// the queue is full.
    pub(crate) async fn run<T: Send + 'static>(&self, work: impl FnOnce() -> T + Send + 'static) -> Result<T> {
        let permit = match self.running.try_acquire() {
            Ok(permit) => permit,
            Err(_) => {
                let place = QueuePlace(&self.waiting);
                if self.waiting.fetch_add(1, Ordering::AcqRel) >= self.max_waiting {
                    drop(place);
                    return Err(Error::Busy);
                }
                let permit = self.running.acquire().await.map_err(Error::internal)?;
                drop(place);
                permit
            }
        };
        let result = tokio::task::spawn_blocking(work).await.map_err(Error::internal);
        drop(permit);
        result
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::Duration;

    use super::*;

    #[tokio::test]
    async fn work_beyond_the_queue_is_refused_at_once_and_the_rest_completes() {
        let pool = Arc::new(PasswordWork::new(1, 2));
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let gate = Arc::new(std::sync::Mutex::new(gate));
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let pool = pool.clone();
            let gate = gate.clone();
            tasks.push(tokio::spawn(async move {
                pool.run(move || gate.lock().map(|gate| gate.recv().is_ok()).unwrap_or(false)).await
            }));
        }
        // One runs, two wait: the queue is full.
        tokio::time::sleep(Duration::from_millis(100)).await;
        assert!(matches!(pool.run(|| true).await, Err(Error::Busy)));
        for _ in 0..3 {
            release.send(()).unwrap();
        }
        for task in tasks {
            assert!(task.await.unwrap().unwrap());
        }
        assert!(pool.run(|| true).await.unwrap(), "the queue is free again");
    }
}

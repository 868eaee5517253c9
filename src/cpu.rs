//! [`CpuPool`]: where the CPU-heavy steps of reads and writes run (encoding and
//! decoding Parquet, splitting batches by partition, sorting), so that they never hold
//! a worker of the caller's async runtime, and how many threads they may use at most.
//!
//! A pool is a fixed set of threads (a `rayon` pool: work-stealing, so a step that
//! fans out, such as the columns of a row group, uses the same threads). Async code
//! hands a step to it with [`CpuPool::run`] and awaits the result; the step itself never
//! waits on IO. By default every engine of a process shares one pool with a thread per
//! core, so the cap holds however many engines and writes there are.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock, PoisonError};

use crate::error::{Error, Result};

/// A bounded pool of threads for CPU work, shared by clones.
#[derive(Clone)]
pub(crate) struct CpuPool {
    inner: Pool,
}

#[derive(Clone)]
enum Pool {
    /// The process-wide pool, made on first use.
    Shared,
    /// A pool of the engine's own.
    Own(Arc<rayon::ThreadPool>),
}

/// The process-wide pool; `Err` if its threads could not be started.
static SHARED: OnceLock<std::result::Result<Arc<rayon::ThreadPool>, String>> = OnceLock::new();

/// Threads of the process-wide pool: one per core.
pub(crate) fn default_threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn build(threads: usize) -> std::result::Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("parquet-storage-cpu-{i}"))
        .build()
}

impl CpuPool {
    /// The process-wide pool.
    pub(crate) fn shared() -> Self {
        CpuPool {
            inner: Pool::Shared,
        }
    }

    /// A pool of `threads` threads of its own.
    pub(crate) fn with_threads(threads: usize) -> Result<Self> {
        if threads == 0 {
            return Err(Error::config("the CPU pool needs at least one thread"));
        }
        let pool = build(threads).map_err(|e| Error::Config {
            message: format!("starting {threads} CPU threads"),
            source: Some(Box::new(e)),
        })?;
        Ok(CpuPool {
            inner: Pool::Own(Arc::new(pool)),
        })
    }

    fn pool(&self) -> Result<&rayon::ThreadPool> {
        match &self.inner {
            Pool::Own(pool) => Ok(pool),
            Pool::Shared => SHARED
                .get_or_init(|| {
                    build(default_threads())
                        .map(Arc::new)
                        .map_err(|e| e.to_string())
                })
                .as_deref()
                .map_err(|e| Error::Config {
                    message: "starting the shared CPU pool".into(),
                    source: Some(e.clone().into()),
                }),
        }
    }

    /// The threads the pool has.
    pub(crate) fn threads(&self) -> usize {
        match &self.inner {
            Pool::Own(pool) => pool.current_num_threads(),
            Pool::Shared => self
                .pool()
                .map_or_else(|_| default_threads(), |p| p.current_num_threads()),
        }
    }

    /// Runs `step` on the pool and waits for it without blocking the calling thread. A
    /// step that panics is an [`Error::Internal`] here, not a crash of the service.
    pub(crate) async fn run<R: Send + 'static>(
        &self,
        step: impl FnOnce() -> R + Send + 'static,
    ) -> Result<R> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.pool()?.spawn(move || {
            let outcome = std::panic::catch_unwind(AssertUnwindSafe(step));
            let _ = tx.send(outcome);
        });
        match rx.await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(panic)) => Err(Error::internal(format!(
                "a CPU step panicked: {}",
                panic_message(panic.as_ref())
            ))),
            Err(_) => Err(Error::internal("a CPU step was dropped before it ran")),
        }
    }
}

impl std::fmt::Debug for CpuPool {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.inner {
            Pool::Shared => "shared",
            Pool::Own(_) => "own",
        };
        f.debug_struct("CpuPool")
            .field("pool", &kind)
            .field("threads", &self.threads())
            .finish()
    }
}

/// Runs `work` on each item, on up to `threads` threads of the pool the caller runs on
/// (a step of [`CpuPool::run`]), and gives the results in the items' order. Each thread
/// takes the next item when it is free, so a few heavy items (wide text columns) do not
/// leave one thread idle while another works through a fixed half. After the first
/// error no item is started, and that error is returned.
pub(crate) fn map_in_parallel<T: Send, R: Send, E: Send>(
    items: Vec<T>,
    threads: usize,
    work: impl Fn(T) -> std::result::Result<R, E> + Sync + Send,
) -> std::result::Result<Vec<R>, E> {
    let threads = threads.min(items.len());
    if threads <= 1 {
        return items.into_iter().map(work).collect();
    }
    let count = items.len();
    let queue = Mutex::new(items.into_iter().enumerate());
    let done: Mutex<Vec<Option<R>>> = Mutex::new((0..count).map(|_| None).collect());
    let failure: Mutex<Option<E>> = Mutex::new(None);
    let failed = AtomicBool::new(false);
    let run = || {
        while !failed.load(Ordering::Relaxed) {
            let next = queue.lock().unwrap_or_else(PoisonError::into_inner).next();
            let Some((index, item)) = next else { break };
            match work(item) {
                Ok(result) => {
                    done.lock().unwrap_or_else(PoisonError::into_inner)[index] = Some(result);
                }
                Err(e) => {
                    failed.store(true, Ordering::Relaxed);
                    failure
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .get_or_insert(e);
                }
            }
        }
    };
    rayon::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(|_| run());
        }
        run();
    });
    if let Some(e) = failure.into_inner().unwrap_or_else(PoisonError::into_inner) {
        return Err(e);
    }
    // No failure: every item was taken and done.
    Ok(done
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner)
        .into_iter()
        .flatten()
        .collect())
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "(no message)".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn steps_run_on_the_pool_and_panics_become_errors() {
        let pool = CpuPool::with_threads(2).unwrap();
        let name = pool
            .run(|| std::thread::current().name().map(str::to_string))
            .await
            .unwrap();
        assert!(name.is_some_and(|n| n.starts_with("parquet-storage-cpu-")));
        let err = pool.run(|| -> () { panic!("boom") }).await.unwrap_err();
        assert!(matches!(&err, Error::Internal { message } if message.contains("boom")));
        assert!(CpuPool::with_threads(0).is_err());
    }

    #[tokio::test(flavor = "current_thread")]
    async fn parallel_work_keeps_order_and_uses_at_most_the_pool() {
        let pool = CpuPool::with_threads(3).unwrap();
        let (squares, threads) = pool
            .run(|| {
                let seen = std::sync::Mutex::new(std::collections::BTreeSet::new());
                let squares = map_in_parallel((0..1000u64).collect(), 8, |i| {
                    seen.lock()
                        .unwrap()
                        .insert(std::thread::current().name().map(str::to_string));
                    Ok::<_, String>(i * i)
                });
                (squares, seen.into_inner().unwrap())
            })
            .await
            .unwrap();
        assert_eq!(
            squares.unwrap(),
            (0..1000u64).map(|i| i * i).collect::<Vec<_>>()
        );
        assert!(threads.len() <= 3, "{threads:?}");
        assert!(threads.iter().all(|n| {
            n.as_deref()
                .is_some_and(|n| n.starts_with("parquet-storage-cpu-"))
        }));
        let failed = pool
            .run(|| {
                map_in_parallel((0..1000u64).collect(), 3, |i| {
                    if i == 500 { Err("item 500") } else { Ok(i) }
                })
            })
            .await
            .unwrap();
        assert_eq!(failed, Err("item 500"));
    }
}

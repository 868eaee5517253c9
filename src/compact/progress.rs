//! Progress of a run: a snapshot handed to the caller's callback after every file, and
//! the same numbers as `tracing` events (target `parquet_storage::compact`).

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Which pass a run is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Phase {
    /// Reading every file once to infer the schema (only without a given schema).
    Infer,
    /// Reading and decoding every file: written as decoded, or, with
    /// `Compaction::with_spill_dir`, spilled while the schema is inferred.
    Compact,
    /// Writing the spilled rows in the inferred schema; files count as their rows are
    /// written.
    Write,
    /// Finished: the output is written and the numbers are final.
    Done,
}

/// A snapshot of a run.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Progress {
    /// The pass.
    pub phase: Phase,
    /// Files finished in this pass.
    pub files_done: usize,
    /// Files in the run.
    pub files_total: usize,
    /// Lines read in this pass (blank lines aside).
    pub rows: u64,
    /// Lines rejected so far.
    pub rows_rejected: u64,
    /// Stored (compressed) bytes of the finished files of this pass.
    pub bytes_in: u64,
    /// Decompressed JSON bytes of this pass.
    pub bytes_json: u64,
    /// Parquet bytes written; known when the run is [`Phase::Done`], zero before.
    pub bytes_out: u64,
    /// Time since the run started.
    pub elapsed: Duration,
}

impl Progress {
    /// Rows per second over the run so far.
    pub fn rows_per_second(&self) -> f64 {
        per_second(self.rows as f64, self.elapsed)
    }

    /// Stored bytes per second over the run so far.
    pub fn bytes_per_second(&self) -> f64 {
        per_second(self.bytes_in as f64, self.elapsed)
    }
}

fn per_second(amount: f64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    if seconds > 0.0 { amount / seconds } else { 0.0 }
}

/// The user's callback.
pub(crate) type Callback = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Keeps the running numbers and reports them.
pub(crate) struct Reporter {
    callback: Option<Callback>,
    started: Instant,
    pub(crate) progress: Progress,
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("progress", &self.progress)
            .finish_non_exhaustive()
    }
}

impl Reporter {
    pub(crate) fn new(callback: Option<Callback>, started: Instant, files_total: usize) -> Self {
        Reporter {
            callback,
            started,
            progress: Progress {
                phase: Phase::Infer,
                files_done: 0,
                files_total,
                rows: 0,
                rows_rejected: 0,
                bytes_in: 0,
                bytes_json: 0,
                bytes_out: 0,
                elapsed: Duration::ZERO,
            },
        }
    }

    /// Starts a pass: the per-pass counters go back to zero.
    pub(crate) fn phase(&mut self, phase: Phase) {
        let p = &mut self.progress;
        p.phase = phase;
        if phase != Phase::Done {
            p.files_done = 0;
            p.rows = 0;
            p.bytes_in = 0;
            p.bytes_json = 0;
        }
    }

    /// Reports the current numbers.
    pub(crate) fn report(&mut self) {
        self.progress.elapsed = self.started.elapsed();
        let p = &self.progress;
        tracing::debug!(
            target: "parquet_storage::compact",
            phase = ?p.phase,
            files_done = p.files_done,
            files_total = p.files_total,
            rows = p.rows,
            rows_rejected = p.rows_rejected,
            bytes_in = p.bytes_in,
            bytes_out = p.bytes_out,
            rows_per_second = p.rows_per_second(),
            "compaction progress"
        );
        if let Some(callback) = &self.callback {
            callback(p);
        }
    }
}

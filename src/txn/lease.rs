//! One run at a time per table: a lease, held while a compaction changes the table.
//!
//! The lease is a sequence of create-only records, `{table}/_lease/{generation}.json`,
//! each naming its holder, the change it makes and when it
//! expires. The newest record is the lease. To take it, a run creates the next
//! generation; it may do so only when the newest record has expired or was released,
//! and the create-only put decides between two runs that try at once. The holder
//! renews it by creating the next generation again, well before it expires; if that
//! put finds the generation taken, another run took the lease over (this one stalled
//! past its expiry) and this run must not commit. Create-only puts work the same on S3,
//! local disk and memory, so the lease needs nothing else of the store.
//!
//! Clocks: a record's expiry is the holder's wall clock plus the time to live; the
//! other runs compare it with theirs, so clocks must agree to well within the time to
//! live (a minute by default).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use object_store::path::Path;
use object_store::{ObjectStoreExt, PutMode, PutOptions, PutPayload};
use serde::{Deserialize, Serialize};

use super::{delete_all, list_all};
use crate::backend::Backend;
use crate::error::{Error, Result};
use crate::layout;
use crate::naming::TablePath;

/// Hidden directory, in the table, of the lease records.
pub const LEASE_DIR: &str = "_lease";

/// How long a lease lasts unless renewed (by default).
pub const DEFAULT_LEASE_TTL: Duration = Duration::from_secs(60);

/// How a run takes a table's lease: how long it lasts unless renewed, and how long to
/// wait for another run's lease before giving up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaseSettings {
    /// Time to live of a record; the holder renews it every third of that.
    pub ttl: Duration,
    /// How long to wait for a held lease (zero: fail at once with
    /// [`Error::LeaseHeld`]).
    pub wait: Duration,
}

impl Default for LeaseSettings {
    fn default() -> Self {
        LeaseSettings {
            ttl: DEFAULT_LEASE_TTL,
            wait: Duration::ZERO,
        }
    }
}

/// One lease record.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    /// Who holds it: a fresh id per run.
    owner: String,
    /// The change the run makes (its pending files are protected).
    change: String,
    /// Unix milliseconds after which the record no longer holds.
    expires_ms: i64,
    /// Whether the holder gave it up.
    released: bool,
}

impl Record {
    fn live(&self, now_ms: i64) -> bool {
        !self.released && self.expires_ms > now_ms
    }
}

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn record_path(table: &str, generation: u64) -> Path {
    Path::from(format!(
        "{}/{generation:020}.json",
        layout::records_dir(table, LEASE_DIR)
    ))
}

/// The generations of `table`'s lease records, with their paths.
async fn generations(backend: &Backend, table: &TablePath) -> Result<Vec<(u64, Path)>> {
    let dir = layout::records_dir(table.as_str(), LEASE_DIR);
    Ok(list_all(backend, &dir)
        .await?
        .into_iter()
        .filter_map(|meta| {
            let generation = meta
                .location
                .filename()?
                .strip_suffix(".json")?
                .parse()
                .ok()?;
            Some((generation, meta.location))
        })
        .collect())
}

/// The newest lease record of `table` with its generation, if any.
async fn newest(backend: &Backend, table: &TablePath) -> Result<Option<(u64, Record)>> {
    loop {
        let newest = (generations(backend, table).await?)
            .into_iter()
            .max_by_key(|(generation, _)| *generation);
        let Some((generation, location)) = newest else {
            return Ok(None);
        };
        let bytes = match backend.store().get(&location).await {
            Ok(got) => got
                .bytes()
                .await
                .map_err(|e| backend.error("get", &location, e))?,
            // Cleaned up between the listing and the read: a newer record exists.
            Err(object_store::Error::NotFound { .. }) => continue,
            Err(e) => return Err(backend.error("get", &location, e)),
        };
        let record = serde_json::from_slice(&bytes).map_err(|e| Error::InvalidRecord {
            backend: backend.label().to_string(),
            path: location.to_string(),
            source: Box::new(e),
        })?;
        return Ok(Some((generation, record)));
    }
}

/// The change of the run that holds `table`'s lease now, if one does.
pub(crate) async fn live_change(backend: &Backend, table: &TablePath) -> Result<Option<String>> {
    Ok(newest(backend, table)
        .await?
        .filter(|(_, record)| record.live(now_ms()))
        .map(|(_, record)| record.change))
}

/// Creates generation `generation` of the lease, create-only: `false` when another run
/// created it first.
async fn create(
    backend: &Backend,
    table: &TablePath,
    generation: u64,
    record: &Record,
) -> Result<bool> {
    let location = record_path(table.as_str(), generation);
    let body = serde_json::to_vec(record)
        .map_err(|e| Error::internal(format!("encoding lease record {location}: {e}")))?;
    match backend
        .store()
        .put_opts(
            &location,
            PutPayload::from(body),
            PutOptions::from(PutMode::Create),
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(
            object_store::Error::AlreadyExists { .. } | object_store::Error::Precondition { .. },
        ) => Ok(false),
        Err(e) => Err(backend.error("take lease", &location, e)),
    }
}

/// A table's lease, held by this run until released (or, if the run dies, until it
/// expires).
#[derive(Debug)]
pub(crate) struct Lease {
    held: Arc<Held>,
    renewer: tokio::task::JoinHandle<()>,
}

#[derive(Debug)]
struct Held {
    backend: Backend,
    table: TablePath,
    owner: String,
    change: String,
    ttl: Duration,
    generation: AtomicU64,
    /// Another run took the lease over: this one must not commit.
    lost: AtomicBool,
    /// One renewal at a time: the renewer and a check before the commit would
    /// otherwise race for the same generation.
    advancing: tokio::sync::Mutex<()>,
}

impl Held {
    fn record(&self, released: bool) -> Record {
        let ttl = i64::try_from(self.ttl.as_millis()).unwrap_or(i64::MAX);
        Record {
            owner: self.owner.clone(),
            change: self.change.clone(),
            expires_ms: now_ms().saturating_add(ttl),
            released,
        }
    }

    /// Creates the next generation: renews, or releases. `Ok(false)` when it was taken.
    async fn advance(&self, released: bool) -> Result<bool> {
        let _one_at_a_time = self.advancing.lock().await;
        if self.lost.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let next = self.generation.load(Ordering::SeqCst) + 1;
        let created = create(&self.backend, &self.table, next, &self.record(released)).await?;
        if created {
            self.generation.store(next, Ordering::SeqCst);
            // Older generations are history; the newest one is the lease. Best effort:
            // a leftover one only costs a listing entry.
            if let Ok(all) = generations(&self.backend, &self.table).await {
                let old = all.into_iter().filter(|(g, _)| *g < next).map(|(_, p)| p);
                let _ = delete_all(&self.backend, old).await;
            }
        } else {
            self.lost.store(true, Ordering::SeqCst);
        }
        Ok(created)
    }
}

impl Lease {
    /// Takes `table`'s lease for change `change`, waiting up to `settings.wait` for a run
    /// that holds it.
    pub(crate) async fn acquire(
        backend: &Backend,
        table: &TablePath,
        change: &str,
        settings: LeaseSettings,
    ) -> Result<Lease> {
        if settings.ttl < Duration::from_millis(300) {
            return Err(Error::config(format!(
                "a lease time to live of {:?} is too short to renew (at least 300 ms)",
                settings.ttl
            )));
        }
        let deadline = tokio::time::Instant::now() + settings.wait;
        let held = Held {
            backend: backend.clone(),
            table: table.clone(),
            owner: uuid::Uuid::now_v7().to_string(),
            change: change.to_string(),
            ttl: settings.ttl,
            generation: AtomicU64::new(0),
            lost: AtomicBool::new(false),
            advancing: tokio::sync::Mutex::new(()),
        };
        loop {
            let newest = newest(backend, table).await?;
            let next = newest.as_ref().map_or(0, |(generation, _)| generation + 1);
            match newest {
                Some((_, record)) if record.live(now_ms()) => {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(Error::LeaseHeld {
                            backend: backend.label().to_string(),
                            table: table.to_string(),
                            change: record.change,
                            expires: chrono::DateTime::from_timestamp_millis(record.expires_ms)
                                .unwrap_or_default(),
                        });
                    }
                    let left = deadline - tokio::time::Instant::now();
                    tokio::time::sleep(left.min(Duration::from_millis(100))).await;
                }
                _ => {
                    if create(backend, table, next, &held.record(false)).await? {
                        held.generation.store(next, Ordering::SeqCst);
                        break;
                    }
                    // Another run took it first: look again.
                }
            }
        }
        let held = Arc::new(held);
        let renewer = tokio::spawn({
            let held = Arc::clone(&held);
            async move {
                loop {
                    tokio::time::sleep(held.ttl / 3).await;
                    match held.advance(false).await {
                        Ok(true) => {}
                        Ok(false) => return,
                        Err(error) => tracing::warn!(
                            target: "parquet_storage::txn",
                            table = %held.table,
                            %error,
                            "renewing the table's lease failed; retrying"
                        ),
                    }
                }
            }
        });
        Ok(Lease { held, renewer })
    }

    /// Fails with [`Error::LeaseLost`] if another run took the lease over: called just
    /// before the commit point. Renews first, so the commit happens at least two
    /// thirds of a time to live before the lease could expire.
    pub(crate) async fn check(&self) -> Result<()> {
        if !self.held.lost.load(Ordering::SeqCst) && self.held.advance(false).await? {
            return Ok(());
        }
        Err(Error::LeaseLost {
            backend: self.held.backend.label().to_string(),
            table: self.held.table.to_string(),
        })
    }

    /// Gives the lease up, so the next run need not wait for it to expire. Best effort:
    /// a lease that cannot be released expires.
    pub(crate) async fn release(self) {
        self.renewer.abort();
        if !self.held.lost.load(Ordering::SeqCst) {
            let _ = self.held.advance(true).await;
        }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

//! [`ObjectStoreEngine`], the one [`StorageEngine`] implementation, and how to obtain one.
//!
//! Local disk, S3 and memory are three constructors of the same engine: each builds an
//! `Arc<dyn ObjectStore>` and a label for error messages, and everything else (naming,
//! writing, reading) runs the same code over that store. The submodules only configure
//! stores; no Parquet code lives here.

mod local;
mod memory;
#[cfg(feature = "s3")]
mod s3;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use object_store::ObjectStore;

#[cfg(feature = "s3")]
pub use s3::S3Builder;

use crate::backend::Backend;
use crate::cpu::CpuPool;
use crate::engine::{
    DataFile, FileMetadata, RecordBatchStream, ScanOptions, StorageEngine, TableInfo, WriteOptions,
    WriteReceipt,
};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::naming::TablePath;
use crate::read;
use crate::txn::Change;
use crate::txn::lease::{Lease, LeaseSettings};
use crate::txn::vacuum::Vacuum;
use crate::txn::{self, Recovery};
use crate::write::{self, Placement};

/// The [`StorageEngine`] over any [`ObjectStore`].
///
/// ```
/// use parquet_storage::{ObjectStoreEngine, StorageEngine};
///
/// let local = ObjectStoreEngine::local(tempfile::tempdir()?.path())?;
/// let memory = ObjectStoreEngine::memory();
/// let from_url = ObjectStoreEngine::from_url("memory://")?;
/// assert_eq!(memory.to_string(), "memory://");
/// # let _ = (local, from_url);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ObjectStoreEngine {
    backend: Backend,
    lease: LeaseSettings,
}

impl ObjectStoreEngine {
    /// An engine over `store`, rooted at the store's root. `label` names the backend in
    /// error messages and in [`Display`](fmt::Display), usually as a URL.
    ///
    /// Immutability relies on the store honouring `PutMode::Create` and
    /// `RenameTargetMode::Create`; the stores this crate builds all do.
    pub fn new(store: Arc<dyn ObjectStore>, label: impl Into<String>) -> Self {
        ObjectStoreEngine {
            lease: LeaseSettings::default(),
            backend: Backend::new(store, label),
        }
    }

    /// Picks a backend from a URL: `memory://`, `s3://bucket/prefix` (configured from the
    /// standard `AWS_*` environment variables), `file:///absolute/path`, or a plain path
    /// on local disk (created if missing).
    pub fn from_url(url: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.into(),
            reason: reason.into(),
        };
        match url.split_once("://") {
            None => ObjectStoreEngine::local(url),
            Some(("memory", rest)) if rest.is_empty() || rest == "/" => {
                Ok(ObjectStoreEngine::memory())
            }
            Some(("memory", _)) => Err(invalid("memory:// takes no path")),
            Some(("file", _)) => {
                let parsed = url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
                let path = parsed
                    .to_file_path()
                    .map_err(|()| invalid("file:// needs an absolute path"))?;
                ObjectStoreEngine::local(path)
            }
            #[cfg(feature = "s3")]
            Some(("s3", rest)) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(invalid("no bucket name"));
                }
                S3Builder::from_env()
                    .with_bucket(bucket)
                    .with_prefix(prefix)
                    .build()
            }
            #[cfg(not(feature = "s3"))]
            Some(("s3", _)) => Err(invalid("S3 support needs the crate feature \"s3\"")),
            Some((scheme, _)) => Err(invalid(&format!(
                "unknown scheme {scheme:?}; expected file, s3 or memory"
            ))),
        }
    }

    /// The object store underneath, for callers that add their own wrappers.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        self.backend.store()
    }

    /// Marks the engine as the one of the local directory `root`.
    pub(crate) fn with_local_root(mut self, root: &std::path::Path) -> Self {
        self.backend = self.backend.with_local_root(root);
        self
    }

    /// Remembers the S3 bucket, so "no such bucket" errors can name it.
    #[cfg(feature = "s3")]
    pub(crate) fn with_bucket(mut self, bucket: &str) -> Self {
        self.backend = self.backend.with_bucket(bucket);
        self
    }

    /// Runs this engine's CPU work (encoding, decoding, splitting and sorting batches) on
    /// a pool of `threads` threads of its own, shared by its clones, instead of the
    /// process-wide pool every engine uses by default (one thread per core). Either
    /// way that work never runs on the async runtime's workers, and the pool's threads
    /// are all it uses. A compaction's per-file decoders, which wait on downloads
    /// between their steps, run beside the pool: as many as the compaction's
    /// concurrency (by default one more than the pool's threads).
    pub fn with_cpu_threads(mut self, threads: usize) -> Result<Self> {
        self.backend = self.backend.with_cpu(CpuPool::with_threads(threads)?);
        Ok(self)
    }

    /// The threads this engine's CPU work may use at once (see
    /// [`with_cpu_threads`](Self::with_cpu_threads)).
    pub fn cpu_threads(&self) -> usize {
        self.backend.cpu().threads()
    }

    /// What the read and write paths work over.
    pub(crate) fn backend(&self) -> &Backend {
        &self.backend
    }

    /// How this engine's compactions take a table's lease (one compaction per table at a
    /// time; see [`crate::txn::lease`]): its time to live (default a minute; a run that
    /// dies holds the table that long) and how long a second run waits for it before
    /// failing with [`Error::LeaseHeld`] (default: not at all).
    pub fn with_lease_settings(mut self, settings: LeaseSettings) -> Self {
        self.lease = settings;
        self
    }

    /// The lease settings of this engine's compactions.
    pub fn lease_settings(&self) -> LeaseSettings {
        self.lease
    }

    /// Finishes every committed change of `table` and rolls back every uncommitted one
    /// (a compaction that died before its commit point); see [`crate::txn`]. The change
    /// of a run that holds the table's lease is left alone, so this is safe to run at
    /// any time. After it, every reader, this crate's or another's, sees the same files.
    pub async fn recover(&self, table: &TablePath) -> Result<Recovery> {
        txn::recover(&self.backend, table, None).await
    }

    /// Removes what writers that died left in the hidden area, engine-wide: staged
    /// uploads not modified for `older_than` (choose it longer than your slowest
    /// single-file upload takes; an hour is safe), and the files of uncommitted changes
    /// older than that which no live run holds; committed changes are finished. On local
    /// disk it also removes the `name#n` files uploads in flight write, which object_store
    /// does not list. Nothing a reader sees changes. On S3, also set a lifecycle rule that aborts incomplete
    /// multipart uploads: their parts are not objects, so no listing finds them.
    pub async fn vacuum(&self, older_than: Duration) -> Result<Vacuum> {
        txn::vacuum::vacuum(&self.backend, older_than).await
    }

    /// A new change to `table`, with the table's lease taken for it under this engine's
    /// lease settings: what every compaction starts with.
    pub(crate) async fn begin_change(&self, table: &TablePath) -> Result<(Change, Lease)> {
        let change = Change::begin(table);
        let lease = Lease::acquire(&self.backend, table, change.id(), self.lease).await?;
        Ok((change, lease))
    }

    /// Writes `input` as pending files of change `change` to `table`, for a transaction
    /// to commit ([`crate::txn`]).
    pub(crate) async fn write_pending(
        &self,
        table: &TablePath,
        change: &str,
        input: RecordBatchStream,
        options: WriteOptions,
    ) -> Result<WriteReceipt> {
        let placement = Placement::Pending(change.to_string());
        write::write_stream(&self.backend, table, input, options, placement).await
    }
}

impl fmt::Display for ObjectStoreEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.backend.label())
    }
}

impl fmt::Debug for ObjectStoreEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStoreEngine")
            .field("backend", &self.backend)
            .finish()
    }
}

#[async_trait]
impl StorageEngine for ObjectStoreEngine {
    async fn write_stream(
        &self,
        table: &TablePath,
        input: RecordBatchStream,
        options: WriteOptions,
    ) -> Result<WriteReceipt> {
        write::write_stream(&self.backend, table, input, options, Placement::Table).await
    }

    async fn scan(&self, table: &TablePath, options: ScanOptions) -> Result<RecordBatchStream> {
        read::scan(&self.backend, table, options).await
    }

    async fn list_files(&self, table: &TablePath) -> Result<Vec<DataFile>> {
        read::list_files(&self.backend, table).await
    }

    async fn file_metadata(&self, path: &str) -> Result<FileMetadata> {
        read::file_metadata(&self.backend, path).await
    }

    async fn table_info(&self, table: &TablePath, filter: Option<&Filter>) -> Result<TableInfo> {
        read::table_info(&self.backend, table, filter).await
    }
}

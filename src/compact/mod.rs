//! Compaction of many small NDJSON / NDJSON.gz files into large partitioned Parquet
//! files, with schema drift, dirty values and enrichment.
//!
//! [`Compaction`] lists a prefix or glob on any object store, reads each object (gzip
//! is recognised by its magic bytes), decodes its lines into Arrow under a registry
//! schema or one inferred from all files, adds [`Enrichment`] columns, and writes the
//! rows through the engine's partitioned writer. Dirty data never stops a run: lines
//! that are not JSON objects and values that do not fit their column go to a rejects
//! file ([`Reject`]), and the [`CompactionSummary`] accounts for every line
//! (`rows_in == rows_out + rows_rejected`). See `docs/compaction.md`.
//!
//! ```
//! use std::sync::Arc;
//! use object_store::{ObjectStoreExt, PutPayload, path::Path};
//! use parquet_storage::compact::{Compaction, Enrichment};
//! use parquet_storage::{ObjectStoreEngine, TablePath};
//!
//! # #[tokio::main(flavor = "multi_thread", worker_threads = 2)]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let engine = ObjectStoreEngine::memory();
//! let store = Arc::clone(engine.object_store());
//! let lines = "{\"unit\": \"a\", \"t\": 1730736000, \"v\": 1}\n{\"unit\": \"b\", \"t\": 1730736001, \"v\": \"N/A\"}\n{\"unit\":";
//! store.put(&Path::from("raw/site1/x.ndjson"), PutPayload::from(lines)).await?;
//!
//! let summary = Compaction::ndjson(store, "raw/*/*.ndjson")
//!     .with_enrichment(Enrichment::path_segment("site", 0))
//!     .with_enrichment(Enrichment::date_of("day", "t", chrono::TimeDelta::hours(8)))
//!     .run(&engine, &TablePath::new("telemetry")?)
//!     .await?;
//! assert_eq!((summary.rows_in, summary.rows_out, summary.rows_rejected), (3, 2, 1));
//! // "N/A" next to an integer: the column is inferred as text, nothing is lost.
//! assert_eq!(summary.schema.field_with_name("v")?.data_type(), &arrow_schema::DataType::Utf8);
//! # Ok(())
//! # }
//! ```

mod column;
mod decode;
mod enrich;
mod infer;
mod inflate;
mod ingest;
mod json;
mod number;
mod progress;
#[cfg(test)]
mod properties;
mod rejects;
mod rewrite;
mod rules;
mod source;
mod spill;

use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use arrow_schema::SchemaRef;
use object_store::ObjectStore;

pub use enrich::Enrichment;
pub use infer::JsonType;
pub use progress::{Phase, Progress};
pub use rejects::{Reject, ValueEncoding};
pub use rewrite::{RewriteSummary, compact_in_place};
pub use rules::{BigIntegers, DECIMAL_DIGITS, DuplicateKeys};
pub use source::SourceFile;

use crate::engine::WriteOptions;
use crate::engine::WrittenFile;
use crate::error::Result;
use crate::naming::TablePath;
use crate::partition::PartitionField;
use crate::schema::TableSchema;
use crate::store::ObjectStoreEngine;

/// Default target size of a compacted file: 200 MB.
pub const DEFAULT_COMPACTION_TARGET_FILE_SIZE: u64 = 200 * 1024 * 1024;
/// Default rows per row group of a compaction. Rows are sorted per row group, and a
/// row group is held in memory until it is encoded, so this bounds memory per open
/// partition.
pub const DEFAULT_COMPACTION_ROW_GROUP_ROWS: usize = 64 * 1024;
/// Default memory budget of a compaction's writer: rows held for sorting plus encoded
/// buffers of all open files. Smaller than a plain write's, since decoding runs beside
/// it; when rows of many partitions are held at once, it cuts row groups smaller than
/// [`DEFAULT_COMPACTION_ROW_GROUP_ROWS`] rather than closing files early.
pub const DEFAULT_COMPACTION_MAX_BUFFERED_BYTES: usize = 256 * 1024 * 1024;
/// Default rows per decoded batch.
pub const DEFAULT_BATCH_ROWS: usize = 8192;

/// A compaction of NDJSON sources into a table. Build with [`Compaction::ndjson`], set
/// options with `with_*`, then [`run`](Self::run).
#[derive(Clone)]
pub struct Compaction {
    store: Arc<dyn ObjectStore>,
    pattern: String,
    schema: Option<Arc<TableSchema>>,
    enrichments: Vec<Enrichment>,
    options: WriteOptions,
    rejects_path: Option<String>,
    batch_rows: usize,
    /// Files decoded at once; `None`: one more than the engine's CPU threads.
    concurrency: Option<usize>,
    /// Where rows wait for the inferred schema; `None` (the default) reads the sources
    /// twice.
    spill_dir: Option<PathBuf>,
    rules: rules::ValueRules,
    progress: Option<progress::Callback>,
}

impl fmt::Debug for Compaction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Compaction")
            .field("store", &self.store.to_string())
            .field("pattern", &self.pattern)
            .field("schema", &self.schema.as_ref().map(|s| s.name()))
            .field("enrichments", &self.enrichments)
            .field("options", &self.options)
            .field("rejects_path", &self.rejects_path)
            .field("batch_rows", &self.batch_rows)
            .field("concurrency", &self.concurrency)
            .field("spill_dir", &self.spill_dir)
            .field("rules", &self.rules)
            .finish_non_exhaustive()
    }
}

impl Compaction {
    /// Compacts the NDJSON, NDJSON.gz or JSON-lines objects of `store` that `pattern`
    /// names: a prefix (`raw/2024`, every object below it) or a glob (`raw/*/*/*.gz`,
    /// `raw/**/*.gz`; `*` stays within one path segment). The part before the first
    /// glob segment is the source root that paths are taken relative to. Objects whose
    /// relative path has a segment starting with `_` or `.` are skipped.
    pub fn ndjson(store: Arc<dyn ObjectStore>, pattern: impl Into<String>) -> Self {
        Compaction {
            store,
            pattern: pattern.into(),
            schema: None,
            enrichments: Vec::new(),
            options: WriteOptions::default()
                .with_target_file_size(Some(DEFAULT_COMPACTION_TARGET_FILE_SIZE))
                .with_max_row_group_rows(DEFAULT_COMPACTION_ROW_GROUP_ROWS)
                .with_max_buffered_bytes(DEFAULT_COMPACTION_MAX_BUFFERED_BYTES),
            rejects_path: None,
            batch_rows: DEFAULT_BATCH_ROWS,
            concurrency: None,
            spill_dir: None,
            rules: rules::ValueRules::default(),
            progress: None,
        }
    }

    /// Decides keys that appear more than once in one object (default
    /// [`DuplicateKeys::Reject`]).
    pub fn with_duplicate_keys(mut self, rule: DuplicateKeys) -> Self {
        self.rules.duplicate_keys = rule;
        self
    }

    /// What an inferred column of integers beyond the `i64` range becomes (default
    /// [`BigIntegers::Decimal`]).
    pub fn with_big_integers(mut self, rule: BigIntegers) -> Self {
        self.rules.big_integers = rule;
        self
    }

    /// Decodes straight into registry schema `schema` instead of inferring one: keys
    /// that are not columns are counted ([`CompactionSummary::unknown_keys`]), values
    /// that do not fit are rejected. When the schema also declares every enrichment
    /// column, the write validates against it and records it in each file.
    pub fn with_schema(mut self, schema: Arc<TableSchema>) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Adds a computed column (after the source columns, in the order added).
    pub fn with_enrichment(mut self, enrichment: Enrichment) -> Self {
        self.enrichments.push(enrichment);
        self
    }

    /// Partitions the output (default: not partitioned).
    pub fn with_partition_by(mut self, fields: impl IntoIterator<Item = PartitionField>) -> Self {
        self.options = self.options.with_partition_by(fields);
        self
    }

    /// Sorts rows by these columns within each row group (default: no sort).
    pub fn with_sort_by<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.options = self.options.with_sort_by(columns);
        self
    }

    /// Target size of each output file (default [`DEFAULT_COMPACTION_TARGET_FILE_SIZE`]);
    /// a partition rolls to a new file beyond it.
    pub fn with_target_file_size(mut self, bytes: Option<u64>) -> Self {
        self.options = self.options.with_target_file_size(bytes);
        self
    }

    /// Replaces the write options (compression, row groups, memory budget, ...); set
    /// partitioning, sorting and file size after this call, or in `options`.
    pub fn with_write_options(mut self, options: WriteOptions) -> Self {
        self.options = options;
        self
    }

    /// Where rejects go, relative to the destination engine's root (default
    /// `{table}/_rejects/{run_id}.ndjson`, hidden from readers of the table).
    pub fn with_rejects_path(mut self, path: impl Into<String>) -> Self {
        self.rejects_path = Some(path.into());
        self
    }

    /// Rows per decoded batch (default [`DEFAULT_BATCH_ROWS`]).
    pub fn with_batch_rows(mut self, rows: usize) -> Self {
        self.batch_rows = rows.max(1);
        self
    }

    /// Files downloaded and decoded at once (default: one more than the destination
    /// engine's CPU threads, [`ObjectStoreEngine::cpu_threads`]: while a file waits for
    /// its download or its consumer, another keeps a core busy). Each file's decoder
    /// runs on a blocking thread of its own, since it waits on the download between
    /// lines.
    pub fn with_concurrency(mut self, files: usize) -> Self {
        self.concurrency = Some(files.max(1));
        self
    }

    /// Reads each source once when the schema is inferred: decoded rows wait in `dir` on
    /// local disk until the schema is known, instead of a first pass over all sources
    /// that only infers. Each source is then downloaded, inflated and parsed once, which
    /// halves the reads of remote sources; the rows wait as Arrow IPC files of their
    /// values' text (about 40% of the JSON: keys are not stored) in a private
    /// directory, removed file by file as they are written out and whole when the run
    /// ends, however it ends. Put it on a disk with room, not a `tmpfs` (that would be
    /// memory). On local sources both ways take about as long (docs/benchmarks.md).
    /// Not used with [`with_schema`](Self::with_schema), which decodes straight into
    /// the schema.
    pub fn with_spill_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.spill_dir = Some(dir.into());
        self
    }

    /// Infers the schema in a first pass over the sources and decodes them in a second
    /// (the default): no local disk, but every source is downloaded, inflated and
    /// parsed twice. Undoes [`with_spill_dir`](Self::with_spill_dir).
    pub fn without_spill(mut self) -> Self {
        self.spill_dir = None;
        self
    }

    /// Calls `callback` with a [`Progress`] snapshot after each file and at the end.
    pub fn on_progress(mut self, callback: impl Fn(&Progress) + Send + Sync + 'static) -> Self {
        self.progress = Some(Arc::new(callback));
        self
    }

    /// Runs the compaction into `table` of `engine` and says what it did. Dirty data,
    /// unreadable, corrupt or empty sources do not fail it (see the summary); failing
    /// to list the sources, a bad configuration or a failed write do, and then no output
    /// file is left behind.
    pub async fn run(
        &self,
        engine: &ObjectStoreEngine,
        table: &TablePath,
    ) -> Result<CompactionSummary> {
        ingest::run(self, engine, table).await
    }
}

/// What happened to one source file.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct SourceReport {
    /// The object, as listed (path, size, entity tag, modification time).
    pub file: SourceFile,
    /// Non-blank lines read.
    pub rows_in: u64,
    /// Rows written.
    pub rows_out: u64,
    /// Lines rejected.
    pub rows_rejected: u64,
    /// Decompressed bytes read.
    pub bytes_json: u64,
    /// Why the file could not be read to its end (rows before the problem are kept).
    pub error: Option<String>,
    /// Whether the file had no lines (zero bytes, or blank lines only).
    pub empty: bool,
}

/// What a compaction did.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CompactionSummary {
    /// This run's id (its change id, see [`crate::txn`]), also in every reject record.
    pub run_id: String,
    /// Source files read by this run (listed, less the ones already compacted).
    pub files: usize,
    /// Source files skipped because an earlier run already compacted them (same path,
    /// size and entity tag): re-running over the same sources adds nothing.
    pub files_skipped: usize,
    /// What the run finished or rolled back of earlier runs that died (see
    /// [`ObjectStoreEngine::recover`]).
    pub recovered: crate::txn::Recovery,
    /// Files that could not be read to their end (corrupt gzip, failed download).
    pub files_failed: usize,
    /// Files with no lines (zero bytes, or blank lines only).
    pub files_empty: usize,
    /// Non-blank lines read.
    pub rows_in: u64,
    /// Rows written.
    pub rows_out: u64,
    /// Lines rejected whole (not JSON objects, or a `NOT NULL` column without a value).
    pub rows_rejected: u64,
    /// Values rejected (set to null in their row), per column.
    pub values_rejected: BTreeMap<String, u64>,
    /// Rows whose object repeated the column's key, per column ([`DuplicateKeys`]).
    pub duplicate_keys: BTreeMap<String, u64>,
    /// Keys that are not columns of a given schema, with how often they came.
    pub unknown_keys: BTreeMap<String, u64>,
    /// Stored bytes of the sources (compressed for gzip).
    pub bytes_in: u64,
    /// Decompressed JSON bytes.
    pub bytes_json: u64,
    /// Parquet bytes written.
    pub bytes_out: u64,
    /// Wall time of the whole run.
    pub duration: Duration,
    /// Wall time of the pass that fixed the inferred schema (none with a given schema):
    /// reading every source, either to infer only ([`Compaction::without_spill`]) or to
    /// decode and spill as well.
    pub infer_duration: Option<Duration>,
    /// Bytes spilled to local disk while the schema was inferred
    /// ([`Compaction::with_spill_dir`]); zero when nothing was.
    pub bytes_spilled: u64,
    /// The schema the sources were decoded into: the given one, or the inferred one.
    pub schema: SchemaRef,
    /// Whether [`schema`](Self::schema) was inferred.
    pub inferred: bool,
    /// The data files written, at their places in the table.
    pub output: Vec<WrittenFile>,
    /// Every source file, in path order, with what happened to it.
    pub sources: Vec<SourceReport>,
    /// Where the rejects are, relative to the destination's root; `None` when nothing
    /// was rejected.
    pub rejects_path: Option<String>,
    /// Reject records written (lines, values and files).
    pub rejects: u64,
}

//! Immutable, partitioned, schema-validated Parquet storage on local disk, S3 or memory.
//!
//! Services link this crate to keep Arrow record batches as Parquet files and read them
//! back. Everything goes through one trait, [`StorageEngine`], with one implementation,
//! [`ObjectStoreEngine`], over [`object_store`]: local disk, S3 and memory are three
//! constructors of the same code path.
//!
//! * **Immutable files.** Each write creates new files named
//!   `{stem}_{YYYYMMDD}_{HHMMSS}_{uuid}.parquet` ([`FileName`]) with a create-only put:
//!   no write can replace a file unless asked to ([`WriteOptions::with_overwrite`]).
//! * **All or nothing.** A reader never sees a half-written file; a write that fails at
//!   any point leaves nothing visible behind. What is on its way into a table waits in
//!   the hidden area [`HIDDEN_ROOT`] of the root, outside every table.
//! * **Bounded memory.** Large files stream to the store as multipart uploads.
//!
//! # Quick tour
//!
//! ```
//! use std::sync::Arc;
//! use arrow_array::{Float64Array, RecordBatch, StringArray};
//! use parquet_storage::{
//!     ObjectStoreEngine, ScanOptions, StorageEngine, StorageEngineExt, TablePath, WriteOptions,
//! };
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> Result<(), Box<dyn std::error::Error>> {
//! // `ObjectStoreEngine::local("./data")` or `from_url("s3://bucket/prefix")` work the same.
//! let engine: Arc<dyn StorageEngine> = Arc::new(ObjectStoreEngine::memory());
//! let table = TablePath::new("battery/telemetry")?;
//!
//! let batch = RecordBatch::try_from_iter([
//!     ("battery_id", Arc::new(StringArray::from(vec!["b1", "b2"])) as _),
//!     ("voltage", Arc::new(Float64Array::from(vec![13.5, 13.4])) as _),
//! ])?;
//! let receipt = engine.write_batch(&table, batch.clone(), WriteOptions::default()).await?;
//! assert_eq!((receipt.files.len(), receipt.rows), (1, 2));
//!
//! let read = engine.read_all(&table, ScanOptions::default()).await?;
//! assert_eq!(read[0].columns(), batch.columns());
//!
//! let voltage = engine
//!     .read_all(&table, ScanOptions::default().with_projection(["voltage"]))
//!     .await?;
//! assert_eq!(voltage[0].num_columns(), 1);
//! # Ok(())
//! # }
//! ```
//!
//! # Features
//!
//! | feature | default | what it adds |
//! |---|---|---|
//! | `s3` | yes | [`S3Builder`] and `s3://` URLs, for AWS S3 and S3-compatible servers |
//! | `geotech` | no | the 29 geotechnical table schemas in [`schema::SchemaRegistry::builtin`] |
//!
//! # Threads
//!
//! Encoding, decoding, partition splits and sorts run on a bounded pool of threads, one
//! per core by default and shared by every engine of the process
//! ([`ObjectStoreEngine::with_cpu_threads`] sets an engine's own), never on the workers
//! of the caller's async runtime. Errors say whether trying again may help
//! ([`Error::is_retryable`]).
//!
//! # Schemas
//!
//! [`schema`] is the typed registry: tables declared with PostgreSQL types (TOML files
//! under `schemas/`, code, or `CREATE TABLE` DDL), one mapping to Arrow, validation that
//! reports every problem of a batch at once, opt-in lossless coercion and schema
//! evolution. A write that names a schema ([`WriteOptions::with_schema`]) validates
//! every batch before a byte is stored. See [`docs::schemas`].
//!
//! # Partitions and filters
//!
//! [`WriteOptions::with_partition_by`] writes hive `key=value/` directories from columns
//! or from calendar units of timestamps ([`partition`]); [`ScanOptions::with_filter`]
//! reads only the partitions, row groups and rows a [`filter::Filter`] can match. The
//! layout is in [`docs::on_disk_layout`].
//!
//! # Compaction
//!
//! [`compact::Compaction`] turns many small NDJSON / NDJSON.gz files on any backend into
//! large partitioned Parquet files: schema inferred and widened over all files (or a
//! registry schema), dirty lines and values kept aside as rejects, enrichment columns
//! from the path and from timestamps, progress through a callback. See
//! [`docs::compaction`].
//!
//! [`docs::architecture`] says how the crate is put together, and why.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![deny(rustdoc::broken_intra_doc_links, rustdoc::bare_urls, rust_2018_idioms)]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    clippy::clone_on_ref_ptr,
    clippy::future_not_send
)]

// The modules in layers, lowest first: a module imports only from modules declared
// before it (tests/architecture.rs checks it). docs/architecture.md draws the layers.

// Errors, and the metadata keys every file carries: no dependency.
mod error;
mod metadata;

// Pure types, no IO: names, partitions, filters, the registry, object keys.
mod naming;
pub mod partition;

pub mod filter;
mod layout;
pub mod schema;

// The contract: the trait, its options, what flows through it.
mod engine;

// The store handle the paths below work over, and the pool their CPU work runs on.
mod cpu;

mod backend;

// Atomic changes to a table's files, then the read and write paths.
pub mod txn;

mod read;
mod write;

// The one engine, composed of the above.
mod store;

// Compaction, built on the engine.
pub mod compact;

pub use engine::{
    Compression, DEFAULT_BATCH_SIZE, DEFAULT_DATA_PAGE_SIZE, DEFAULT_FILE_CONCURRENCY,
    DEFAULT_GZIP_LEVEL, DEFAULT_MAX_BUFFERED_BYTES, DEFAULT_MAX_OPEN_FILES,
    DEFAULT_MAX_ROW_GROUP_BYTES, DEFAULT_MAX_ROW_GROUP_ROWS, DEFAULT_TARGET_FILE_SIZE,
    DEFAULT_UPLOAD_CONCURRENCY, DEFAULT_UPLOAD_PART_SIZE, DEFAULT_ZSTD_LEVEL, DataFile,
    FileMetadata, MIN_UPLOAD_PART_SIZE, PartitionInfo, RecordBatchStream, ScanOptions,
    StatisticsLevel, StorageEngine, StorageEngineExt, TableInfo, WriteOptions, WriteReceipt,
    WrittenFile,
};
pub use error::{BoxError, Error, ErrorKind, Result};
pub use layout::HIDDEN_ROOT;
pub use metadata::{
    METADATA_PARTITIONING_KEY, METADATA_SCHEMA_KEY, METADATA_SCHEMA_VERSION_KEY,
    METADATA_VERSION_KEY, METADATA_WRITER_KEY,
};
pub use naming::{FileName, PARQUET_EXTENSION, TablePath};
pub use store::ObjectStoreEngine;
#[cfg(feature = "s3")]
pub use store::S3Builder;

pub mod docs {
    //! Design documents from `docs/`, included here so their examples and links are
    //! checked with the code.

    #[doc = include_str!("../docs/architecture.md")]
    pub mod architecture {}

    #[doc = include_str!("../docs/schemas.md")]
    pub mod schemas {}

    #[doc = include_str!("../docs/on-disk-layout.md")]
    pub mod on_disk_layout {}

    #[doc = include_str!("../docs/compaction.md")]
    pub mod compaction {}
}

// README.md's usage snippet runs as a doc test.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
struct ReadmeDoctests;

/// Re-exported so callers use the exact Arrow version the crate was built with.
pub use arrow_array;
/// Re-exported so callers use the exact Arrow version the crate was built with.
pub use arrow_schema;
/// Re-exported so callers can wrap or inspect the store underneath an engine.
pub use object_store;

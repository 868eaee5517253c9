//! The contract services program against: [`StorageEngine`], its option types, and what
//! flows through it. The bottom of the engine's layers: the read and write paths
//! implement it, and it knows neither.

mod scan_options;
mod write_options;

pub use scan_options::{DEFAULT_BATCH_SIZE, DEFAULT_FILE_CONCURRENCY, ScanOptions};
pub use write_options::{
    Compression, DEFAULT_DATA_PAGE_SIZE, DEFAULT_GZIP_LEVEL, DEFAULT_MAX_BUFFERED_BYTES,
    DEFAULT_MAX_OPEN_FILES, DEFAULT_MAX_ROW_GROUP_BYTES, DEFAULT_MAX_ROW_GROUP_ROWS,
    DEFAULT_TARGET_FILE_SIZE, DEFAULT_UPLOAD_CONCURRENCY, DEFAULT_UPLOAD_PART_SIZE,
    DEFAULT_ZSTD_LEVEL, MIN_UPLOAD_PART_SIZE, StatisticsLevel, WriteOptions,
};

use std::fmt;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures::stream::{BoxStream, Stream, StreamExt, TryStreamExt};

use crate::error::Result;
use crate::filter::Filter;
use crate::naming::TablePath;

/// Stores Arrow record batches as immutable Parquet files under table paths.
///
/// Object-safe, so services share one as `Arc<dyn StorageEngine>`. The crate has one
/// implementation, [`ObjectStoreEngine`](crate::ObjectStoreEngine), whose local, S3 and
/// memory backends differ only in the object store they are built on.
/// [`StorageEngineExt`] adds conveniences on top of these methods.
#[async_trait]
pub trait StorageEngine: fmt::Display + fmt::Debug + Send + Sync + 'static {
    /// Writes a stream of batches to `table` as new, immutable files and says what was
    /// written.
    ///
    /// Either the whole write becomes visible or none of it does: a failure of the input
    /// stream, the encoder or the store leaves no file behind that readers would see. A
    /// write with no rows writes no file.
    async fn write_stream(
        &self,
        table: &TablePath,
        input: RecordBatchStream,
        options: WriteOptions,
    ) -> Result<WriteReceipt>;

    /// Reads a table back as one stream of batches, files in name order (for files named
    /// by this crate: creation order).
    ///
    /// Fails with [`Error::TableNotFound`](crate::Error::TableNotFound) when the table has no data files.
    async fn scan(&self, table: &TablePath, options: ScanOptions) -> Result<RecordBatchStream>;

    /// The table's data files, sorted by path. Hidden files and directories (a name
    /// starting with `_` or `.`) are not data files.
    async fn list_files(&self, table: &TablePath) -> Result<Vec<DataFile>>;

    /// A data file's Parquet footer, read without reading any data pages.
    ///
    /// `path` is a [`DataFile::path`]: relative to the engine's root.
    async fn file_metadata(&self, path: &str) -> Result<FileMetadata>;

    /// Partitions, files, rows and bytes of a table, from listings and footers: no data
    /// page is read. With a filter, only the partitions it can match are listed and
    /// counted (its terms on other columns do not reduce the counts).
    async fn table_info(&self, table: &TablePath, filter: Option<&Filter>) -> Result<TableInfo>;
}

/// Conveniences for every [`StorageEngine`]; implemented for all of them, do not
/// implement it yourself.
#[async_trait]
pub trait StorageEngineExt: StorageEngine {
    /// Writes one batch.
    async fn write_batch(
        &self,
        table: &TablePath,
        batch: RecordBatch,
        options: WriteOptions,
    ) -> Result<WriteReceipt> {
        let stream = RecordBatchStream::from_batches(batch.schema(), vec![batch]);
        self.write_stream(table, stream, options).await
    }

    /// Writes batches that share one schema, as one file. An empty `Vec` writes nothing.
    async fn write_batches(
        &self,
        table: &TablePath,
        batches: Vec<RecordBatch>,
        options: WriteOptions,
    ) -> Result<WriteReceipt> {
        let Some(first) = batches.first() else {
            return Ok(WriteReceipt::default());
        };
        let stream = RecordBatchStream::from_batches(first.schema(), batches);
        self.write_stream(table, stream, options).await
    }

    /// Reads a whole table into memory.
    async fn read_all(&self, table: &TablePath, options: ScanOptions) -> Result<Vec<RecordBatch>> {
        self.scan(table, options).await?.try_collect().await
    }
}

impl<T: StorageEngine + ?Sized> StorageEngineExt for T {}

macro_rules! forward_storage_engine {
    ($wrapper:ty) => {
        #[async_trait]
        impl<T: StorageEngine + ?Sized> StorageEngine for $wrapper {
            async fn write_stream(
                &self,
                table: &TablePath,
                input: RecordBatchStream,
                options: WriteOptions,
            ) -> Result<WriteReceipt> {
                (**self).write_stream(table, input, options).await
            }
            async fn scan(
                &self,
                table: &TablePath,
                options: ScanOptions,
            ) -> Result<RecordBatchStream> {
                (**self).scan(table, options).await
            }
            async fn list_files(&self, table: &TablePath) -> Result<Vec<DataFile>> {
                (**self).list_files(table).await
            }
            async fn file_metadata(&self, path: &str) -> Result<FileMetadata> {
                (**self).file_metadata(path).await
            }
            async fn table_info(
                &self,
                table: &TablePath,
                filter: Option<&Filter>,
            ) -> Result<TableInfo> {
                (**self).table_info(table, filter).await
            }
        }
    };
}

forward_storage_engine!(Arc<T>);
forward_storage_engine!(Box<T>);

/// A stream of record batches that knows its schema before the first batch arrives.
///
/// The input of a write and the output of a scan.
pub struct RecordBatchStream {
    schema: SchemaRef,
    inner: BoxStream<'static, Result<RecordBatch>>,
}

impl RecordBatchStream {
    /// Wraps a stream whose batches all have `schema`.
    pub fn new(
        schema: SchemaRef,
        stream: impl Stream<Item = Result<RecordBatch>> + Send + 'static,
    ) -> Self {
        RecordBatchStream {
            schema,
            inner: stream.boxed(),
        }
    }

    /// A stream over batches already in memory.
    pub fn from_batches(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        RecordBatchStream::new(schema, futures::stream::iter(batches.into_iter().map(Ok)))
    }

    /// The schema of every batch.
    pub fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }
}

impl Stream for RecordBatchStream {
    type Item = Result<RecordBatch>;
    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        self.inner.as_mut().poll_next(cx)
    }
}

impl fmt::Debug for RecordBatchStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RecordBatchStream")
            .field("schema", &self.schema)
            .finish_non_exhaustive()
    }
}

/// What a write stored.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct WriteReceipt {
    /// The files written, in the order they were completed.
    pub files: Vec<WrittenFile>,
    /// Rows written, over all files.
    pub rows: u64,
    /// Bytes written, over all files.
    pub bytes: u64,
    /// The most bytes the write held in memory at once for its open files (rows waiting
    /// to be sorted, row groups being encoded, upload buffers); bounded by
    /// [`WriteOptions::with_max_buffered_bytes`](crate::WriteOptions::with_max_buffered_bytes)
    /// plus one row group.
    pub peak_buffered_bytes: u64,
}

/// One file a write created.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WrittenFile {
    /// Path relative to the engine's root, e.g. `battery/battery_20241103_120000_….parquet`.
    pub path: String,
    /// Rows in the file.
    pub rows: u64,
    /// Size of the file in bytes.
    pub bytes: u64,
}

/// A data file of a table, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DataFile {
    /// Path relative to the engine's root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// When the store last modified it.
    pub last_modified: DateTime<Utc>,
    /// The `key=value` directories between the table and the file, decoded (`None`:
    /// null), outermost first.
    pub partition_values: Vec<(String, Option<String>)>,
}

/// A table's size, overall and by partition.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct TableInfo {
    /// Every partition (one entry without partitioning), sorted by values.
    pub partitions: Vec<PartitionInfo>,
    /// Data files.
    pub files: usize,
    /// Rows, from the footers.
    pub rows: u64,
    /// Bytes of the files.
    pub bytes: u64,
}

/// One partition's size.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct PartitionInfo {
    /// The partition's `key=value` values, outermost first (`None`: null).
    pub values: Vec<(String, Option<String>)>,
    /// Data files.
    pub files: usize,
    /// Rows, from the footers.
    pub rows: u64,
    /// Bytes of the files.
    pub bytes: u64,
}

/// A file's Parquet footer, summarised.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct FileMetadata {
    /// Path relative to the engine's root.
    pub path: String,
    /// Size in bytes.
    pub size: u64,
    /// Rows in the file.
    pub rows: u64,
    /// Number of row groups.
    pub row_groups: usize,
    /// The Arrow schema the file decodes to.
    pub schema: SchemaRef,
    /// The writer's `created_by` string.
    pub created_by: Option<String>,
    /// The file's key-value metadata (for files of this crate: its name and version).
    pub key_value: std::collections::BTreeMap<String, String>,
}

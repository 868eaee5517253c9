//! The write path: [`WriteOptions`], and batches in, immutable Parquet files out (one
//! per partition, rolling to more when a file reaches its target size).
//!
//! How a file appears (see `docs/architecture.md`):
//! * up to [`WriteOptions::upload_part_size`] bytes, the encoded file is sent in one
//!   create-only `PUT` (`PutMode::Create`: S3 `If-None-Match: *`, local disk a staged
//!   file hard-linked into place), so it appears whole or not at all and never replaces
//!   another file;
//! * beyond that, it streams as a multipart upload to a hidden staging key
//!   (`{table}/_staging/{file}`), and is then published with a create-only rename (S3: a
//!   copy whose completion carries `If-None-Match: *`, then a delete of the staging key;
//!   local disk: a hard link). Memory stays bounded by part size × upload concurrency.
//!
//! Any failure aborts the upload and removes the staging key, so readers never see a
//! partial file.

mod encode;
mod file;
mod table;
mod upload;

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema, SchemaRef};
use futures::StreamExt;
use parquet::basic::{GzipLevel, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::engine::{RecordBatchStream, WriteReceipt};
use crate::error::{Error, Result};
use crate::naming::{FileName, TablePath};
use crate::partition::{PartitionField, PartitionSource, TimePart};
use crate::schema::{METADATA_SCHEMA_KEY, METADATA_SCHEMA_VERSION_KEY, TableSchema};
use crate::store::ObjectStoreEngine;
use file::FileSettings;
use table::TableWriter;
use upload::Mode;

/// Key of the key-value metadata entry that names the writing crate.
pub const METADATA_WRITER_KEY: &str = "parquet_storage.writer";
/// Key of the key-value metadata entry that holds the writing crate's version.
pub const METADATA_VERSION_KEY: &str = "parquet_storage.version";

/// Default zstd level, as in the `parquet` crate. Most pages are dictionary-encoded
/// already, so level 3 buys little: 1.2% smaller W3 output and 0.4% smaller battery
/// data, for about 4% more CPU over a whole W3 compaction.
pub const DEFAULT_ZSTD_LEVEL: i32 = 1;
/// Default gzip level.
pub const DEFAULT_GZIP_LEVEL: u32 = 6;
/// Default maximum rows per row group (parquet's default).
pub const DEFAULT_MAX_ROW_GROUP_ROWS: usize = 1024 * 1024;
/// Default maximum encoded bytes per row group: bounds what a writer buffers.
pub const DEFAULT_MAX_ROW_GROUP_BYTES: usize = 128 * 1024 * 1024;
/// Default data page size limit (parquet's default).
pub const DEFAULT_DATA_PAGE_SIZE: usize = 1024 * 1024;
/// Default part size of multipart uploads, and the size up to which a file is sent in
/// one request.
pub const DEFAULT_UPLOAD_PART_SIZE: usize = 10 * 1024 * 1024;
/// Smallest allowed part size: S3 rejects smaller parts other than the last.
pub const MIN_UPLOAD_PART_SIZE: usize = 5 * 1024 * 1024;
/// Default number of parts in flight at once.
pub const DEFAULT_UPLOAD_CONCURRENCY: usize = 4;
/// Default number of files a partitioned write keeps open at once.
pub const DEFAULT_MAX_OPEN_FILES: usize = 64;
/// Default memory budget of a write's open files, in bytes.
pub const DEFAULT_MAX_BUFFERED_BYTES: usize = 512 * 1024 * 1024;
/// Default size at which a file is closed and its partition rolls to a new one.
pub const DEFAULT_TARGET_FILE_SIZE: u64 = 256 * 1024 * 1024;
/// Key of the key-value metadata entry that records the partition columns and their
/// types, as JSON: `[{"name": "day", "type": "Date32"}, …]`.
pub const METADATA_PARTITIONING_KEY: &str = "parquet_storage.partitioning";

/// Compression codec of the data pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Compression {
    /// Zstandard at a level from 1 to 22 (default: [`DEFAULT_ZSTD_LEVEL`]).
    Zstd(i32),
    /// Snappy.
    Snappy,
    /// Gzip at a level from 0 to 10.
    Gzip(u32),
    /// LZ4 (the `LZ4_RAW` codec of the Parquet spec).
    Lz4,
    /// No compression.
    None,
}

impl Default for Compression {
    fn default() -> Self {
        Compression::Zstd(DEFAULT_ZSTD_LEVEL)
    }
}

impl Compression {
    fn to_parquet(self) -> Result<parquet::basic::Compression> {
        use parquet::basic::Compression as P;
        let bad_level = |source: ParquetError| Error::Config {
            message: format!("compression {self:?}: level out of range"),
            source: Some(Box::new(source)),
        };
        Ok(match self {
            Compression::Zstd(level) => P::ZSTD(ZstdLevel::try_new(level).map_err(bad_level)?),
            Compression::Snappy => P::SNAPPY,
            Compression::Gzip(level) => P::GZIP(GzipLevel::try_new(level).map_err(bad_level)?),
            Compression::Lz4 => P::LZ4_RAW,
            Compression::None => P::UNCOMPRESSED,
        })
    }
}

/// Which column statistics a file carries (readers prune with them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum StatisticsLevel {
    /// None.
    None,
    /// Per column chunk (row group).
    Chunk,
    /// Per column chunk and per page, with a page index (the default).
    #[default]
    Page,
}

/// How a write encodes and stores its files. `Default` gives the documented defaults.
///
/// ```
/// use parquet_storage::{Compression, WriteOptions};
///
/// let options = WriteOptions::default()
///     .with_compression(Compression::Zstd(9))
///     .with_max_row_group_rows(256 * 1024)
///     .with_dictionary(false);
/// assert_eq!(options.compression(), Compression::Zstd(9));
/// ```
#[derive(Debug, Clone)]
pub struct WriteOptions {
    compression: Compression,
    max_row_group_rows: usize,
    max_row_group_bytes: usize,
    data_page_size: usize,
    data_page_rows: Option<usize>,
    dictionary: bool,
    statistics: StatisticsLevel,
    stem: Option<String>,
    file_name: Option<FileName>,
    overwrite: bool,
    upload_part_size: usize,
    upload_concurrency: usize,
    schema: Option<Arc<TableSchema>>,
    partition_by: Vec<PartitionField>,
    max_open_files: usize,
    max_buffered_bytes: usize,
    target_file_size: Option<u64>,
    max_rows_per_file: Option<u64>,
    sort_by: Vec<String>,
    bloom_filters: Vec<String>,
    column_dictionary: Vec<(String, bool)>,
    encoding_threads: usize,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compression: Compression::default(),
            max_row_group_rows: DEFAULT_MAX_ROW_GROUP_ROWS,
            max_row_group_bytes: DEFAULT_MAX_ROW_GROUP_BYTES,
            data_page_size: DEFAULT_DATA_PAGE_SIZE,
            data_page_rows: None,
            dictionary: true,
            statistics: StatisticsLevel::default(),
            stem: None,
            file_name: None,
            overwrite: false,
            upload_part_size: DEFAULT_UPLOAD_PART_SIZE,
            upload_concurrency: DEFAULT_UPLOAD_CONCURRENCY,
            schema: None,
            partition_by: Vec::new(),
            max_open_files: DEFAULT_MAX_OPEN_FILES,
            max_buffered_bytes: DEFAULT_MAX_BUFFERED_BYTES,
            target_file_size: Some(DEFAULT_TARGET_FILE_SIZE),
            max_rows_per_file: None,
            sort_by: Vec::new(),
            bloom_filters: Vec::new(),
            column_dictionary: Vec::new(),
            encoding_threads: std::thread::available_parallelism().map_or(1, usize::from),
        }
    }
}

impl WriteOptions {
    /// Compression codec (default: zstd level [`DEFAULT_ZSTD_LEVEL`]).
    pub fn with_compression(mut self, compression: Compression) -> Self {
        self.compression = compression;
        self
    }

    /// Maximum rows per row group (default [`DEFAULT_MAX_ROW_GROUP_ROWS`]).
    pub fn with_max_row_group_rows(mut self, rows: usize) -> Self {
        self.max_row_group_rows = rows;
        self
    }

    /// Maximum encoded bytes per row group (default [`DEFAULT_MAX_ROW_GROUP_BYTES`]); the
    /// writer buffers at most about this much before sending a row group on.
    pub fn with_max_row_group_bytes(mut self, bytes: usize) -> Self {
        self.max_row_group_bytes = bytes;
        self
    }

    /// Data page size limit in bytes (default [`DEFAULT_DATA_PAGE_SIZE`]).
    pub fn with_data_page_size(mut self, bytes: usize) -> Self {
        self.data_page_size = bytes;
        self
    }

    /// Caps a data page at `rows` rows (default: pages are cut by size only). Smaller
    /// pages let the page index skip more of a sorted column on selective reads, at
    /// some cost in size and write speed.
    pub fn with_data_page_rows(mut self, rows: usize) -> Self {
        self.data_page_rows = Some(rows);
        self
    }

    /// Dictionary encoding (default on; turn off for near-unique columns).
    pub fn with_dictionary(mut self, enabled: bool) -> Self {
        self.dictionary = enabled;
        self
    }

    /// Column statistics (default [`StatisticsLevel::Page`]).
    pub fn with_statistics(mut self, level: StatisticsLevel) -> Self {
        self.statistics = level;
        self
    }

    /// File name stem (default: the table's name).
    pub fn with_stem(mut self, stem: impl Into<String>) -> Self {
        self.stem = Some(stem.into());
        self
    }

    /// Writes exactly this file name instead of a fresh one. Together with
    /// [`with_overwrite`](Self::with_overwrite) this is how a file is replaced.
    pub fn with_file_name(mut self, name: FileName) -> Self {
        self.file_name = Some(name);
        self
    }

    /// Allows the write to replace an existing file of the same name (default: off; a
    /// write never replaces anything).
    pub fn with_overwrite(mut self, overwrite: bool) -> Self {
        self.overwrite = overwrite;
        self
    }

    /// Part size of multipart uploads, at least [`MIN_UPLOAD_PART_SIZE`] (default
    /// [`DEFAULT_UPLOAD_PART_SIZE`]). Files up to this size are sent in one request.
    pub fn with_upload_part_size(mut self, bytes: usize) -> Self {
        self.upload_part_size = bytes;
        self
    }

    /// Parts uploaded at once (default [`DEFAULT_UPLOAD_CONCURRENCY`]).
    pub fn with_upload_concurrency(mut self, parts: usize) -> Self {
        self.upload_concurrency = parts;
        self
    }

    /// Validates every batch against registry schema `schema` before anything is written
    /// (an invalid batch fails the write with [`Error::Validation`] and leaves nothing),
    /// writes files with the schema's column order and types, and records its name and
    /// version in each file's metadata.
    pub fn with_schema(mut self, schema: Arc<TableSchema>) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Writes one directory level `key=value/` per field (hive layout): each row goes to
    /// the file of its partition. Column fields leave the files (their value is in the
    /// path); time-derived fields keep their source column.
    pub fn with_partition_by(mut self, fields: impl IntoIterator<Item = PartitionField>) -> Self {
        self.partition_by = fields.into_iter().collect();
        self
    }

    /// Files a partitioned write keeps open at once (default
    /// [`DEFAULT_MAX_OPEN_FILES`]); opening one more closes the largest, and its
    /// partition rolls to a new file if more of its rows come.
    pub fn with_max_open_files(mut self, files: usize) -> Self {
        self.max_open_files = files;
        self
    }

    /// Memory budget of the open files together: rows waiting to be sorted, row groups
    /// being encoded and upload buffers (default [`DEFAULT_MAX_BUFFERED_BYTES`]). Over
    /// it, the largest open file is closed.
    pub fn with_max_buffered_bytes(mut self, bytes: usize) -> Self {
        self.max_buffered_bytes = bytes;
        self
    }

    /// Closes a file once it reaches about this size; more rows of its partition go to a
    /// new file (default [`DEFAULT_TARGET_FILE_SIZE`]; `None`: no limit).
    pub fn with_target_file_size(mut self, bytes: Option<u64>) -> Self {
        self.target_file_size = bytes;
        self
    }

    /// Closes a file once it holds this many rows (default: no limit).
    pub fn with_max_rows_per_file(mut self, rows: Option<u64>) -> Self {
        self.max_rows_per_file = rows;
        self
    }

    /// Sorts each row group by these columns (ascending, nulls first), for compression
    /// and pruning; with `max_rows_per_file` equal to the row group size, whole files
    /// are sorted. The sort is stable: rows with equal keys keep the order they came in.
    pub fn with_sort_by<I: IntoIterator<Item = S>, S: Into<String>>(mut self, columns: I) -> Self {
        self.sort_by = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Writes a bloom filter for each of these columns, so reads that look for one
    /// value (`=`, `IN`) skip row groups that do not hold it.
    pub fn with_bloom_filters<I: IntoIterator<Item = S>, S: Into<String>>(
        mut self,
        columns: I,
    ) -> Self {
        self.bloom_filters = columns.into_iter().map(Into::into).collect();
        self
    }

    /// Turns dictionary encoding on or off for one column, over the file-wide setting;
    /// off suits near-unique columns such as UUID keys.
    pub fn with_column_dictionary(mut self, column: impl Into<String>, enabled: bool) -> Self {
        self.column_dictionary.push((column.into(), enabled));
        self
    }

    /// Threads that encode the columns of one row group (default: the machine's
    /// cores). Wide row groups are encoded column by column on this many threads, the
    /// writing task's own among them; 1 keeps every write on that task's thread.
    pub fn with_encoding_threads(mut self, threads: usize) -> Self {
        self.encoding_threads = threads.max(1);
        self
    }

    /// The partition fields.
    pub fn partition_by(&self) -> &[PartitionField] {
        &self.partition_by
    }

    /// The registry schema writes are validated against, if any.
    pub fn schema(&self) -> Option<&Arc<TableSchema>> {
        self.schema.as_ref()
    }

    /// The compression codec.
    pub fn compression(&self) -> Compression {
        self.compression
    }

    /// Whether an existing file may be replaced.
    pub fn overwrite(&self) -> bool {
        self.overwrite
    }

    /// Rejects settings that cannot work, before anything is written.
    fn validate(&self) -> Result<()> {
        let positive = [
            ("max_row_group_rows", self.max_row_group_rows),
            ("max_row_group_bytes", self.max_row_group_bytes),
            ("data_page_size", self.data_page_size),
            ("data_page_rows", self.data_page_rows.unwrap_or(1)),
            ("upload_concurrency", self.upload_concurrency),
            ("max_open_files", self.max_open_files),
            ("max_buffered_bytes", self.max_buffered_bytes),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(Error::config(format!(
                "WriteOptions: {name} must be positive"
            )));
        }
        if self.target_file_size == Some(0) || self.max_rows_per_file == Some(0) {
            return Err(Error::config(
                "WriteOptions: target_file_size and max_rows_per_file must be positive",
            ));
        }
        for field in &self.partition_by {
            field.check_name()?;
        }
        if self.upload_part_size < MIN_UPLOAD_PART_SIZE {
            return Err(Error::config(format!(
                "WriteOptions: upload_part_size {} is below the S3 minimum of {MIN_UPLOAD_PART_SIZE} bytes",
                self.upload_part_size
            )));
        }
        Ok(())
    }

    fn writer_properties(&self, schema: &Schema) -> Result<WriterProperties> {
        let statistics = match self.statistics {
            StatisticsLevel::None => EnabledStatistics::None,
            StatisticsLevel::Chunk => EnabledStatistics::Chunk,
            StatisticsLevel::Page => EnabledStatistics::Page,
        };
        let builder = WriterProperties::builder()
            .set_compression(self.compression.to_parquet()?)
            .set_max_row_group_row_count(Some(self.max_row_group_rows))
            .set_max_row_group_bytes(Some(self.max_row_group_bytes))
            .set_data_page_size_limit(self.data_page_size)
            .set_dictionary_enabled(self.dictionary)
            .set_statistics_enabled(statistics)
            .set_key_value_metadata(Some(self.key_value_metadata(schema)));
        let mut builder = builder;
        if let Some(rows) = self.data_page_rows {
            // The page limit is checked once per write batch: make batches no larger.
            builder = builder
                .set_data_page_row_count_limit(rows)
                .set_write_batch_size(rows.min(1024));
        }
        for column in &self.bloom_filters {
            builder =
                builder.set_column_bloom_filter_enabled(ColumnPath::from(column.as_str()), true);
        }
        for (column, enabled) in &self.column_dictionary {
            builder =
                builder.set_column_dictionary_enabled(ColumnPath::from(column.as_str()), *enabled);
        }
        Ok(builder.build())
    }

    /// The crate's name and version, and the registry schema's name and version.
    fn key_value_metadata(&self, schema: &Schema) -> Vec<KeyValue> {
        let mut entries = vec![
            KeyValue::new(
                METADATA_WRITER_KEY.into(),
                env!("CARGO_PKG_NAME").to_string(),
            ),
            KeyValue::new(
                METADATA_VERSION_KEY.into(),
                env!("CARGO_PKG_VERSION").to_string(),
            ),
        ];
        if let Some(registered) = &self.schema {
            entries.push(KeyValue::new(
                METADATA_SCHEMA_KEY.into(),
                registered.name().to_string(),
            ));
            entries.push(KeyValue::new(
                METADATA_SCHEMA_VERSION_KEY.into(),
                registered.version().to_string(),
            ));
        }
        if !self.partition_by.is_empty() {
            let columns: Vec<serde_json::Value> = self
                .partition_by
                .iter()
                .map(|field| {
                    let ty = partition_type(field, schema);
                    serde_json::json!({ "name": field.name(), "type": ty.to_string() })
                })
                .collect();
            entries.push(KeyValue::new(
                METADATA_PARTITIONING_KEY.into(),
                serde_json::Value::Array(columns).to_string(),
            ));
        }
        entries
    }
}

/// The type a partition column reads back as: the column's own (strings, integers of
/// booleans, dates), a date for days, an integer for years, text for months and hours.
fn partition_type(field: &PartitionField, schema: &Schema) -> DataType {
    match field.source() {
        PartitionSource::Column => {
            match schema.field_with_name(field.name()).map(|f| f.data_type()) {
                Ok(DataType::Date32 | DataType::Date64) => DataType::Date32,
                Ok(DataType::Boolean) => DataType::Boolean,
                Ok(t) if t.is_integer() => t.clone(),
                _ => DataType::Utf8,
            }
        }
        PartitionSource::Time {
            part: TimePart::Day,
            ..
        } => DataType::Date32,
        PartitionSource::Time {
            part: TimePart::Year,
            ..
        } => DataType::Int64,
        PartitionSource::Time { .. } => DataType::Utf8,
    }
}

/// Writes `input` to `table` as new files: one per partition, more where a file reaches
/// its target size.
pub(crate) async fn write_stream(
    engine: &ObjectStoreEngine,
    table: &TablePath,
    mut input: RecordBatchStream,
    options: WriteOptions,
) -> Result<WriteReceipt> {
    options.validate()?;
    let schema = match &options.schema {
        Some(registered) => registered.file_schema(&input.schema()),
        None => input.schema(),
    };
    // Column partition keys leave the files; sort columns must stay in them.
    let file_schema = data_schema(&schema, &options.partition_by);
    let mut sort_by = Vec::with_capacity(options.sort_by.len());
    for column in &options.sort_by {
        let index = file_schema.index_of(column).map_err(|_| {
            Error::config(format!(
                "sort column {column:?} is not a data column of the write"
            ))
        })?;
        sort_by.push(index);
    }
    for field in &options.partition_by {
        let needed = match field.source() {
            PartitionSource::Column => field.name(),
            PartitionSource::Time { column, .. } => column.as_str(),
        };
        if schema.field_with_name(needed).is_err() {
            return Err(Error::config(format!(
                "partition {:?} needs column {needed:?}, which the data does not have",
                field.name()
            )));
        }
    }
    let settings = FileSettings {
        engine: engine.clone(),
        table: table.to_string(),
        properties: options.writer_properties(&schema)?,
        schema: file_schema,
        mode: if options.overwrite {
            Mode::Overwrite
        } else {
            Mode::Create
        },
        part_size: options.upload_part_size,
        concurrency: options.upload_concurrency,
        max_row_group_rows: options.max_row_group_rows,
        sort_by,
        encoding_threads: options.encoding_threads,
    };
    let mut writer = TableWriter::new(settings, &options, table);

    let mut rows = 0u64;
    let mut index = 0usize;
    let outcome: Result<()> = async {
        while let Some(batch) = input.next().await {
            let mut batch = batch?;
            if let Some(registered) = &options.schema {
                batch = registered.validate_at(&batch, rows)?;
            }
            check_batch_schema(table, index, &schema, &batch)?;
            index += 1;
            if batch.num_rows() == 0 {
                continue;
            }
            rows += batch.num_rows() as u64;
            writer.write(&batch).await?;
        }
        Ok(())
    }
    .await;
    if let Err(error) = outcome {
        writer.abort().await;
        return Err(error);
    }
    match writer.finish().await {
        Ok(receipt) => Ok(receipt),
        Err((error, writer)) => {
            writer.abort().await;
            Err(error)
        }
    }
}

/// The schema of the files: `schema` without the columns that become directory names.
fn data_schema(schema: &SchemaRef, partition_by: &[PartitionField]) -> SchemaRef {
    let moved = |name: &str| {
        partition_by
            .iter()
            .any(|f| *f.source() == PartitionSource::Column && f.name() == name)
    };
    if !schema.fields().iter().any(|f| moved(f.name())) {
        return Arc::clone(schema);
    }
    let fields: Vec<_> = schema
        .fields()
        .iter()
        .filter(|f| !moved(f.name()))
        .cloned()
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// Name of the hidden directory, inside a table, where multipart uploads are staged.
pub(crate) const STAGING_DIR: &str = "_staging";

/// Compares a batch's columns with the write's schema: names, types and nullability,
/// ignoring metadata.
fn check_batch_schema(
    table: &TablePath,
    index: usize,
    expected: &Schema,
    batch: &RecordBatch,
) -> Result<()> {
    let found = batch.schema();
    let mismatch = |detail: String| Error::BatchSchemaMismatch {
        table: table.to_string(),
        batch: index,
        detail,
    };
    if found.fields().len() != expected.fields().len() {
        return Err(mismatch(format!(
            "{} columns, expected {}",
            found.fields().len(),
            expected.fields().len()
        )));
    }
    for (e, f) in expected.fields().iter().zip(found.fields()) {
        if e.name() != f.name() || e.data_type() != f.data_type() {
            return Err(mismatch(format!(
                "column {:?} {} where {:?} {} was expected",
                f.name(),
                f.data_type(),
                e.name(),
                e.data_type()
            )));
        }
        if !e.is_nullable() && f.is_nullable() {
            return Err(mismatch(format!(
                "column {:?} is nullable but the schema says NOT NULL",
                f.name()
            )));
        }
    }
    Ok(())
}

/// Recovers our own error when it travelled through parquet as `External`.
pub(crate) fn unwrap_parquet_error(
    error: ParquetError,
) -> std::result::Result<Error, ParquetError> {
    match error {
        ParquetError::External(boxed) => match boxed.downcast::<Error>() {
            Ok(ours) => Ok(*ours),
            Err(other) => Err(ParquetError::External(other)),
        },
        other => Err(other),
    }
}

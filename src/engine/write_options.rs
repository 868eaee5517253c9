//! [`WriteOptions`]: how a write encodes and stores its files, with the documented
//! defaults. The write path turns them into Parquet writer properties.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::naming::FileName;
use crate::partition::PartitionField;
use crate::schema::TableSchema;

/// Default zstd level, as in the `parquet` crate. Most pages are dictionary-encoded
/// already, so level 3 buys little: 1.2% smaller output for a compaction of
/// 180-column telemetry and 0.4% for battery telemetry, for about 4% more CPU.
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
    pub(crate) compression: Compression,
    pub(crate) max_row_group_rows: usize,
    pub(crate) max_row_group_bytes: usize,
    pub(crate) data_page_size: usize,
    pub(crate) data_page_rows: Option<usize>,
    pub(crate) dictionary: bool,
    pub(crate) statistics: StatisticsLevel,
    pub(crate) stem: Option<String>,
    pub(crate) file_name: Option<FileName>,
    pub(crate) overwrite: bool,
    pub(crate) upload_part_size: usize,
    pub(crate) upload_concurrency: usize,
    pub(crate) schema: Option<Arc<TableSchema>>,
    pub(crate) partition_by: Vec<PartitionField>,
    pub(crate) max_open_files: usize,
    pub(crate) max_buffered_bytes: usize,
    pub(crate) target_file_size: Option<u64>,
    pub(crate) max_rows_per_file: Option<u64>,
    pub(crate) sort_by: Vec<String>,
    pub(crate) bloom_filters: Vec<String>,
    pub(crate) column_dictionary: Vec<(String, bool)>,
    pub(crate) encoding_threads: usize,
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
    pub(crate) fn validate(&self) -> Result<()> {
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
}

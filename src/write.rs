//! The write path: [`WriteOptions`], and batches in, one immutable Parquet file out.
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

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::Schema;
use bytes::Bytes;
use futures::StreamExt;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{
    MultipartUpload, ObjectStore, ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions,
    PutPayload, RenameOptions, RenameTargetMode,
};
use parquet::arrow::AsyncArrowWriter;
use parquet::arrow::async_writer::AsyncFileWriter;
use parquet::basic::{GzipLevel, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use tokio::task::JoinSet;

use crate::engine::{RecordBatchStream, WriteReceipt, WrittenFile};
use crate::error::{Error, Result};
use crate::naming::{FileName, TablePath};
use crate::schema::{METADATA_SCHEMA_KEY, METADATA_SCHEMA_VERSION_KEY, TableSchema};
use crate::store::ObjectStoreEngine;

/// Key of the key-value metadata entry that names the writing crate.
pub const METADATA_WRITER_KEY: &str = "parquet_storage.writer";
/// Key of the key-value metadata entry that holds the writing crate's version.
pub const METADATA_VERSION_KEY: &str = "parquet_storage.version";

/// Default zstd level: zstd's own default, a good balance of speed and size.
pub const DEFAULT_ZSTD_LEVEL: i32 = 3;
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
    dictionary: bool,
    statistics: StatisticsLevel,
    stem: Option<String>,
    file_name: Option<FileName>,
    overwrite: bool,
    upload_part_size: usize,
    upload_concurrency: usize,
    schema: Option<Arc<TableSchema>>,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            compression: Compression::default(),
            max_row_group_rows: DEFAULT_MAX_ROW_GROUP_ROWS,
            max_row_group_bytes: DEFAULT_MAX_ROW_GROUP_BYTES,
            data_page_size: DEFAULT_DATA_PAGE_SIZE,
            dictionary: true,
            statistics: StatisticsLevel::default(),
            stem: None,
            file_name: None,
            overwrite: false,
            upload_part_size: DEFAULT_UPLOAD_PART_SIZE,
            upload_concurrency: DEFAULT_UPLOAD_CONCURRENCY,
            schema: None,
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
            ("upload_concurrency", self.upload_concurrency),
        ];
        if let Some((name, _)) = positive.iter().find(|(_, v)| *v == 0) {
            return Err(Error::config(format!(
                "WriteOptions: {name} must be positive"
            )));
        }
        if self.upload_part_size < MIN_UPLOAD_PART_SIZE {
            return Err(Error::config(format!(
                "WriteOptions: upload_part_size {} is below the S3 minimum of {MIN_UPLOAD_PART_SIZE} bytes",
                self.upload_part_size
            )));
        }
        Ok(())
    }

    fn writer_properties(&self) -> Result<WriterProperties> {
        let statistics = match self.statistics {
            StatisticsLevel::None => EnabledStatistics::None,
            StatisticsLevel::Chunk => EnabledStatistics::Chunk,
            StatisticsLevel::Page => EnabledStatistics::Page,
        };
        Ok(WriterProperties::builder()
            .set_compression(self.compression.to_parquet()?)
            .set_max_row_group_row_count(Some(self.max_row_group_rows))
            .set_max_row_group_bytes(Some(self.max_row_group_bytes))
            .set_data_page_size_limit(self.data_page_size)
            .set_dictionary_enabled(self.dictionary)
            .set_statistics_enabled(statistics)
            .set_key_value_metadata(Some(self.key_value_metadata()))
            .build())
    }

    /// The crate's name and version, and the registry schema's name and version.
    fn key_value_metadata(&self) -> Vec<KeyValue> {
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
        if let Some(schema) = &self.schema {
            entries.push(KeyValue::new(
                METADATA_SCHEMA_KEY.into(),
                schema.name().to_string(),
            ));
            entries.push(KeyValue::new(
                METADATA_SCHEMA_VERSION_KEY.into(),
                schema.version().to_string(),
            ));
        }
        entries
    }
}

/// Writes `input` to `table` as one new file.
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
    let name = match &options.file_name {
        Some(name) => name.clone(),
        None => FileName::generate(options.stem.as_deref().unwrap_or(table.name()))?,
    };
    let target = table.location().join(name.to_string());
    let staging = table
        .location()
        .join(STAGING_DIR)
        .join(uuid::Uuid::now_v7().simple().to_string());
    let encode_error = |source: ParquetError| {
        unwrap_parquet_error(source).unwrap_or_else(|source| Error::Encode {
            backend: engine.backend().to_string(),
            table: table.to_string(),
            path: target.to_string(),
            source,
        })
    };

    let sink = UploadSink {
        engine: engine.clone(),
        target: target.clone(),
        staging,
        mode: if options.overwrite {
            Mode::Overwrite
        } else {
            Mode::Create
        },
        part_size: options.upload_part_size,
        concurrency: options.upload_concurrency,
        state: State::Buffering(Vec::new(), 0),
        bytes: 0,
    };
    let mut writer = AsyncArrowWriter::try_new(
        sink,
        Arc::clone(&schema),
        Some(options.writer_properties()?),
    )
    .map_err(encode_error)?;

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
            // Hand the encoder at most one row group at a time, so it flushes (and we
            // upload) each row group before encoding the next: a large batch is never
            // held twice, once decoded and once encoded.
            let mut offset = 0;
            while offset < batch.num_rows() {
                let len = options.max_row_group_rows.min(batch.num_rows() - offset);
                writer
                    .write(&batch.slice(offset, len))
                    .await
                    .map_err(encode_error)?;
                offset += len;
            }
        }
        if rows > 0 {
            writer.finish().await.map_err(encode_error)?;
        }
        Ok(())
    }
    .await;

    let sink = writer.into_inner();
    if let Err(error) = outcome {
        sink.abort().await;
        return Err(error);
    }
    if rows == 0 {
        // Nothing was flushed, so nothing was uploaded: an empty write leaves no trace.
        sink.abort().await;
        return Ok(WriteReceipt::default());
    }
    let bytes = sink.bytes;
    Ok(WriteReceipt {
        files: vec![WrittenFile {
            path: target.to_string(),
            rows,
            bytes,
        }],
        rows,
        bytes,
    })
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

#[derive(Debug, Clone, Copy)]
enum Mode {
    Create,
    Overwrite,
}

enum State {
    /// Nothing sent yet: the buffered chunks and their total size.
    Buffering(Vec<Bytes>, usize),
    /// A multipart upload to the staging key is under way.
    Uploading(Multipart),
    /// The staging object is complete but not yet published.
    Staged,
    /// Published, or abandoned with nothing left to clean up.
    Closed,
}

/// The byte sink under `AsyncArrowWriter`: one `PUT` for small files, a staged multipart
/// upload and a create-only rename for large ones.
struct UploadSink {
    engine: ObjectStoreEngine,
    target: Path,
    staging: Path,
    mode: Mode,
    part_size: usize,
    concurrency: usize,
    state: State,
    bytes: u64,
}

impl UploadSink {
    fn store(&self) -> &Arc<dyn ObjectStore> {
        self.engine.store()
    }

    fn fail(&self, operation: &'static str, path: &Path, e: object_store::Error) -> ParquetError {
        ParquetError::External(Box::new(self.engine.store_error(operation, path, e)))
    }

    async fn push_part_bytes(&mut self, bytes: Bytes) -> parquet::errors::Result<()> {
        let (part_size, concurrency) = (self.part_size, self.concurrency);
        if let State::Uploading(multipart) = &mut self.state
            && let Err(e) = multipart.push(bytes, part_size, concurrency).await
        {
            return Err(self.fail("upload part", &self.staging, e));
        }
        Ok(())
    }

    async fn complete_inner(&mut self) -> parquet::errors::Result<()> {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Buffering(chunks, _) => {
                let mode = match self.mode {
                    Mode::Create => PutMode::Create,
                    Mode::Overwrite => PutMode::Overwrite,
                };
                let payload = PutPayload::from_iter(chunks);
                self.store()
                    .put_opts(&self.target, payload, PutOptions::from(mode))
                    .await
                    .map_err(|e| self.fail("put", &self.target, e))?;
            }
            State::Uploading(mut multipart) => {
                if let Err(e) = multipart.finish(self.concurrency).await {
                    // Keep it, so that `abort` aborts the upload.
                    self.state = State::Uploading(multipart);
                    return Err(self.fail("complete multipart upload", &self.staging, e));
                }
                self.state = State::Staged;
                let target_mode = match self.mode {
                    Mode::Create => RenameTargetMode::Create,
                    Mode::Overwrite => RenameTargetMode::Overwrite,
                };
                self.store()
                    .rename_opts(
                        &self.staging,
                        &self.target,
                        RenameOptions::new().with_target_mode(target_mode),
                    )
                    .await
                    .map_err(|e| self.fail("publish", &self.target, e))?;
                self.state = State::Closed;
            }
            State::Staged | State::Closed => {}
        }
        Ok(())
    }

    /// Abandons the write: aborts a multipart upload and removes anything staged. Best
    /// effort: the staging key is hidden from readers, so a leftover one (when even the
    /// delete fails) costs space, never correctness.
    async fn abort(mut self) {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Uploading(multipart) => {
                multipart.abort().await;
                let _ = self.store().delete(&self.staging).await;
            }
            State::Staged => {
                let _ = self.store().delete(&self.staging).await;
            }
            State::Buffering(..) | State::Closed => {}
        }
    }
}

impl AsyncFileWriter for UploadSink {
    fn write(&mut self, bytes: Bytes) -> BoxFuture<'_, parquet::errors::Result<()>> {
        Box::pin(async move {
            self.bytes += bytes.len() as u64;
            let part_size = self.part_size;
            match &mut self.state {
                State::Buffering(chunks, size) => {
                    *size += bytes.len();
                    chunks.push(bytes);
                    if *size <= part_size {
                        return Ok(());
                    }
                    let chunks = std::mem::take(chunks);
                    let upload = self
                        .store()
                        .put_multipart_opts(&self.staging, PutMultipartOptions::default())
                        .await
                        .map_err(|e| self.fail("start multipart upload", &self.staging, e))?;
                    self.state = State::Uploading(Multipart::new(upload));
                    for chunk in chunks {
                        self.push_part_bytes(chunk).await?;
                    }
                }
                State::Uploading(_) => self.push_part_bytes(bytes).await?,
                State::Staged | State::Closed => {
                    return Err(ParquetError::General(
                        "write after the file was closed".into(),
                    ));
                }
            }
            Ok(())
        })
    }

    fn complete(&mut self) -> BoxFuture<'_, parquet::errors::Result<()>> {
        Box::pin(self.complete_inner())
    }
}

/// A multipart upload with at most a few parts in flight, each `part_size` bytes but
/// the last. Unlike object_store's `WriteMultipart`, a failed completion can still be
/// aborted.
struct Multipart {
    upload: Box<dyn MultipartUpload>,
    pending: Vec<Bytes>,
    pending_len: usize,
    in_flight: JoinSet<object_store::Result<()>>,
}

impl Multipart {
    fn new(upload: Box<dyn MultipartUpload>) -> Self {
        Multipart {
            upload,
            pending: Vec::new(),
            pending_len: 0,
            in_flight: JoinSet::new(),
        }
    }

    /// Buffers `bytes` (slices share memory: no copy), sending every full part once
    /// fewer than `max_in_flight` parts are uploading.
    async fn push(
        &mut self,
        mut bytes: Bytes,
        part_size: usize,
        max_in_flight: usize,
    ) -> object_store::Result<()> {
        while !bytes.is_empty() {
            let take = (part_size - self.pending_len).min(bytes.len());
            self.pending.push(bytes.split_to(take));
            self.pending_len += take;
            if self.pending_len == part_size {
                self.wait_for_capacity(max_in_flight).await?;
                self.send_part();
            }
        }
        Ok(())
    }

    fn send_part(&mut self) {
        let payload = PutPayload::from_iter(std::mem::take(&mut self.pending));
        self.pending_len = 0;
        self.in_flight.spawn(self.upload.put_part(payload));
    }

    /// Waits until fewer than `max_in_flight` parts are uploading.
    async fn wait_for_capacity(&mut self, max_in_flight: usize) -> object_store::Result<()> {
        while self.in_flight.len() >= max_in_flight {
            match self.in_flight.join_next().await {
                Some(done) => done.map_err(join_error)??,
                None => break,
            }
        }
        Ok(())
    }

    /// Sends the last (short) part, waits for every part, and completes the upload.
    async fn finish(&mut self, max_in_flight: usize) -> object_store::Result<()> {
        if self.pending_len > 0 {
            self.wait_for_capacity(max_in_flight).await?;
            self.send_part();
        }
        while let Some(done) = self.in_flight.join_next().await {
            done.map_err(join_error)??;
        }
        self.upload.complete().await.map(drop)
    }

    async fn abort(mut self) {
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
        let _ = self.upload.abort().await;
    }
}

fn join_error(e: tokio::task::JoinError) -> object_store::Error {
    object_store::Error::Generic {
        store: "parquet_storage",
        source: Box::new(e),
    }
}

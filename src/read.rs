//! The read path: listing a table's files, reading footers, and scanning batches.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema, SchemaRef, TimeUnit};
use bytes::Bytes;
use futures::future::BoxFuture;
use futures::{FutureExt, StreamExt, TryStreamExt};
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use parquet::errors::ParquetError;
use parquet::file::metadata::{ParquetMetaData, ParquetMetaDataReader};

use crate::engine::{DataFile, FileMetadata, RecordBatchStream};
use crate::error::{Error, Result};
use crate::naming::{TablePath, is_hidden};
use crate::schema::TableSchema;
use crate::store::ObjectStoreEngine;
use crate::write::unwrap_parquet_error;

/// Default rows per batch a scan yields.
pub const DEFAULT_BATCH_SIZE: usize = 8192;
/// Default number of files whose footers a scan fetches ahead of the one it decodes.
pub const DEFAULT_FILE_CONCURRENCY: usize = 4;

/// Bytes fetched from the end of a file in the first request: enough for most footers,
/// so a footer usually costs one request instead of two.
const FOOTER_PREFETCH: usize = 64 * 1024;

/// The smallest possible Parquet file: `PAR1`, a 4-byte footer length, `PAR1`.
const MIN_PARQUET_SIZE: u64 = 12;

/// What a scan reads. `Default` reads every column.
///
/// ```
/// use parquet_storage::ScanOptions;
///
/// let options = ScanOptions::default().with_projection(["battery_id", "voltage"]);
/// assert_eq!(options.projection(), Some(&["battery_id".to_string(), "voltage".to_string()][..]));
/// ```
#[derive(Debug, Clone)]
pub struct ScanOptions {
    projection: Option<Vec<String>>,
    batch_size: usize,
    file_concurrency: usize,
    schema: Option<Arc<TableSchema>>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            projection: None,
            batch_size: DEFAULT_BATCH_SIZE,
            file_concurrency: DEFAULT_FILE_CONCURRENCY,
            schema: None,
        }
    }
}

impl ScanOptions {
    /// Reads only these columns, in this order. Only the pages of these columns are
    /// fetched.
    pub fn with_projection<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.projection = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Rows per batch (default [`DEFAULT_BATCH_SIZE`]).
    pub fn with_batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows;
        self
    }

    /// Files whose footers are fetched ahead (default [`DEFAULT_FILE_CONCURRENCY`]).
    pub fn with_file_concurrency(mut self, files: usize) -> Self {
        self.file_concurrency = files;
        self
    }

    /// Reads the table as registry schema `schema`: files written before a nullable
    /// column was added read it as nulls, narrower types are widened, and a real
    /// conflict is an [`Error::SchemaConflict`] naming the file and the column.
    pub fn with_schema(mut self, schema: Arc<TableSchema>) -> Self {
        self.schema = Some(schema);
        self
    }

    /// The projected columns, if any.
    pub fn projection(&self) -> Option<&[String]> {
        self.projection.as_deref()
    }

    fn validate(&self) -> Result<()> {
        if self.batch_size == 0 || self.file_concurrency == 0 {
            return Err(Error::config(
                "ScanOptions: batch_size and file_concurrency must be positive",
            ));
        }
        if let Some(columns) = &self.projection {
            for (i, c) in columns.iter().enumerate() {
                if columns[..i].contains(c) {
                    return Err(Error::config(format!(
                        "ScanOptions: column {c:?} is projected twice"
                    )));
                }
            }
        }
        Ok(())
    }
}

/// Every non-hidden object under the table's directory, sorted by path.
pub(crate) async fn list_files(
    engine: &ObjectStoreEngine,
    table: &TablePath,
) -> Result<Vec<DataFile>> {
    let prefix = table.location();
    let mut files: Vec<DataFile> = engine
        .store()
        .list(Some(&prefix))
        .map_err(|e| engine.store_error("list", &prefix, e))
        .try_filter_map(|meta| {
            let visible = meta
                .location
                .prefix_match(&prefix)
                .is_some_and(|mut rel| rel.all(|part| !is_hidden(part.as_ref())));
            futures::future::ready(Ok(visible.then(|| DataFile {
                path: meta.location.to_string(),
                size: meta.size,
                last_modified: meta.last_modified,
            })))
        })
        .try_collect()
        .await?;
    files.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(files)
}

/// Reads a file's footer.
pub(crate) async fn file_metadata(engine: &ObjectStoreEngine, path: &str) -> Result<FileMetadata> {
    let location = Path::from(path);
    let size = engine
        .store()
        .head(&location)
        .await
        .map_err(|e| engine.store_error("head", &location, e))?
        .size;
    let mut reader = FileReader::new(engine, location, size);
    let meta = reader.load().await?;
    let file = meta.metadata().file_metadata();
    let key_value: BTreeMap<String, String> = file
        .key_value_metadata()
        .into_iter()
        .flatten()
        .filter_map(|kv| Some((kv.key.clone(), kv.value.clone()?)))
        .collect();
    Ok(FileMetadata {
        path: path.to_string(),
        size,
        rows: u64::try_from(file.num_rows()).unwrap_or_default(),
        row_groups: meta.metadata().num_row_groups(),
        schema: Arc::clone(meta.schema()),
        created_by: file.created_by().map(str::to_string),
        key_value,
    })
}

/// Streams the table's files one after another, each decoded with the projection; the
/// footers of the next few files are fetched while the current one is decoded.
///
/// The output schema is the registry schema's when the options name one (files may then
/// lack nullable columns, read as nulls, or hold narrower types, widened); otherwise it
/// is the first file's, and every other file must match it.
pub(crate) async fn scan(
    engine: &ObjectStoreEngine,
    table: &TablePath,
    options: ScanOptions,
) -> Result<RecordBatchStream> {
    options.validate()?;
    let files = list_files(engine, table).await?;
    let Some(first) = files.first() else {
        return Err(Error::TableNotFound {
            backend: engine.backend().to_string(),
            table: table.to_string(),
        });
    };
    let missing = |column: &str, path: &str| Error::ColumnNotFound {
        backend: engine.backend().to_string(),
        table: table.to_string(),
        column: column.to_string(),
        path: path.to_string(),
    };
    let (target, first_meta) = match &options.schema {
        Some(schema) => {
            let origin = format!(
                "registry schema {} version {}",
                schema.name(),
                schema.version()
            );
            let output = project(&schema.arrow_schema(), options.projection(), |c| {
                missing(c, &origin)
            })?;
            (
                Target {
                    output,
                    origin,
                    lenient: true,
                },
                None,
            )
        }
        None => {
            let meta = FileReader::new(engine, Path::from(first.path.as_str()), first.size)
                .load()
                .await?;
            let output = project(meta.schema(), options.projection(), |c| {
                missing(c, &first.path)
            })?;
            let strict = Target {
                output,
                origin: first.path.clone(),
                lenient: false,
            };
            (strict, Some(meta))
        }
    };
    let output = Arc::clone(&target.output);
    let context = Arc::new(ScanContext {
        engine: engine.clone(),
        table: table.clone(),
        options,
        target,
    });
    let concurrency = context.options.file_concurrency;
    let mut first_meta = first_meta;
    let batches = futures::stream::iter(files)
        .map(move |file| {
            let context = Arc::clone(&context);
            let preloaded = first_meta.take();
            async move { open_file(&context, &file, preloaded).await }
        })
        .buffered(concurrency)
        .map_ok(OpenFile::into_stream)
        .try_flatten();
    Ok(RecordBatchStream::new(output, batches))
}

/// The columns of `schema` named by `projection`, in that order (all when `None`).
fn project(
    schema: &SchemaRef,
    projection: Option<&[String]>,
    missing: impl Fn(&str) -> Error,
) -> Result<SchemaRef> {
    let Some(columns) = projection else {
        return Ok(Arc::clone(schema));
    };
    let fields = columns
        .iter()
        .map(|c| {
            schema
                .field_with_name(c)
                .map(|f| Arc::new(f.clone()))
                .map_err(|_| missing(c))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Arc::new(Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    )))
}

/// What every file of a scan is read into.
struct Target {
    output: SchemaRef,
    /// Where the output schema comes from, for errors: a file, or a registry schema.
    origin: String,
    /// Whether files may lack nullable columns and hold narrower types.
    lenient: bool,
}

struct ScanContext {
    engine: ObjectStoreEngine,
    table: TablePath,
    options: ScanOptions,
    target: Target,
}

/// Where an output column comes from.
enum Source {
    /// Decoded column `position`, cast to the output type if `cast`.
    File { position: usize, cast: bool },
    /// Not in the file: nulls.
    Null,
}

/// A file opened for a scan: its footer is read and its columns planned.
struct OpenFile {
    context: Arc<ScanContext>,
    path: String,
    sources: Vec<Source>,
    stream: parquet::arrow::async_reader::ParquetRecordBatchStream<FileReader>,
}

impl OpenFile {
    /// The file's batches in the output schema (so every batch of a scan has the same
    /// schema object, metadata included).
    fn into_stream(self) -> futures::stream::BoxStream<'static, Result<RecordBatch>> {
        let OpenFile {
            context,
            path,
            sources,
            stream,
        } = self;
        stream
            .map(move |batch| {
                let engine = &context.engine;
                let batch = batch.map_err(|e| parquet_read_error(engine, &path, e))?;
                let output = &context.target.output;
                let arrow_error = |source| Error::Arrow {
                    table: context.table.to_string(),
                    context: format!("reading {path} into the scan's schema"),
                    source,
                };
                let mut columns = Vec::with_capacity(sources.len());
                for (field, source) in output.fields().iter().zip(&sources) {
                    columns.push(match source {
                        Source::File {
                            position,
                            cast: false,
                        } => Arc::clone(batch.column(*position)),
                        Source::File {
                            position,
                            cast: true,
                        } => {
                            let options = arrow_cast::CastOptions {
                                safe: false,
                                ..Default::default()
                            };
                            arrow_cast::cast_with_options(
                                batch.column(*position),
                                field.data_type(),
                                &options,
                            )
                            .map_err(arrow_error)?
                        }
                        Source::Null => {
                            arrow_array::new_null_array(field.data_type(), batch.num_rows())
                        }
                    });
                }
                let options =
                    arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
                RecordBatch::try_new_with_options(Arc::clone(output), columns, &options)
                    .map_err(arrow_error)
            })
            .boxed()
    }
}

async fn open_file(
    context: &Arc<ScanContext>,
    file: &DataFile,
    preloaded: Option<ArrowReaderMetadata>,
) -> Result<OpenFile> {
    let ScanContext {
        engine,
        table,
        options,
        target,
    } = context.as_ref();
    let mut reader = FileReader::new(engine, Path::from(file.path.as_str()), file.size);
    let meta = match preloaded {
        Some(meta) => meta,
        None => reader.load().await?,
    };
    let file_schema = Arc::clone(meta.schema());
    let conflict = |detail: String| Error::SchemaConflict {
        backend: engine.backend().to_string(),
        table: table.to_string(),
        first_path: target.origin.clone(),
        path: file.path.clone(),
        detail,
    };

    // Plan each output column: which file column (by root index), cast or not, or nulls.
    let mut plan: Vec<(Option<usize>, bool)> = Vec::with_capacity(target.output.fields().len());
    for field in target.output.fields() {
        match file_schema.index_of(field.name()) {
            Ok(index) => {
                let found = file_schema.field(index).data_type();
                let expected = field.data_type();
                let cast = found != expected;
                let allowed = !cast
                    || found.equals_datatype(expected)
                    || (target.lenient && widens(found, expected));
                if !allowed {
                    return Err(conflict(format!(
                        "column {:?} is {expected} there but {found} here",
                        field.name()
                    )));
                }
                plan.push((Some(index), cast));
            }
            Err(_) if target.lenient && field.is_nullable() => plan.push((None, false)),
            Err(_) if target.lenient => {
                return Err(conflict(format!(
                    "NOT NULL column {:?} is missing",
                    field.name()
                )));
            }
            Err(_) => {
                return Err(Error::ColumnNotFound {
                    backend: engine.backend().to_string(),
                    table: table.to_string(),
                    column: field.name().clone(),
                    path: file.path.clone(),
                });
            }
        }
    }
    if !target.lenient && options.projection.is_none() && file_schema.fields().len() > plan.len() {
        let extra: Vec<&str> = file_schema
            .fields()
            .iter()
            .filter(|f| target.output.field_with_name(f.name()).is_err())
            .map(|f| f.name().as_str())
            .collect();
        return Err(conflict(format!("extra columns {extra:?}")));
    }
    // Decoded columns come in file order.
    let mut roots: Vec<usize> = plan.iter().filter_map(|(index, _)| *index).collect();
    roots.sort_unstable();
    roots.dedup();
    let sources = plan
        .into_iter()
        .map(|(index, cast)| match index {
            Some(index) => Source::File {
                position: roots.binary_search(&index).unwrap_or_default(),
                cast,
            },
            None => Source::Null,
        })
        .collect();
    let mask = ProjectionMask::roots(meta.parquet_schema(), roots);
    let stream = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, meta)
        .with_projection(mask)
        .with_batch_size(options.batch_size)
        .build()
        .map_err(|e| parquet_read_error(engine, &file.path, e))?;
    Ok(OpenFile {
        context: Arc::clone(context),
        path: file.path.clone(),
        sources,
        stream,
    })
}

/// Whether values of type `from` convert to `to` without loss: wider integers, floats,
/// decimals, finer time units, longer string offsets.
fn widens(from: &DataType, to: &DataType) -> bool {
    use DataType::*;
    fn int_bits(t: &DataType) -> Option<(bool, u8)> {
        Some(match t {
            Int8 => (true, 8),
            Int16 => (true, 16),
            Int32 => (true, 32),
            Int64 => (true, 64),
            UInt8 => (false, 8),
            UInt16 => (false, 16),
            UInt32 => (false, 32),
            UInt64 => (false, 64),
            _ => return None,
        })
    }
    let unit_rank = |u: &TimeUnit| match u {
        TimeUnit::Second => 0,
        TimeUnit::Millisecond => 1,
        TimeUnit::Microsecond => 2,
        TimeUnit::Nanosecond => 3,
    };
    match (from, to) {
        (a, b) if int_bits(a).is_some() && int_bits(b).is_some() => {
            let ((sa, ba), (sb, bb)) = (
                int_bits(a).unwrap_or_default(),
                int_bits(b).unwrap_or_default(),
            );
            (sa == sb && ba <= bb) || (!sa && sb && ba < bb)
        }
        (Float16, Float32 | Float64) | (Float32, Float64) => true,
        (Utf8, LargeUtf8) | (Binary, LargeBinary) => true,
        (Timestamp(u1, z1), Timestamp(u2, z2)) => z1 == z2 && unit_rank(u1) <= unit_rank(u2),
        (Time32(u1), Time64(u2)) | (Time32(u1), Time32(u2)) | (Time64(u1), Time64(u2)) => {
            unit_rank(u1) <= unit_rank(u2)
        }
        (Decimal128(p1, s1), Decimal128(p2, s2) | Decimal256(p2, s2))
        | (Decimal256(p1, s1), Decimal256(p2, s2)) => {
            s2 >= s1 && i16::from(*p2) - i16::from(*s2) >= i16::from(*p1) - i16::from(*s1)
        }
        (List(a), List(b)) => {
            a.data_type() == b.data_type() || widens(a.data_type(), b.data_type())
        }
        _ => false,
    }
}

/// A parquet error while reading `path`: our own and store errors come back as they
/// were; anything else means the file is not valid Parquet.
fn parquet_read_error(engine: &ObjectStoreEngine, path: &str, error: ParquetError) -> Error {
    match unwrap_parquet_error(error) {
        Ok(ours) => ours,
        Err(source) => Error::InvalidParquet {
            backend: engine.backend().to_string(),
            path: path.to_string(),
            source,
        },
    }
}

/// Reads one file of known size through the object store: the Parquet reader asks for
/// byte ranges and this fetches them, several at once where the reader allows.
struct FileReader {
    engine: ObjectStoreEngine,
    store: Arc<dyn ObjectStore>,
    location: Path,
    size: u64,
}

impl FileReader {
    fn new(engine: &ObjectStoreEngine, location: Path, size: u64) -> Self {
        FileReader {
            engine: engine.clone(),
            store: Arc::clone(engine.store()),
            location,
            size,
        }
    }

    fn fail(&self, e: object_store::Error) -> ParquetError {
        ParquetError::External(Box::new(self.engine.store_error("get", &self.location, e)))
    }

    /// Reads and decodes the footer.
    async fn load(&mut self) -> Result<ArrowReaderMetadata> {
        let path = self.location.to_string();
        if self.size < MIN_PARQUET_SIZE {
            return Err(Error::InvalidParquet {
                backend: self.engine.backend().to_string(),
                path,
                source: ParquetError::General(format!(
                    "the file is {} bytes; a Parquet file has at least {MIN_PARQUET_SIZE}",
                    self.size
                )),
            });
        }
        let options = ArrowReaderOptions::new();
        let engine = self.engine.clone();
        ArrowReaderMetadata::load_async(self, options)
            .await
            .map_err(|e| parquet_read_error(&engine, &path, e))
    }
}

impl AsyncFileReader for FileReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.store
                .get_range(&self.location, range)
                .await
                .map_err(|e| self.fail(e))
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.store
                .get_ranges(&self.location, &ranges)
                .await
                .map_err(|e| self.fail(e))
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .with_prefetch_hint(Some(FOOTER_PREFETCH))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

//! The read path: listing a table's files, reading footers, and scanning batches.

use std::collections::BTreeMap;
use std::ops::Range;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{Schema, SchemaRef};
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
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            projection: None,
            batch_size: DEFAULT_BATCH_SIZE,
            file_concurrency: DEFAULT_FILE_CONCURRENCY,
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
    let concurrency = options.file_concurrency;
    let options = Arc::new(options);
    let first_path: Arc<str> = first.path.as_str().into();
    let first = open_file(engine, table, first, &options).await?;
    let schema = first.schema();

    let (engine, table, expected) = (engine.clone(), table.clone(), Arc::clone(&schema));
    let rest = futures::stream::iter(files.into_iter().skip(1))
        .map(move |file| {
            let (engine, table, options) = (engine.clone(), table.clone(), Arc::clone(&options));
            let (expected, first_path) = (Arc::clone(&expected), Arc::clone(&first_path));
            async move {
                let opened = open_file(&engine, &table, &file, &options).await?;
                check_same_schema(
                    &engine,
                    &table,
                    &first_path,
                    &expected,
                    &file.path,
                    &opened.schema,
                )?;
                Ok(opened)
            }
        })
        .buffered(concurrency);
    let batches = futures::stream::once(futures::future::ready(Ok(first)))
        .chain(rest)
        .map_ok({
            let schema = Arc::clone(&schema);
            move |file| file.into_stream(Arc::clone(&schema))
        })
        .try_flatten();
    Ok(RecordBatchStream::new(schema, batches))
}

/// A file opened for a scan: its footer is read and its projected schema known.
struct OpenFile {
    engine: ObjectStoreEngine,
    path: String,
    schema: SchemaRef,
    /// Positions, in the decoded batch, of the projected columns in the requested order.
    order: Vec<usize>,
    stream: parquet::arrow::async_reader::ParquetRecordBatchStream<FileReader>,
}

impl OpenFile {
    fn schema(&self) -> SchemaRef {
        Arc::clone(&self.schema)
    }

    /// The file's batches, reordered to the projection and stamped with the scan's schema
    /// (so every batch of a scan has the same schema object, metadata included).
    fn into_stream(
        self,
        schema: SchemaRef,
    ) -> futures::stream::BoxStream<'static, Result<RecordBatch>> {
        let OpenFile {
            engine,
            path,
            order,
            stream,
            ..
        } = self;
        stream
            .map(move |batch| {
                let batch = batch.map_err(|e| parquet_read_error(&engine, &path, e))?;
                let columns = order.iter().map(|&i| Arc::clone(batch.column(i))).collect();
                RecordBatch::try_new(Arc::clone(&schema), columns).map_err(|source| Error::Arrow {
                    table: path.clone(),
                    context: format!("assembling a batch of {path}"),
                    source,
                })
            })
            .boxed()
    }
}

async fn open_file(
    engine: &ObjectStoreEngine,
    table: &TablePath,
    file: &DataFile,
    options: &ScanOptions,
) -> Result<OpenFile> {
    let location = Path::from(file.path.as_str());
    let mut reader = FileReader::new(engine, location, file.size);
    let meta = reader.load().await?;
    let file_schema = Arc::clone(meta.schema());

    let (mask, order, schema) = match &options.projection {
        None => (
            ProjectionMask::all(),
            (0..file_schema.fields().len()).collect(),
            file_schema,
        ),
        Some(columns) => {
            let mut indices = Vec::with_capacity(columns.len());
            for column in columns {
                let index = file_schema
                    .index_of(column)
                    .map_err(|_| Error::ColumnNotFound {
                        backend: engine.backend().to_string(),
                        table: table.to_string(),
                        column: column.clone(),
                        path: file.path.clone(),
                    })?;
                indices.push(index);
            }
            let mut sorted = indices.clone();
            sorted.sort_unstable();
            // Decoded columns come in file order; `order` maps the request onto them.
            let order = indices
                .iter()
                .map(|i| sorted.binary_search(i).unwrap_or_default())
                .collect();
            let fields: Vec<_> = indices
                .iter()
                .map(|&i| Arc::clone(&file_schema.fields()[i]))
                .collect();
            let schema = Arc::new(Schema::new_with_metadata(
                fields,
                file_schema.metadata().clone(),
            ));
            let mask = ProjectionMask::roots(meta.parquet_schema(), sorted);
            (mask, order, schema)
        }
    };
    let stream = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, meta)
        .with_projection(mask)
        .with_batch_size(options.batch_size)
        .build()
        .map_err(|e| parquet_read_error(engine, &file.path, e))?;
    Ok(OpenFile {
        engine: engine.clone(),
        path: file.path.clone(),
        schema,
        order,
        stream,
    })
}

/// Files of one table must agree on the projected columns' names and types.
fn check_same_schema(
    engine: &ObjectStoreEngine,
    table: &TablePath,
    first_path: &str,
    expected: &Schema,
    path: &str,
    found: &Schema,
) -> Result<()> {
    let conflict = |detail: String| Error::SchemaConflict {
        backend: engine.backend().to_string(),
        table: table.to_string(),
        first_path: first_path.to_string(),
        path: path.to_string(),
        detail,
    };
    for field in expected.fields() {
        match found.field_with_name(field.name()) {
            Err(_) => return Err(conflict(format!("column {:?} is missing", field.name()))),
            Ok(other) if other.data_type() != field.data_type() => {
                return Err(conflict(format!(
                    "column {:?} is {} there but {} here",
                    field.name(),
                    field.data_type(),
                    other.data_type()
                )));
            }
            Ok(_) => {}
        }
    }
    if found.fields().len() != expected.fields().len() {
        let extra: Vec<_> = found
            .fields()
            .iter()
            .filter(|f| expected.field_with_name(f.name()).is_err())
            .map(|f| f.name().as_str())
            .collect();
        return Err(conflict(format!("extra columns {extra:?}")));
    }
    Ok(())
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

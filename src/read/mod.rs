//! The read path: finding a table's files, reading footers, and scanning batches with
//! projection, filters, partition columns and a row limit.
//!
//! This module plans a scan (the schema, partition columns, projection, limit);
//! [`open`] opens and decodes each file. A filter is used three ways: partitions it
//! rules out are never listed ([`listing`]), row groups and pages whose statistics or
//! bloom filters rule them out are never fetched ([`prune`]), and the rest is evaluated
//! row by row on the filter's own columns before the other columns are decoded (a
//! Parquet row filter).

mod file;
pub(crate) mod listing;
mod open;
mod prune;

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use futures::{StreamExt, TryStreamExt};
use parquet::arrow::arrow_reader::ArrowReaderMetadata;

pub(crate) use crate::layout::location;
use file::FileReader;
pub(crate) use listing::list_files;
use open::{OpenFile, ScanContext, Target, open_file};

use crate::backend::Backend;
use crate::engine::{
    DataFile, FileMetadata, PartitionInfo, RecordBatchStream, ScanOptions, TableInfo,
};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::metadata::{METADATA_PARTITIONING_KEY, decode_partitioning};
use crate::naming::TablePath;
use crate::partition;
use crate::schema::TableSchema;

/// Reads a file's footer.
pub(crate) async fn file_metadata(backend: &Backend, path: &str) -> Result<FileMetadata> {
    use object_store::ObjectStoreExt;
    let location = location(path)?;
    let size = backend
        .store()
        .head(&location)
        .await
        .map_err(|e| backend.error("head", &location, e))?
        .size;
    let meta = FileReader::new(backend, location, size).load(false).await?;
    summarise(backend, path, size, &meta)
}

/// The rows a footer says its file holds; a negative count is a corrupt footer.
fn footer_rows(backend: &Backend, path: &str, meta: &ArrowReaderMetadata) -> Result<u64> {
    let rows = meta.metadata().file_metadata().num_rows();
    u64::try_from(rows).map_err(|_| Error::InvalidParquet {
        backend: backend.label().to_string(),
        path: path.to_string(),
        source: parquet::errors::ParquetError::General(format!(
            "the footer says the file holds {rows} rows"
        )),
    })
}

fn summarise(
    backend: &Backend,
    path: &str,
    size: u64,
    meta: &ArrowReaderMetadata,
) -> Result<FileMetadata> {
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
        rows: footer_rows(backend, path, meta)?,
        row_groups: meta.metadata().num_row_groups(),
        schema: Arc::clone(meta.schema()),
        created_by: file.created_by().map(str::to_string),
        key_value,
    })
}

/// Partitions, files, rows and bytes, from listings and footers (read concurrently).
pub(crate) async fn table_info(
    backend: &Backend,
    table: &TablePath,
    filter: Option<&Filter>,
) -> Result<TableInfo> {
    let files = list_matching(backend, table, filter).await?;
    let targets: Vec<(String, u64)> = files.iter().map(|f| (f.path.clone(), f.size)).collect();
    let rows: Vec<u64> = futures::stream::iter(targets)
        .map(|(path, size)| {
            let backend = backend.clone();
            async move {
                let meta = FileReader::new(&backend, location(&path)?, size)
                    .load(false)
                    .await?;
                footer_rows(&backend, &path, &meta)
            }
        })
        .buffered(FOOTER_CONCURRENCY)
        .try_collect()
        .await?;
    let mut partitions: BTreeMap<Vec<(String, Option<String>)>, PartitionInfo> = BTreeMap::new();
    for (file, rows) in files.iter().zip(rows) {
        let entry = partitions.entry(file.partition_values.clone()).or_default();
        entry.values = file.partition_values.clone();
        entry.files += 1;
        entry.rows += rows;
        entry.bytes += file.size;
    }
    let partitions: Vec<PartitionInfo> = partitions.into_values().collect();
    Ok(TableInfo {
        files: files.len(),
        rows: partitions.iter().map(|p| p.rows).sum(),
        bytes: partitions.iter().map(|p| p.bytes).sum(),
        partitions,
    })
}

/// The table's data files a filter may match (all of them without one).
pub(crate) async fn list_matching(
    backend: &Backend,
    table: &TablePath,
    filter: Option<&Filter>,
) -> Result<Vec<DataFile>> {
    listing::list_matching(backend, table, filter).await
}

/// Streams the table's files one after another (in path order), each decoded with the
/// projection and filter; the next few files are opened while one is decoded.
///
/// The output schema is the registry schema's when the options name one (files may then
/// lack nullable columns, read as nulls, or hold narrower types, widened); otherwise it
/// is the first file's, and every other file must match it. Partition columns follow,
/// typed.
pub(crate) async fn scan(
    backend: &Backend,
    table: &TablePath,
    options: ScanOptions,
) -> Result<RecordBatchStream> {
    options.validate()?;
    let mut files = list_matching(backend, table, options.filter.as_ref()).await?;
    let filtered_out = files.is_empty() && options.filter.is_some();
    if filtered_out {
        // The filter ruled out every partition: the schema still comes from a file.
        files = list_files(backend, table).await?;
    }
    scan_listed(backend, table, files, filtered_out, options).await
}

/// Scans exactly `files` of `table` (as listed; `filtered_out`: the filter ruled every
/// one of them out, and they only give the schema).
pub(crate) async fn scan_listed(
    backend: &Backend,
    table: &TablePath,
    files: Vec<DataFile>,
    filtered_out: bool,
    options: ScanOptions,
) -> Result<RecordBatchStream> {
    options.validate()?;
    let Some(first) = files.first().cloned() else {
        return Err(Error::TableNotFound {
            backend: backend.label().to_string(),
            table: table.to_string(),
        });
    };
    let uses_filter = options.filter.is_some();
    // Without a registry schema the files decide the schema together, so every footer
    // is read first (concurrently); the footers are then reused to open the files.
    let footers: Vec<ArrowReaderMetadata> = if options.schema.is_none() && !filtered_out {
        let targets: Vec<(String, u64)> = files.iter().map(|f| (f.path.clone(), f.size)).collect();
        futures::stream::iter(targets)
            .map(|(path, size)| {
                let backend = backend.clone();
                async move {
                    FileReader::new(&backend, location(&path)?, size)
                        .load(uses_filter)
                        .await
                }
            })
            .buffered(FOOTER_CONCURRENCY)
            .try_collect()
            .await?
    } else {
        vec![
            FileReader::new(backend, location(&first.path)?, first.size)
                .load(uses_filter)
                .await?,
        ]
    };
    let first_meta = footers[0].clone();
    let (base, origin) = match &options.schema {
        Some(schema) => (
            schema.arrow_schema(),
            format!(
                "registry schema {} version {}",
                schema.name(),
                schema.version()
            ),
        ),
        None => {
            let needed: Option<Vec<&str>> = options.projection().map(|p| {
                let mut needed: Vec<&str> = p.iter().map(String::as_str).collect();
                needed.extend(options.filter.iter().flat_map(Filter::columns));
                needed
            });
            let merged = merge_schemas(backend, table, &files, &footers, needed.as_deref())?;
            (merged, first.path.clone())
        }
    };
    let partitions = partition_columns(&files, &base, &first_meta, options.schema.as_deref());
    let full = {
        let mut fields: Vec<Arc<Field>> = base.fields().iter().cloned().collect();
        fields.extend(
            partitions
                .iter()
                .map(|(name, ty)| Arc::new(Field::new(name, ty.clone(), true))),
        );
        Arc::new(Schema::new_with_metadata(fields, base.metadata().clone()))
    };
    let output = project(&full, options.projection(), |c| Error::ColumnNotFound {
        backend: backend.label().to_string(),
        table: table.to_string(),
        column: c.to_string(),
        path: origin.clone(),
    })?;
    if let Some(filter) = &options.filter {
        for column in filter.columns() {
            if full.field_with_name(column).is_err() {
                return Err(Error::ColumnNotFound {
                    backend: backend.label().to_string(),
                    table: table.to_string(),
                    column: column.to_string(),
                    path: origin.clone(),
                });
            }
        }
    }
    if filtered_out {
        return Ok(RecordBatchStream::new(output, futures::stream::empty()));
    }

    let context = Arc::new(ScanContext {
        backend: backend.clone(),
        table: table.clone(),
        target: Target {
            output: Arc::clone(&output),
            partitions,
            origin,
        },
        options,
        parts_per_file: std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .div_ceil(files.len())
            .max(1),
    });
    let concurrency = context.options.file_concurrency;
    let limit = context.options.limit;
    let mut footers = footers.into_iter();
    let batches = futures::stream::iter(files)
        .map(move |file| {
            let context = Arc::clone(&context);
            let preloaded = footers.next();
            // Opening a file starts its decoding: up to `concurrency` files ahead.
            async move {
                Ok(open_file(&context, &file, preloaded)
                    .await?
                    .map(OpenFile::into_stream))
            }
        })
        .buffered(concurrency)
        .try_filter_map(|opened| futures::future::ready(Ok(opened)))
        .try_flatten();
    let batches = match limit {
        None => batches.boxed(),
        Some(limit) => limit_rows(batches, limit).boxed(),
    };
    Ok(RecordBatchStream::new(output, batches))
}

/// Footers read at once when the files decide a scan's schema.
const FOOTER_CONCURRENCY: usize = 16;

/// The union of the files' columns, by name, in order of first appearance; a column
/// some file lacks is nullable (that file reads it as nulls). Two files that disagree on
/// the type of a column the scan needs are an [`Error::SchemaConflict`] naming both.
fn merge_schemas(
    backend: &Backend,
    table: &TablePath,
    files: &[DataFile],
    footers: &[ArrowReaderMetadata],
    needed: Option<&[&str]>,
) -> Result<SchemaRef> {
    let mut fields: Vec<Field> = Vec::new();
    let mut owner: Vec<usize> = Vec::new();
    let mut seen_in: Vec<usize> = Vec::new();
    for (i, footer) in footers.iter().enumerate() {
        for field in footer.schema().fields() {
            match fields.iter().position(|f| f.name() == field.name()) {
                None => {
                    fields.push(field.as_ref().clone());
                    owner.push(i);
                    seen_in.push(1);
                }
                Some(j) => {
                    seen_in[j] += 1;
                    let (first, found) = (fields[j].data_type(), field.data_type());
                    let agree =
                        first == found || first.equals_datatype(found) || widens(found, first);
                    let wanted = needed.is_none_or(|n| n.contains(&field.name().as_str()));
                    if !agree && wanted {
                        return Err(Error::SchemaConflict {
                            backend: backend.label().to_string(),
                            table: table.to_string(),
                            first_path: files[owner[j]].path.clone(),
                            path: files[i].path.clone(),
                            detail: format!(
                                "column {:?} is {first} there but {found} here",
                                field.name()
                            ),
                        });
                    }
                }
            }
        }
    }
    let fields: Vec<Field> = fields
        .into_iter()
        .zip(seen_in)
        .map(|(f, seen)| {
            if seen < footers.len() {
                f.with_nullable(true)
            } else {
                f
            }
        })
        .collect();
    let Some(first) = footers.first() else {
        return Err(Error::internal("merging the schemas of no files"));
    };
    let metadata = first.schema().metadata().clone();
    Ok(Arc::new(Schema::new_with_metadata(fields, metadata)))
}

/// Stops a stream of batches after `limit` rows.
fn limit_rows(
    batches: impl futures::Stream<Item = Result<RecordBatch>> + Send + 'static,
    limit: usize,
) -> impl futures::Stream<Item = Result<RecordBatch>> + Send + 'static {
    batches
        .scan(limit, |left, batch| {
            let out = match batch {
                Ok(_) if *left == 0 => None,
                Ok(batch) => {
                    let take = batch.num_rows().min(*left);
                    *left -= take;
                    Some(Ok(batch.slice(0, take)))
                }
                Err(e) => Some(Err(e)),
            };
            futures::future::ready(out)
        })
        .try_filter(|b| futures::future::ready(b.num_rows() > 0))
}

/// The partition columns of the listed files, in directory order, with their types:
/// the registry schema's, else the types the writer recorded, else inferred from the
/// values (integers, dates, text). A column the files themselves hold is not repeated.
fn partition_columns(
    files: &[DataFile],
    base: &Schema,
    first: &ArrowReaderMetadata,
    registry: Option<&TableSchema>,
) -> Vec<(String, DataType)> {
    let mut names: Vec<&str> = Vec::new();
    for file in files {
        for (key, _) in &file.partition_values {
            if !names.contains(&key.as_str()) && base.field_with_name(key).is_err() {
                names.push(key);
            }
        }
    }
    let recorded: Vec<(String, DataType)> = first
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .into_iter()
        .flatten()
        .find(|kv| kv.key == METADATA_PARTITIONING_KEY)
        .and_then(|kv| kv.value.as_deref())
        .map(decode_partitioning)
        .unwrap_or_default();
    names
        .into_iter()
        .map(|name| {
            let from_registry = registry.and_then(|r| {
                r.arrow_schema()
                    .field_with_name(name)
                    .ok()
                    .map(|f| f.data_type().clone())
            });
            let from_writer = (recorded.iter())
                .find(|(n, _)| n == name)
                .map(|(_, t)| t.clone());
            let ty = from_registry.or(from_writer).unwrap_or_else(|| {
                let values = files
                    .iter()
                    .flat_map(|f| f.partition_values.iter())
                    .filter(|(k, _)| k == name)
                    .filter_map(|(_, v)| v.as_deref());
                partition::infer_type(values).data_type()
            });
            (name.to_string(), ty)
        })
        .collect()
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
    if let (Some((sa, ba)), Some((sb, bb))) = (int_bits(from), int_bits(to)) {
        return (sa == sb && ba <= bb) || (!sa && sb && ba < bb);
    }
    match (from, to) {
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

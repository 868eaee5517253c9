//! Opening one file of a scan and decoding it into the scan's schema: planning each
//! output column (decoded, cast, partition value or nulls), pruning row groups and
//! pages, the row filter, and decoding in parts on their own tasks.

use std::sync::Arc;

use arrow_array::RecordBatch;
use arrow_schema::{DataType, Schema, SchemaRef};
use futures::StreamExt;
use parquet::DecodeResult;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowPredicateFn, ArrowReaderMetadata, RowFilter};
use parquet::arrow::async_reader::{AsyncFileReader, ParquetRecordBatchStreamBuilder};
use parquet::arrow::push_decoder::{ParquetPushDecoder, ParquetPushDecoderBuilder};

use super::file::{FileReader, parquet_read_error};
use super::{prune, widens};
use crate::backend::Backend;
use crate::engine::DataFile;
use crate::engine::ScanOptions;
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::layout::location;
use crate::naming::TablePath;
use crate::partition;

/// What every file of a scan is read into.
pub(super) struct Target {
    /// The scan's output: projected.
    pub(super) output: SchemaRef,
    /// Partition columns not stored in the files, with their types.
    pub(super) partitions: Vec<(String, DataType)>,
    /// Where the schema comes from, for errors: a file, or a registry schema.
    pub(super) origin: String,
}

pub(super) struct ScanContext {
    pub(super) backend: Backend,
    pub(super) table: TablePath,
    pub(super) options: ScanOptions,
    pub(super) target: Target,
    /// Parts a file with several row groups is decoded in at once (cores per file).
    pub(super) parts_per_file: usize,
}

/// Where an output column comes from.
pub(super) enum Source {
    /// Decoded column `position`, cast to the output type if `cast`.
    File { position: usize, cast: bool },
    /// The file's partition value.
    Partition(arrow_array::ArrayRef),
    /// Not in the file: nulls.
    Null,
}

/// A file opened for a scan: its footer is read, its columns planned, and the row
/// groups its filter cannot match left out.
pub(super) struct OpenFile {
    context: Arc<ScanContext>,
    path: String,
    sources: Vec<Source>,
    /// Consecutive parts of the file (runs of row groups), in file order.
    parts: Vec<Part>,
}

/// A run of a file's row groups: a push decoder, which decodes on the CPU pool, and
/// the reader that fetches the bytes it asks for on the runtime.
struct Part {
    decoder: ParquetPushDecoder,
    reader: FileReader,
}

/// What one decoding step on the CPU pool came to.
enum Step {
    /// A batch, in the scan's output schema.
    Batch(Result<RecordBatch>),
    /// The decoder needs these byte ranges of the file.
    Fetch(Vec<std::ops::Range<u64>>),
    /// The part is decoded.
    Done,
}

impl Part {
    /// Decodes the part, sending its batches to `tx`: each step decodes on the CPU pool
    /// until it has a batch or needs bytes, which are fetched here.
    async fn decode(
        self,
        context: Arc<ScanContext>,
        path: Arc<str>,
        sources: Arc<Vec<Source>>,
        tx: tokio::sync::mpsc::Sender<Result<RecordBatch>>,
    ) {
        let Part {
            mut decoder,
            mut reader,
        } = self;
        let cpu = context.backend.cpu().clone();
        loop {
            let (step_context, step_path, step_sources) = (
                Arc::clone(&context),
                Arc::clone(&path),
                Arc::clone(&sources),
            );
            let stepped = cpu
                .run(move || {
                    let step = match decoder.try_decode() {
                        Ok(DecodeResult::Data(batch)) => {
                            Step::Batch(adapt(&step_context, &step_path, &step_sources, batch))
                        }
                        Ok(DecodeResult::NeedsData(ranges)) => Step::Fetch(ranges),
                        Ok(DecodeResult::Finished) => Step::Done,
                        Err(e) => Step::Batch(Err(parquet_read_error(
                            &step_context.backend,
                            &step_path,
                            e,
                        ))),
                    };
                    (decoder, step)
                })
                .await;
            let step = match stepped {
                Ok((back, step)) => {
                    decoder = back;
                    step
                }
                Err(e) => {
                    // The step panicked and took the decoder with it.
                    let _ = tx.send(Err(e)).await;
                    return;
                }
            };
            match step {
                Step::Batch(batch) => {
                    let failed = batch.is_err();
                    if tx.send(batch).await.is_err() || failed {
                        return;
                    }
                }
                Step::Fetch(ranges) => {
                    let pushed = match reader.get_byte_ranges(ranges.clone()).await {
                        Ok(data) => decoder.push_ranges(ranges, data),
                        Err(e) => Err(e),
                    };
                    if let Err(e) = pushed {
                        let error = parquet_read_error(&context.backend, &path, e);
                        let _ = tx.send(Err(error)).await;
                        return;
                    }
                }
                Step::Done => return,
            }
        }
    }
}

/// Batches a decoding task may run ahead of the reader, per part of a file.
const DECODED_AHEAD: usize = 2;

impl OpenFile {
    /// The file's batches in the output schema (so every batch of a scan has the same
    /// schema object, metadata included).
    pub(super) fn into_stream(self) -> futures::stream::BoxStream<'static, Result<RecordBatch>> {
        let OpenFile {
            context,
            path,
            sources,
            parts,
        } = self;
        let sources = Arc::new(sources);
        let path: Arc<str> = path.into();
        // Each part decodes in its own task, a few batches ahead; the parts are read
        // back in order.
        let parts: Vec<_> = parts
            .into_iter()
            .map(|part| {
                let (tx, rx) = tokio::sync::mpsc::channel(DECODED_AHEAD);
                let task = tokio::spawn(part.decode(
                    Arc::clone(&context),
                    Arc::clone(&path),
                    Arc::clone(&sources),
                    tx,
                ));
                (rx, Some(task), Arc::clone(&path))
            })
            .collect();
        futures::stream::iter(parts)
            .flat_map(|part| {
                futures::stream::unfold(part, |(mut rx, task, path)| async move {
                    if let Some(batch) = rx.recv().await {
                        return Some((batch, (rx, task, path)));
                    }
                    // The channel closed: a task that died must not pass for the end.
                    match task?.await {
                        Ok(()) => None,
                        Err(join) => Some((
                            Err(Error::task_failed(&format!("decoding {path}"), join)),
                            (rx, None, path),
                        )),
                    }
                })
            })
            .boxed()
    }
}

/// One decoded batch of `path` in the scan's output schema (so every batch of a scan
/// has the same schema object, metadata included).
fn adapt(
    context: &ScanContext,
    path: &str,
    sources: &[Source],
    batch: RecordBatch,
) -> Result<RecordBatch> {
    let output = &context.target.output;
    let arrow_error = |source| Error::Arrow {
        table: context.table.to_string(),
        context: format!("reading {path} into the scan's schema"),
        source,
    };
    let rows = batch.num_rows();
    let mut columns = Vec::with_capacity(sources.len());
    for (field, source) in output.fields().iter().zip(sources) {
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
                arrow_cast::cast_with_options(batch.column(*position), field.data_type(), &options)
                    .map_err(arrow_error)?
            }
            Source::Partition(value) => {
                let indices = arrow_array::UInt32Array::from(vec![0u32; rows]);
                arrow_select::take::take(value, &indices, None).map_err(arrow_error)?
            }
            Source::Null => arrow_array::new_null_array(field.data_type(), rows),
        });
    }
    let options = arrow_array::RecordBatchOptions::new().with_row_count(Some(rows));
    RecordBatch::try_new_with_options(Arc::clone(output), columns, &options).map_err(arrow_error)
}

/// Opens one file: plans its columns, binds the filter to its partition values, skips
/// row groups by statistics and bloom filters, and sets the row filter. `None` when the
/// filter rules the whole file out.
pub(super) async fn open_file(
    context: &Arc<ScanContext>,
    file: &DataFile,
    preloaded: Option<ArrowReaderMetadata>,
) -> Result<Option<OpenFile>> {
    let ScanContext {
        backend,
        table,
        options,
        target,
        ..
    } = context.as_ref();
    // The filter, with what the file's partition values decide already decided.
    let filter = options
        .filter
        .as_ref()
        .map(|f| f.bind(&|leaf| leaf.decide_on_partition(&file.partition_values)));
    if filter.as_ref().is_some_and(Filter::keeps_nothing) {
        return Ok(None);
    }
    let mut reader = FileReader::new(backend, location(&file.path)?, file.size);
    let meta = match preloaded {
        Some(meta) => meta,
        None => reader.load(filter.is_some()).await?,
    };
    let file_schema = Arc::clone(meta.schema());
    let conflict = |detail: String| Error::SchemaConflict {
        backend: backend.label().to_string(),
        table: table.to_string(),
        first_path: target.origin.clone(),
        path: file.path.clone(),
        detail,
    };

    // Plan each output column: which file column (by root index), cast or not, a
    // partition value, or nulls.
    enum Plan {
        File(usize, bool),
        Partition(arrow_array::ArrayRef),
        Null,
    }
    let partition_value = |name: &str, ty: &DataType| -> Result<Option<arrow_array::ArrayRef>> {
        let Some((_, value)) = file.partition_values.iter().find(|(k, _)| k == name) else {
            return Ok(None);
        };
        partition::constant_column(value.as_deref(), ty, 1)
            .map(Some)
            .map_err(|_| {
                conflict(format!(
                    "partition value {value:?} of {name:?} is not a {ty}"
                ))
            })
    };
    let mut plan: Vec<Plan> = Vec::with_capacity(target.output.fields().len());
    for field in target.output.fields() {
        if let Some((_, ty)) = target.partitions.iter().find(|(n, _)| n == field.name()) {
            plan.push(match partition_value(field.name(), ty)? {
                Some(value) => Plan::Partition(value),
                None => Plan::Null,
            });
            continue;
        }
        match file_schema.index_of(field.name()) {
            Ok(index) => {
                let found = file_schema.field(index).data_type();
                let expected = field.data_type();
                let cast = found != expected;
                let allowed = !cast || found.equals_datatype(expected) || widens(found, expected);
                if !allowed {
                    return Err(conflict(format!(
                        "column {:?} is {expected} there but {found} here",
                        field.name()
                    )));
                }
                plan.push(Plan::File(index, cast));
            }
            // A file written before a nullable column was added reads it as nulls.
            Err(_) if field.is_nullable() => plan.push(Plan::Null),
            Err(_) => {
                return Err(conflict(format!(
                    "NOT NULL column {:?} is missing",
                    field.name()
                )));
            }
        }
    }
    // Decoded columns come in file order.
    let mut roots: Vec<usize> = plan
        .iter()
        .filter_map(|p| match p {
            Plan::File(index, _) => Some(*index),
            _ => None,
        })
        .collect();
    roots.sort_unstable();
    roots.dedup();
    // String columns the filter tests are read as dictionaries where the file stores
    // them so: the filter then runs once per distinct value rather than once per row,
    // and no string is copied for the rows it drops. Output columns cast them back.
    let dictionary_columns = match &filter {
        Some(f) => dictionary_encoded_strings(f, &file_schema, meta.metadata()),
        None => Vec::new(),
    };
    let meta = if dictionary_columns.is_empty() {
        meta
    } else {
        let fields: Vec<arrow_schema::FieldRef> = file_schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                if dictionary_columns.contains(&i) {
                    Arc::new(f.as_ref().clone().with_data_type(DataType::Dictionary(
                        Box::new(DataType::Int32),
                        Box::new(f.data_type().clone()),
                    )))
                } else {
                    Arc::clone(f)
                }
            })
            .collect();
        let hint = Arc::new(arrow_schema::Schema::new_with_metadata(
            fields,
            file_schema.metadata().clone(),
        ));
        let options = parquet::arrow::arrow_reader::ArrowReaderOptions::new().with_schema(hint);
        ArrowReaderMetadata::try_new(Arc::clone(meta.metadata()), options)
            .map_err(|e| parquet_read_error(backend, &file.path, e))?
    };
    let sources = plan
        .into_iter()
        .map(|p| match p {
            Plan::File(index, cast) => Source::File {
                // `roots` is sorted and holds `index`: its position is where it goes.
                position: roots.partition_point(|&r| r < index),
                cast: cast || dictionary_columns.contains(&index),
            },
            Plan::Partition(value) => Source::Partition(value),
            Plan::Null => Source::Null,
        })
        .collect();

    let projection = ProjectionMask::roots(meta.parquet_schema(), roots);
    let mut groups: Vec<usize> = (0..meta.metadata().num_row_groups()).collect();
    let mut page_selection = None;
    let mut row_filter = None;
    if let Some(filter) = filter.filter(|f| *f != Filter::Const(true)) {
        // Every column the filter still needs must be in the file: a missing one is
        // all nulls, which a Parquet row filter cannot read, so fall back to nulls by
        // deciding its leaves here.
        let filter = filter.bind(&|leaf| {
            let column = leaf.columns().first().copied()?;
            file_schema
                .field_with_name(column)
                .is_err()
                .then_some(leaf.on_null())
        });
        if filter.keeps_nothing() {
            return Ok(None);
        }
        groups = prune::row_groups(&filter, &file_schema, meta.metadata());
        let mut bloom = ParquetRecordBatchStreamBuilder::new_with_metadata(reader, meta.clone());
        groups = prune_with_bloom_filters(&mut bloom, &filter, &file_schema, groups).await?;
        if groups.is_empty() {
            return Ok(None);
        }
        page_selection = prune::pages(&filter, &file_schema, meta.metadata(), &groups);
        if filter != Filter::Const(true) {
            let indices: Vec<usize> = filter
                .columns()
                .iter()
                .filter_map(|c| file_schema.index_of(c).ok())
                .collect();
            row_filter = Some((
                ProjectionMask::roots(meta.parquet_schema(), indices),
                filter,
            ));
        }
    }
    // A file with several row groups is decoded in parts, one per core, when the scan
    // has fewer files than cores: each part is a run of whole row groups.
    let row_counts: Vec<u64> = groups
        .iter()
        .map(|&g| u64::try_from(meta.metadata().row_group(g).num_rows()).unwrap_or(0))
        .collect();
    let mut parts = Vec::new();
    for range in split_evenly(&row_counts, context.parts_per_file) {
        let mut part = ParquetPushDecoderBuilder::new_with_metadata(meta.clone())
            .with_projection(projection.clone())
            .with_batch_size(options.batch_size)
            .with_row_groups(groups[range.clone()].to_vec());
        if let Some(selectors) = &page_selection {
            let selectors: Vec<_> = selectors[range].iter().flatten().copied().collect();
            part = part
                .with_row_selection(parquet::arrow::arrow_reader::RowSelection::from(selectors));
        }
        if let Some((mask, filter)) = &row_filter {
            let filter = filter.clone();
            let predicate = ArrowPredicateFn::new(mask.clone(), move |batch: RecordBatch| {
                filter
                    .evaluate(&batch)
                    .map_err(|e| arrow_schema::ArrowError::ComputeError(e.to_string()))
            });
            part = part.with_row_filter(RowFilter::new(vec![Box::new(predicate)]));
        }
        parts.push(Part {
            decoder: part
                .build()
                .map_err(|e| parquet_read_error(backend, &file.path, e))?,
            reader: FileReader::new(backend, location(&file.path)?, file.size),
        });
    }
    Ok(Some(OpenFile {
        context: Arc::clone(context),
        path: file.path.clone(),
        sources,
        parts,
    }))
}

/// Splits `rows` (row counts of consecutive row groups) into at most `parts`
/// consecutive runs of about equal rows.
fn split_evenly(rows: &[u64], parts: usize) -> Vec<std::ops::Range<usize>> {
    let total: u64 = rows.iter().sum();
    let target = total.div_ceil(parts.max(1) as u64).max(1);
    let mut runs = Vec::new();
    let (mut start, mut acc) = (0, 0u64);
    for (i, &r) in rows.iter().enumerate() {
        // Close the run before this group if adding it overshoots more than it fills.
        if i > start && acc + r / 2 > target && runs.len() + 1 < parts {
            runs.push(start..i);
            (start, acc) = (i, 0);
        }
        acc += r;
    }
    runs.push(start..rows.len());
    runs
}

/// The root columns of `schema` that `filter` tests, are text, and are dictionary
/// encoded in every row group of the file.
fn dictionary_encoded_strings(
    filter: &Filter,
    schema: &arrow_schema::Schema,
    metadata: &parquet::file::metadata::ParquetMetaData,
) -> Vec<usize> {
    let parquet_schema = metadata.file_metadata().schema_descr();
    filter
        .columns()
        .into_iter()
        .filter_map(|name| {
            let index = schema.index_of(name).ok()?;
            if !matches!(
                schema.field(index).data_type(),
                DataType::Utf8 | DataType::LargeUtf8
            ) {
                return None;
            }
            // A flat string column is one leaf; find it by its root.
            let leaf = (0..parquet_schema.num_columns())
                .find(|&l| parquet_schema.get_column_root_idx(l) == index)?;
            metadata
                .row_groups()
                .iter()
                .all(|group| group.column(leaf).dictionary_page_offset().is_some())
                .then_some(index)
        })
        .collect()
}

/// Drops the row groups whose bloom filters say they hold none of the values an
/// `=`/`IN` conjunct of the filter needs.
async fn prune_with_bloom_filters(
    builder: &mut ParquetRecordBatchStreamBuilder<FileReader>,
    filter: &Filter,
    schema: &Schema,
    groups: Vec<usize>,
) -> Result<Vec<usize>> {
    let mut checks = Vec::new();
    for column in filter.columns() {
        let Some(values) = prune::required_values(filter, column) else {
            continue;
        };
        let Ok(field) = schema.field_with_name(column) else {
            continue;
        };
        let descriptor = builder.metadata().file_metadata().schema_descr();
        let Some(leaf) =
            (0..descriptor.num_columns()).find(|&i| descriptor.column(i).path().string() == column)
        else {
            continue;
        };
        let has_bloom = builder
            .metadata()
            .row_groups()
            .iter()
            .any(|g| g.column(leaf).bloom_filter_offset().is_some());
        if has_bloom {
            checks.push((leaf, field.data_type().clone(), values));
        }
    }
    if checks.is_empty() {
        return Ok(groups);
    }
    let mut kept = Vec::with_capacity(groups.len());
    'groups: for group in groups {
        for (leaf, ty, values) in &checks {
            let Ok(Some(bloom)) = builder
                .get_row_group_column_bloom_filter(group, *leaf)
                .await
            else {
                continue;
            };
            let present = values.iter().any(|value| bloom_may_hold(&bloom, ty, value));
            if !present {
                continue 'groups;
            }
        }
        kept.push(group);
    }
    Ok(kept)
}

/// Whether a bloom filter may hold `value` of a column of type `ty` (true when the
/// check does not apply).
fn bloom_may_hold(
    bloom: &parquet::bloom_filter::Sbbf,
    ty: &DataType,
    value: &crate::filter::Value,
) -> bool {
    use crate::filter::Value;
    match (ty, value) {
        (DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View, Value::Str(s)) => {
            bloom.check(s.as_str())
        }
        (DataType::Int64, Value::Int(i)) => bloom.check(i),
        (DataType::Int32, Value::Int(i)) => i32::try_from(*i).is_ok_and(|i| bloom.check(&i)),
        _ => true,
    }
}

#[cfg(test)]
mod tests {
    use super::split_evenly;
    use proptest::prelude::*;

    #[test]
    fn uneven_row_groups_split_by_rows() {
        // pyarrow's layout of a file of battery telemetry: two big row groups, two small ones.
        let rows = [98_560, 102_880, 20_384, 8_576];
        assert_eq!(split_evenly(&rows, 2), vec![0..1, 1..4]);
        assert_eq!(split_evenly(&rows, 1), vec![0..4]);
    }

    proptest! {
        /// The runs cover every row group once, in order, and there are at most `parts`.
        #[test]
        fn runs_cover_the_groups_in_order(
            rows in proptest::collection::vec(0u64..1000, 0..20),
            parts in 1usize..5,
        ) {
            let runs = split_evenly(&rows, parts);
            prop_assert!(runs.len() <= parts.max(1));
            let mut next = 0;
            for run in &runs {
                prop_assert_eq!(run.start, next);
                prop_assert!(run.end > run.start || rows.is_empty());
                next = run.end;
            }
            prop_assert_eq!(next, rows.len());
        }
    }
}

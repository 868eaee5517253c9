//! One data file being written: the Parquet encoder over an [`UploadSink`], with an
//! optional sort of each row group. Encoding and sorting run as steps on the engine's
//! CPU pool ([`crate::cpu`]); between steps the encoded bytes go to the upload on the
//! calling task.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::{ArrowError, SchemaRef};
use object_store::path::Path;
use parquet::arrow::async_writer::AsyncFileWriter;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use super::encode::Encoder;
use super::upload::{Mode, UploadSink};
use crate::backend::Backend;
use crate::engine::WrittenFile;
use crate::error::{Error, Result, unwrap_parquet_error};

/// What [`FileWriter::write_sorted_row_groups`] does with rows short of a whole row group.
#[derive(Clone, Copy)]
enum Remainder {
    /// Keep them held, to be sorted with the rows that come next.
    Hold,
    /// Encode them as a smaller row group.
    Encode,
}

/// Settings every file of one write shares.
pub(crate) struct FileSettings {
    pub(crate) backend: Backend,
    pub(crate) table: String,
    pub(crate) schema: SchemaRef,
    pub(crate) properties: WriterProperties,
    pub(crate) mode: Mode,
    pub(crate) part_size: usize,
    pub(crate) concurrency: usize,
    pub(crate) max_row_group_rows: usize,
    /// Sort each row group by these columns (indices into `schema`).
    pub(crate) sort_by: Vec<usize>,
    /// Threads of the CPU pool that encode one row group's columns.
    pub(crate) encoding_threads: usize,
}

pub(crate) struct FileWriter {
    /// `None` only while a step on the CPU pool holds it, or after such a step panicked
    /// (the file is then only good for [`FileWriter::abort`]).
    encoder: Option<Box<Encoder>>,
    sink: UploadSink,
    /// What the sink holds in memory.
    held: Arc<AtomicUsize>,
    /// Where the file is written.
    path: Path,
    /// Where the receipt says it is: `path`, or for a change's pending file the place
    /// in the table it will have once the change is committed.
    reported: String,
    rows: u64,
    /// Rows held back to be sorted before they form a row group.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    pending_bytes: usize,
}

impl FileWriter {
    pub(crate) fn new(
        settings: &FileSettings,
        path: Path,
        reported: String,
        staging: Path,
    ) -> Result<Self> {
        let held = Arc::new(AtomicUsize::new(0));
        let sink = UploadSink::new(
            &settings.backend,
            path.clone(),
            staging,
            settings.mode,
            settings.part_size,
            settings.concurrency,
            Arc::clone(&held),
        );
        let encoder = Encoder::try_new(
            Arc::clone(&settings.schema),
            settings.properties.clone(),
            settings.encoding_threads,
        )
        .map_err(|e| encode_error(settings, &path, e))?;
        Ok(FileWriter {
            encoder: Some(Box::new(encoder)),
            sink,
            held,
            path,
            reported,
            rows: 0,
            pending: Vec::new(),
            pending_rows: 0,
            pending_bytes: 0,
        })
    }

    pub(crate) fn rows(&self) -> u64 {
        self.rows + self.pending_rows as u64
    }

    /// Bytes this file holds in memory: rows waiting to be sorted, the row group being
    /// encoded, and upload buffers.
    pub(crate) fn buffered(&self) -> usize {
        let encoder = self.encoder.as_ref().map_or(0, |e| e.memory_size());
        self.pending_bytes + encoder + self.held.load(Ordering::Relaxed)
    }

    /// Encoded size so far, including the row group in progress and the rows held for
    /// sorting. Held rows are not encoded yet, so they count at the encoded bytes per
    /// row so far (nothing before the first row group): their Arrow size would
    /// overstate them several times over and roll files far below the target.
    pub(crate) fn size(&self) -> usize {
        let encoded =
            (self.encoder.as_ref()).map_or(0, |e| e.bytes_written() + e.in_progress_size());
        let held = match self.rows {
            0 => 0,
            rows => (encoded as u128 * self.pending_rows as u128 / u128::from(rows)) as usize,
        };
        encoded + held
    }

    /// Writes `batch`, handing the encoder at most one row group at a time so each row
    /// group is flushed (and uploaded) before the next is encoded.
    pub(crate) async fn write(
        &mut self,
        settings: &FileSettings,
        batch: RecordBatch,
    ) -> Result<()> {
        if !settings.sort_by.is_empty() {
            self.pending_rows += batch.num_rows();
            self.pending_bytes += held_bytes(&batch);
            self.pending.push(batch);
            if self.pending_rows >= settings.max_row_group_rows {
                self.write_sorted_row_groups(settings, Remainder::Hold)
                    .await?;
            }
            return Ok(());
        }
        let mut offset = 0;
        while offset < batch.num_rows() {
            let rest = batch.slice(offset, batch.num_rows() - offset);
            offset += self.encode(settings, move |e| e.write_part(&rest)).await?;
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Runs `step` with the encoder on the CPU pool, then hands what it encoded (whole
    /// row groups, or the file's end) to the upload.
    async fn encode<R: Send + 'static>(
        &mut self,
        settings: &FileSettings,
        step: impl FnOnce(&mut Encoder) -> std::result::Result<R, ParquetError> + Send + 'static,
    ) -> Result<R> {
        let mut encoder = self
            .encoder
            .take()
            .ok_or_else(|| Error::internal(format!("the encoder of {} is gone", self.path)))?;
        let (encoder, outcome) = (settings.backend.cpu())
            .run(move || {
                let outcome = step(&mut encoder).and_then(|r| Ok((r, encoder.take_bytes()?)));
                (encoder, outcome)
            })
            .await?;
        self.encoder = Some(encoder);
        let (result, chunks) = outcome.map_err(|e| encode_error(settings, &self.path, e))?;
        for chunk in chunks {
            self.sink
                .write(chunk)
                .await
                .map_err(|e| encode_error(settings, &self.path, e))?;
        }
        Ok(result)
    }

    /// Bytes of rows held back to be sorted.
    pub(crate) fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Sorts all held-back rows and encodes them as row groups, the last one possibly
    /// smaller: at the end of the file, or when memory is short.
    pub(crate) async fn write_sorted(&mut self, settings: &FileSettings) -> Result<()> {
        self.write_sorted_row_groups(settings, Remainder::Encode)
            .await
    }

    /// Sorts the held-back rows and encodes them as row groups. Each column is gathered
    /// in sorted order straight from the held batches just before it is encoded, so
    /// besides the held rows only the columns being encoded are in memory twice. With
    /// [`Remainder::Hold`], rows short of a whole row group stay held (gathered into
    /// one batch) to be sorted with the rows that come next: batches rarely end on a
    /// row group's boundary, and encoding the rest would leave a small row group
    /// behind every full one. The sort, the gathering and the encoding run on the CPU
    /// pool, a row group per step, each uploaded before the next is encoded.
    async fn write_sorted_row_groups(
        &mut self,
        settings: &FileSettings,
        remainder: Remainder,
    ) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let arrow_error = |context: &str, source| Error::Arrow {
            table: settings.table.clone(),
            context: format!("{context} for {}", self.path),
            source,
        };
        let pending = Arc::new(std::mem::take(&mut self.pending));
        self.pending_rows = 0;
        self.pending_bytes = 0;
        let row_group_rows = settings.max_row_group_rows.max(1);
        let (sort_by, schema) = (settings.sort_by.clone(), Arc::clone(&settings.schema));
        let sorted = Arc::clone(&pending);
        let (indices, held) = (settings.backend.cpu())
            .run(
                move || -> std::result::Result<_, (&'static str, ArrowError)> {
                    let indices = sort_order(&sorted, &sort_by).map_err(|e| ("sorting", e))?;
                    let whole = match remainder {
                        Remainder::Hold => indices.len() - indices.len() % row_group_rows,
                        Remainder::Encode => indices.len(),
                    };
                    let held = if whole < indices.len() {
                        let rest = &indices[whole..];
                        let columns = (0..schema.fields().len())
                            .map(|j| gather(&sorted, j, rest))
                            .collect::<std::result::Result<_, _>>();
                        let batch = columns.and_then(|c| RecordBatch::try_new(schema, c));
                        Some(batch.map_err(|e| ("holding the rows short of a row group", e))?)
                    } else {
                        None
                    };
                    let mut indices = indices;
                    indices.truncate(whole);
                    Ok((indices, held))
                },
            )
            .await?
            .map_err(|(context, e)| arrow_error(context, e))?;
        if let Some(held) = held {
            self.pending_rows = held.num_rows();
            self.pending_bytes = held_bytes(&held);
            self.pending.push(held);
        }
        let indices = Arc::new(indices);
        for start in (0..indices.len()).step_by(row_group_rows) {
            let end = (start + row_group_rows).min(indices.len());
            let (pending, indices) = (Arc::clone(&pending), Arc::clone(&indices));
            self.encode(settings, move |encoder| {
                let chunk = &indices[start..end];
                // Long runs of rows already in order are handed on as slices of the
                // held batches, not copied row by row.
                let runs = runs(chunk);
                let sliced = runs.len() * MIN_AVERAGE_RUN <= chunk.len();
                let pieces = |j: usize| -> std::result::Result<Vec<ArrayRef>, ParquetError> {
                    if !sliced {
                        return Ok(vec![gather(&pending, j, chunk)?]);
                    }
                    let pieces = runs
                        .iter()
                        .map(|&(b, first, len)| pending[b].column(j).slice(first, len));
                    Ok(pieces.collect())
                };
                encoder.write_columns(chunk.len(), &pieces)?;
                encoder.flush()
            })
            .await?;
            self.rows += (end - start) as u64;
        }
        Ok(())
    }

    /// Completes the file and publishes it: what the receipt says, and where it is.
    pub(crate) async fn finish(
        mut self,
        settings: &FileSettings,
    ) -> std::result::Result<(WrittenFile, Path), (Error, Self)> {
        if let Err(e) = self.write_sorted(settings).await {
            return Err((e, self));
        }
        let finished = self.encode(settings, |e| e.finish().map(drop)).await;
        let completed = match finished {
            Ok(()) => self
                .sink
                .complete()
                .await
                .map_err(|e| encode_error(settings, &self.path, e)),
            Err(e) => Err(e),
        };
        if let Err(error) = completed {
            return Err((error, self));
        }
        let file = WrittenFile {
            path: self.reported,
            rows: self.rows,
            bytes: self.sink.bytes,
        };
        Ok((file, self.path))
    }

    /// Abandons the file: nothing of it stays visible.
    pub(crate) async fn abort(self) {
        self.sink.abort().await;
    }
}

/// The order of the rows of `batches` (as batch, row), stably sorted by the columns
/// `sort_by`. Only the sort keys are concatenated; runs of rows already in order (one
/// source file's rows, say) are merged rather than sorted again.
fn sort_order(
    batches: &[RecordBatch],
    sort_by: &[usize],
) -> std::result::Result<Vec<(usize, usize)>, ArrowError> {
    let columns: Vec<arrow_ord::sort::SortColumn> = sort_by
        .iter()
        .map(|&i| {
            let parts: Vec<&dyn arrow_array::Array> =
                batches.iter().map(|b| b.column(i).as_ref()).collect();
            arrow_select::concat::concat(&parts).map(|values| arrow_ord::sort::SortColumn {
                values,
                options: None,
            })
        })
        .collect::<std::result::Result<_, _>>()?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let comparator = arrow_ord::sort::LexicographicalComparator::try_new(&columns)?;
    let mut order: Vec<usize> = (0..rows).collect();
    order.sort_by(|&a, &b| comparator.compare(a, b));
    // Row `r` of the concatenation is row `r - starts[b]` of batch `b`.
    let starts: Vec<usize> = batches
        .iter()
        .scan(0, |start, b| {
            let here = *start;
            *start += b.num_rows();
            Some(here)
        })
        .collect();
    Ok(order
        .into_iter()
        .map(|r| {
            let b = starts.partition_point(|&s| s <= r) - 1;
            (b, r - starts[b])
        })
        .collect())
}

/// Column `j` of the rows `rows` (as batch, row) of `batches`, in that order.
fn gather(
    batches: &[RecordBatch],
    j: usize,
    rows: &[(usize, usize)],
) -> std::result::Result<ArrayRef, ArrowError> {
    let parts: Vec<&dyn arrow_array::Array> =
        batches.iter().map(|b| b.column(j).as_ref()).collect();
    arrow_select::interleave::interleave(&parts, rows)
}

/// Rows a run of rows in order must have on average for a row group's columns to be
/// handed on as slices rather than gathered: a slice costs a call into the encoder per
/// column, a gathered row a copy.
const MIN_AVERAGE_RUN: usize = 256;

/// The maximal runs of `rows` (held batch, row in it) that are consecutive rows of one
/// batch, as (batch, first row, rows).
fn runs(rows: &[(usize, usize)]) -> Vec<(usize, usize, usize)> {
    let mut runs: Vec<(usize, usize, usize)> = Vec::new();
    for &(b, r) in rows {
        match runs.last_mut() {
            Some((run_b, first, len)) if *run_b == b && *first + *len == r => *len += 1,
            _ => runs.push((b, r, 1)),
        }
    }
    runs
}

fn encode_error(settings: &FileSettings, path: &Path, source: ParquetError) -> Error {
    unwrap_parquet_error(source).unwrap_or_else(|source| Error::Encode {
        backend: settings.backend.label().to_string(),
        table: settings.table.clone(),
        path: path.to_string(),
        source,
    })
}

/// The memory `batch` keeps alive: every allocation its arrays point into, each counted
/// once. `RecordBatch::get_array_memory_size` counts an allocation once per array that
/// points into it, and the arrays of a batch read from one Arrow IPC message all point
/// into the message's one buffer: it counted such a batch many times over.
pub(crate) fn held_bytes(batch: &RecordBatch) -> usize {
    fn add(
        data: &arrow_data::ArrayData,
        seen: &mut rustc_hash::FxHashSet<usize>,
        total: &mut usize,
    ) {
        let nulls = data.nulls().map(|n| n.buffer());
        for buffer in data.buffers().iter().chain(nulls) {
            if seen.insert(buffer.data_ptr().as_ptr() as usize) {
                *total += buffer.capacity();
            }
        }
        for child in data.child_data() {
            add(child, seen, total);
        }
    }
    let (mut seen, mut total) = (rustc_hash::FxHashSet::default(), 0);
    for column in batch.columns() {
        add(&column.to_data(), &mut seen, &mut total);
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::{ArrayRef, Float64Array, Int64Array, StringArray};

    fn batch() -> RecordBatch {
        let columns: Vec<(String, ArrayRef)> = (0..20)
            .map(|i| {
                let values = (0..1000).map(|r| f64::from(r * i));
                (
                    format!("f{i}"),
                    Arc::new(Float64Array::from_iter_values(values)) as _,
                )
            })
            .chain([
                (
                    "i".into(),
                    Arc::new(Int64Array::from_iter(
                        (0..1000).map(|r| (r % 3 > 0).then_some(r)),
                    )) as _,
                ),
                (
                    "s".into(),
                    Arc::new(StringArray::from_iter_values(
                        (0..1000).map(|r| format!("v{r}")),
                    )) as _,
                ),
            ])
            .collect();
        RecordBatch::try_from_iter(columns).unwrap()
    }

    #[test]
    fn arrays_of_their_own_count_as_arrow_counts_them() {
        let batch = batch();
        let buffers: usize = (batch.columns().iter())
            .map(|c| {
                let data = c.to_data();
                let nulls = data.nulls().map_or(0, |n| n.buffer().capacity());
                nulls + data.buffers().iter().map(|b| b.capacity()).sum::<usize>()
            })
            .sum();
        assert_eq!(held_bytes(&batch), buffers);
        assert!(held_bytes(&batch) <= batch.get_array_memory_size());
    }

    /// A batch read from one IPC message points into one buffer: it is counted once, not
    /// once per column.
    #[test]
    fn arrays_sharing_one_buffer_count_it_once() {
        let batch = batch();
        let mut bytes = Vec::new();
        let mut writer =
            arrow_ipc::writer::StreamWriter::try_new(&mut bytes, &batch.schema()).unwrap();
        writer.write(&batch).unwrap();
        writer.finish().unwrap();
        drop(writer);
        let size = bytes.capacity();
        let mut buffer = arrow_buffer::Buffer::from_vec(bytes);
        let mut decoder = arrow_ipc::reader::StreamDecoder::new();
        let mut read = None;
        while !buffer.is_empty() {
            read = read.or(decoder.decode(&mut buffer).unwrap());
        }
        let read = read.unwrap();
        assert_eq!(read, batch);
        assert_eq!(held_bytes(&read), size);
        assert!(read.get_array_memory_size() > 10 * size);
    }

    proptest::proptest! {
        /// Runs give back the rows they were made of, and are maximal: no run could go
        /// on into the next.
        #[test]
        fn runs_are_the_rows_in_maximal_stretches(
            rows in proptest::collection::vec((0usize..3, 0usize..6), 0..60)
        ) {
            let found = runs(&rows);
            let back: Vec<(usize, usize)> = found
                .iter()
                .flat_map(|&(b, first, len)| (first..first + len).map(move |r| (b, r)))
                .collect();
            proptest::prop_assert_eq!(&back, &rows);
            for pair in found.windows(2) {
                let ((b, first, len), (next_b, next_first, _)) = (pair[0], pair[1]);
                proptest::prop_assert!(len > 0);
                proptest::prop_assert!(b != next_b || first + len != next_first);
            }
        }
    }
}

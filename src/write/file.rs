//! One data file being written: the Parquet encoder over an [`UploadSink`], with an
//! optional sort of each row group.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use object_store::path::Path;
use parquet::arrow::AsyncArrowWriter;
use parquet::errors::ParquetError;
use parquet::file::properties::WriterProperties;

use super::unwrap_parquet_error;
use super::upload::{Mode, UploadSink};
use crate::engine::WrittenFile;
use crate::error::{Error, Result};
use crate::store::ObjectStoreEngine;

/// Settings every file of one write shares.
pub(crate) struct FileSettings {
    pub(crate) engine: ObjectStoreEngine,
    pub(crate) table: String,
    pub(crate) schema: SchemaRef,
    pub(crate) properties: WriterProperties,
    pub(crate) mode: Mode,
    pub(crate) part_size: usize,
    pub(crate) concurrency: usize,
    pub(crate) max_row_group_rows: usize,
    /// Sort each row group by these columns (indices into `schema`).
    pub(crate) sort_by: Vec<usize>,
}

pub(crate) struct FileWriter {
    writer: AsyncArrowWriter<UploadSink>,
    /// What the sink holds in memory.
    held: Arc<AtomicUsize>,
    path: Path,
    rows: u64,
    /// Rows held back to be sorted before they form a row group.
    pending: Vec<RecordBatch>,
    pending_rows: usize,
    pending_bytes: usize,
}

impl FileWriter {
    pub(crate) fn new(settings: &FileSettings, path: Path, staging: Path) -> Result<Self> {
        let held = Arc::new(AtomicUsize::new(0));
        let sink = UploadSink::new(
            &settings.engine,
            path.clone(),
            staging,
            settings.mode,
            settings.part_size,
            settings.concurrency,
            Arc::clone(&held),
        );
        let writer = AsyncArrowWriter::try_new(
            sink,
            Arc::clone(&settings.schema),
            Some(settings.properties.clone()),
        )
        .map_err(|e| encode_error(settings, &path, e))?;
        Ok(FileWriter {
            writer,
            held,
            path,
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
        self.pending_bytes + self.writer.memory_size() + self.held.load(Ordering::Relaxed)
    }

    /// Encoded size so far, including the row group in progress and the rows held for
    /// sorting. Held rows are not encoded yet, so they count at the encoded bytes per
    /// row so far (nothing before the first row group): their Arrow size would
    /// overstate them several times over and roll files far below the target.
    pub(crate) fn size(&self) -> usize {
        let encoded = self.writer.bytes_written() + self.writer.in_progress_size();
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
            self.pending_bytes += batch.get_array_memory_size();
            self.pending.push(batch);
            if self.pending_rows >= settings.max_row_group_rows {
                self.write_sorted(settings).await?;
            }
            return Ok(());
        }
        self.encode(settings, &batch).await
    }

    async fn encode(&mut self, settings: &FileSettings, batch: &RecordBatch) -> Result<()> {
        let mut offset = 0;
        while offset < batch.num_rows() {
            let len = settings.max_row_group_rows.min(batch.num_rows() - offset);
            self.writer
                .write(&batch.slice(offset, len))
                .await
                .map_err(|e| encode_error(settings, &self.path, e))?;
            offset += len;
        }
        self.rows += batch.num_rows() as u64;
        Ok(())
    }

    /// Bytes of rows held back to be sorted.
    pub(crate) fn pending_bytes(&self) -> usize {
        self.pending_bytes
    }

    /// Sorts the held-back rows and encodes them as (at most) one row group. The rows
    /// are gathered in sorted order straight from the held batches, so the row group
    /// is in memory twice at most (held and sorted), and once as soon as it is sorted.
    pub(crate) async fn write_sorted(&mut self, settings: &FileSettings) -> Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let arrow_error = |context: &str, source| Error::Arrow {
            table: settings.table.clone(),
            context: format!("{context} for {}", self.path),
            source,
        };
        // Only the sort keys are concatenated.
        let columns: Vec<arrow_ord::sort::SortColumn> = settings
            .sort_by
            .iter()
            .map(|&i| {
                let parts: Vec<&dyn arrow_array::Array> =
                    self.pending.iter().map(|b| b.column(i).as_ref()).collect();
                arrow_select::concat::concat(&parts).map(|values| arrow_ord::sort::SortColumn {
                    values,
                    options: None,
                })
            })
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| arrow_error("gathering sort keys", e))?;
        let order = arrow_ord::sort::lexsort_to_indices(&columns, None)
            .map_err(|e| arrow_error("sorting", e))?;
        drop(columns);
        // Row `r` of the concatenation is row `r - starts[b]` of held batch `b`.
        let starts: Vec<usize> = self
            .pending
            .iter()
            .scan(0, |start, b| {
                let here = *start;
                *start += b.num_rows();
                Some(here)
            })
            .collect();
        let indices: Vec<(usize, usize)> = order
            .values()
            .iter()
            .map(|&r| {
                let r = r as usize;
                let b = starts.partition_point(|&s| s <= r) - 1;
                (b, r - starts[b])
            })
            .collect();
        let held: Vec<&RecordBatch> = self.pending.iter().collect();
        let sorted = arrow_select::interleave::interleave_record_batch(&held, &indices)
            .map_err(|e| arrow_error("sorting", e))?;
        self.pending.clear();
        self.pending_rows = 0;
        self.pending_bytes = 0;
        self.encode(settings, &sorted).await?;
        self.writer
            .flush()
            .await
            .map_err(|e| encode_error(settings, &self.path, e))
    }

    /// Completes the file and publishes it.
    pub(crate) async fn finish(
        mut self,
        settings: &FileSettings,
    ) -> std::result::Result<WrittenFile, (Error, Self)> {
        if let Err(e) = self.write_sorted(settings).await {
            return Err((e, self));
        }
        if let Err(e) = self.writer.finish().await {
            let error = encode_error(settings, &self.path, e);
            return Err((error, self));
        }
        let sink = self.writer.into_inner();
        Ok(WrittenFile {
            path: self.path.to_string(),
            rows: self.rows,
            bytes: sink.bytes,
        })
    }

    /// Abandons the file: nothing of it stays visible.
    pub(crate) async fn abort(self) {
        self.writer.into_inner().abort().await;
    }
}

fn encode_error(settings: &FileSettings, path: &Path, source: ParquetError) -> Error {
    unwrap_parquet_error(source).unwrap_or_else(|source| Error::Encode {
        backend: settings.engine.backend().to_string(),
        table: settings.table.clone(),
        path: path.to_string(),
        source,
    })
}

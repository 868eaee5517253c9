//! The Parquet encoder of one file, encoding a row group's columns on several threads.
//!
//! `ArrowWriter` encodes the columns of a row group one after another on the caller's
//! thread, so a write of a wide table uses one core however many it has, and whatever
//! feeds it waits. Here each top-level column is encoded by its own
//! [`ArrowColumnWriter`], handed out to up to `threads` threads of the CPU pool the
//! encoder is called on ([`crate::cpu`]); the encoded chunks are then appended to the
//! file in schema order, so the file is the one `ArrowWriter` would write. Small writes
//! stay on one thread, where fanning out would cost more than it saves.

use std::ops::Range;

use arrow_array::{ArrayRef, RecordBatch};
use arrow_schema::SchemaRef;
use bytes::Bytes;
use parquet::arrow::ArrowWriter;
use parquet::arrow::arrow_writer::{ArrowColumnWriter, ArrowRowGroupWriterFactory, compute_leaves};
use parquet::errors::{ParquetError, Result};
use parquet::file::metadata::ParquetMetaData;
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;

use crate::cpu::map_in_parallel;

/// Values (rows × columns) below which a write is encoded on the caller's thread.
const PARALLEL_MIN_VALUES: usize = 1 << 18;

pub(crate) struct Encoder {
    file: SerializedFileWriter<Chunks>,
    factory: ArrowRowGroupWriterFactory,
    schema: SchemaRef,
    /// Per top-level column: its leaves among the row group's column writers.
    leaves: Vec<Range<usize>>,
    open: Option<OpenRowGroup>,
    threads: usize,
    max_rows: usize,
    max_bytes: Option<usize>,
}

/// The encoder's byte sink: filled in chunks that are handed on whole. A growing `Vec`
/// copied each row group's bytes once or twice as it doubled, each time into fresh
/// pages (10% of the page faults
/// of a compaction of 180-column telemetry).
#[derive(Debug, Default)]
struct Chunks {
    full: Vec<Bytes>,
    filling: Vec<u8>,
    /// Bytes held, in `full` and `filling`.
    len: usize,
    /// Bytes written since the sink was made: chunks grow with it to [`CHUNK_MAX`].
    total: usize,
}

/// Smallest and largest chunk of [`Chunks`]: small files stay small, large ones are
/// handed on in pieces of a mebibyte.
const CHUNK_MIN: usize = 64 << 10;
const CHUNK_MAX: usize = 1 << 20;

impl Chunks {
    /// Everything held, leaving the sink empty.
    fn take(&mut self) -> Vec<Bytes> {
        if !self.filling.is_empty() {
            let filling = std::mem::take(&mut self.filling);
            self.full.push(Bytes::from(filling));
        }
        self.len = 0;
        std::mem::take(&mut self.full)
    }
}

impl std::io::Write for Chunks {
    fn write(&mut self, mut buf: &[u8]) -> std::io::Result<usize> {
        let n = buf.len();
        while !buf.is_empty() {
            if self.filling.len() == self.filling.capacity() {
                if !self.filling.is_empty() {
                    let full = std::mem::take(&mut self.filling);
                    self.full.push(Bytes::from(full));
                }
                self.filling = Vec::with_capacity(self.total.clamp(CHUNK_MIN, CHUNK_MAX));
            }
            let room = self.filling.capacity() - self.filling.len();
            let (now, rest) = buf.split_at(room.min(buf.len()));
            self.filling.extend_from_slice(now);
            buf = rest;
        }
        self.len += n;
        self.total += n;
        Ok(n)
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// The row group being written: per top-level column, the writers of its leaves.
struct OpenRowGroup {
    columns: Vec<Vec<ArrowColumnWriter>>,
    rows: usize,
}

impl Encoder {
    /// An encoder of `schema` with `properties` (row group limits included), using up to
    /// `threads` threads per row group.
    pub(crate) fn try_new(
        schema: SchemaRef,
        properties: WriterProperties,
        threads: usize,
    ) -> Result<Self> {
        let max_rows = properties
            .max_row_group_row_count()
            .unwrap_or(usize::MAX)
            .max(1);
        let max_bytes = properties.max_row_group_bytes();
        // `ArrowWriter` sets up the file as it would write it (the Arrow schema in the
        // footer's metadata included); only its row groups are taken over.
        let (file, factory) = ArrowWriter::try_new(
            Chunks::default(),
            SchemaRef::clone(&schema),
            Some(properties),
        )?
        .into_serialized_writer()?;
        let descriptor = file.schema_descr();
        let mut leaves = vec![0..0; schema.fields().len()];
        for leaf in 0..descriptor.num_columns() {
            let root = descriptor.get_column_root_idx(leaf);
            let range = leaves.get_mut(root).ok_or_else(|| {
                ParquetError::General(format!("leaf {leaf} has no column {root}"))
            })?;
            // A column's leaves are consecutive.
            let start = if range.end == 0 { leaf } else { range.start };
            *range = start..leaf + 1;
        }
        Ok(Encoder {
            file,
            factory,
            schema,
            leaves,
            open: None,
            threads: threads.max(1),
            max_rows,
            max_bytes,
        })
    }

    /// Appends the leading rows of `batch` that fit the open row group, closing it when
    /// it reaches the row or byte limit, and says how many it took (at least one of a
    /// non-empty batch). Callers loop, handing the encoded bytes on between calls, so
    /// no more than one row group's bytes are held.
    pub(crate) fn write_part(&mut self, batch: &RecordBatch) -> Result<usize> {
        if self.in_progress_rows() >= self.max_rows {
            self.flush()?;
        }
        let len = (self.max_rows - self.in_progress_rows()).min(batch.num_rows());
        let part = batch.slice(0, len);
        self.write_columns(len, &|j| Ok(vec![ArrayRef::clone(part.column(j))]))?;
        let full = self.in_progress_rows() >= self.max_rows
            || self
                .max_bytes
                .is_some_and(|max| self.in_progress_size() >= max);
        if full {
            self.flush()?;
        }
        Ok(len)
    }

    /// Appends `rows` rows to the open row group, column `j` being the arrays of
    /// `column(j)` one after another (pieces, so that rows already in order need not be
    /// copied into one array); the columns are made and encoded on the encoding threads.
    /// Row group limits are the caller's to keep.
    pub(crate) fn write_columns(
        &mut self,
        rows: usize,
        column: &(dyn Fn(usize) -> Result<Vec<ArrayRef>> + Sync),
    ) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        let threads = self.threads_for(rows);
        let open = match &mut self.open {
            Some(open) => open,
            empty => {
                let mut writers = self
                    .factory
                    .create_column_writers(self.file.flushed_row_groups().len())?
                    .into_iter();
                let columns = self
                    .leaves
                    .iter()
                    .map(|range| writers.by_ref().take(range.len()).collect())
                    .collect();
                empty.insert(OpenRowGroup { columns, rows: 0 })
            }
        };
        let fields = self.schema.fields();
        let items: Vec<_> = open.columns.iter_mut().enumerate().collect();
        map_in_parallel(items, threads, |(j, writers)| {
            for piece in column(j)? {
                let leaves = compute_leaves(&fields[j], &piece)?;
                for (writer, leaf) in writers.iter_mut().zip(&leaves) {
                    writer.write(leaf)?;
                }
            }
            Ok::<(), ParquetError>(())
        })?;
        open.rows += rows;
        Ok(())
    }

    /// Closes the open row group, if any, and appends it to the file.
    pub(crate) fn flush(&mut self) -> Result<()> {
        let Some(open) = self.open.take() else {
            return Ok(());
        };
        let threads = self.threads_for(open.rows);
        let chunks = map_in_parallel(open.columns, threads, |writers| {
            writers
                .into_iter()
                .map(ArrowColumnWriter::close)
                .collect::<Result<Vec<_>>>()
        })?;
        let mut row_group = self.file.next_row_group()?;
        for chunk in chunks.into_iter().flatten() {
            chunk.append_to_row_group(&mut row_group)?;
        }
        row_group.close()?;
        Ok(())
    }

    /// Flushes, writes the footer and says what the file holds.
    pub(crate) fn finish(&mut self) -> Result<ParquetMetaData> {
        self.flush()?;
        self.file.finish()
    }

    /// The encoded bytes not taken yet, in chunks: whole row groups, or the file's end
    /// once finished.
    pub(crate) fn take_bytes(&mut self) -> Result<Vec<Bytes>> {
        self.file.flush()?;
        Ok(self.file.inner_mut().take())
    }

    /// Memory held: the open row group's buffers and bytes not taken yet.
    pub(crate) fn memory_size(&self) -> usize {
        self.writers()
            .map(ArrowColumnWriter::memory_size)
            .sum::<usize>()
            + self.file.inner().len
    }

    /// Estimated encoded size of the open row group.
    pub(crate) fn in_progress_size(&self) -> usize {
        self.writers()
            .map(ArrowColumnWriter::get_estimated_total_bytes)
            .sum()
    }

    pub(crate) fn in_progress_rows(&self) -> usize {
        self.open.as_ref().map_or(0, |open| open.rows)
    }

    /// Bytes of the file written so far (row groups closed).
    pub(crate) fn bytes_written(&self) -> usize {
        self.file.bytes_written()
    }

    fn writers(&self) -> impl Iterator<Item = &ArrowColumnWriter> {
        self.open
            .iter()
            .flat_map(|open| open.columns.iter().flatten())
    }

    fn threads_for(&self, rows: usize) -> usize {
        if rows.saturating_mul(self.leaves.len()) < PARALLEL_MIN_VALUES {
            1
        } else {
            self.threads
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{Int64Array, StringArray, StructArray};
    use arrow_schema::{DataType, Field, Fields, Schema};
    use bytes::Bytes;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

    use super::*;

    fn batch(rows: usize, start: i64) -> RecordBatch {
        let inner = Fields::from(vec![
            Field::new("a", DataType::Int64, true),
            Field::new("b", DataType::Utf8, true),
        ]);
        let ids = Int64Array::from_iter_values(start..start + rows as i64);
        let names =
            StringArray::from_iter((0..rows).map(|i| (i % 3 != 0).then(|| format!("n{i}"))));
        let nested = StructArray::new(
            inner.clone(),
            vec![Arc::new(ids.clone()), Arc::new(names.clone())],
            None,
        );
        let schema = Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("nested", DataType::Struct(inner), false),
            Field::new("name", DataType::Utf8, true),
        ]);
        RecordBatch::try_new(
            Arc::new(schema),
            vec![Arc::new(ids), Arc::new(nested), Arc::new(names)],
        )
        .unwrap()
    }

    fn encode(threads: usize, batches: &[RecordBatch]) -> Vec<u8> {
        let properties = WriterProperties::builder()
            .set_max_row_group_row_count(Some(70_000))
            .build();
        let mut encoder = Encoder::try_new(batches[0].schema(), properties, threads).unwrap();
        let mut bytes = Vec::new();
        for batch in batches {
            let mut offset = 0;
            while offset < batch.num_rows() {
                offset += encoder
                    .write_part(&batch.slice(offset, batch.num_rows() - offset))
                    .unwrap();
                bytes.extend(encoder.take_bytes().unwrap().concat());
            }
        }
        encoder.finish().unwrap();
        bytes.extend(encoder.take_bytes().unwrap().concat());
        bytes
    }

    #[test]
    fn threads_write_the_file_one_thread_writes() {
        let batches = [batch(100_000, 0), batch(5, 100_000), batch(60_000, 100_005)];
        let one = encode(1, &batches);
        let four = encode(4, &batches);
        assert_eq!(one, four);

        let mut reference = Vec::new();
        let properties = WriterProperties::builder()
            .set_max_row_group_row_count(Some(70_000))
            .build();
        let mut writer =
            ArrowWriter::try_new(&mut reference, batches[0].schema(), Some(properties)).unwrap();
        for batch in &batches {
            writer.write(batch).unwrap();
        }
        writer.close().unwrap();
        assert_eq!(one, reference, "the same bytes as ArrowWriter");

        let reader = ParquetRecordBatchReaderBuilder::try_new(Bytes::from(four))
            .unwrap()
            .with_batch_size(1 << 20)
            .build()
            .unwrap();
        let read: Vec<RecordBatch> = reader.map(Result::unwrap).collect();
        let expected =
            arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
        let read = arrow_select::concat::concat_batches(&batches[0].schema(), &read).unwrap();
        assert_eq!(read, expected);
    }

    proptest::proptest! {
        /// Whatever the writes and takes, the chunks taken are the bytes written, in
        /// order, none over `CHUNK_MAX`, and `len` counts what is held.
        #[test]
        fn chunks_hand_on_what_was_written(
            writes in proptest::collection::vec((0usize..300_000, proptest::bool::ANY), 0..40)
        ) {
            use std::io::Write;
            let mut sink = Chunks::default();
            let (mut written, mut taken) = (Vec::new(), Vec::new());
            for (i, (size, take)) in writes.into_iter().enumerate() {
                let data: Vec<u8> = (0..size).map(|j| (i * 7 + j) as u8).collect();
                sink.write_all(&data).unwrap();
                written.extend_from_slice(&data);
                proptest::prop_assert_eq!(sink.len, written.len() - taken.len());
                if take {
                    for chunk in sink.take() {
                        proptest::prop_assert!(!chunk.is_empty() && chunk.len() <= CHUNK_MAX);
                        taken.extend_from_slice(&chunk);
                    }
                    proptest::prop_assert_eq!(sink.len, 0);
                }
            }
            sink.take().iter().for_each(|chunk| taken.extend_from_slice(chunk));
            proptest::prop_assert_eq!(taken, written);
        }
    }
}

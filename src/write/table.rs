//! The files of one write: a writer per partition, opened on demand, closed (and so
//! published) when it reaches its size, when too many are open, or when memory runs
//! over budget; all of them removed again if the write fails.

use std::sync::Arc;

use arrow_array::RecordBatch;
use object_store::ObjectStoreExt;
use object_store::path::Path;
use rustc_hash::FxHashMap;

use super::Placement;
use super::file::{FileSettings, FileWriter};
use crate::engine::WriteOptions;
use crate::engine::{WriteReceipt, WrittenFile};
use crate::error::{Error, Result};
use crate::layout;
use crate::naming::{FileName, TablePath};
use crate::partition::{self, PartitionField};

/// Rows per part from which the parts of a batch are encoded in parallel.
const PARALLEL_MIN_ROWS: usize = 4096;

pub(crate) struct TableWriter<'a> {
    settings: Arc<FileSettings>,
    placement: Placement,
    options: &'a WriteOptions,
    table: &'a TablePath,
    /// Open files by partition directory ("" without partitioning).
    open: FxHashMap<String, FileWriter>,
    /// Files completed and published by this write.
    /// Files completed by this write, with where each is (a pending file's receipt
    /// names its place in the table).
    written: Vec<(WrittenFile, Path)>,
    peak_buffered: usize,
}

impl<'a> TableWriter<'a> {
    pub(crate) fn new(
        settings: FileSettings,
        options: &'a WriteOptions,
        table: &'a TablePath,
        placement: Placement,
    ) -> Self {
        TableWriter {
            placement,
            settings: Arc::new(settings),
            options,
            table,
            open: FxHashMap::default(),
            written: Vec::new(),
            peak_buffered: 0,
        }
    }

    fn partitioning(&self) -> &[PartitionField] {
        &self.options.partition_by
    }

    /// Splits `batch` by partition (on the CPU pool) and writes each part to its
    /// partition's file; the parts' files are encoded at once, on the pool.
    pub(crate) async fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        let slices: Vec<(String, RecordBatch)> = if self.partitioning().is_empty() {
            vec![(String::new(), batch.clone())]
        } else {
            let (batch, fields) = (batch.clone(), self.partitioning().to_vec());
            (self.settings.backend.cpu())
                .run(move || {
                    partition::split(&batch, &fields)?
                        .into_iter()
                        .map(|slice| {
                            Ok((
                                partition::partition_dir(&fields, &slice.values)?,
                                slice.batch,
                            ))
                        })
                        .collect::<Result<_>>()
                })
                .await??
        };
        // Encoding files at once pays only for parts of some size; tiny parts (many
        // partitions, few rows each) go one by one, with the budget checked after each.
        let rows = batch.num_rows();
        let parallel = slices.len() > 1 && rows / slices.len() >= PARALLEL_MIN_ROWS;
        if !parallel {
            for (dir, rows) in slices {
                let writer = self.take_or_open(&dir, 0).await?;
                self.write_group(vec![(dir, writer, rows)]).await?;
            }
            return Ok(());
        }
        let mut group: Vec<(String, FileWriter, RecordBatch)> = Vec::new();
        for (dir, rows) in slices {
            if !self.open.contains_key(&dir)
                && self.open.is_empty()
                && group.len() >= self.options.max_open_files
            {
                // Every open file is in this group: write it, then make room.
                self.write_group(std::mem::take(&mut group)).await?;
            }
            let writer = self.take_or_open(&dir, group.len()).await?;
            group.push((dir, writer, rows));
            // Keep the memory budget while a group grows, not only after it is written.
            let held = |(_, w, r): &(String, FileWriter, RecordBatch)| {
                w.buffered() + super::file::held_bytes(r)
            };
            let buffered: usize = self.open.values().map(FileWriter::buffered).sum::<usize>()
                + group.iter().map(held).sum::<usize>();
            if buffered > self.options.max_buffered_bytes {
                self.write_group(std::mem::take(&mut group)).await?;
            }
        }
        self.write_group(group).await
    }

    /// The open file of partition `dir`, taken out of `open`, or a new one (closing the
    /// largest open file first when the cap is reached); `in_flight` files are taken.
    async fn take_or_open(&mut self, dir: &str, in_flight: usize) -> Result<FileWriter> {
        if let Some(writer) = self.open.remove(dir) {
            return Ok(writer);
        }
        if self.open.len() + in_flight >= self.options.max_open_files {
            self.close_largest().await?;
        }
        self.open_file(dir, in_flight)
    }

    /// Encodes each part into its file, all at once (their steps run side by side on
    /// the CPU pool, their uploads on this task), then closes files that are full and
    /// keeps memory within the budget.
    async fn write_group(&mut self, group: Vec<(String, FileWriter, RecordBatch)>) -> Result<()> {
        let settings = &self.settings;
        let written = futures::future::join_all(group.into_iter().map(
            |(dir, mut writer, rows)| async move {
                let result = writer.write(settings, rows).await;
                (dir, writer, result)
            },
        ))
        .await;
        let mut first_error = None;
        let mut dirs = Vec::with_capacity(written.len());
        for (dir, writer, result) in written {
            self.open.insert(dir.clone(), writer);
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
            dirs.push(dir);
        }
        if let Some(error) = first_error {
            return Err(error);
        }
        for dir in dirs {
            let Some(writer) = self.open.get(&dir) else {
                continue;
            };
            let full = self
                .options
                .target_file_size
                .is_some_and(|size| writer.size() as u64 >= size)
                || self
                    .options
                    .max_rows_per_file
                    .is_some_and(|rows| writer.rows() >= rows);
            if full {
                self.close(&dir).await?;
            }
        }
        // Memory: every open file's buffers together stay under the budget. Rows held
        // for sorting go out as a (smaller) row group first; a file is closed early
        // only when encoded bytes alone exceed the budget, so the budget cuts row
        // groups, not files, and the file count does not depend on timing.
        let mut buffered: usize = self.open.values().map(FileWriter::buffered).sum();
        self.peak_buffered = self.peak_buffered.max(buffered);
        while buffered > self.options.max_buffered_bytes && !self.open.is_empty() {
            if !self.flush_largest_pending().await? {
                self.close_largest().await?;
            }
            buffered = self.open.values().map(FileWriter::buffered).sum();
        }
        Ok(())
    }

    /// Encodes the rows the open file holding the most of them keeps for sorting, as a
    /// row group; `false` when no file holds any.
    async fn flush_largest_pending(&mut self) -> Result<bool> {
        let Some(writer) = self
            .open
            .values_mut()
            .filter(|w| w.pending_bytes() > 0)
            .max_by_key(|w| w.pending_bytes())
        else {
            return Ok(false);
        };
        writer.write_sorted(&self.settings).await?;
        Ok(true)
    }

    /// Opens the file of partition `dir`; `in_flight` files are open but out of `open`.
    fn open_file(&self, dir: &str, in_flight: usize) -> Result<FileWriter> {
        let name = match &self.options.file_name {
            Some(name) if self.written.is_empty() && self.open.is_empty() && in_flight == 0 => {
                name.clone()
            }
            Some(name) => {
                return Err(Error::config(format!(
                    "file name {name} was fixed, but the write needs more than one file (partitions or rolling)"
                )));
            }
            None => FileName::generate(self.options.stem.as_deref().unwrap_or(self.table.name()))?,
        };
        let table = self.table.as_str();
        let relative = if dir.is_empty() {
            name.to_string()
        } else {
            format!("{dir}/{name}")
        };
        let in_table = format!("{table}/{relative}");
        let path = match &self.placement {
            Placement::Table => in_table.clone(),
            Placement::Pending(change) => layout::pending_file(table, change, &relative),
        };
        // Partition values are already percent-encoded: take the text as the key as is.
        let path = Path::parse(&path)
            .map_err(|e| Error::internal(format!("invalid object path {path:?}: {e}")))?;
        let staging = layout::upload_staging(&uuid::Uuid::now_v7());
        FileWriter::new(&self.settings, path, in_table, staging)
    }

    /// Completes and publishes the file of partition `dir`.
    async fn close(&mut self, dir: &str) -> Result<()> {
        let Some(writer) = self.open.remove(dir) else {
            return Ok(());
        };
        match writer.finish(&self.settings).await {
            Ok(done) => {
                self.written.push(done);
                Ok(())
            }
            Err((error, writer)) => {
                writer.abort().await;
                Err(error)
            }
        }
    }

    /// Closes the open file that holds the most memory; its partition rolls to a new
    /// file if more of its rows come.
    async fn close_largest(&mut self) -> Result<()> {
        let largest = self
            .open
            .iter()
            .max_by_key(|(_, w)| w.buffered())
            .map(|(dir, _)| dir.clone());
        match largest {
            Some(dir) => self.close(&dir).await,
            None => Ok(()),
        }
    }

    /// Closes every open file, in partition order.
    pub(crate) async fn finish(mut self) -> std::result::Result<WriteReceipt, (Error, Self)> {
        let mut dirs: Vec<String> = self.open.keys().cloned().collect();
        dirs.sort();
        for dir in dirs {
            if let Err(error) = self.close(&dir).await {
                return Err((error, self));
            }
        }
        let files: Vec<WrittenFile> = self.written.drain(..).map(|(f, _)| f).collect();
        let rows = files.iter().map(|f| f.rows).sum();
        let bytes = files.iter().map(|f| f.bytes).sum();
        Ok(WriteReceipt {
            files,
            rows,
            bytes,
            peak_buffered_bytes: self.peak_buffered as u64,
        })
    }

    /// Undoes the write: abandons open files and deletes the ones already published.
    /// Best effort: a delete that fails leaves that file, and the caller gets the
    /// original error.
    pub(crate) async fn abort(mut self) {
        for (_, writer) in self.open.drain() {
            writer.abort().await;
        }
        let store = self.settings.backend.store();
        for (_, path) in &self.written {
            let _ = store.delete(path).await;
        }
    }
}

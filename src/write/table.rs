//! The files of one write: a writer per partition, opened on demand, closed (and so
//! published) when it reaches its size, when too many are open, or when memory runs
//! over budget; all of them removed again if the write fails.

use object_store::ObjectStoreExt;
use object_store::path::Path;
use rustc_hash::FxHashMap;

use super::WriteOptions;
use super::file::{FileSettings, FileWriter};
use crate::engine::{WriteReceipt, WrittenFile};
use crate::error::{Error, Result};
use crate::naming::{FileName, TablePath};
use crate::partition::{self, PartitionField};

pub(crate) struct TableWriter<'a> {
    settings: FileSettings,
    options: &'a WriteOptions,
    table: &'a TablePath,
    /// Open files by partition directory ("" without partitioning).
    open: FxHashMap<String, FileWriter>,
    /// Files completed and published by this write.
    written: Vec<WrittenFile>,
    peak_buffered: usize,
}

impl<'a> TableWriter<'a> {
    pub(crate) fn new(
        settings: FileSettings,
        options: &'a WriteOptions,
        table: &'a TablePath,
    ) -> Self {
        TableWriter {
            settings,
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

    /// Splits `batch` by partition and writes each part to its partition's file.
    pub(crate) async fn write(&mut self, batch: &arrow_array::RecordBatch) -> Result<()> {
        if self.partitioning().is_empty() {
            return self.write_to(String::new(), batch.clone()).await;
        }
        for slice in partition::split(batch, self.partitioning())? {
            let dir = partition::partition_dir(self.partitioning(), &slice.values)?;
            self.write_to(dir, slice.batch).await?;
        }
        Ok(())
    }

    async fn write_to(&mut self, dir: String, batch: arrow_array::RecordBatch) -> Result<()> {
        if !self.open.contains_key(&dir) {
            if self.open.len() >= self.options.max_open_files {
                self.close_largest().await?;
            }
            let writer = self.open_file(&dir)?;
            self.open.insert(dir.clone(), writer);
        }
        let Some(writer) = self.open.get_mut(&dir) else {
            return Ok(());
        };
        writer.write(&self.settings, batch).await?;
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
        // Memory: every open file's buffers together stay under the budget.
        let mut buffered: usize = self.open.values().map(FileWriter::buffered).sum();
        self.peak_buffered = self.peak_buffered.max(buffered);
        while buffered > self.options.max_buffered_bytes && !self.open.is_empty() {
            self.close_largest().await?;
            buffered = self.open.values().map(FileWriter::buffered).sum();
        }
        Ok(())
    }

    fn open_file(&self, dir: &str) -> Result<FileWriter> {
        let name = match &self.options.file_name {
            Some(name) if self.written.is_empty() && self.open.is_empty() => name.clone(),
            Some(name) => {
                return Err(Error::config(format!(
                    "file name {name} was fixed, but the write needs more than one file (partitions or rolling)"
                )));
            }
            None => FileName::generate(self.options.stem.as_deref().unwrap_or(self.table.name()))?,
        };
        let table = self.table.as_str();
        let path = if dir.is_empty() {
            format!("{table}/{name}")
        } else {
            format!("{table}/{dir}/{name}")
        };
        let staging = format!(
            "{table}/{}/{}",
            super::STAGING_DIR,
            uuid::Uuid::now_v7().simple()
        );
        // Partition values are already percent-encoded: take the text as the key as is.
        let parse = |p: &str| {
            Path::parse(p).map_err(|e| Error::config(format!("invalid object path {p:?}: {e}")))
        };
        FileWriter::new(&self.settings, parse(&path)?, parse(&staging)?)
    }

    /// Completes and publishes the file of partition `dir`.
    async fn close(&mut self, dir: &str) -> Result<()> {
        let Some(writer) = self.open.remove(dir) else {
            return Ok(());
        };
        match writer.finish(&self.settings).await {
            Ok(file) => {
                self.written.push(file);
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
        let rows = self.written.iter().map(|f| f.rows).sum();
        let bytes = self.written.iter().map(|f| f.bytes).sum();
        Ok(WriteReceipt {
            files: std::mem::take(&mut self.written),
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
        let store = self.settings.engine.store();
        for file in &self.written {
            if let Ok(path) = Path::parse(&file.path) {
                let _ = store.delete(&path).await;
            }
        }
    }
}

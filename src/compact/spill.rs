//! Rows decoded before the schema is known, kept on local disk until it is: what lets a
//! compaction without a registry schema read (download, inflate, scan) each source once
//! instead of twice (`Compaction::with_spill_dir`). Each batch is one Arrow IPC stream file in a private temporary
//! directory, removed as it is read back and, with everything left, when the run ends
//! however it ends.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use arrow_array::{Array, RecordBatch, UInt64Array};
use arrow_buffer::Buffer;
use arrow_ipc::reader::StreamDecoder;
use arrow_ipc::writer::StreamWriter;
use arrow_schema::{DataType, Field, Schema};

use crate::error::{Error, Result};

/// The spill directory of one run.
#[derive(Debug)]
pub(crate) struct Spill {
    dir: tempfile::TempDir,
    next: AtomicU64,
}

/// One spilled batch.
#[derive(Debug)]
pub(crate) struct Segment {
    path: PathBuf,
    /// Bytes on disk.
    pub(crate) bytes: u64,
}

impl Spill {
    /// A new, empty spill directory under `parent`.
    pub(crate) fn new(parent: &Path) -> Result<Spill> {
        let dir = tempfile::Builder::new()
            .prefix("parquet-storage-spill-")
            .tempdir_in(parent)
            .map_err(|e| spill_error("create a directory in", parent, e))?;
        Ok(Spill {
            dir,
            next: AtomicU64::new(0),
        })
    }

    /// Writes `batch`, whose rows came from source lines `lines` (blocking).
    pub(crate) fn write(&self, batch: &RecordBatch, lines: &[u64]) -> Result<Segment> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        let path = self.dir.path().join(format!("{n:08}.arrows"));
        let fail = |e: String| spill_error("write", &path, e);
        // The line numbers travel as one more column, last, whatever the keys are named.
        let mut fields: Vec<Arc<Field>> = batch.schema().fields().iter().cloned().collect();
        fields.push(Arc::new(Field::new("", DataType::UInt64, false)));
        let mut columns = batch.columns().to_vec();
        columns.push(Arc::new(UInt64Array::from(lines.to_vec())));
        let with_lines = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| fail(e.to_string()))?;
        let file = File::create(&path).map_err(|e| fail(e.to_string()))?;
        let mut writer = StreamWriter::try_new(
            BufWriter::with_capacity(1 << 20, file),
            &with_lines.schema(),
        )
        .map_err(|e| fail(e.to_string()))?;
        writer.write(&with_lines).map_err(|e| fail(e.to_string()))?;
        writer.finish().map_err(|e| fail(e.to_string()))?;
        let mut file = writer.into_inner().map_err(|e| fail(e.to_string()))?;
        std::io::Write::flush(&mut file).map_err(|e| fail(e.to_string()))?;
        let bytes = (file.get_ref().metadata())
            .map_err(|e| fail(e.to_string()))?
            .len();
        Ok(Segment { path, bytes })
    }
}

impl Segment {
    /// Reads the batch and its source lines back (blocking), and removes the file. The
    /// file is read whole into one buffer, which the batch's arrays then point into: no
    /// buffer is zeroed before the read fills it, and nothing is copied after.
    pub(crate) fn read(self) -> Result<(RecordBatch, Vec<u64>)> {
        let fail = |e: String| spill_error("read", &self.path, e);
        let mut bytes =
            Buffer::from_vec(std::fs::read(&self.path).map_err(|e| fail(e.to_string()))?);
        let mut decoder = StreamDecoder::new();
        let mut batches = Vec::new();
        while !bytes.is_empty() {
            if let Some(batch) = decoder
                .decode(&mut bytes)
                .map_err(|e| fail(e.to_string()))?
            {
                batches.push(batch);
            }
        }
        decoder.finish().map_err(|e| fail(e.to_string()))?;
        // Removed as soon as it is read: the directory shrinks as the run goes on.
        let _ = std::fs::remove_file(&self.path);
        let [mut batch] = <[RecordBatch; 1]>::try_from(batches)
            .map_err(|b| fail(format!("{} batches where one was written", b.len())))?;
        let last = batch
            .num_columns()
            .checked_sub(1)
            .ok_or_else(|| fail("no columns".into()))?;
        let lines = batch
            .remove_column(last)
            .as_any()
            .downcast_ref::<UInt64Array>()
            .ok_or_else(|| fail("the line numbers are missing".into()))?
            .values()
            .to_vec();
        Ok((batch, lines))
    }
}

fn spill_error(
    operation: &'static str,
    path: &Path,
    e: impl Into<Box<dyn std::error::Error + Send + Sync>>,
) -> Error {
    Error::Spill {
        operation,
        path: path.display().to_string(),
        source: e.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::StringArray;

    #[test]
    fn a_batch_comes_back_with_its_lines_and_its_file_goes() {
        let parent = tempfile::tempdir().unwrap();
        let spill = Spill::new(parent.path()).unwrap();
        let batch = RecordBatch::try_from_iter([(
            "",
            Arc::new(StringArray::from(vec![Some("x"), None])) as _,
        )])
        .unwrap();
        let segment = spill.write(&batch, &[3, 7]).unwrap();
        assert!(segment.bytes > 0);
        let path = segment.path.clone();
        let (back, lines) = segment.read().unwrap();
        assert_eq!((back, lines), (batch, vec![3, 7]));
        assert!(!path.exists());
        let dir = spill.dir.path().to_path_buf();
        drop(spill);
        assert!(!dir.exists());
    }

    #[test]
    fn an_unusable_directory_is_named_in_the_error() {
        let err = Spill::new(Path::new("/nonexistent/spill")).unwrap_err();
        assert!(err.to_string().contains("/nonexistent/spill"), "{err}");
    }
}

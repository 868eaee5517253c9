//! Rejects: lines that are not JSON objects and values that do not fit their column,
//! kept aside as NDJSON on the destination's backend, never guessed at and never lost.
//!
//! One object per line:
//! `{"run_id", "source_file", "line", "column", "value", "reason"}`; `line` is 1-based
//! (null for a file-level problem), `column` is null for a whole line or file, and
//! `value` is the raw text as it stood in the source: the JSON text of a value (a string
//! keeps its quotes, so `"12"` and `12` differ), the whole line for a line reject.

use std::sync::Arc;

use object_store::ObjectStore;
use object_store::buffered::BufWriter;
use object_store::path::Path;
use serde::Serialize;
use tokio::io::AsyncWriteExt;

use crate::error::{Error, Result};

/// One rejected line, value or file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct Reject {
    /// Path of the source object.
    pub source_file: String,
    /// 1-based line number; `None` for a problem of the whole file.
    pub line: Option<u64>,
    /// The column of a rejected value; `None` for a whole line or file.
    pub column: Option<String>,
    /// The raw text: a value's JSON text, or the whole line.
    pub value: Option<String>,
    /// Why.
    pub reason: String,
}

impl Reject {
    /// A problem of a whole file: unreadable, corrupt, empty.
    pub(crate) fn file(source: &str, line: Option<u64>, reason: String) -> Reject {
        Reject {
            source_file: source.to_string(),
            line,
            column: None,
            value: None,
            reason,
        }
    }
}

#[derive(Serialize)]
struct Record<'a> {
    run_id: &'a str,
    #[serde(flatten)]
    reject: &'a Reject,
}

/// Streams rejects to one NDJSON object, created on the first reject.
#[derive(Debug)]
pub(crate) struct RejectWriter {
    store: Arc<dyn ObjectStore>,
    backend: String,
    path: Path,
    run_id: String,
    writer: Option<BufWriter>,
    buffer: Vec<u8>,
    written: u64,
}

impl RejectWriter {
    pub(crate) fn new(
        store: Arc<dyn ObjectStore>,
        backend: String,
        path: &str,
        run_id: &str,
    ) -> Self {
        RejectWriter {
            store,
            backend,
            path: Path::from(path),
            run_id: run_id.to_string(),
            writer: None,
            buffer: Vec::new(),
            written: 0,
        }
    }

    fn error(&self, source: object_store::Error) -> Error {
        Error::Store {
            backend: self.backend.clone(),
            operation: "put",
            path: self.path.to_string(),
            source: Box::new(source),
        }
    }

    /// Appends `rejects`.
    pub(crate) async fn write(&mut self, rejects: &[Reject]) -> Result<()> {
        if rejects.is_empty() {
            return Ok(());
        }
        self.buffer.clear();
        for reject in rejects {
            let record = Record {
                run_id: &self.run_id,
                reject,
            };
            serde_json::to_writer(&mut self.buffer, &record)
                .map_err(|e| Error::internal(format!("serialising a reject record: {e}")))?;
            self.buffer.push(b'\n');
        }
        let writer = self
            .writer
            .get_or_insert_with(|| BufWriter::new(Arc::clone(&self.store), self.path.clone()));
        let outcome = writer.write_all(&self.buffer).await;
        outcome.map_err(|e| {
            self.error(object_store::Error::Generic {
                store: "rejects",
                source: Box::new(e),
            })
        })?;
        self.written += rejects.len() as u64;
        Ok(())
    }

    /// Completes the object; its path if anything was rejected.
    pub(crate) async fn finish(mut self) -> Result<Option<String>> {
        let Some(mut writer) = self.writer.take() else {
            return Ok(None);
        };
        let outcome = writer.shutdown().await;
        outcome.map_err(|e| {
            self.error(object_store::Error::Generic {
                store: "rejects",
                source: Box::new(e),
            })
        })?;
        Ok(Some(self.path.to_string()))
    }

    /// Drops what was written so far (the run failed).
    pub(crate) async fn abort(mut self) {
        if let Some(mut writer) = self.writer.take() {
            let _ = writer.abort().await;
        }
    }

    /// Rejects written so far.
    pub(crate) fn count(&self) -> u64 {
        self.written
    }
}

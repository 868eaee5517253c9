//! Rejects: lines that are not JSON objects and values that do not fit their column,
//! kept aside as NDJSON on the destination's backend, never guessed at and never lost.
//!
//! One object per line:
//! `{"run_id", "source_file", "line", "column", "value", "encoding", "reason"}`; `line`
//! is 1-based (null for a file-level problem), `column` is null for a whole line or
//! file, and `value` is the raw text as it stood in the source: the JSON text of a value
//! (a string keeps its quotes, so `"12"` and `12` differ), the whole line for a line
//! reject. `encoding` says how `value` holds those bytes: `"utf-8"`, as they are, or
//! `"base64"` for a line that is not valid UTF-8, so that its bytes are kept exactly.

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
    /// The raw text: a value's JSON text, or the whole line, in [`Reject::encoding`].
    pub value: Option<String>,
    /// How `value` holds the source's bytes.
    pub encoding: ValueEncoding,
    /// Why.
    pub reason: String,
}

/// How a reject's value holds the bytes it was read from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub enum ValueEncoding {
    /// The bytes are UTF-8 and the value is their text.
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// The bytes are not UTF-8; the value is their standard base64.
    #[serde(rename = "base64")]
    Base64,
}

impl Reject {
    /// A problem of a whole file: unreadable, corrupt, empty.
    pub(crate) fn file(source: &str, line: Option<u64>, reason: String) -> Reject {
        Reject {
            source_file: source.to_string(),
            line,
            column: None,
            value: None,
            encoding: ValueEncoding::Utf8,
            reason,
        }
    }

    /// A value of `column` that does not fit, with its JSON text (valid UTF-8: the line
    /// was checked before its values were read).
    pub(crate) fn value(
        source: &str,
        line: Option<u64>,
        column: &str,
        text: &str,
        reason: String,
    ) -> Reject {
        Reject {
            source_file: source.to_string(),
            line,
            column: Some(column.to_string()),
            value: Some(text.to_string()),
            encoding: ValueEncoding::Utf8,
            reason,
        }
    }

    /// Line `number`, rejected whole, with its bytes exactly: as text, or base64 where
    /// they are not UTF-8.
    pub(crate) fn line(source: &str, number: u64, bytes: &[u8], reason: String) -> Reject {
        use base64::Engine;
        let (value, encoding) = match std::str::from_utf8(bytes) {
            Ok(text) => (text.to_string(), ValueEncoding::Utf8),
            Err(_) => (
                base64::engine::general_purpose::STANDARD.encode(bytes),
                ValueEncoding::Base64,
            ),
        };
        Reject {
            source_file: source.to_string(),
            line: Some(number),
            column: None,
            value: Some(value),
            encoding,
            reason,
        }
    }

    /// The bytes the `value` field holds, decoded from its `encoding`.
    pub fn value_bytes(&self) -> Option<Vec<u8>> {
        use base64::Engine;
        let value = self.value.as_ref()?;
        match self.encoding {
            ValueEncoding::Utf8 => Some(value.clone().into_bytes()),
            ValueEncoding::Base64 => base64::engine::general_purpose::STANDARD.decode(value).ok(),
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

//! [`ObjectStoreEngine`], the one [`StorageEngine`] implementation, and how to obtain one.
//!
//! Local disk, S3 and memory are three constructors of the same engine: each builds an
//! `Arc<dyn ObjectStore>` and a label for error messages, and everything else (naming,
//! writing, reading) runs the same code over that store. The submodules only configure
//! stores; no Parquet code lives here.

mod local;
mod memory;
#[cfg(feature = "s3")]
mod s3;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use object_store::ObjectStore;

#[cfg(feature = "s3")]
pub use s3::S3Builder;

use crate::engine::{
    DataFile, FileMetadata, RecordBatchStream, StorageEngine, TableInfo, WriteReceipt,
};
use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::naming::TablePath;
use crate::read::{self, ScanOptions};
use crate::write::{self, WriteOptions};

/// The [`StorageEngine`] over any [`ObjectStore`].
///
/// ```
/// use parquet_storage::{ObjectStoreEngine, StorageEngine};
///
/// let local = ObjectStoreEngine::local(tempfile::tempdir()?.path())?;
/// let memory = ObjectStoreEngine::memory();
/// let from_url = ObjectStoreEngine::from_url("memory://")?;
/// assert_eq!(memory.to_string(), "memory://");
/// # let _ = (local, from_url);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone)]
pub struct ObjectStoreEngine {
    store: Arc<dyn ObjectStore>,
    backend: Arc<str>,
    bucket: Option<Arc<str>>,
}

impl ObjectStoreEngine {
    /// An engine over `store`, rooted at the store's root. `label` names the backend in
    /// error messages and in [`Display`](fmt::Display), usually as a URL.
    ///
    /// Immutability relies on the store honouring `PutMode::Create` and
    /// `RenameTargetMode::Create`; the stores this crate builds all do.
    pub fn new(store: Arc<dyn ObjectStore>, label: impl Into<String>) -> Self {
        ObjectStoreEngine {
            store,
            backend: label.into().into(),
            bucket: None,
        }
    }

    /// Picks a backend from a URL: `memory://`, `s3://bucket/prefix` (configured from the
    /// standard `AWS_*` environment variables), `file:///absolute/path`, or a plain path
    /// on local disk (created if missing).
    pub fn from_url(url: &str) -> Result<Self> {
        let invalid = |reason: &str| Error::InvalidUrl {
            url: url.into(),
            reason: reason.into(),
        };
        match url.split_once("://") {
            None => ObjectStoreEngine::local(url),
            Some(("memory", rest)) if rest.is_empty() || rest == "/" => {
                Ok(ObjectStoreEngine::memory())
            }
            Some(("memory", _)) => Err(invalid("memory:// takes no path")),
            Some(("file", _)) => {
                let parsed = url::Url::parse(url).map_err(|e| invalid(&e.to_string()))?;
                let path = parsed
                    .to_file_path()
                    .map_err(|()| invalid("file:// needs an absolute path"))?;
                ObjectStoreEngine::local(path)
            }
            #[cfg(feature = "s3")]
            Some(("s3", rest)) => {
                let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
                if bucket.is_empty() {
                    return Err(invalid("no bucket name"));
                }
                S3Builder::from_env()
                    .with_bucket(bucket)
                    .with_prefix(prefix)
                    .build()
            }
            #[cfg(not(feature = "s3"))]
            Some(("s3", _)) => Err(invalid("S3 support needs the crate feature \"s3\"")),
            Some((scheme, _)) => Err(invalid(&format!(
                "unknown scheme {scheme:?}; expected file, s3 or memory"
            ))),
        }
    }

    /// The object store underneath, for callers that add their own wrappers.
    pub fn object_store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// Remembers the S3 bucket, so "no such bucket" errors can name it.
    #[cfg(feature = "s3")]
    pub(crate) fn with_bucket(mut self, bucket: &str) -> Self {
        self.bucket = Some(bucket.into());
        self
    }

    /// Turns a store error into ours, naming the backend, the operation and the path.
    pub(crate) fn store_error(
        &self,
        operation: &'static str,
        path: &object_store::path::Path,
        source: object_store::Error,
    ) -> Error {
        let backend = self.backend.to_string();
        let path = path.to_string();
        let source = Box::new(source);
        // S3 reports some conditions only in the body of a generic HTTP error, which
        // object_store keeps as text; the S3 error codes are stable, so look for them.
        let text = format!("{source:?}");
        if text.contains("<Code>NoSuchBucket</Code>") {
            let bucket = self.bucket.as_deref().unwrap_or_default().to_string();
            return Error::BucketNotFound {
                backend,
                bucket,
                source,
            };
        }
        const DENIED: [&str; 7] = [
            "<Code>SignatureDoesNotMatch</Code>",
            "<Code>InvalidAccessKeyId</Code>",
            "<Code>AccessDenied</Code>",
            "<Code>ExpiredToken</Code>",
            "<Code>InvalidToken</Code>",
            "status: 401,",
            "status: 403,",
        ];
        if DENIED.iter().any(|code| text.contains(code)) {
            return Error::AccessDenied {
                backend,
                path,
                source,
            };
        }
        match *source {
            object_store::Error::NotFound { .. } => Error::NotFound {
                backend,
                path,
                source,
            },
            object_store::Error::AlreadyExists { .. }
            | object_store::Error::Precondition { .. } => Error::AlreadyExists {
                backend,
                path,
                source,
            },
            object_store::Error::PermissionDenied { .. }
            | object_store::Error::Unauthenticated { .. } => Error::AccessDenied {
                backend,
                path,
                source,
            },
            _ => Error::Store {
                backend,
                operation,
                path,
                source,
            },
        }
    }

    pub(crate) fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    pub(crate) fn backend(&self) -> &str {
        &self.backend
    }
}

impl fmt::Display for ObjectStoreEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.backend)
    }
}

impl fmt::Debug for ObjectStoreEngine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ObjectStoreEngine")
            .field("backend", &self.backend)
            .field("store", &self.store)
            .finish()
    }
}

#[async_trait]
impl StorageEngine for ObjectStoreEngine {
    async fn write_stream(
        &self,
        table: &TablePath,
        input: RecordBatchStream,
        options: WriteOptions,
    ) -> Result<WriteReceipt> {
        write::write_stream(self, table, input, options).await
    }

    async fn scan(&self, table: &TablePath, options: ScanOptions) -> Result<RecordBatchStream> {
        read::scan(self, table, options).await
    }

    async fn list_files(&self, table: &TablePath) -> Result<Vec<DataFile>> {
        read::list_files(self, table).await
    }

    async fn file_metadata(&self, path: &str) -> Result<FileMetadata> {
        read::file_metadata(self, path).await
    }

    async fn table_info(&self, table: &TablePath, filter: Option<&Filter>) -> Result<TableInfo> {
        read::table_info(self, table, filter).await
    }
}

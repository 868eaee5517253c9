//! [`Backend`]: what the read path, the write path and transactions work over. It is
//! the object store, the label that names it in errors, and the mapping of its errors
//! into the crate's; it knows nothing of the engine built on it.

use std::fmt;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path;

use crate::cpu::CpuPool;
use crate::error::{Error, http_status};

/// An object store and how to name it. Cheap to clone: everything is shared.
#[derive(Clone)]
pub(crate) struct Backend {
    store: Arc<dyn ObjectStore>,
    label: Arc<str>,
    bucket: Option<Arc<str>>,
    cpu: CpuPool,
    /// Whether a create-only put leaves a temporary object beside its target while it
    /// runs (object_store's local file system does), so small files are staged too.
    stages_small_files: bool,
    /// The directory of a local-disk backend: `vacuum` removes there what object_store
    /// does not list (the `name#n` files of uploads a killed writer left).
    local_root: Option<Arc<std::path::Path>>,
}

impl Backend {
    pub(crate) fn new(store: Arc<dyn ObjectStore>, label: impl Into<String>) -> Self {
        let stages_small_files = store.to_string().starts_with("LocalFileSystem");
        Backend {
            store,
            label: label.into().into(),
            bucket: None,
            cpu: CpuPool::shared(),
            stages_small_files,
            local_root: None,
        }
    }

    /// Marks this as the backend of the local directory `root`.
    pub(crate) fn with_local_root(mut self, root: &std::path::Path) -> Self {
        self.local_root = Some(root.into());
        self
    }

    /// The directory of a local-disk backend.
    pub(crate) fn local_root(&self) -> Option<&std::path::Path> {
        self.local_root.as_deref()
    }

    /// Whether small files are staged in the hidden area and published by rename (a
    /// hard link on local disk) rather than put in place.
    pub(crate) fn stages_small_files(&self) -> bool {
        self.stages_small_files
    }

    /// Runs CPU work on `cpu` instead of the process-wide pool.
    pub(crate) fn with_cpu(mut self, cpu: CpuPool) -> Self {
        self.cpu = cpu;
        self
    }

    /// Where CPU-heavy steps run.
    pub(crate) fn cpu(&self) -> &CpuPool {
        &self.cpu
    }

    /// Remembers the S3 bucket, so "no such bucket" errors can name it.
    #[cfg(feature = "s3")]
    pub(crate) fn with_bucket(mut self, bucket: &str) -> Self {
        self.bucket = Some(bucket.into());
        self
    }

    pub(crate) fn store(&self) -> &Arc<dyn ObjectStore> {
        &self.store
    }

    /// The backend as a URL, for messages.
    pub(crate) fn label(&self) -> &str {
        &self.label
    }

    /// Turns a store error into ours, naming the backend, the operation and the path.
    ///
    /// object_store types the conditions it knows (not found, exists, precondition,
    /// permission, authentication); those decide. It does not type the status of some
    /// S3 requests (listings, multipart steps, copies), nor tell a missing bucket from
    /// a missing key: for those the HTTP status and S3's error code are read from the
    /// response it keeps.
    pub(crate) fn error(
        &self,
        operation: &'static str,
        path: &Path,
        source: object_store::Error,
    ) -> Error {
        let backend = self.label.to_string();
        let path = path.to_string();
        let untyped_status = match &source {
            object_store::Error::Generic { .. } => http_status(&source),
            _ => None,
        };
        let missing_bucket = matches!(
            source,
            object_store::Error::NotFound { .. } | object_store::Error::Generic { .. }
        ) && source.to_string().contains("<Code>NoSuchBucket</Code>");
        let source = Box::new(source);
        // A store built elsewhere (`ObjectStoreEngine::new`) has no bucket to name: its
        // missing bucket is reported as the path not found.
        if let (true, Some(bucket)) = (missing_bucket, &self.bucket) {
            return Error::BucketNotFound {
                backend,
                bucket: bucket.to_string(),
                source,
            };
        }
        match (&*source, untyped_status) {
            (object_store::Error::NotFound { .. }, _) | (_, Some(404)) => Error::NotFound {
                backend,
                path,
                source,
            },
            (
                object_store::Error::AlreadyExists { .. }
                | object_store::Error::Precondition { .. },
                _,
            )
            | (_, Some(409 | 412)) => Error::AlreadyExists {
                backend,
                path,
                source,
            },
            (
                object_store::Error::PermissionDenied { .. }
                | object_store::Error::Unauthenticated { .. },
                _,
            )
            | (_, Some(401 | 403)) => Error::AccessDenied {
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
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("label", &self.label)
            .field("store", &self.store)
            .field("cpu", &self.cpu)
            .finish()
    }
}

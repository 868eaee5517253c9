//! [`Backend`]: what the read path, the write path and transactions work over. It is
//! the object store, the label that names it in errors, and the mapping of its errors
//! into the crate's; it knows nothing of the engine built on it.

use std::fmt;
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::path::Path;

use crate::error::Error;

/// An object store and how to name it. Cheap to clone: everything is shared.
#[derive(Clone)]
pub(crate) struct Backend {
    store: Arc<dyn ObjectStore>,
    label: Arc<str>,
    bucket: Option<Arc<str>>,
}

impl Backend {
    pub(crate) fn new(store: Arc<dyn ObjectStore>, label: impl Into<String>) -> Self {
        Backend {
            store,
            label: label.into().into(),
            bucket: None,
        }
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
    pub(crate) fn error(
        &self,
        operation: &'static str,
        path: &Path,
        source: object_store::Error,
    ) -> Error {
        let backend = self.label.to_string();
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
}

impl fmt::Debug for Backend {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Backend")
            .field("label", &self.label)
            .field("store", &self.store)
            .finish()
    }
}

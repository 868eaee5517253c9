//! The crate's one error type.
//!
//! Every variant names what failed and where: the backend (as a URL such as
//! `s3://bucket/prefix`), the object path inside it, the table and, where one is involved,
//! the column. Causes are kept as `source` and not repeated in the message, so an error
//! reporter that walks the chain (`anyhow`, `eyre`, `{:#}`) prints each cause once.

use std::error::Error as StdError;

mod report;

pub use report::{CoercionFailure, Problem, ProblemKind, ValidationReport};

/// A boxed error from a lower layer, kept as the `source` of our variants.
pub type BoxError = Box<dyn StdError + Send + Sync + 'static>;

/// Result type of the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in `parquet_storage`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A file or table the operation needs does not exist.
    #[error("{backend}: {path} not found")]
    NotFound {
        /// The backend, as a URL.
        backend: String,
        /// Path of the object inside the backend.
        path: String,
        /// The store's error.
        #[source]
        source: Box<object_store::Error>,
    },

    /// A table has no data files.
    #[error("{backend}: table {table} has no data files")]
    TableNotFound {
        /// The backend, as a URL.
        backend: String,
        /// The table path.
        table: String,
    },

    /// A create-only write found the file already there: data files are immutable.
    #[error(
        "{backend}: {path} already exists; data files are immutable (set WriteOptions::with_overwrite(true) to replace one)"
    )]
    AlreadyExists {
        /// The backend, as a URL.
        backend: String,
        /// Path of the object inside the backend.
        path: String,
        /// The store's error.
        #[source]
        source: Box<object_store::Error>,
    },

    /// The S3 bucket does not exist.
    #[error("{backend}: bucket {bucket:?} does not exist")]
    BucketNotFound {
        /// The backend, as a URL.
        backend: String,
        /// The bucket name.
        bucket: String,
        /// The store's error.
        #[source]
        source: Box<object_store::Error>,
    },

    /// The backend refused the credentials or the permission.
    #[error("{backend}: access denied to {path} (check the credentials and their permissions)")]
    AccessDenied {
        /// The backend, as a URL.
        backend: String,
        /// Path of the object inside the backend.
        path: String,
        /// The store's error.
        #[source]
        source: Box<object_store::Error>,
    },

    /// Any other storage failure.
    #[error("{backend}: {operation} {path} failed")]
    Store {
        /// The backend, as a URL.
        backend: String,
        /// What was being done: "put", "get", "list", ...
        operation: &'static str,
        /// Path of the object (or prefix) inside the backend.
        path: String,
        /// The store's error.
        #[source]
        source: Box<object_store::Error>,
    },

    /// A file under a table is not a readable Parquet file: empty, truncated, corrupt or
    /// something else altogether.
    #[error("{backend}: {path} is not a readable Parquet file")]
    InvalidParquet {
        /// The backend, as a URL.
        backend: String,
        /// Path of the file inside the backend.
        path: String,
        /// What the Parquet decoder said.
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// Encoding a Parquet file failed.
    #[error("{backend}: table {table}: encoding {path} failed")]
    Encode {
        /// The backend, as a URL.
        backend: String,
        /// The table path.
        table: String,
        /// Path of the file being written.
        path: String,
        /// What the Parquet encoder said.
        #[source]
        source: parquet::errors::ParquetError,
    },

    /// A projected column does not exist in a file.
    #[error("{backend}: table {table}: column {column:?} not found in {path}")]
    ColumnNotFound {
        /// The backend, as a URL.
        backend: String,
        /// The table path.
        table: String,
        /// The missing column.
        column: String,
        /// The file that lacks it.
        path: String,
    },

    /// Two files of one table disagree on a column.
    #[error("{backend}: table {table}: {path} does not match {first_path}: {detail}")]
    SchemaConflict {
        /// The backend, as a URL.
        backend: String,
        /// The table path.
        table: String,
        /// The file read first, whose schema the scan follows.
        first_path: String,
        /// The file that conflicts with it.
        path: String,
        /// Which column differs, and how.
        detail: String,
    },

    /// A batch handed to a write does not have the schema of the write.
    #[error("table {table}: batch {batch} does not match the schema of the write: {detail}")]
    BatchSchemaMismatch {
        /// The table path.
        table: String,
        /// Index of the offending batch in the input (0-based).
        batch: usize,
        /// Which column differs, and how.
        detail: String,
    },

    /// A table path is not acceptable.
    #[error("invalid table path {path:?}: {reason}")]
    InvalidTablePath {
        /// The rejected path.
        path: String,
        /// Why.
        reason: String,
    },

    /// A data file name does not follow `{stem}_{YYYYMMDD}_{HHMMSS}_{uuid}.parquet`.
    #[error("invalid data file name {name:?}: {reason}")]
    InvalidFileName {
        /// The rejected name.
        name: String,
        /// Why.
        reason: String,
    },

    /// A storage URL could not be understood.
    #[error("invalid storage URL {url:?}: {reason}")]
    InvalidUrl {
        /// The rejected URL.
        url: String,
        /// Why.
        reason: String,
    },

    /// A compaction's local spill (rows kept on disk until the inferred schema is known)
    /// failed: the directory is missing, full or not writable.
    #[error(
        "could not {operation} the compaction spill file {path}: choose another directory \
         with Compaction::with_spill_dir, or leave it out to read the sources twice"
    )]
    Spill {
        /// What was being done.
        operation: &'static str,
        /// The file or directory.
        path: String,
        /// The cause.
        #[source]
        source: BoxError,
    },

    /// An option or setting is out of range or inconsistent.
    #[error("invalid configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
        /// The lower-level cause, if any.
        #[source]
        source: Option<BoxError>,
    },

    /// A batch does not conform to its registry schema; the report lists every problem.
    #[error("{report}")]
    Validation {
        /// Every problem found, each with column, expectation, finding and rows.
        report: Box<ValidationReport>,
    },

    /// A value cannot be converted to the schema's type without changing it.
    #[error("{0}")]
    Coercion(Box<CoercionFailure>),

    /// No schema of that name (and version) is registered.
    #[error("no registered schema {name:?}{}", version.map(|v| format!(" version {v}")).unwrap_or_default())]
    UnknownSchema {
        /// The table name asked for.
        name: String,
        /// The version asked for, if any.
        version: Option<u32>,
    },

    /// A table definition is inconsistent.
    #[error("schema of table {table:?}: {reason}")]
    InvalidSchema {
        /// The table.
        table: String,
        /// What is wrong.
        reason: String,
    },

    /// A schema file cannot be read or parsed.
    #[error("schema file {path}")]
    SchemaFile {
        /// The file.
        path: String,
        /// What went wrong, with the line where the parser knows it.
        #[source]
        source: BoxError,
    },

    /// A PostgreSQL type is not understood or not supported.
    #[error("PostgreSQL type {text:?}: {reason}")]
    InvalidPgType {
        /// The type as written.
        text: String,
        /// Why it was refused.
        reason: String,
    },

    /// DDL could not be imported.
    #[error("DDL line {line}: {message}")]
    Ddl {
        /// The line of the statement (1-based).
        line: u64,
        /// What is wrong.
        message: String,
    },

    /// One of this crate's own records in the store (a change record, a lease) cannot be
    /// read: it was damaged or written by something else.
    #[error("{backend}: {path} is not a readable record of parquet-storage")]
    InvalidRecord {
        /// The backend, as a URL.
        backend: String,
        /// Path of the record inside the backend.
        path: String,
        /// What the decoder said.
        #[source]
        source: BoxError,
    },

    /// Another run holds the table's lease: one compaction changes a table at a time.
    #[error(
        "{backend}: table {table} is being changed by another run (change {change}, its lease runs to {expires}); try again later"
    )]
    LeaseHeld {
        /// The backend, as a URL.
        backend: String,
        /// The table path.
        table: String,
        /// The change the other run is making.
        change: String,
        /// When its lease expires unless renewed.
        expires: chrono::DateTime<chrono::Utc>,
    },

    /// This run's lease on the table expired and another run took it over (this run
    /// stalled longer than the lease's time to live); nothing was committed.
    #[error(
        "{backend}: table {table}: another run took over this run's lease; nothing was committed"
    )]
    LeaseLost {
        /// The backend, as a URL.
        backend: String,
        /// The table path.
        table: String,
    },

    /// A broken invariant inside this crate: a bug, never the caller's doing.
    #[error(
        "internal error in parquet-storage (a bug; please report it with this message): {message}"
    )]
    Internal {
        /// What went wrong, and where.
        message: String,
    },

    /// An Arrow compute or construction step failed.
    #[error("table {table}: {context}")]
    Arrow {
        /// The table path.
        table: String,
        /// What was being done.
        context: String,
        /// Arrow's error.
        #[source]
        source: arrow_schema::ArrowError,
    },
}

/// What kind of failure an [`Error`] is: what a caller can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A file, table, bucket or schema is not there.
    NotFound,
    /// A create-only write found its target already there.
    AlreadyExists,
    /// The backend refused the credentials or the permission.
    PermissionDenied,
    /// The caller's input or configuration is not acceptable: options, paths, URLs,
    /// batches that do not fit their schema, schema definitions, DDL.
    InvalidInput,
    /// Stored data is not what it must be: unreadable Parquet, files that disagree,
    /// values that cannot be converted.
    InvalidData,
    /// The backend failed in a way that may pass: a timeout, a dropped connection, a
    /// server error or throttling (after the store's own retries).
    Unavailable,
    /// Another run is changing the table; it will be free again.
    Busy,
    /// Another failure of the backend or of local files.
    Io,
    /// A bug in this crate.
    Internal,
}

impl Error {
    /// The kind of failure, for a caller deciding what to do next.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::NotFound { .. }
            | Error::TableNotFound { .. }
            | Error::BucketNotFound { .. }
            | Error::UnknownSchema { .. } => ErrorKind::NotFound,
            Error::AlreadyExists { .. } => ErrorKind::AlreadyExists,
            Error::AccessDenied { .. } => ErrorKind::PermissionDenied,
            Error::Store { source, .. } if is_transient(source) => ErrorKind::Unavailable,
            Error::Store { .. } | Error::Spill { .. } => ErrorKind::Io,
            Error::InvalidParquet { .. }
            | Error::InvalidRecord { .. }
            | Error::Encode { .. }
            | Error::SchemaConflict { .. }
            | Error::Coercion(_)
            | Error::Arrow { .. } => ErrorKind::InvalidData,
            Error::ColumnNotFound { .. }
            | Error::BatchSchemaMismatch { .. }
            | Error::InvalidTablePath { .. }
            | Error::InvalidFileName { .. }
            | Error::InvalidUrl { .. }
            | Error::Config { .. }
            | Error::Validation { .. }
            | Error::InvalidSchema { .. }
            | Error::SchemaFile { .. }
            | Error::InvalidPgType { .. }
            | Error::Ddl { .. } => ErrorKind::InvalidInput,
            Error::LeaseHeld { .. } | Error::LeaseLost { .. } => ErrorKind::Busy,
            Error::Internal { .. } => ErrorKind::Internal,
        }
    }

    /// Whether trying the same operation again may succeed: the backend was
    /// [unavailable](ErrorKind::Unavailable), or another run was changing the table
    /// ([busy](ErrorKind::Busy)). A failed write leaves nothing of itself visible, so it
    /// can be retried as it was.
    pub fn is_retryable(&self) -> bool {
        matches!(self.kind(), ErrorKind::Unavailable | ErrorKind::Busy)
    }

    /// A broken invariant of this crate.
    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Error::Internal {
            message: message.into(),
        }
    }

    /// A task of this crate that panicked or was cancelled while `what`.
    pub(crate) fn task_failed(what: &str, join: tokio::task::JoinError) -> Self {
        Error::internal(format!("{what}: the task stopped: {join}"))
    }

    /// A configuration error without a lower-level cause.
    pub(crate) fn config(message: impl Into<String>) -> Self {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }

    /// Whether this error means "the thing is not there" (file, table or bucket).
    pub fn is_not_found(&self) -> bool {
        matches!(
            self,
            Error::NotFound { .. } | Error::TableNotFound { .. } | Error::BucketNotFound { .. }
        )
    }
}

/// Recovers our own error when it travelled through parquet as `External` (the store
/// and the sink under parquet's reader and writer return ours); anything else is
/// parquet's own.
pub(crate) fn unwrap_parquet_error(
    error: parquet::errors::ParquetError,
) -> std::result::Result<Error, parquet::errors::ParquetError> {
    use parquet::errors::ParquetError;
    match error {
        ParquetError::External(boxed) => match boxed.downcast::<Error>() {
            Ok(ours) => Ok(*ours),
            Err(other) => Err(ParquetError::External(other)),
        },
        other => Err(other),
    }
}

/// The HTTP status of a failed request, as object_store reports it in the text of an
/// error it does not type: `… status code: 503 Service Unavailable: …`.
pub(crate) fn http_status(error: &object_store::Error) -> Option<u16> {
    let text = error.to_string();
    let (_, rest) = text.split_once("status code: ")?;
    rest.get(..3)?.parse().ok()
}

/// Whether a store failure may pass: the connection failed, timed out or was cut, or
/// the server answered with an error of its own (5xx) or asked to slow down (429).
fn is_transient(error: &object_store::Error) -> bool {
    if matches!(http_status(error), Some(429 | 500..=599)) {
        return true;
    }
    let mut cause: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = cause {
        #[cfg(feature = "s3")]
        if let Some(http) = e.downcast_ref::<object_store::client::HttpError>() {
            use object_store::client::HttpErrorKind;
            return matches!(
                http.kind(),
                HttpErrorKind::Connect
                    | HttpErrorKind::Request
                    | HttpErrorKind::Timeout
                    | HttpErrorKind::Interrupted
            );
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as Io;
            return matches!(
                io.kind(),
                Io::TimedOut
                    | Io::Interrupted
                    | Io::WouldBlock
                    | Io::ConnectionReset
                    | Io::ConnectionAborted
                    | Io::ConnectionRefused
                    | Io::NotConnected
                    | Io::BrokenPipe
            );
        }
        cause = e.source();
    }
    false
}

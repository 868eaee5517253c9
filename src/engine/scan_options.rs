//! [`ScanOptions`]: what a scan reads.

use std::sync::Arc;

use crate::error::{Error, Result};
use crate::filter::Filter;
use crate::schema::TableSchema;

/// Default rows per batch a scan yields.
pub const DEFAULT_BATCH_SIZE: usize = 8192;
/// Default number of files a scan opens ahead of the one it decodes.
pub const DEFAULT_FILE_CONCURRENCY: usize = 4;

/// What a scan reads. `Default` reads every column of every row.
///
/// ```
/// use parquet_storage::ScanOptions;
/// use parquet_storage::filter::col;
///
/// let options = ScanOptions::default()
///     .with_projection(["battery_id", "voltage"])
///     .with_filter(col("voltage").lt(13.0))
///     .with_limit(100);
/// assert_eq!(options.projection(), Some(&["battery_id".to_string(), "voltage".to_string()][..]));
/// ```
#[derive(Debug, Clone)]
pub struct ScanOptions {
    pub(crate) projection: Option<Vec<String>>,
    pub(crate) batch_size: usize,
    pub(crate) file_concurrency: usize,
    pub(crate) schema: Option<Arc<TableSchema>>,
    pub(crate) filter: Option<Filter>,
    pub(crate) limit: Option<usize>,
}

impl Default for ScanOptions {
    fn default() -> Self {
        ScanOptions {
            projection: None,
            batch_size: DEFAULT_BATCH_SIZE,
            file_concurrency: DEFAULT_FILE_CONCURRENCY,
            schema: None,
            filter: None,
            limit: None,
        }
    }
}

impl ScanOptions {
    /// Reads only these columns, in this order; partition columns may be among them.
    /// Only the pages of the columns read are fetched.
    pub fn with_projection<I, S>(mut self, columns: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.projection = Some(columns.into_iter().map(Into::into).collect());
        self
    }

    /// Rows per batch (default [`DEFAULT_BATCH_SIZE`]).
    pub fn with_batch_size(mut self, rows: usize) -> Self {
        self.batch_size = rows;
        self
    }

    /// Files opened ahead of the one being decoded (default
    /// [`DEFAULT_FILE_CONCURRENCY`]).
    pub fn with_file_concurrency(mut self, files: usize) -> Self {
        self.file_concurrency = files;
        self
    }

    /// Reads the table as registry schema `schema`: files written before a nullable
    /// column was added read it as nulls, narrower types are widened, and a real
    /// conflict is an [`Error::SchemaConflict`] naming the file and the column.
    pub fn with_schema(mut self, schema: Arc<TableSchema>) -> Self {
        self.schema = Some(schema);
        self
    }

    /// Returns only the rows `filter` keeps; see [`crate::filter`].
    pub fn with_filter(mut self, filter: Filter) -> Self {
        self.filter = Some(filter);
        self
    }

    /// Stops after this many rows.
    pub fn with_limit(mut self, rows: usize) -> Self {
        self.limit = Some(rows);
        self
    }

    /// The projected columns, if any.
    pub fn projection(&self) -> Option<&[String]> {
        self.projection.as_deref()
    }

    /// The filter, if any.
    pub fn filter(&self) -> Option<&Filter> {
        self.filter.as_ref()
    }

    pub(crate) fn validate(&self) -> Result<()> {
        if self.batch_size == 0 || self.file_concurrency == 0 {
            return Err(Error::config(
                "ScanOptions: batch_size and file_concurrency must be positive",
            ));
        }
        if let Some(columns) = &self.projection {
            for (i, c) in columns.iter().enumerate() {
                if columns[..i].contains(c) {
                    return Err(Error::config(format!(
                        "ScanOptions: column {c:?} is projected twice"
                    )));
                }
            }
        }
        Ok(())
    }
}

//! Reading one Parquet file through the object store, and its footer.

use std::ops::Range;
use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt};
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions};
use parquet::arrow::async_reader::AsyncFileReader;
use parquet::errors::ParquetError;
use parquet::file::metadata::{PageIndexPolicy, ParquetMetaData, ParquetMetaDataReader};

use crate::backend::Backend;
use crate::error::{Error, Result, unwrap_parquet_error};

/// Bytes fetched from the end of a file in the first request: enough for most footers,
/// so a footer usually costs one request instead of two.
const FOOTER_PREFETCH: usize = 64 * 1024;

/// The smallest possible Parquet file: `PAR1`, a 4-byte footer length, `PAR1`.
const MIN_PARQUET_SIZE: u64 = 12;

/// A parquet error while reading `path`: our own and store errors come back as they
/// were; anything else means the file is not valid Parquet.
pub(crate) fn parquet_read_error(backend: &Backend, path: &str, error: ParquetError) -> Error {
    match unwrap_parquet_error(error) {
        Ok(ours) => ours,
        Err(source) => Error::InvalidParquet {
            backend: backend.label().to_string(),
            path: path.to_string(),
            source,
        },
    }
}

/// Reads one file of known size through the object store: the Parquet reader asks for
/// byte ranges and this fetches them, several at once where the reader allows.
pub(crate) struct FileReader {
    backend: Backend,
    store: Arc<dyn ObjectStore>,
    location: Path,
    size: u64,
}

impl FileReader {
    pub(crate) fn new(backend: &Backend, location: Path, size: u64) -> Self {
        FileReader {
            backend: backend.clone(),
            store: Arc::clone(backend.store()),
            location,
            size,
        }
    }

    fn fail(&self, e: object_store::Error) -> ParquetError {
        ParquetError::External(Box::new(self.backend.error("get", &self.location, e)))
    }

    /// Reads and decodes the footer.
    pub(crate) async fn load(&mut self, page_index: bool) -> Result<ArrowReaderMetadata> {
        let path = self.location.to_string();
        if self.size < MIN_PARQUET_SIZE {
            return Err(Error::InvalidParquet {
                backend: self.backend.label().to_string(),
                path,
                source: ParquetError::General(format!(
                    "the file is {} bytes; a Parquet file has at least {MIN_PARQUET_SIZE}",
                    self.size
                )),
            });
        }
        // The page index is fetched only for filtered reads, which can use it.
        let policy = if page_index {
            PageIndexPolicy::Optional
        } else {
            PageIndexPolicy::Skip
        };
        let options = ArrowReaderOptions::new().with_page_index_policy(policy);
        let backend = self.backend.clone();
        ArrowReaderMetadata::load_async(self, options)
            .await
            .map_err(|e| parquet_read_error(&backend, &path, e))
    }
}

impl AsyncFileReader for FileReader {
    fn get_bytes(&mut self, range: Range<u64>) -> BoxFuture<'_, parquet::errors::Result<Bytes>> {
        async move {
            self.store
                .get_range(&self.location, range)
                .await
                .map_err(|e| self.fail(e))
        }
        .boxed()
    }

    fn get_byte_ranges(
        &mut self,
        ranges: Vec<Range<u64>>,
    ) -> BoxFuture<'_, parquet::errors::Result<Vec<Bytes>>> {
        async move {
            self.store
                .get_ranges(&self.location, &ranges)
                .await
                .map_err(|e| self.fail(e))
        }
        .boxed()
    }

    fn get_metadata<'a>(
        &'a mut self,
        options: Option<&'a ArrowReaderOptions>,
    ) -> BoxFuture<'a, parquet::errors::Result<Arc<ParquetMetaData>>> {
        async move {
            let size = self.size;
            let metadata = ParquetMetaDataReader::new()
                .with_arrow_reader_options(options)
                .with_prefetch_hint(Some(FOOTER_PREFETCH))
                .load_and_finish(self, size)
                .await?;
            Ok(Arc::new(metadata))
        }
        .boxed()
    }
}

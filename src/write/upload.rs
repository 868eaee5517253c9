//! The byte sink under the Parquet encoder: one create-only `PUT` for a small file, a
//! multipart upload to a hidden staging key and a create-only rename for a large one.
//! On local disk a small file is staged too, since object_store's create-only put
//! writes a temporary file beside its target, which a killed process leaves behind.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{
    ObjectStore, ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions, PutPayload,
    RenameOptions, RenameTargetMode, WriteMultipart,
};
use parquet::arrow::async_writer::AsyncFileWriter;
use parquet::errors::ParquetError;

use crate::backend::Backend;

#[derive(Debug, Clone, Copy)]
pub(crate) enum Mode {
    Create,
    Overwrite,
}

enum State {
    /// Nothing sent yet: the buffered chunks and their total size.
    Buffering(Vec<Bytes>, usize),
    /// A multipart upload to the staging key is under way.
    Uploading(Multipart),
    /// The staging object is complete but not yet published.
    Staged,
    /// Published, or abandoned with nothing left to clean up.
    Closed,
}

/// A multipart upload (object_store's `WriteMultipart`, which aborts the upload when
/// its completion fails) and what it has been given, for the memory accounting.
struct Multipart {
    upload: WriteMultipart,
    /// Bytes handed to the upload.
    bytes: usize,
}

/// The byte sink under the encoder (`encode.rs`): one `PUT` for small files, a staged
/// multipart upload and a create-only rename for large ones.
pub(crate) struct UploadSink {
    backend: Backend,
    target: Path,
    staging: Path,
    mode: Mode,
    part_size: usize,
    concurrency: usize,
    state: State,
    /// Bytes received from the encoder.
    pub(crate) bytes: u64,
    /// Bytes held in memory, for the writer's memory accounting (the encoder owns the
    /// sink, so it is published here).
    held: Arc<AtomicUsize>,
}

impl UploadSink {
    /// A sink for `target`, staging at `staging` what is not put in one request.
    pub(crate) fn new(
        backend: &Backend,
        target: Path,
        staging: Path,
        mode: Mode,
        part_size: usize,
        concurrency: usize,
        held: Arc<AtomicUsize>,
    ) -> Self {
        UploadSink {
            backend: backend.clone(),
            target,
            staging,
            mode,
            part_size,
            concurrency,
            state: State::Buffering(Vec::new(), 0),
            bytes: 0,
            held,
        }
    }

    /// Publishes the bytes held in memory: the buffer of a small file, or the part being
    /// filled and the parts in flight (at most `concurrency`).
    fn update_held(&self) {
        let held = match &self.state {
            State::Buffering(_, size) => *size,
            State::Uploading(multipart) => {
                let parts = multipart.bytes / self.part_size;
                multipart.bytes % self.part_size + parts.min(self.concurrency) * self.part_size
            }
            State::Staged | State::Closed => 0,
        };
        self.held.store(held, Ordering::Relaxed);
    }

    fn store(&self) -> &Arc<dyn ObjectStore> {
        self.backend.store()
    }

    fn fail(&self, operation: &'static str, path: &Path, e: object_store::Error) -> ParquetError {
        ParquetError::External(Box::new(self.backend.error(operation, path, e)))
    }

    /// Hands `bytes` to the upload once fewer than `concurrency` parts are in flight.
    async fn push_part_bytes(&mut self, bytes: Bytes) -> parquet::errors::Result<()> {
        let concurrency = self.concurrency;
        if let State::Uploading(multipart) = &mut self.state {
            if let Err(e) = multipart.upload.wait_for_capacity(concurrency).await {
                return Err(self.fail("upload part", &self.staging, e));
            }
            multipart.bytes += bytes.len();
            multipart.upload.put(bytes);
        }
        Ok(())
    }

    /// Renames the complete staging object to the target, create-only unless told to
    /// overwrite: on S3 a conditional copy and a delete, on local disk a hard link.
    async fn publish_staged(&mut self) -> parquet::errors::Result<()> {
        self.state = State::Staged;
        let target_mode = match self.mode {
            Mode::Create => RenameTargetMode::Create,
            Mode::Overwrite => RenameTargetMode::Overwrite,
        };
        self.store()
            .rename_opts(
                &self.staging,
                &self.target,
                RenameOptions::new().with_target_mode(target_mode),
            )
            .await
            .map_err(|e| self.fail("publish", &self.target, e))?;
        self.state = State::Closed;
        Ok(())
    }

    async fn complete_inner(&mut self) -> parquet::errors::Result<()> {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Buffering(chunks, _) if self.backend.stages_small_files() => {
                let payload = PutPayload::from_iter(chunks);
                self.store()
                    .put(&self.staging, payload)
                    .await
                    .map_err(|e| self.fail("put", &self.staging, e))?;
                self.publish_staged().await?;
            }
            State::Buffering(chunks, _) => {
                let mode = match self.mode {
                    Mode::Create => PutMode::Create,
                    Mode::Overwrite => PutMode::Overwrite,
                };
                let payload = PutPayload::from_iter(chunks);
                self.store()
                    .put_opts(&self.target, payload, PutOptions::from(mode))
                    .await
                    .map_err(|e| self.fail("put", &self.target, e))?;
            }
            State::Uploading(multipart) => {
                // A failed completion has aborted the upload already.
                multipart
                    .upload
                    .finish()
                    .await
                    .map_err(|e| self.fail("complete multipart upload", &self.staging, e))?;
                self.publish_staged().await?;
            }
            State::Staged | State::Closed => {}
        }
        Ok(())
    }

    /// Abandons the write: aborts a multipart upload and removes anything staged. Best
    /// effort: the staging key is hidden from readers, so a leftover one (when even the
    /// delete fails) costs space, never correctness, and `vacuum` removes it.
    pub(crate) async fn abort(mut self) {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Uploading(multipart) => {
                let _ = multipart.upload.abort().await;
                let _ = self.store().delete(&self.staging).await;
            }
            State::Staged => {
                let _ = self.store().delete(&self.staging).await;
            }
            State::Buffering(..) | State::Closed => {}
        }
    }
}

impl AsyncFileWriter for UploadSink {
    fn write(&mut self, bytes: Bytes) -> BoxFuture<'_, parquet::errors::Result<()>> {
        Box::pin(async move {
            self.bytes += bytes.len() as u64;
            let part_size = self.part_size;
            match &mut self.state {
                State::Buffering(chunks, size) => {
                    *size += bytes.len();
                    chunks.push(bytes);
                    if *size <= part_size {
                        return Ok(());
                    }
                    let chunks = std::mem::take(chunks);
                    let upload = self
                        .store()
                        .put_multipart_opts(&self.staging, PutMultipartOptions::default())
                        .await
                        .map_err(|e| self.fail("start multipart upload", &self.staging, e))?;
                    self.state = State::Uploading(Multipart {
                        upload: WriteMultipart::new_with_chunk_size(upload, part_size),
                        bytes: 0,
                    });
                    for chunk in chunks {
                        self.push_part_bytes(chunk).await?;
                    }
                }
                State::Uploading(_) => self.push_part_bytes(bytes).await?,
                State::Staged | State::Closed => {
                    return Err(ParquetError::General(
                        "write after the file was closed".into(),
                    ));
                }
            }
            self.update_held();
            Ok(())
        })
    }

    fn complete(&mut self) -> BoxFuture<'_, parquet::errors::Result<()>> {
        Box::pin(async move {
            let outcome = self.complete_inner().await;
            self.update_held();
            outcome
        })
    }
}

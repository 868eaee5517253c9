//! The byte sink under the Parquet encoder: one create-only `PUT` for a small file, a
//! multipart upload to a hidden staging key and a create-only rename for a large one.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use bytes::Bytes;
use futures::future::BoxFuture;
use object_store::path::Path;
use object_store::{
    MultipartUpload, ObjectStore, ObjectStoreExt, PutMode, PutMultipartOptions, PutOptions,
    PutPayload, RenameOptions, RenameTargetMode,
};
use parquet::arrow::async_writer::AsyncFileWriter;
use parquet::errors::ParquetError;
use tokio::task::JoinSet;

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

/// The byte sink under the encoder (`encode.rs`): one `PUT` for small files, a staged multipart
/// upload and a create-only rename for large ones.
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
    /// A sink for `target`, staging a large file at `staging`.
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
    /// filled and the parts in flight.
    fn update_held(&self) {
        let held = match &self.state {
            State::Buffering(_, size) => *size,
            State::Uploading(multipart) => {
                multipart.pending_len + multipart.in_flight.len() * self.part_size
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

    async fn push_part_bytes(&mut self, bytes: Bytes) -> parquet::errors::Result<()> {
        let (part_size, concurrency) = (self.part_size, self.concurrency);
        if let State::Uploading(multipart) = &mut self.state
            && let Err(e) = multipart.push(bytes, part_size, concurrency).await
        {
            return Err(self.fail("upload part", &self.staging, e));
        }
        Ok(())
    }

    async fn complete_inner(&mut self) -> parquet::errors::Result<()> {
        match std::mem::replace(&mut self.state, State::Closed) {
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
            State::Uploading(mut multipart) => {
                if let Err(e) = multipart.finish(self.concurrency).await {
                    // Keep it, so that `abort` aborts the upload.
                    self.state = State::Uploading(multipart);
                    return Err(self.fail("complete multipart upload", &self.staging, e));
                }
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
            }
            State::Staged | State::Closed => {}
        }
        Ok(())
    }

    /// Abandons the write: aborts a multipart upload and removes anything staged. Best
    /// effort: the staging key is hidden from readers, so a leftover one (when even the
    /// delete fails) costs space, never correctness.
    pub(crate) async fn abort(mut self) {
        match std::mem::replace(&mut self.state, State::Closed) {
            State::Uploading(multipart) => {
                multipart.abort().await;
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
                    self.state = State::Uploading(Multipart::new(upload));
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

/// A multipart upload with at most a few parts in flight, each `part_size` bytes but
/// the last. Unlike object_store's `WriteMultipart`, a failed completion can still be
/// aborted.
struct Multipart {
    upload: Box<dyn MultipartUpload>,
    pending: Vec<Bytes>,
    pending_len: usize,
    in_flight: JoinSet<object_store::Result<()>>,
}

impl Multipart {
    fn new(upload: Box<dyn MultipartUpload>) -> Self {
        Multipart {
            upload,
            pending: Vec::new(),
            pending_len: 0,
            in_flight: JoinSet::new(),
        }
    }

    /// Buffers `bytes` (slices share memory: no copy), sending every full part once
    /// fewer than `max_in_flight` parts are uploading.
    async fn push(
        &mut self,
        mut bytes: Bytes,
        part_size: usize,
        max_in_flight: usize,
    ) -> object_store::Result<()> {
        while !bytes.is_empty() {
            let take = (part_size - self.pending_len).min(bytes.len());
            self.pending.push(bytes.split_to(take));
            self.pending_len += take;
            if self.pending_len == part_size {
                self.wait_for_capacity(max_in_flight).await?;
                self.send_part();
            }
        }
        Ok(())
    }

    fn send_part(&mut self) {
        let payload = PutPayload::from_iter(std::mem::take(&mut self.pending));
        self.pending_len = 0;
        self.in_flight.spawn(self.upload.put_part(payload));
    }

    /// Waits until fewer than `max_in_flight` parts are uploading.
    async fn wait_for_capacity(&mut self, max_in_flight: usize) -> object_store::Result<()> {
        while self.in_flight.len() >= max_in_flight {
            match self.in_flight.join_next().await {
                Some(done) => done.map_err(join_error)??,
                None => break,
            }
        }
        Ok(())
    }

    /// Sends the last (short) part, waits for every part, and completes the upload.
    async fn finish(&mut self, max_in_flight: usize) -> object_store::Result<()> {
        if self.pending_len > 0 {
            self.wait_for_capacity(max_in_flight).await?;
            self.send_part();
        }
        while let Some(done) = self.in_flight.join_next().await {
            done.map_err(join_error)??;
        }
        self.upload.complete().await.map(drop)
    }

    async fn abort(mut self) {
        self.in_flight.abort_all();
        while self.in_flight.join_next().await.is_some() {}
        let _ = self.upload.abort().await;
    }
}

fn join_error(e: tokio::task::JoinError) -> object_store::Error {
    object_store::Error::Generic {
        store: "parquet_storage",
        source: Box::new(e),
    }
}

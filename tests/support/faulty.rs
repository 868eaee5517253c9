//! An object store wrapper that fails the Nth mutating request, to prove that a write
//! failing at any step leaves nothing visible, and records what is read and listed, to
//! prove what a read does not touch.

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{
    CopyOptions, GetOptions, GetResult, ListResult, MultipartUpload, ObjectMeta, ObjectStore,
    PutMultipartOptions, PutOptions, PutPayload, PutResult, RenameOptions, Result, UploadPart,
};

/// Counts mutating requests (puts, multipart steps, copies, renames, deletes) and fails
/// the one whose number is `fail_at` (1-based; 0 never fails).
#[derive(Debug)]
pub struct FaultyStore {
    inner: Arc<dyn ObjectStore>,
    state: Arc<Counter>,
}

#[derive(Debug, Default)]
struct Counter {
    /// Every object read (get) and every prefix listed, in order.
    reads: std::sync::Mutex<Vec<String>>,
    seen: AtomicUsize,
    /// Whether every mutating request after the failing one fails too (a process that
    /// died there), rather than only that one.
    dies: bool,
    /// Bytes of object data returned by gets.
    bytes_read: std::sync::atomic::AtomicU64,
    fail_at: usize,
    /// Mutating request (1-based) at which the process stops: it says so on stdout and
    /// every request from then on blocks its thread, for a parent to kill it there.
    pause_at: usize,
    /// A put of an object this matches waits for `gate_open` (after `gate_reached`).
    gate: Option<fn(&Path) -> bool>,
    gate_reached: tokio::sync::Notify,
    gate_open: std::sync::atomic::AtomicBool,
    gate_opened: tokio::sync::Notify,
    parts: AtomicUsize,
    part_bytes_in_flight: AtomicUsize,
    max_part_bytes_in_flight: AtomicUsize,
}

impl Counter {
    fn check(&self, what: &str) -> Result<()> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if self.pause_at > 0 && n >= self.pause_at {
            if n == self.pause_at {
                use std::io::Write;
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "PAUSED at request {n} ({what})");
                let _ = out.flush();
            }
            loop {
                std::thread::park();
            }
        }
        if n == self.fail_at || (self.dies && self.fail_at > 0 && n > self.fail_at) {
            return Err(object_store::Error::Generic {
                store: "FaultyStore",
                source: format!("injected failure of request {n} ({what})").into(),
            });
        }
        Ok(())
    }
}

impl FaultyStore {
    pub fn new(inner: Arc<dyn ObjectStore>, fail_at: usize) -> Self {
        FaultyStore {
            inner,
            state: Arc::new(Counter {
                fail_at,
                ..Counter::default()
            }),
        }
    }

    /// A store that dies at mutating request `at` (1-based): it and every later one
    /// fail, so nothing a failed run would clean up afterwards gets cleaned up, as
    /// when the process is killed there.
    pub fn dying(inner: Arc<dyn ObjectStore>, at: usize) -> Self {
        FaultyStore {
            inner,
            state: Arc::new(Counter {
                fail_at: at,
                dies: true,
                ..Counter::default()
            }),
        }
    }

    /// A store that stops the process at mutating request `at`: see `Counter::pause_at`.
    pub fn pausing(inner: Arc<dyn ObjectStore>, at: usize) -> Self {
        FaultyStore {
            inner,
            state: Arc::new(Counter {
                pause_at: at,
                ..Counter::default()
            }),
        }
    }

    /// A store whose puts of objects `gate` matches wait until [`open_gate`]: a run can
    /// be held at a chosen point while a test looks at what it has left so far.
    ///
    /// [`open_gate`]: FaultyStore::open_gate
    pub fn gated(inner: Arc<dyn ObjectStore>, gate: fn(&Path) -> bool) -> Self {
        FaultyStore {
            inner,
            state: Arc::new(Counter {
                gate: Some(gate),
                ..Counter::default()
            }),
        }
    }

    /// Waits until a put reached the gate.
    pub async fn gate_reached(&self) {
        self.state.gate_reached.notified().await
    }

    /// Lets the puts waiting at the gate, and every later one, through.
    pub fn open_gate(&self) {
        self.state.gate_open.store(true, Ordering::SeqCst);
        self.state.gate_opened.notify_waiters();
    }

    /// Mutating requests seen so far.
    pub fn requests(&self) -> usize {
        self.state.seen.load(Ordering::SeqCst)
    }

    /// Objects fetched and prefixes listed so far (`list:` before listed prefixes).
    pub fn reads(&self) -> Vec<String> {
        self.state.reads.lock().unwrap().clone()
    }

    /// Bytes of object data fetched so far.
    pub fn bytes_read(&self) -> u64 {
        self.state.bytes_read.load(Ordering::SeqCst)
    }

    fn record(&self, what: String) {
        self.state.reads.lock().unwrap().push(what);
    }

    /// Multipart parts started so far.
    pub fn parts(&self) -> usize {
        self.state.parts.load(Ordering::SeqCst)
    }

    /// The most bytes of multipart parts that were uploading at one time.
    pub fn max_part_bytes_in_flight(&self) -> usize {
        self.state.max_part_bytes_in_flight.load(Ordering::SeqCst)
    }
}

/// Shows as the store it wraps, so that an engine over it treats it as that store
/// (a local file system's small files are staged).
impl fmt::Display for FaultyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.inner, f)
    }
}

#[async_trait]
#[deny(clippy::missing_trait_methods)]
impl ObjectStore for FaultyStore {
    async fn put_opts(
        &self,
        location: &Path,
        payload: PutPayload,
        opts: PutOptions,
    ) -> Result<PutResult> {
        self.state.check("put")?;
        if self.state.gate.is_some_and(|gate| gate(location)) {
            self.state.gate_reached.notify_one();
            loop {
                let opened = self.state.gate_opened.notified();
                let mut opened = std::pin::pin!(opened);
                opened.as_mut().enable();
                if self.state.gate_open.load(Ordering::SeqCst) {
                    break;
                }
                opened.await;
            }
        }
        self.inner.put_opts(location, payload, opts).await
    }

    async fn put_multipart_opts(
        &self,
        location: &Path,
        opts: PutMultipartOptions,
    ) -> Result<Box<dyn MultipartUpload>> {
        self.state.check("create multipart upload")?;
        let inner = self.inner.put_multipart_opts(location, opts).await?;
        Ok(Box::new(FaultyUpload {
            inner,
            state: Arc::clone(&self.state),
        }))
    }

    async fn get_opts(&self, location: &Path, options: GetOptions) -> Result<GetResult> {
        self.record(location.to_string());
        let result = self.inner.get_opts(location, options).await?;
        let bytes = result.range.end - result.range.start;
        self.state.bytes_read.fetch_add(bytes, Ordering::SeqCst);
        Ok(result)
    }

    async fn get_ranges(
        &self,
        location: &Path,
        ranges: &[std::ops::Range<u64>],
    ) -> Result<Vec<bytes::Bytes>> {
        self.record(location.to_string());
        let bytes: u64 = ranges.iter().map(|r| r.end - r.start).sum();
        self.state.bytes_read.fetch_add(bytes, Ordering::SeqCst);
        self.inner.get_ranges(location, ranges).await
    }

    fn delete_stream(
        &self,
        locations: BoxStream<'static, Result<Path>>,
    ) -> BoxStream<'static, Result<Path>> {
        let state = Arc::clone(&self.state);
        let checked = locations
            .map(move |location| {
                state.check("delete")?;
                location
            })
            .boxed();
        self.inner.delete_stream(checked)
    }

    fn list(&self, prefix: Option<&Path>) -> BoxStream<'static, Result<ObjectMeta>> {
        self.record(format!(
            "list:{}",
            prefix.map(|p| p.to_string()).unwrap_or_default()
        ));
        self.inner.list(prefix)
    }

    fn list_with_offset(
        &self,
        prefix: Option<&Path>,
        offset: &Path,
    ) -> BoxStream<'static, Result<ObjectMeta>> {
        self.inner.list_with_offset(prefix, offset)
    }

    async fn list_with_delimiter(&self, prefix: Option<&Path>) -> Result<ListResult> {
        self.record(format!(
            "list:{}",
            prefix.map(|p| p.to_string()).unwrap_or_default()
        ));
        self.inner.list_with_delimiter(prefix).await
    }

    async fn copy_opts(&self, from: &Path, to: &Path, options: CopyOptions) -> Result<()> {
        self.state.check("copy")?;
        self.inner.copy_opts(from, to, options).await
    }

    async fn rename_opts(&self, from: &Path, to: &Path, options: RenameOptions) -> Result<()> {
        self.state.check("rename")?;
        self.inner.rename_opts(from, to, options).await
    }
}

#[derive(Debug)]
struct FaultyUpload {
    inner: Box<dyn MultipartUpload>,
    state: Arc<Counter>,
}

#[async_trait]
impl MultipartUpload for FaultyUpload {
    fn put_part(&mut self, data: PutPayload) -> UploadPart {
        if let Err(e) = self.state.check("upload part") {
            return Box::pin(futures::future::ready(Err(e)));
        }
        let len = data.content_length();
        let state = Arc::clone(&self.state);
        state.parts.fetch_add(1, Ordering::SeqCst);
        let now = state.part_bytes_in_flight.fetch_add(len, Ordering::SeqCst) + len;
        state
            .max_part_bytes_in_flight
            .fetch_max(now, Ordering::SeqCst);
        let upload = self.inner.put_part(data);
        Box::pin(async move {
            let result = upload.await;
            state.part_bytes_in_flight.fetch_sub(len, Ordering::SeqCst);
            result
        })
    }

    async fn complete(&mut self) -> Result<PutResult> {
        self.state.check("complete multipart upload")?;
        self.inner.complete().await
    }

    async fn abort(&mut self) -> Result<()> {
        self.inner.abort().await
    }
}

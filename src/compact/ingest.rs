//! The run: list, then decode and write with the files overlapped. Without a registry
//! schema the schema is inferred first: by a first pass over all sources that only
//! infers, or, with [`Compaction::with_spill_dir`], while decoding each file once into
//! text columns spilled to local disk ([`super::spill`]) and typed afterwards.
//!
//! ```text
//! producer task ── for each file, in path order, at most `concurrency` at once:
//!    download task (object_store stream) ─chunks─► blocking decoder thread
//!        inflate ► split lines ► decode into Arrow ► enrich ─events─► (bounded channel)
//!                                   (or, inferring: ► spill ─segments─►)
//! consumer (this task) ── drains the files' channels in path order:
//!    batches ─► write_output (the partitioned TableWriter, its own task)
//!    rejects ─► RejectWriter (NDJSON on the destination backend)
//!    outcomes ─► summary + progress (and the inferred schema, merged in path order)
//! then, after spilling: segments, `concurrency` at once ─► read ► type ► enrich ─► write_output
//! ```
//!
//! Memory is bounded by `concurrency` files, each with a few download chunks, the line
//! buffer and `EVENTS_IN_FLIGHT` batches, plus what the writer holds (its open-file cap
//! and byte budget); no file or tree is ever held whole.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::SchemaRef;
use futures::StreamExt;
use object_store::{ObjectStore, ObjectStoreExt};
use tokio::sync::{OwnedSemaphorePermit, Semaphore, mpsc};

use super::decode::{Counts, Decoder};
use super::enrich::Enricher;
use super::infer::Inferred;
use super::inflate::TextBuffers;
use super::progress::{Phase, Reporter};
use super::rejects::{Reject, RejectWriter};
use super::rules::ValueRules;
use super::source::{self, SourceFile, SourceSpec};
use super::spill::{Segment, Spill};
use super::{Compaction, CompactionSummary, SourceReport};
use crate::engine::WriteOptions;
use crate::engine::{RecordBatchStream, WriteReceipt, WrittenFile};
use crate::error::{Error, Result};
use crate::naming::TablePath;
use crate::store::ObjectStoreEngine;
use crate::txn;
use crate::txn::lease::Lease;

/// Events a file's decoder may run ahead of the consumer.
const EVENTS_IN_FLIGHT: usize = 2;

/// Writes the decoded, enriched rows of a run as pending files of its change, and says
/// which.
///
/// This is the one step of a run that creates output files: everything before it reads
/// sources, everything after it only reports or commits the change.
pub(crate) async fn write_output(
    engine: &ObjectStoreEngine,
    table: &TablePath,
    change: &str,
    rows: RecordBatchStream,
    options: WriteOptions,
) -> Result<WriteReceipt> {
    engine.write_pending(table, change, rows, options).await
}

/// What one file's decoder sends.
enum Event {
    Batch(RecordBatch),
    Spilled(Segment),
    Rejects(Vec<Reject>),
    /// Boxed: an outcome is large, and sent once per file.
    Done(Box<Outcome>),
    /// The run cannot go on (the spill failed): not a problem of the file.
    Fatal(Error),
}

/// The end of one file.
struct Outcome {
    counts: Counts,
    /// The decoder's columns, which `counts.values_rejected` follows.
    columns: Vec<String>,
    bytes_json: u64,
    error: Option<String>,
    empty: bool,
    unknown: Vec<(String, u64)>,
    /// Decoded raw: the file's keys and their types.
    inferred: Option<Inferred>,
}

/// Sums over the files, kept by the consumer.
#[derive(Default)]
struct Totals {
    reports: Vec<SourceReport>,
    values_rejected: BTreeMap<String, u64>,
    duplicate_keys: BTreeMap<String, u64>,
    unknown_keys: BTreeMap<String, u64>,
    bytes_spilled: u64,
}

impl Totals {
    fn add_rejected_values(&mut self, columns: &[String], counts: &[u64]) {
        for (column, n) in columns.iter().zip(counts) {
            if *n > 0 {
                *self.values_rejected.entry(column.clone()).or_default() += n;
            }
        }
    }

    fn add(&mut self, file: &SourceFile, outcome: Outcome) {
        self.add_rejected_values(&outcome.columns, &outcome.counts.values_rejected);
        let repeated = outcome.columns.iter().zip(&outcome.counts.duplicate_keys);
        for (column, n) in repeated.filter(|(_, n)| **n > 0) {
            *self.duplicate_keys.entry(column.clone()).or_default() += n;
        }
        for (key, n) in &outcome.unknown {
            *self.unknown_keys.entry(key.clone()).or_default() += n;
        }
        self.reports.push(SourceReport {
            file: file.clone(),
            rows_in: outcome.counts.rows_in,
            rows_out: outcome.counts.rows_out,
            rows_rejected: outcome.counts.rows_rejected,
            bytes_json: outcome.bytes_json,
            error: outcome.error,
            empty: outcome.empty,
        });
    }
}

/// What every file's decoder needs.
struct Plan {
    store: Arc<dyn ObjectStore>,
    batch_rows: usize,
    output: Output,
    buffers: Arc<TextBuffers>,
    rules: ValueRules,
}

/// Where a file's decoded rows go.
enum Output {
    /// Decoded into the run's schema, enriched and written.
    Write(Arc<Typed>),
    /// Decoded raw while the schema is inferred, and spilled ([`Decoder::raw`]).
    Spill(Spill),
}

/// The run's schema and what it adds to every row.
struct Typed {
    schema: SchemaRef,
    enricher: Enricher,
}

/// Where [`feed`] hands what the decoders send.
enum Sink<'a> {
    Write(&'a mpsc::Sender<Result<RecordBatch>>),
    Spill {
        segments: &'a mut Vec<(usize, Segment)>,
        inferred: &'a mut Inferred,
    },
}

/// Runs a compaction while holding the table's lease, which it gives up however the
/// run ends.
pub(crate) async fn run(
    c: &Compaction,
    engine: &ObjectStoreEngine,
    table: &TablePath,
) -> Result<CompactionSummary> {
    let started = Instant::now();
    let (change, lease) = engine.begin_change(table).await?;
    let outcome = run_leased(c, engine, table, change, &lease, started).await;
    lease.release().await;
    outcome
}

async fn run_leased(
    c: &Compaction,
    engine: &ObjectStoreEngine,
    table: &TablePath,
    change: txn::Change,
    lease: &Lease,
    started: Instant,
) -> Result<CompactionSummary> {
    let concurrency = c.concurrency.unwrap_or_else(|| engine.cpu_threads() + 1);
    // Finish or roll back what earlier runs left, then skip what they compacted.
    let recovered = txn::recover(engine.backend(), table, Some(change.id())).await?;
    let consumed = txn::consumed_sources(engine.backend(), table).await?;
    let run_id = change.id().to_string();
    let listed = SourceSpec::parse(&c.pattern)?.list(&c.store).await?;
    let (files, skipped): (Vec<SourceFile>, Vec<SourceFile>) = listed
        .into_iter()
        .partition(|f| !consumed.contains(&source_key(f)));
    let mut reporter = Reporter::new(c.progress.clone(), started, files.len());
    if files.is_empty() {
        // Nothing new: no schema to infer, nothing to write.
        reporter.phase(Phase::Done);
        reporter.report();
        return Ok(CompactionSummary {
            run_id,
            files: 0,
            files_skipped: skipped.len(),
            recovered,
            files_failed: 0,
            files_empty: 0,
            rows_in: 0,
            rows_out: 0,
            rows_rejected: 0,
            values_rejected: BTreeMap::new(),
            duplicate_keys: BTreeMap::new(),
            unknown_keys: BTreeMap::new(),
            bytes_in: 0,
            bytes_json: 0,
            bytes_out: 0,
            duration: started.elapsed(),
            infer_duration: None,
            bytes_spilled: 0,
            schema: c.schema.as_ref().map_or_else(
                || Arc::new(arrow_schema::Schema::empty()),
                |s| s.arrow_schema(),
            ),
            inferred: c.schema.is_none(),
            output: Vec::new(),
            sources: Vec::new(),
            rejects_path: None,
            rejects: 0,
        });
    }

    // Reading each source once: the rows wait on local disk for the inferred schema.
    let spill = match (&c.schema, &c.spill_dir) {
        (None, Some(dir)) => {
            let dir = dir.clone();
            let made = tokio::task::spawn_blocking(move || Spill::new(&dir)).await;
            Some(made.map_err(|join| Error::task_failed("creating the spill directory", join))??)
        }
        _ => None,
    };
    // By default the rejects are a file of the change, published with its data files.
    let rejects_in_table = format!("{table}/{REJECTS_DIR}/{run_id}.ndjson");
    let rejects_path = c
        .rejects_path
        .clone()
        .unwrap_or_else(|| change.pending_file(&format!("{REJECTS_DIR}/{run_id}.ndjson")));
    let mut rejects = RejectWriter::new(
        Arc::clone(engine.object_store()),
        engine.to_string(),
        &rejects_path,
        &run_id,
    );

    let mut totals = Totals::default();
    let buffers = Arc::new(TextBuffers::default());

    let mut spilled = None;
    let (schema, infer_duration) = match (&c.schema, spill) {
        (Some(registered), _) => (registered.arrow_schema(), None),
        (None, None) => {
            let t = Instant::now();
            reporter.phase(Phase::Infer);
            let inferred = infer(&c.store, &files, concurrency, &buffers, &mut reporter).await;
            (inferred.schema(c.rules.big_integers), Some(t.elapsed()))
        }
        (None, Some(spill)) => {
            let t = Instant::now();
            reporter.phase(Phase::Compact);
            let plan = Arc::new(Plan {
                store: Arc::clone(&c.store),
                batch_rows: c.batch_rows,
                output: Output::Spill(spill),
                buffers: Arc::clone(&buffers),
                rules: c.rules,
            });
            let (mut segments, mut inferred) = (Vec::new(), Inferred::default());
            let sink = &mut Sink::Spill {
                segments: &mut segments,
                inferred: &mut inferred,
            };
            let read = feed(
                &plan,
                &files,
                concurrency,
                sink,
                &mut rejects,
                &mut reporter,
                &mut totals,
            )
            .await;
            if let Err(e) = read {
                rejects.abort().await;
                return Err(e);
            }
            // The plan owns the spill directory: kept until its segments are read.
            spilled = Some((plan, segments));
            (inferred.schema(c.rules.big_integers), Some(t.elapsed()))
        }
    };
    let decoded = Arc::clone(Decoder::new(&schema, 0).schema());
    let enricher = match Enricher::new(&decoded, &c.enrichments) {
        Ok(enricher) => enricher,
        Err(e) => {
            rejects.abort().await;
            return Err(e);
        }
    };
    // Files are staged under the change's hidden directory with the table's names.
    let options = write_options(c, enricher.schema()).with_stem(table.name());
    let typed = Arc::new(Typed { schema, enricher });

    let (tx, rx) = mpsc::channel::<Result<RecordBatch>>(2);
    let rows = RecordBatchStream::new(
        Arc::clone(typed.enricher.schema()),
        futures::stream::unfold(rx, |mut rx| async { rx.recv().await.map(|b| (b, rx)) }),
    );
    let write = tokio::spawn({
        let (engine, table, change) = (engine.clone(), table.clone(), change.id().to_string());
        async move { write_output(&engine, &table, &change, rows, options).await }
    });

    let fed = match spilled {
        Some((_spill, segments)) => {
            reporter.phase(Phase::Write);
            write_spilled(
                &typed,
                &files,
                segments,
                concurrency,
                &tx,
                &mut rejects,
                &mut reporter,
                &mut totals,
            )
            .await
        }
        None => {
            reporter.phase(Phase::Compact);
            let plan = Arc::new(Plan {
                store: Arc::clone(&c.store),
                batch_rows: c.batch_rows,
                output: Output::Write(Arc::clone(&typed)),
                buffers: Arc::clone(&buffers),
                rules: c.rules,
            });
            feed(
                &plan,
                &files,
                concurrency,
                &mut Sink::Write(&tx),
                &mut rejects,
                &mut reporter,
                &mut totals,
            )
            .await
        }
    };
    if fed.is_err() {
        // Makes the write fail, which removes what it already wrote.
        let _ = tx
            .send(Err(Error::internal(
                "the compaction's input failed (the run returns that error)",
            )))
            .await;
    }
    drop(tx);
    let written = match write.await {
        Ok(written) => written,
        Err(join) => Err(Error::task_failed("writing the compaction's output", join)),
    };
    let receipt = match (fed, written) {
        (Ok(()), Ok(receipt)) => receipt,
        (Err(e), _) | (Ok(()), Err(e)) => {
            rejects.abort().await;
            return Err(e);
        }
    };
    let rejects_written = rejects.count();
    let rejects_path = rejects.finish().await?;
    let committed_rejects = rejects_path.is_some() && c.rejects_path.is_none();

    // The commit point: the staged files (and the rejects, unless the caller put them
    // elsewhere) join the table, and the sources are recorded as compacted.
    let mut staged = receipt.files.clone();
    if let Some(path) = rejects_path.as_ref().filter(|_| committed_rejects) {
        let location = object_store::path::Path::from(path.as_str());
        let meta = engine
            .object_store()
            .head(&location)
            .await
            .map_err(|e| engine.backend().error("head", &location, e))?;
        staged.push(WrittenFile {
            path: rejects_in_table.clone(),
            rows: rejects_written,
            bytes: meta.size,
        });
    }
    let rejects_path = match committed_rejects {
        true => Some(rejects_in_table),
        false => rejects_path,
    };
    let sources: Vec<txn::SourceKey> = files.iter().map(source_key).collect();
    let output = receipt.files.clone();
    if !sources.is_empty() {
        lease.check().await?;
        change
            .commit(engine.backend(), "ingest", &staged, &[], sources)
            .await?;
    }

    let reports = &totals.reports;
    let sum = |f: fn(&SourceReport) -> u64| reports.iter().map(f).sum::<u64>();
    let summary = CompactionSummary {
        run_id,
        files: files.len(),
        files_skipped: skipped.len(),
        recovered,
        files_failed: reports.iter().filter(|r| r.error.is_some()).count(),
        files_empty: reports.iter().filter(|r| r.empty).count(),
        rows_in: sum(|r| r.rows_in),
        rows_out: sum(|r| r.rows_out),
        rows_rejected: sum(|r| r.rows_rejected),
        bytes_in: sum(|r| r.file.size),
        bytes_json: sum(|r| r.bytes_json),
        bytes_out: receipt.bytes,
        duration: started.elapsed(),
        infer_duration,
        bytes_spilled: totals.bytes_spilled,
        schema: Arc::clone(&typed.schema),
        inferred: c.schema.is_none(),
        output,
        values_rejected: totals.values_rejected,
        duplicate_keys: totals.duplicate_keys,
        unknown_keys: totals.unknown_keys,
        sources: totals.reports,
        rejects_path,
        rejects: rejects_written,
    };
    reporter.progress.bytes_out = summary.bytes_out;
    reporter.phase(Phase::Done);
    reporter.report();
    tracing::info!(
        target: "parquet_storage::compact",
        run_id = %summary.run_id,
        files = summary.files,
        rows_in = summary.rows_in,
        rows_out = summary.rows_out,
        rows_rejected = summary.rows_rejected,
        bytes_out = summary.bytes_out,
        seconds = summary.duration.as_secs_f64(),
        "compaction finished"
    );
    Ok(summary)
}

/// What identifies a source for idempotency: path, size and entity tag.
fn source_key(file: &SourceFile) -> txn::SourceKey {
    txn::SourceKey {
        path: file.path.clone(),
        size: file.size,
        e_tag: file.e_tag.clone(),
    }
}

/// Hidden directory of a table's reject files.
const REJECTS_DIR: &str = "_rejects";

/// The write options of the run: the caller's, with the registry schema when it covers
/// every output column.
fn write_options(c: &Compaction, output: &SchemaRef) -> WriteOptions {
    let mut options = c.options.clone();
    if let Some(registered) = &c.schema {
        let declared = registered.arrow_schema();
        if output
            .fields()
            .iter()
            .all(|f| declared.field_with_name(f.name()).is_ok())
        {
            options = options.with_schema(Arc::clone(registered));
        }
    }
    options
}

/// The inference pass: every file read once, types only, merged in path order.
async fn infer(
    store: &Arc<dyn ObjectStore>,
    files: &[SourceFile],
    concurrency: usize,
    buffers: &Arc<TextBuffers>,
    reporter: &mut Reporter,
) -> Inferred {
    // Files finish in any order (one slow file does not hold a free slot back) and
    // are merged in path order at the end, so the column order is the same.
    // By index, not by reference: a stream of references makes the run's future not
    // `Send` for every lifetime, so that it could not be spawned.
    let mut passes = futures::stream::iter(0..files.len())
        .map(|index| {
            let reader = source::open(store, &files[index], buffers);
            let pass = tokio::task::spawn_blocking(move || infer_file(reader));
            async move { (index, pass.await) }
        })
        .buffer_unordered(concurrency);
    let mut found: Vec<Option<Inferred>> = vec![None; files.len()];
    while let Some((index, pass)) = passes.next().await {
        let p = &mut reporter.progress;
        p.files_done += 1;
        p.bytes_in += files[index].size;
        // A decoder that panicked tells nothing; the decode pass reports the file.
        if let Ok((types, rows, bytes)) = pass {
            found[index] = Some(types);
            p.rows += rows;
            p.bytes_json += bytes;
        }
        reporter.report();
    }
    let mut all = Inferred::default();
    for types in found.iter().flatten() {
        all.merge(types);
    }
    all
}

/// Types of one file's lines, its lines and its text bytes; stops quietly where the file
/// cannot be read further (the decode pass reports it).
fn infer_file(raw: source::ChannelReader) -> (Inferred, u64, u64) {
    let mut types = Inferred::default();
    let mut rows = 0;
    let read = source::read_lines(raw, |_, line| {
        if !line.iter().all(u8::is_ascii_whitespace) {
            rows += 1;
            types.add_line(line);
        }
        true
    });
    let bytes = match read {
        Ok(bytes) => bytes,
        Err(failure) => failure.bytes,
    };
    (types, rows, bytes)
}

/// Decodes every file, `concurrency` at once, and hands their events on in path order.
async fn feed(
    plan: &Arc<Plan>,
    files: &[SourceFile],
    concurrency: usize,
    sink: &mut Sink<'_>,
    rejects: &mut RejectWriter,
    reporter: &mut Reporter,
    totals: &mut Totals,
) -> Result<()> {
    let (order_tx, mut order_rx) = mpsc::channel(concurrency);
    let producer = tokio::spawn({
        let (plan, files) = (Arc::clone(plan), files.to_vec());
        let permits = Arc::new(Semaphore::new(concurrency));
        async move {
            for file in files {
                let Ok(permit) = Arc::clone(&permits).acquire_owned().await else {
                    return;
                };
                let events = start_file(&plan, file, permit);
                if order_tx.send(events).await.is_err() {
                    return;
                }
            }
        }
    });
    let outcome = async {
        for (index, file) in files.iter().enumerate() {
            let Some(mut events) = order_rx.recv().await else {
                break;
            };
            let mut outcome = None;
            while let Some(event) = events.recv().await {
                match (event, &mut *sink) {
                    (Event::Batch(batch), Sink::Write(tx)) => {
                        if tx.send(Ok(batch)).await.is_err() {
                            // The write failed; its error is the run's.
                            return Ok(());
                        }
                    }
                    (Event::Spilled(segment), Sink::Spill { segments, .. }) => {
                        totals.bytes_spilled += segment.bytes;
                        segments.push((index, segment));
                    }
                    (Event::Batch(_) | Event::Spilled(_), _) => {
                        return Err(Error::internal("a decoder sent rows of the wrong kind"));
                    }
                    (Event::Rejects(list), _) => rejects.write(&list).await?,
                    (Event::Done(done), _) => outcome = Some(*done),
                    (Event::Fatal(e), _) => return Err(e),
                }
            }
            let outcome = match outcome {
                Some(outcome) => outcome,
                None => {
                    let reason = "the decoder stopped without finishing the file".to_string();
                    rejects
                        .write(&[Reject::file(&file.path, None, reason.clone())])
                        .await?;
                    Outcome {
                        counts: Counts::default(),
                        columns: Vec::new(),
                        bytes_json: 0,
                        error: Some(reason),
                        empty: false,
                        unknown: Vec::new(),
                        inferred: None,
                    }
                }
            };
            if let (Sink::Spill { inferred, .. }, Some(types)) = (&mut *sink, &outcome.inferred) {
                inferred.merge(types);
            }
            let p = &mut reporter.progress;
            p.files_done += 1;
            p.rows += outcome.counts.rows_in;
            p.rows_rejected += outcome.counts.rows_rejected;
            p.bytes_in += file.size;
            p.bytes_json += outcome.bytes_json;
            reporter.report();
            totals.add(file, outcome);
        }
        Ok(())
    }
    .await;
    producer.abort();
    outcome
}

/// Writes the spilled rows: each segment read back, typed into the inferred schema and
/// enriched, `concurrency` at once, and sent to the writer in path order.
#[allow(clippy::too_many_arguments)]
async fn write_spilled(
    typed: &Arc<Typed>,
    files: &[SourceFile],
    segments: Vec<(usize, Segment)>,
    concurrency: usize,
    tx: &mpsc::Sender<Result<RecordBatch>>,
    rejects: &mut RejectWriter,
    reporter: &mut Reporter,
    totals: &mut Totals,
) -> Result<()> {
    let columns: Vec<String> = (typed.schema.fields().iter())
        .map(|f| f.name().clone())
        .collect();
    // The file after each segment's, to tell when a file's last segment is written.
    let next_file: Vec<usize> = (segments.iter().skip(1).map(|(i, _)| *i))
        .chain([files.len()])
        .collect();
    let mut typing = futures::stream::iter(segments)
        .map(|(index, segment)| {
            let (typed, file) = (Arc::clone(typed), files[index].clone());
            tokio::task::spawn_blocking(move || type_segment(&typed, &file, segment))
        })
        .buffered(concurrency);
    let mut at = 0;
    while let Some(typed_segment) = typing.next().await {
        let (batch, file_rejects, values_rejected) =
            typed_segment.map_err(|join| Error::task_failed("typing spilled rows", join))??;
        rejects.write(&file_rejects).await?;
        totals.add_rejected_values(&columns, &values_rejected);
        let p = &mut reporter.progress;
        p.rows += batch.num_rows() as u64;
        if tx.send(Ok(batch)).await.is_err() {
            // The write failed; its error is the run's.
            return Ok(());
        }
        let files_done = next_file[at];
        at += 1;
        if files_done > p.files_done {
            p.files_done = files_done;
            reporter.report();
        }
    }
    if reporter.progress.files_done < files.len() {
        reporter.progress.files_done = files.len();
        reporter.report();
    }
    Ok(())
}

/// One spilled segment of `file`, typed and enriched, with the values that did not fit.
fn type_segment(
    typed: &Typed,
    file: &SourceFile,
    segment: Segment,
) -> Result<(RecordBatch, Vec<Reject>, Vec<u64>)> {
    let (raw, lines) = segment.read()?;
    let mut decoder = Decoder::new(&typed.schema, raw.num_rows());
    decoder.start_file(&file.path);
    let batch = decoder.convert(&raw, &lines)?;
    let batch = typed
        .enricher
        .apply(&batch, &typed.enricher.file_values(&file.relative))?;
    Ok((
        batch,
        decoder.take_rejects(),
        decoder.counts().values_rejected.clone(),
    ))
}

/// Starts downloading and decoding `file`; its events come on the returned channel.
fn start_file(
    plan: &Arc<Plan>,
    file: SourceFile,
    permit: OwnedSemaphorePermit,
) -> mpsc::Receiver<Event> {
    let (tx, rx) = mpsc::channel(EVENTS_IN_FLIGHT);
    let reader = source::open(&plan.store, &file, &plan.buffers);
    let plan = Arc::clone(plan);
    tokio::task::spawn_blocking(move || {
        let _permit = permit;
        decode_file(&plan, &file, reader, |event| {
            tx.blocking_send(event).is_ok()
        });
    });
    rx
}

/// Decodes one file, sending batches and rejects as they come and its outcome last;
/// stops early when `send` says the consumer is gone.
fn decode_file(
    plan: &Plan,
    file: &SourceFile,
    raw: source::ChannelReader,
    mut send: impl FnMut(Event) -> bool,
) {
    let mut decoder = match &plan.output {
        Output::Write(typed) => Decoder::new(&typed.schema, plan.batch_rows),
        Output::Spill(_) => Decoder::raw(plan.batch_rows),
    }
    .with_duplicate_keys(plan.rules.duplicate_keys);
    decoder.start_file(&file.path);
    let values = match &plan.output {
        Output::Write(typed) => typed.enricher.file_values(&file.relative),
        Output::Spill(_) => Vec::new(),
    };
    let mut failure: Option<Error> = None;
    let mut gone = false;
    let mut flush = |decoder: &mut Decoder, send: &mut dyn FnMut(Event) -> bool| -> bool {
        let lines = match &plan.output {
            Output::Spill(_) => decoder.buffered_lines().to_vec(),
            Output::Write(_) => Vec::new(),
        };
        let batch = match decoder.flush() {
            Ok(batch) => batch,
            Err(e) => {
                failure = Some(e);
                return false;
            }
        };
        let rejects = decoder.take_rejects();
        if !rejects.is_empty() && !send(Event::Rejects(rejects)) {
            return false;
        }
        let Some(batch) = batch else {
            return true;
        };
        let event = match &plan.output {
            Output::Write(typed) => match typed.enricher.apply(&batch, &values) {
                Ok(enriched) => Event::Batch(enriched),
                Err(e) => {
                    failure = Some(e);
                    return false;
                }
            },
            Output::Spill(spill) => match spill.write(&batch, &lines) {
                Ok(segment) => Event::Spilled(segment),
                Err(e) => {
                    send(Event::Fatal(e));
                    return false;
                }
            },
        };
        send(event)
    };
    let read = source::read_lines(raw, |number, line| {
        decoder.line(number, line);
        if decoder.buffered_rows() >= plan.batch_rows && !flush(&mut decoder, &mut send) {
            gone = true;
            return false;
        }
        true
    });
    if gone {
        return;
    }
    let finished = flush(&mut decoder, &mut send);
    let assembly = failure.map(|e| format!("could not assemble rows: {e}"));
    if !finished && assembly.is_none() {
        return;
    }
    let counts = decoder.counts().clone();
    let (bytes_json, error) = match read {
        Ok(bytes) => (bytes, assembly),
        Err(failure) => (
            failure.bytes,
            Some(format!(
                "unreadable from line {} on: {}",
                failure.line, failure.error
            )),
        ),
    };
    let empty = error.is_none() && counts.rows_in == 0;
    let file_reject = match (&error, empty) {
        (Some(reason), _) => Some(Reject::file(&file.path, None, reason.clone())),
        (None, true) => Some(Reject::file(
            &file.path,
            None,
            if bytes_json == 0 {
                "empty file (no bytes)".into()
            } else {
                "no JSON lines (blank lines only)".into()
            },
        )),
        _ => None,
    };
    if let Some(reject) = file_reject
        && !send(Event::Rejects(vec![reject]))
    {
        return;
    }
    let mut counts = counts;
    let columns: Vec<String> = decoder.column_names().map(str::to_string).collect();
    counts.values_rejected.resize(columns.len(), 0);
    let unknown = decoder
        .unknown_keys()
        .map(|(k, n)| (k.to_string(), n))
        .collect();
    send(Event::Done(Box::new(Outcome {
        counts,
        columns,
        bytes_json,
        error,
        empty,
        unknown,
        inferred: decoder.inferred(),
    })));
}

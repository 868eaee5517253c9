//! The Rust side of the shared workloads W1 and W2 (`../shared/bench`): same input,
//! same output layout, one JSON line on stdout like the peer scripts print, so the
//! numbers sit in one table with pyarrow's, DuckDB's and polars'.
//!
//! ```sh
//! cargo bench --bench workloads -- w1 data/battery/battery_12m.parquet data/out/w1_rust
//! cargo bench --bench workloads -- w2 data/out/w1_pyarrow --date 2024-11-03 --prefix a
//! cargo bench --bench workloads_mimalloc -- w3 data/iot/fleet --out data/out/w3_rust
//! cargo bench --bench workloads -- w3-floor data/iot/fleet   # inflate + parse only
//! cargo bench --bench workloads_mimalloc -- w3-write data/out/w3_rust --out data/out/w3_write   # write only
//! ```
//!
//! `benches/run_workloads.sh` runs these and the peers side by side under
//! `/usr/bin/time -v` and writes the table of docs/benchmarks.md.

use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow_array::RecordBatch;
use arrow_schema::DataType;
use chrono::NaiveDate;
use futures::TryStreamExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet_storage::filter::col;
use parquet_storage::partition::PartitionField;
use parquet_storage::{
    Compression, ObjectStoreEngine, ScanOptions, StorageEngine, TablePath, WriteOptions,
};

pub type Failure = Box<dyn std::error::Error>;

/// Arguments after `--`, without the `--bench` flag cargo adds.
fn args() -> Vec<String> {
    std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect()
}

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1).cloned())
}

/// An engine rooted at `dir`'s parent, and `dir`'s name as the table.
fn engine_and_table(dir: &Path) -> Result<(ObjectStoreEngine, TablePath), Failure> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = dir.file_name().ok_or("the output needs a directory name")?;
    Ok((
        ObjectStoreEngine::local(parent)?,
        TablePath::new(&name.to_string_lossy())?,
    ))
}

fn dir_size(dir: &Path) -> (u64, u64) {
    let mut files = 0;
    let mut bytes = 0;
    if let Ok(entries) = std::fs::read_dir(dir) {
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                let (f, b) = dir_size(&path);
                files += f;
                bytes += b;
            } else if path.extension().is_some_and(|e| e == "parquet") {
                files += 1;
                bytes += entry.metadata().map(|m| m.len()).unwrap_or_default();
            }
        }
    }
    (files, bytes)
}

/// W1: the battery Parquet loaded into memory (not timed), then written partitioned by
/// `date` (UTC day of `ts`) and `location_id`, zstd.
/// A task that sleeps 1 ms at a time and records how much later than asked it wakes:
/// how long other work keeps the runtime's workers from running it.
struct Ticker {
    stop: tokio::sync::oneshot::Sender<()>,
    task: tokio::task::JoinHandle<Vec<f64>>,
}

impl Ticker {
    fn start(period: std::time::Duration) -> Ticker {
        let (stop, mut stopped) = tokio::sync::oneshot::channel();
        let task = tokio::spawn(async move {
            let mut late_ms = Vec::new();
            while stopped.try_recv().is_err() {
                let asked = Instant::now();
                tokio::time::sleep(period).await;
                late_ms.push((asked.elapsed().saturating_sub(period)).as_secs_f64() * 1e3);
            }
            late_ms
        });
        Ticker { stop, task }
    }

    /// Ticks, the worst and the 99th-percentile delay in milliseconds.
    async fn stop(self) -> Result<serde_json::Value, Failure> {
        let _ = self.stop.send(());
        let mut late = self.task.await?;
        late.sort_by(f64::total_cmp);
        let at = |q: f64| late.get(((late.len() as f64 - 1.0) * q) as usize).copied();
        Ok(serde_json::json!({
            "ticks": late.len(),
            "max_delay_ms": at(1.0),
            "p99_delay_ms": at(0.99),
            "median_delay_ms": at(0.5),
        }))
    }
}

async fn w1(args: &[String]) -> Result<(), Failure> {
    let input = PathBuf::from(args.first().ok_or("w1 <input.parquet> <out dir>")?);
    let out = PathBuf::from(args.get(1).ok_or("w1 <input.parquet> <out dir>")?);
    let level: i32 = flag(args, "--zstd-level").map_or(Ok(1), |l| l.parse())?;
    let plain_strings = args.iter().any(|a| a == "--plain-strings");
    let with_ticker = args.iter().any(|a| a == "--ticker");

    let started = Instant::now();
    // The id columns (UUID text with a few thousand distinct values) are held
    // dictionary-encoded, as Parquet stores them: a tenth of the memory of plain strings.
    let builder = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&input)?)?;
    let fields: Vec<arrow_schema::Field> = builder
        .schema()
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            arrow_schema::DataType::Utf8 if !plain_strings => {
                f.as_ref()
                    .clone()
                    .with_data_type(arrow_schema::DataType::Dictionary(
                        Box::new(arrow_schema::DataType::Int32),
                        Box::new(arrow_schema::DataType::Utf8),
                    ))
            }
            _ => f.as_ref().clone(),
        })
        .collect();
    let hint = std::sync::Arc::new(arrow_schema::Schema::new(fields));
    let options = parquet::arrow::arrow_reader::ArrowReaderOptions::new().with_schema(hint);
    let reader = ParquetRecordBatchReaderBuilder::try_new_with_options(
        std::fs::File::open(&input)?,
        options,
    )?
    .with_batch_size(128 * 1024)
    .build()?;
    let batches: Vec<RecordBatch> = reader.collect::<Result<_, _>>()?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    let load_seconds = started.elapsed().as_secs_f64();

    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    let (engine, table) = engine_and_table(&out)?;
    let options = WriteOptions::default()
        .with_compression(Compression::Zstd(level))
        .with_partition_by([
            PartitionField::day("date", "ts"),
            PartitionField::column("location_id"),
        ]);
    let schema = batches.first().ok_or("empty input")?.schema();
    let started = Instant::now();
    let stream = parquet_storage::RecordBatchStream::from_batches(schema, batches);
    // With --ticker, the write runs as a service runs it, in a task on the runtime, and
    // a second task that wants to wake every millisecond measures how late it wakes.
    let ticker = with_ticker.then(|| Ticker::start(std::time::Duration::from_millis(1)));
    let receipt = if with_ticker {
        tokio::spawn(async move { engine.write_stream(&table, stream, options).await }).await??
    } else {
        engine.write_stream(&table, stream, options).await?
    };
    let seconds = started.elapsed().as_secs_f64();
    let delays = match ticker {
        Some(ticker) => Some(ticker.stop().await?),
        None => None,
    };
    let (files, bytes) = dir_size(&out);
    println!(
        "{}",
        serde_json::json!({
            "tool": "parquet-storage",
            "workload": "W1",
            "rows": rows,
            "seconds": seconds,
            "load_seconds": load_seconds,
            "files": files,
            "bytes": bytes,
            "written_rows": receipt.rows,
            "peak_buffered_bytes": receipt.peak_buffered_bytes,
            "zstd_level": level,
            "input_strings": if plain_strings { "plain" } else { "dictionary" },
            "ticker": delays,
        })
    );
    Ok(())
}

/// W2: one day and one location of a hive dataset, battery ids with a prefix, all
/// columns; the first run and the median of the others.
async fn w2(args: &[String]) -> Result<(), Failure> {
    let dataset = PathBuf::from(args.first().ok_or("w2 <dataset dir> --date D --prefix P")?);
    let date = flag(args, "--date").unwrap_or_else(|| "2024-11-03".into());
    let prefix = flag(args, "--prefix").unwrap_or_else(|| "a".into());
    let repeat: usize = flag(args, "--repeat").map_or(Ok(5), |r| r.parse())?;
    let day = NaiveDate::parse_from_str(&date, "%Y-%m-%d")?;
    // The first location under that date, as the peer scripts choose it.
    let mut locations: Vec<String> = std::fs::read_dir(dataset.join(format!("date={date}")))?
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()?
                .strip_prefix("location_id=")
                .map(str::to_string)
        })
        .collect();
    locations.sort();
    let location = locations
        .first()
        .ok_or("no location under that date")?
        .clone();

    let mut times = Vec::with_capacity(repeat);
    let mut rows = 0;
    for _ in 0..repeat.max(1) {
        let started = Instant::now();
        let (engine, table) = engine_and_table(&dataset)?;
        let filter = col("date")
            .eq(day)
            .and(col("location_id").eq(location.as_str()))
            .and(col("battery_id").starts_with(prefix.as_str()));
        let stream = engine
            .scan(&table, ScanOptions::default().with_filter(filter))
            .await?;
        let batches: Vec<RecordBatch> = stream.try_collect().await?;
        rows = batches.iter().map(RecordBatch::num_rows).sum::<usize>();
        times.push(started.elapsed().as_secs_f64());
    }
    let first = times[0];
    let mut warm = times[1..].to_vec();
    warm.sort_by(f64::total_cmp);
    let warm_median = warm.get(warm.len() / 2).copied().unwrap_or(first);
    println!(
        "{}",
        serde_json::json!({
            "tool": "parquet-storage",
            "workload": "W2",
            "rows": rows,
            "seconds": first,
            "warm_seconds": warm_median,
            "location_id": location,
        })
    );
    Ok(())
}

/// Columns whose values the W3 generator flips between int and string, and a key that
/// only appears after a firmware update (as the peer scripts check them).
const W3_FLIP_FIELDS: [&str; 2] = ["payload_cnt", "fault_code_active"];
const W3_DRIFT_FIELD: &str = "tpms_press_fl_kpa";

fn read_manifest(root: &Path) -> serde_json::Value {
    std::fs::read_to_string(root.join("manifest.json"))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .unwrap_or(serde_json::Value::Null)
}

/// W3: the IoT NDJSON.gz tree compacted into `OUT/hiveperiod=…/district=…/` (zstd),
/// with `dstrct_code`, `hiveperiod` (date of `heartbeat` + 8 h) and `source_file`;
/// timed from listing to the last byte written, then read back (not timed).
async fn w3(args: &[String]) -> Result<(), Failure> {
    use parquet_storage::compact::{Compaction, Enrichment};
    let usage = "w3 <input dir> --out <dir> [--concurrency N] [--max-buffered-mb M] [--spill-dir D] [--batch-rows R] [--registry-schema <w3 output dir>]";
    let root = PathBuf::from(args.first().ok_or(usage)?);
    let out = PathBuf::from(flag(args, "--out").ok_or(usage)?);
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    std::fs::create_dir_all(&out)?;
    let (engine, table) = engine_and_table(&out)?;
    let source: std::sync::Arc<dyn object_store::ObjectStore> = std::sync::Arc::new(
        object_store::local::LocalFileSystem::new_with_prefix(std::fs::canonicalize(&root)?)?,
    );
    let mut compaction = Compaction::ndjson(source, "*/*/*/*.txt.gz")
        .with_enrichment(Enrichment::path_segment("dstrct_code", 0))
        .with_enrichment(Enrichment::path_segment("district", 0))
        .with_enrichment(Enrichment::date_of(
            "hiveperiod",
            "heartbeat",
            chrono::TimeDelta::hours(8),
        ))
        .with_enrichment(Enrichment::source_file("source_file"))
        .with_partition_by([
            PartitionField::column("hiveperiod"),
            PartitionField::column("district"),
        ]);
    if let Some(n) = flag(args, "--concurrency") {
        compaction = compaction.with_concurrency(n.parse()?);
    }
    if let Some(dir) = flag(args, "--spill-dir") {
        compaction = compaction.with_spill_dir(dir);
    }
    if let Some(rows) = flag(args, "--batch-rows") {
        compaction = compaction.with_batch_rows(rows.parse()?);
    }
    if let Some(dir) = flag(args, "--registry-schema") {
        // Not a W3 row (W3 infers, as DuckDB does): how a service that knows its schema
        // runs, one pass straight into typed columns.
        compaction = compaction.with_schema(registry_schema(Path::new(&dir)).await?);
    }
    if let Some(mb) = flag(args, "--max-buffered-mb") {
        let options = parquet_storage::WriteOptions::default()
            .with_target_file_size(Some(
                parquet_storage::compact::DEFAULT_COMPACTION_TARGET_FILE_SIZE,
            ))
            .with_max_row_group_rows(parquet_storage::compact::DEFAULT_COMPACTION_ROW_GROUP_ROWS)
            .with_max_buffered_bytes(mb.parse::<usize>()? << 20);
        compaction = compaction.with_write_options(options);
    }
    // After the write options, which would replace it.
    compaction = compaction.with_sort_by(["unitno", "heartbeat"]);
    let started = Instant::now();
    let summary = compaction.run(&engine, &table).await?;
    let seconds = started.elapsed().as_secs_f64();

    // Not timed: what came out.
    let (files, bytes) = dir_size(&out);
    let info = engine.table_info(&table, None).await?;
    let schema = &summary.schema;
    let flip_types: serde_json::Map<String, serde_json::Value> = W3_FLIP_FIELDS
        .iter()
        .map(|f| {
            let ty = schema
                .field_with_name(f)
                .map(|f| f.data_type().to_string())
                .ok();
            (f.to_string(), ty.into())
        })
        .collect();
    let drift = if schema.field_with_name(W3_DRIFT_FIELD).is_ok() {
        let batches: Vec<RecordBatch> = engine
            .scan(
                &table,
                ScanOptions::default().with_projection([W3_DRIFT_FIELD]),
            )
            .await?
            .try_collect()
            .await?;
        batches
            .iter()
            .map(|b| (b.num_rows() - b.column(0).null_count()) as u64)
            .sum::<u64>()
    } else {
        0
    };
    let partitions: Vec<serde_json::Value> = info
        .partitions
        .iter()
        .map(|p| {
            let mut row: Vec<serde_json::Value> =
                p.values.iter().map(|(_, v)| v.clone().into()).collect();
            row.push(p.rows.into());
            row.into()
        })
        .collect();
    let manifest = read_manifest(&root);
    let in_gz = manifest["bytes_gz"].as_u64();
    println!(
        "{}",
        serde_json::json!({
            "tool": "parquet-storage",
            "workload": "W3",
            "rows": info.rows,
            "seconds": seconds,
            "files": files,
            "bytes": bytes,
            "columns": schema.fields().len() + 3,
            "input_lines": manifest["total_lines"],
            "input_valid_rows": manifest["valid_rows"],
            "input_bytes_gz": in_gz,
            "input_bytes_json": manifest["bytes_json"],
            "ratio_vs_gz": in_gz.map(|gz| (bytes as f64 / gz as f64 * 1000.0).round() / 1000.0),
            "flip_field_types": flip_types,
            "drift_values_kept": drift,
            "expected_drift_values": manifest["schema_drift"]["valid_rows_with_new_fields"],
            "partitions": partitions,
            "rows_in": summary.rows_in,
            "rows_out": summary.rows_out,
            "rows_rejected": summary.rows_rejected,
            "values_rejected": summary.values_rejected,
            "files_failed": summary.files_failed,
            "bytes_json": summary.bytes_json,
            "infer_seconds": summary.infer_duration.map(|d| d.as_secs_f64()),
            "bytes_spilled": summary.bytes_spilled,
            "rejects_path": summary.rejects_path,
        })
    );
    Ok(())
}

/// A registry schema for W3's source columns, made from the schema a W3 run inferred
/// (the files under `dir`): the enrichment columns left out, each type as the column's
/// PostgreSQL type.
async fn registry_schema(
    dir: &Path,
) -> Result<std::sync::Arc<parquet_storage::schema::TableSchema>, Failure> {
    use parquet_storage::schema::{ColumnDef, RegistryOptions, SchemaRegistry, TableDef};
    let (engine, table) = engine_and_table(dir)?;
    let inferred = engine.scan(&table, ScanOptions::default()).await?.schema();
    let mut def = TableDef::new("w3_telemetry", 1);
    for field in inferred.fields() {
        if ["dstrct_code", "district", "hiveperiod", "source_file"].contains(&field.name().as_str())
        {
            continue;
        }
        let pg_type = match field.data_type() {
            DataType::Int64 => "bigint",
            DataType::Float64 => "double precision",
            DataType::Boolean => "boolean",
            DataType::Utf8 => "text",
            other => {
                return Err(
                    format!("column {}: no PostgreSQL type for {other}", field.name()).into(),
                );
            }
        };
        def = def.with_column(ColumnDef::new(field.name(), pg_type)?);
    }
    Ok(SchemaRegistry::new(RegistryOptions::default()).register(def)?)
}

/// W3's write alone: the rows of a finished W3 output (`w3 ... --out <dir>`), loaded
/// into memory and written again as the compaction writes them (same partitions, sort,
/// file and row-group sizes, budget, zstd). What a compaction would cost if decoding the
/// sources were free.
async fn w3_write(args: &[String]) -> Result<(), Failure> {
    use parquet_storage::compact::{
        DEFAULT_COMPACTION_MAX_BUFFERED_BYTES, DEFAULT_COMPACTION_ROW_GROUP_ROWS,
        DEFAULT_COMPACTION_TARGET_FILE_SIZE,
    };
    let usage = "w3-write <w3 output dir> --out <dir>";
    let input = PathBuf::from(args.first().ok_or(usage)?);
    let out = PathBuf::from(flag(args, "--out").ok_or(usage)?);
    let (source, source_table) = engine_and_table(&input)?;
    let batches: Vec<RecordBatch> = source
        .scan(&source_table, ScanOptions::default())
        .await?
        .try_collect()
        .await?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    if out.exists() {
        std::fs::remove_dir_all(&out)?;
    }
    let (engine, table) = engine_and_table(&out)?;
    let options = WriteOptions::default()
        .with_target_file_size(Some(DEFAULT_COMPACTION_TARGET_FILE_SIZE))
        .with_max_row_group_rows(DEFAULT_COMPACTION_ROW_GROUP_ROWS)
        .with_max_buffered_bytes(DEFAULT_COMPACTION_MAX_BUFFERED_BYTES)
        .with_partition_by([
            PartitionField::column("hiveperiod"),
            PartitionField::column("district"),
        ])
        .with_sort_by(["unitno", "heartbeat"]);
    let schema = batches.first().ok_or("empty input")?.schema();
    let started = Instant::now();
    let stream = parquet_storage::RecordBatchStream::from_batches(schema, batches);
    engine.write_stream(&table, stream, options).await?;
    let seconds = started.elapsed().as_secs_f64();
    let (files, bytes) = dir_size(&out);
    println!(
        "{}",
        serde_json::json!({
            "tool": "parquet-storage write only",
            "workload": "W3",
            "rows": rows,
            "seconds": seconds,
            "files": files,
            "bytes": bytes,
        })
    );
    Ok(())
}

/// The floor of W3: every file inflated and every line parsed (serde_json, values
/// skipped), on `--threads` threads (default: the cores), nothing else.
fn w3_floor(args: &[String]) -> Result<(), Failure> {
    use std::io::Read;
    fn gz_files(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                gz_files(&path, out);
            } else if path.to_string_lossy().ends_with(".txt.gz") {
                out.push(path);
            }
        }
    }
    let root = PathBuf::from(args.first().ok_or("w3-floor <input dir> [--threads N]")?);
    let threads: usize = flag(args, "--threads").map_or_else(
        || Ok(std::thread::available_parallelism().map_or(2, usize::from)),
        |t| t.parse(),
    )?;
    let inflate_only = args.iter().any(|a| a == "--inflate-only");
    let mut files = Vec::new();
    gz_files(&root, &mut files);
    files.sort();
    let started = Instant::now();
    let next = std::sync::atomic::AtomicUsize::new(0);
    let (lines, bytes) = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| {
                    let (mut lines, mut bytes) = (0u64, 0u64);
                    let mut text = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(path) = files.get(i) else { break };
                        let raw = std::fs::read(path).expect("read");
                        text.clear();
                        flate2::read::MultiGzDecoder::new(&raw[..])
                            .read_to_end(&mut text)
                            .expect("inflate");
                        bytes += text.len() as u64;
                        for line in text.split(|b| *b == b'\n').filter(|l| !l.is_empty()) {
                            lines += 1;
                            if !inflate_only {
                                let _ = serde_json::from_slice::<serde::de::IgnoredAny>(line);
                            }
                        }
                    }
                    (lines, bytes)
                })
            })
            .collect();
        workers
            .into_iter()
            .map(|w| w.join().expect("worker"))
            .fold((0, 0), |(a, b), (c, d)| (a + c, b + d))
    });
    let seconds = started.elapsed().as_secs_f64();
    println!(
        "{}",
        serde_json::json!({
            "tool": if inflate_only { "inflate-only" } else { "inflate+parse floor" },
            "workload": "W3",
            "rows": lines,
            "seconds": seconds,
            "files": files.len(),
            "bytes_json": bytes,
            "threads": threads,
        })
    );
    Ok(())
}

/// The allocator is the service's choice, not the library's. This program is built
/// twice: `workloads` with the system allocator, and `workloads_mimalloc` (which holds
/// this file as a module) with mimalloc, which the compaction workload W3 runs
/// on. With glibc's allocator, per-thread arenas keep freed batches and W3's peak grows
/// from about 0.75 GB to 0.9–1.06 GB; on W1 and W2, mimalloc costs more than it saves.
/// The peers bring their own allocators too (jemalloc in DuckDB and polars).
#[global_allocator]
static ALLOCATOR: Chosen = Chosen;

/// Whether this build is the mimalloc one: fixed at compile time, so every pointer is
/// freed by the allocator that made it.
const MIMALLOC: bool = same(env!("CARGO_CRATE_NAME").as_bytes(), b"workloads_mimalloc");

const fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

struct Chosen;

// SAFETY: both allocators uphold `GlobalAlloc`'s contract, and `MIMALLOC` is a constant,
// so memory is always returned to the allocator that handed it out.
unsafe impl std::alloc::GlobalAlloc for Chosen {
    unsafe fn alloc(&self, layout: std::alloc::Layout) -> *mut u8 {
        if MIMALLOC {
            unsafe { mimalloc::MiMalloc.alloc(layout) }
        } else {
            unsafe { std::alloc::System.alloc(layout) }
        }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: std::alloc::Layout) {
        if MIMALLOC {
            unsafe { mimalloc::MiMalloc.dealloc(ptr, layout) }
        } else {
            unsafe { std::alloc::System.dealloc(ptr, layout) }
        }
    }
    unsafe fn alloc_zeroed(&self, layout: std::alloc::Layout) -> *mut u8 {
        if MIMALLOC {
            unsafe { mimalloc::MiMalloc.alloc_zeroed(layout) }
        } else {
            unsafe { std::alloc::System.alloc_zeroed(layout) }
        }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: std::alloc::Layout, size: usize) -> *mut u8 {
        if MIMALLOC {
            unsafe { mimalloc::MiMalloc.realloc(ptr, layout, size) }
        } else {
            unsafe { std::alloc::System.realloc(ptr, layout, size) }
        }
    }
}

pub fn main() -> Result<(), Failure> {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("w1") => runtime.block_on(w1(&args[1..])),
        Some("w2") => runtime.block_on(w2(&args[1..])),
        Some("w3") => runtime.block_on(w3(&args[1..])),
        Some("w3-floor") => w3_floor(&args[1..]),
        Some("w3-write") => runtime.block_on(w3_write(&args[1..])),
        // `cargo bench` with no arguments: nothing to measure without the shared data.
        _ => {
            eprintln!(
                "usage: workloads w1 <input.parquet> <out dir> | w2 <dataset dir> --date D --prefix P | w3 <input dir> --out <dir> | w3-floor <input dir> | w3-write <w3 output dir> --out <dir>"
            );
            Ok(())
        }
    }
}

//! The Rust side of the shared workloads W1 and W2 (`../shared/bench`): same input,
//! same output layout, one JSON line on stdout like the peer scripts print, so the
//! numbers sit in one table with pyarrow's, DuckDB's and polars'.
//!
//! ```sh
//! cargo bench --bench workloads -- w1 data/battery/battery_12m.parquet data/out/w1_rust
//! cargo bench --bench workloads -- w2 data/out/w1_pyarrow --date 2024-11-03 --prefix a
//! ```
//!
//! `benches/run_workloads.sh` runs these and the peers side by side under
//! `/usr/bin/time -v` and writes the table of docs/benchmarks.md.

use std::path::{Path, PathBuf};
use std::time::Instant;

use arrow_array::RecordBatch;
use chrono::NaiveDate;
use futures::TryStreamExt;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet_storage::filter::col;
use parquet_storage::partition::PartitionField;
use parquet_storage::{
    Compression, ObjectStoreEngine, ScanOptions, StorageEngine, TablePath, WriteOptions,
};

type Failure = Box<dyn std::error::Error>;

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
async fn w1(args: &[String]) -> Result<(), Failure> {
    let input = PathBuf::from(args.first().ok_or("w1 <input.parquet> <out dir>")?);
    let out = PathBuf::from(args.get(1).ok_or("w1 <input.parquet> <out dir>")?);
    let level: i32 = flag(args, "--zstd-level").map_or(Ok(1), |l| l.parse())?;
    let plain_strings = args.iter().any(|a| a == "--plain-strings");

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
    let receipt = engine.write_stream(&table, stream, options).await?;
    let seconds = started.elapsed().as_secs_f64();
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

fn main() -> Result<(), Failure> {
    let args = args();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    match args.first().map(String::as_str) {
        Some("w1") => runtime.block_on(w1(&args[1..])),
        Some("w2") => runtime.block_on(w2(&args[1..])),
        // `cargo bench` with no arguments: nothing to measure without the shared data.
        _ => {
            eprintln!(
                "usage: workloads w1 <input.parquet> <out dir> | w2 <dataset dir> --date D --prefix P"
            );
            Ok(())
        }
    }
}

//! Writes a few thousand rows of UPS battery telemetry to `./data` (the local backend),
//! reads them back, and says what it did.
//!
//! ```sh
//! cargo run --example quickstart            # or: -- s3://bucket/prefix, memory://, /some/dir
//! ```

use std::sync::Arc;
use std::time::Instant;

use arrow_array::{Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use arrow_schema::{DataType, Field, Schema, TimeUnit};
use futures::TryStreamExt;
use parquet_storage::{
    ObjectStoreEngine, ScanOptions, StorageEngine, StorageEngineExt, TablePath, WriteOptions,
};

const BATTERIES: usize = 40;
const READINGS: usize = 100; // one a minute

/// `BATTERIES × READINGS` rows: one string of 40 batteries, sampled every minute.
fn telemetry() -> Result<RecordBatch, arrow_schema::ArrowError> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("battery_id", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("voltage", DataType::Float64, true),
        Field::new("temperature", DataType::Float64, true),
        Field::new("soc", DataType::Float64, true),
    ]));
    let start = 1_730_592_000_000_000i64; // 2024-11-03T00:00:00Z
    let rows = BATTERIES * READINGS;
    let battery = |i: usize| i % BATTERIES;
    let minute = |i: usize| (i / BATTERIES) as f64;
    let ids: Vec<String> = (0..rows)
        .map(|i| format!("battery-{:02}", battery(i)))
        .collect();
    let ts: Vec<i64> = (0..rows)
        .map(|i| start + (i / BATTERIES) as i64 * 60_000_000)
        .collect();
    let voltage: Vec<f64> = (0..rows)
        .map(|i| 13.5 - 0.01 * battery(i) as f64 + 0.002 * (minute(i) / 7.0).sin())
        .collect();
    let temperature: Vec<f64> = (0..rows).map(|i| 21.0 + (minute(i) / 30.0).sin()).collect();
    let soc: Vec<f64> = (0..rows).map(|i| 100.0 - 0.05 * minute(i)).collect();
    RecordBatch::try_new(
        schema,
        vec![
            Arc::new(StringArray::from(ids)),
            Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
            Arc::new(Float64Array::from(voltage)),
            Arc::new(Float64Array::from(temperature)),
            Arc::new(Float64Array::from(soc)),
        ],
    )
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./data".to_string());
    let engine: Arc<dyn StorageEngine> = Arc::new(ObjectStoreEngine::from_url(&url)?);
    let table = TablePath::new("quickstart/battery_telemetry")?;
    let batch = telemetry()?;

    let started = Instant::now();
    let receipt = engine
        .write_batch(&table, batch, WriteOptions::default())
        .await?;
    let wrote = started.elapsed();
    for file in &receipt.files {
        println!(
            "wrote {} ({} rows, {} bytes)",
            file.path, file.rows, file.bytes
        );
    }
    println!(
        "write: {} rows, {} bytes in {wrote:.2?} to {engine}",
        receipt.rows, receipt.bytes
    );

    let files = engine.list_files(&table).await?;
    let bytes: u64 = files.iter().map(|f| f.size).sum();
    println!("table {table}: {} files, {bytes} bytes", files.len());

    let started = Instant::now();
    let stream = engine.scan(&table, ScanOptions::default()).await?;
    let batches: Vec<RecordBatch> = stream.try_collect().await?;
    let rows: usize = batches.iter().map(RecordBatch::num_rows).sum();
    println!(
        "read: {rows} rows in {} batches in {:.2?}",
        batches.len(),
        started.elapsed()
    );

    let started = Instant::now();
    let voltages = engine
        .read_all(
            &table,
            ScanOptions::default().with_projection(["battery_id", "voltage"]),
        )
        .await?;
    let projected: usize = voltages.iter().map(RecordBatch::num_rows).sum();
    println!(
        "read (battery_id, voltage only): {projected} rows in {:.2?}",
        started.elapsed()
    );
    Ok(())
}

//! Write and scan throughput of the engine, on memory and on local disk.
//!
//! `cargo bench --bench engine`. Peer comparisons (pyarrow, DuckDB, polars) live in the
//! workload programs that match ../shared/bench, not here: this bench tracks the engine
//! against itself from change to change.

use std::sync::Arc;

use arrow_array::{Float64Array, RecordBatch, StringArray, TimestampMicrosecondArray};
use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use futures::TryStreamExt;
use parquet_storage::{
    Compression, ObjectStoreEngine, ScanOptions, StorageEngine, StorageEngineExt, TablePath,
    WriteOptions,
};

const ROWS: usize = 200_000;

fn telemetry(rows: usize) -> RecordBatch {
    let ids: Vec<String> = (0..rows)
        .map(|i| format!("battery-{:04}", i % 1280))
        .collect();
    let ts: Vec<i64> = (0..rows)
        .map(|i| 1_730_592_000_000_000 + (i / 1280) as i64 * 60_000_000)
        .collect();
    let voltage: Vec<f64> = (0..rows)
        .map(|i| 13.5 - (i % 997) as f64 / 10_000.0)
        .collect();
    let current: Vec<f64> = (0..rows)
        .map(|i| ((i * 7919) % 2000) as f64 / 100.0 - 10.0)
        .collect();
    RecordBatch::try_from_iter([
        ("battery_id", Arc::new(StringArray::from(ids)) as _),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")) as _,
        ),
        ("voltage", Arc::new(Float64Array::from(voltage)) as _),
        ("current", Arc::new(Float64Array::from(current)) as _),
    ])
    .expect("valid batch")
}

fn backends(dir: &std::path::Path) -> Vec<(&'static str, ObjectStoreEngine)> {
    vec![
        ("memory", ObjectStoreEngine::memory()),
        ("local", ObjectStoreEngine::local(dir).expect("temp dir")),
    ]
}

fn bench(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("runtime");
    let dir = tempfile::tempdir().expect("temp dir");
    let batch = telemetry(ROWS);
    let bytes = batch.get_array_memory_size() as u64;

    let mut write = c.benchmark_group("write");
    write.throughput(Throughput::Bytes(bytes)).sample_size(10);
    for (name, engine) in backends(dir.path()) {
        for (codec, compression) in [
            ("zstd3", Compression::default()),
            ("snappy", Compression::Snappy),
        ] {
            let table = TablePath::new(&format!("bench_write_{codec}")).expect("table");
            write.bench_function(BenchmarkId::new(name, codec), |b| {
                b.to_async(&runtime).iter(|| async {
                    let options = WriteOptions::default().with_compression(compression);
                    engine
                        .write_batch(&table, batch.clone(), options)
                        .await
                        .expect("write")
                })
            });
        }
    }
    write.finish();

    let mut scan = c.benchmark_group("scan");
    scan.throughput(Throughput::Bytes(bytes)).sample_size(10);
    for (name, engine) in backends(dir.path()) {
        let table = TablePath::new("bench_scan").expect("table");
        runtime
            .block_on(engine.write_batch(&table, batch.clone(), WriteOptions::default()))
            .expect("write");
        scan.bench_function(BenchmarkId::new(name, "all_columns"), |b| {
            b.to_async(&runtime).iter(|| async {
                let stream = engine
                    .scan(&table, ScanOptions::default())
                    .await
                    .expect("scan");
                stream.try_collect::<Vec<_>>().await.expect("read")
            })
        });
        scan.bench_function(BenchmarkId::new(name, "one_column"), |b| {
            b.to_async(&runtime).iter(|| async {
                let options = ScanOptions::default().with_projection(["voltage"]);
                engine.read_all(&table, options).await.expect("read")
            })
        });
    }
    scan.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);

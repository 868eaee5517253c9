//! Data and helpers that the checks of several modules share.

use std::sync::Arc;

use arrow_array::{
    ArrayRef, Float32Array, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use futures::TryStreamExt;
use object_store::ObjectStoreExt;
use parquet_storage::{
    Compression, ScanOptions, StorageEngine, StorageEngineExt, TablePath, WriteOptions,
    WriteReceipt,
};

use crate::support::Backend;

// ---------------------------------------------------------------------------------------
// data

pub fn telemetry_schema() -> SchemaRef {
    Arc::new(Schema::new(vec![
        Field::new("battery_id", DataType::Utf8, false),
        Field::new(
            "ts",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            false,
        ),
        Field::new("voltage", DataType::Float64, true),
        Field::new("temperature", DataType::Float32, true),
        Field::new("cycles", DataType::Int64, false),
    ]))
}

/// `rows` rows of battery telemetry; `first` offsets the row numbers so batches differ.
pub fn telemetry(first: usize, rows: usize) -> RecordBatch {
    let ids: Vec<String> = (first..first + rows)
        .map(|i| format!("battery-{:03}", i % 40))
        .collect();
    let ts: Vec<i64> = (first..first + rows)
        .map(|i| 1_730_592_000_000_000 + i as i64 * 60_000_000)
        .collect();
    let voltage: Vec<Option<f64>> = (first..first + rows)
        .map(|i| (i % 17 != 0).then(|| 13.5 - (i % 100) as f64 / 1000.0))
        .collect();
    let temperature: Vec<Option<f32>> = (first..first + rows)
        .map(|i| (i % 23 != 0).then_some(20.0 + (i % 10) as f32))
        .collect();
    let cycles: Vec<i64> = (first..first + rows).map(|i| i as i64).collect();
    RecordBatch::try_new(
        telemetry_schema(),
        vec![
            Arc::new(StringArray::from(ids)),
            Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")),
            Arc::new(Float64Array::from(voltage)),
            Arc::new(Float32Array::from(temperature)),
            Arc::new(Int64Array::from(cycles)),
        ],
    )
    .unwrap()
}

/// About 8 bytes a row of incompressible data, for files large enough to need parts.
pub fn noise(rows: usize, seed: u64) -> RecordBatch {
    let mut x = seed
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    let values: Vec<i64> = (0..rows)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x as i64
        })
        .collect();
    RecordBatch::try_from_iter([("noise", Arc::new(Int64Array::from(values)) as ArrayRef)]).unwrap()
}

/// Options for a file that exceeds one 5 MiB part: no compression or dictionary.
pub fn large_file_options() -> WriteOptions {
    WriteOptions::default()
        .with_compression(Compression::None)
        .with_dictionary(false)
        .with_max_row_group_rows(200_000)
        .with_upload_part_size(parquet_storage::MIN_UPLOAD_PART_SIZE)
}

pub const LARGE_ROWS: usize = 1_600_000; // ~12.8 MB: three parts

pub fn concat(batches: &[RecordBatch], schema: &SchemaRef) -> RecordBatch {
    arrow_select::concat::concat_batches(schema, batches).unwrap()
}

/// Asserts that two batches hold the same columns: names, types, nullability and values.
pub fn assert_same_data(expected: &RecordBatch, found: &RecordBatch) {
    assert_eq!(expected.num_rows(), found.num_rows(), "row count");
    assert_eq!(expected.num_columns(), found.num_columns(), "column count");
    for (e, f) in expected
        .schema()
        .fields()
        .iter()
        .zip(found.schema().fields())
    {
        assert_eq!(
            (e.name(), e.data_type(), e.is_nullable()),
            (f.name(), f.data_type(), f.is_nullable())
        );
    }
    for i in 0..expected.num_columns() {
        assert_eq!(
            expected.column(i).as_ref(),
            found.column(i).as_ref(),
            "column {}",
            expected.schema().field(i).name()
        );
    }
}

/// Writes one batch with default options.
pub async fn write(
    engine: &dyn StorageEngine,
    table: &TablePath,
    batch: RecordBatch,
) -> WriteReceipt {
    engine
        .write_batch(table, batch, WriteOptions::default())
        .await
        .unwrap()
}

/// The paths `list_files` returns.
pub async fn listed(engine: &dyn StorageEngine, table: &TablePath) -> Vec<String> {
    let files = engine.list_files(table).await.unwrap();
    files.into_iter().map(|f| f.path).collect()
}

/// Scans and collects, with the error of either step.
pub async fn try_scan(
    engine: &dyn StorageEngine,
    table: &TablePath,
    options: ScanOptions,
) -> parquet_storage::Result<Vec<RecordBatch>> {
    engine.scan(table, options).await?.try_collect().await
}

/// The bytes of the stored file at `path`, read past the engine.
pub async fn stored_bytes(b: &Backend, path: &str) -> bytes::Bytes {
    (b.store().get(&object_store::path::Path::from(path)).await)
        .unwrap()
        .bytes()
        .await
        .unwrap()
}

pub async fn read_table(engine: &dyn StorageEngine, table: &TablePath) -> RecordBatch {
    let stream = engine.scan(table, ScanOptions::default()).await.unwrap();
    let schema = stream.schema();
    let batches: Vec<RecordBatch> = stream.try_collect().await.unwrap();
    concat(&batches, &schema)
}

pub async fn write_with(
    engine: &dyn StorageEngine,
    t: &TablePath,
    batch: RecordBatch,
    options: WriteOptions,
) -> WriteReceipt {
    engine.write_batch(t, batch, options).await.unwrap()
}

// ---------------------------------------------------------------------------------------
// partitioning and filters

/// Partition values that have broken readers and writers before.
pub const HOSTILE: [&str; 14] = [
    "north",
    "",
    "__HIVE_DEFAULT_PARTITION__",
    "a/b",
    "..",
    ".",
    "50%",
    "x=y",
    "Zürich west",
    "back\\slash",
    "tab\there",
    "/abs",
    "%2F",
    "😀",
];

pub fn hostile_rows(rows: usize, seed: u64) -> RecordBatch {
    let mut x = seed.wrapping_mul(6364136223846793005).wrapping_add(1);
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    let keys: Vec<Option<&str>> = (0..rows)
        .map(|_| {
            let r = next() as usize % (HOSTILE.len() + 1);
            HOSTILE.get(r).copied()
        })
        .collect();
    let ns: Vec<Option<i32>> = (0..rows)
        .map(|_| (next() % 5 != 0).then(|| (next() % 4) as i32))
        .collect();
    let ts: Vec<i64> = (0..rows)
        .map(|_| 1_730_592_000_000_000 + (next() % (3 * 86_400)) as i64 * 1_000_000)
        .collect();
    // Now and then NaN, which Parquet statistics leave out.
    let vs: Vec<Option<f64>> = (0..rows)
        .map(|_| {
            (next() % 7 != 0).then(|| match next() % 1000 {
                999 => f64::NAN,
                v => v as f64 / 10.0,
            })
        })
        .collect();
    RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from((0..rows as i64).collect::<Vec<_>>())) as ArrayRef,
        ),
        ("key", Arc::new(StringArray::from(keys)) as _),
        ("n", Arc::new(Int32Array::from(ns)) as _),
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(ts).with_timezone("UTC")) as _,
        ),
        ("v", Arc::new(Float64Array::from(vs)) as _),
    ])
    .unwrap()
}

/// Sorts a batch by its `id` column.
pub fn by_id(batch: &RecordBatch) -> RecordBatch {
    let ids = batch.column_by_name("id").unwrap();
    let order = arrow_ord::sort::sort_to_indices(ids, None, None).unwrap();
    arrow_select::take::take_record_batch(batch, &order).unwrap()
}

//! Writes: round trips, options, naming, immutability, large (multipart) files,
//! partitioned writes and sorted writes.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::builder::{Int32Builder, ListBuilder, StringBuilder};
use arrow_array::types::Int64Type;
use arrow_array::{
    ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array, Float64Array,
    Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray, ListArray, RecordBatch,
    StringArray, TimestampMicrosecondArray, TimestampMillisecondArray, TimestampNanosecondArray,
    UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use futures::StreamExt;
use parquet_storage::filter::col;
use parquet_storage::partition::{PartitionField, Zone};
use parquet_storage::{
    Compression, Error, FileName, ObjectStoreEngine, RecordBatchStream, ScanOptions,
    StatisticsLevel, StorageEngine, StorageEngineExt, WriteOptions,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{
    LARGE_ROWS, assert_same_data, by_id, concat, hostile_rows, large_file_options, noise,
    read_table, stored_bytes, telemetry, telemetry_schema, write,
};
use crate::per_backend;
use crate::support::faulty::FaultyStore;
use crate::support::{Backend, Kind, cells, table};

per_backend!(
    write_then_scan_round_trips,
    several_batches_make_one_file,
    empty_write_writes_nothing,
    write_options_are_applied,
    invalid_options_are_rejected,
    second_create_of_a_name_fails,
    large_file_streams_in_parts,
    arbitrary_batches_round_trip,
    partitioned_writes_lay_out_hive_directories,
);

/// The batches of row group `g` of a Parquet file.
fn row_group(bytes: &bytes::Bytes, g: usize) -> Vec<RecordBatch> {
    parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(bytes.clone())
        .unwrap()
        .with_row_groups(vec![g])
        .build()
        .unwrap()
        .map(Result::unwrap)
        .collect()
}

// ---------------------------------------------------------------------------------------
// checks

async fn write_then_scan_round_trips(b: &Backend) {
    let engine: Arc<dyn StorageEngine> = Arc::new(b.engine.clone());
    let t = table("battery/telemetry");
    let batch = telemetry(0, 3000);
    let receipt = engine
        .write_batch(&t, batch.clone(), WriteOptions::default())
        .await
        .unwrap();
    assert_eq!(receipt.rows, 3000);
    assert_eq!(receipt.files.len(), 1);

    let files = engine.list_files(&t).await.unwrap();
    assert_eq!(files.len(), 1);
    assert_eq!(files[0].path, receipt.files[0].path);
    assert_eq!(files[0].size, receipt.bytes);
    let name: FileName = files[0].path.rsplit('/').next().unwrap().parse().unwrap();
    assert_eq!(name.stem(), "telemetry");
    assert!(files[0].path.starts_with("battery/telemetry/telemetry_"));

    let meta = engine.file_metadata(&files[0].path).await.unwrap();
    assert_eq!(
        (meta.rows, meta.row_groups, meta.size),
        (3000, 1, receipt.bytes)
    );
    assert_eq!(meta.schema.fields(), telemetry_schema().fields());
    assert_eq!(
        meta.key_value
            .get(parquet_storage::METADATA_WRITER_KEY)
            .map(String::as_str),
        Some("parquet-storage")
    );
    assert_eq!(
        meta.key_value
            .get(parquet_storage::METADATA_VERSION_KEY)
            .map(String::as_str),
        Some(env!("CARGO_PKG_VERSION"))
    );

    assert_same_data(&batch, &read_table(engine.as_ref(), &t).await);

    // A second write adds a second file; the scan returns both, oldest first.
    let second = telemetry(3000, 500);
    engine
        .write_batch(&t, second.clone(), WriteOptions::default())
        .await
        .unwrap();
    assert_eq!(engine.list_files(&t).await.unwrap().len(), 2);
    let all = read_table(engine.as_ref(), &t).await;
    assert_same_data(&concat(&[batch, second], &telemetry_schema()), &all);
}

async fn several_batches_make_one_file(b: &Backend) {
    let t = table("many");
    let batches: Vec<RecordBatch> = (0..5).map(|i| telemetry(i * 10, 10)).collect();
    let receipt = b
        .engine
        .write_batches(&t, batches.clone(), WriteOptions::default())
        .await
        .unwrap();
    assert_eq!((receipt.files.len(), receipt.rows), (1, 50));

    // The same through a stream.
    let t2 = table("streamed");
    let stream = RecordBatchStream::new(
        telemetry_schema(),
        futures::stream::iter(batches.clone()).map(Ok),
    );
    b.engine
        .write_stream(&t2, stream, WriteOptions::default())
        .await
        .unwrap();
    let expected = concat(&batches, &telemetry_schema());
    assert_same_data(&expected, &read_table(&b.engine, &t).await);
    assert_same_data(&expected, &read_table(&b.engine, &t2).await);
}

async fn empty_write_writes_nothing(b: &Backend) {
    let t = table("empty");
    let receipt = write(&b.engine, &t, telemetry(0, 0)).await;
    assert!(receipt.files.is_empty());
    assert_eq!(receipt.rows, 0);
    let receipt = b
        .engine
        .write_batches(&t, vec![], WriteOptions::default())
        .await
        .unwrap();
    assert!(receipt.files.is_empty());
    assert!(b.engine.list_files(&t).await.unwrap().is_empty());
    assert!(b.raw_listing(&t).await.is_empty());
    let err = b.engine.scan(&t, ScanOptions::default()).await.unwrap_err();
    assert!(
        matches!(&err, Error::TableNotFound { table, .. } if table == "empty"),
        "{err:?}"
    );
    assert!(err.is_not_found());
}

async fn write_options_are_applied(b: &Backend) {
    let batch = telemetry(0, 1000);
    for (i, compression) in [
        Compression::Zstd(1),
        Compression::Zstd(19),
        Compression::Snappy,
        Compression::Gzip(9),
        Compression::Lz4,
        Compression::None,
    ]
    .into_iter()
    .enumerate()
    {
        let t = table(&format!("codec{i}"));
        let options = WriteOptions::default()
            .with_compression(compression)
            .with_max_row_group_rows(300)
            .with_statistics(StatisticsLevel::Chunk)
            .with_dictionary(i % 2 == 0)
            .with_stem("custom-stem");
        let receipt = b
            .engine
            .write_batch(&t, batch.clone(), options)
            .await
            .unwrap();
        let path = &receipt.files[0].path;
        assert!(
            path.starts_with(&format!("codec{i}/custom-stem_")),
            "{path}"
        );
        let meta = b.engine.file_metadata(path).await.unwrap();
        assert_eq!(meta.row_groups, 4, "{compression:?}"); // 300 + 300 + 300 + 100
        assert_same_data(&batch, &read_table(&b.engine, &t).await);
    }
}

async fn invalid_options_are_rejected(b: &Backend) {
    let t = table("bad_options");
    let batch = telemetry(0, 10);
    for options in [
        WriteOptions::default().with_compression(Compression::Zstd(99)),
        WriteOptions::default().with_compression(Compression::Gzip(42)),
        WriteOptions::default().with_upload_part_size(1024),
        WriteOptions::default().with_max_row_group_rows(0),
        WriteOptions::default().with_upload_concurrency(0),
    ] {
        let err = b
            .engine
            .write_batch(&t, batch.clone(), options)
            .await
            .unwrap_err();
        assert!(matches!(err, Error::Config { .. }), "{err:?}");
    }
    assert!(b.raw_listing(&t).await.is_empty());
    write(&b.engine, &t, batch).await;
    let err = b
        .engine
        .scan(
            &t,
            ScanOptions::default().with_projection(["voltage", "voltage"]),
        )
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Config { .. }), "{err:?}");
}

async fn second_create_of_a_name_fails(b: &Backend) {
    for (label, batch, options) in [
        ("small", telemetry(0, 100), WriteOptions::default()),
        ("large", noise(LARGE_ROWS, 1), large_file_options()),
    ] {
        let t = table(&format!("immutable_{label}"));
        let name = FileName::generate("fixed").unwrap();
        let options = options.with_file_name(name.clone());
        let first = b
            .engine
            .write_batch(&t, batch.clone(), options.clone())
            .await
            .unwrap();
        assert_eq!(first.files[0].path, format!("{t}/{name}"));

        let replacement = match label {
            "small" => telemetry(5000, 7),
            _ => noise(LARGE_ROWS, 2),
        };
        let err = b
            .engine
            .write_batch(&t, replacement.clone(), options.clone())
            .await
            .unwrap_err();
        match &err {
            Error::AlreadyExists { path, .. } => assert_eq!(path, &first.files[0].path),
            other => panic!("{label}: expected AlreadyExists, got {other:?}"),
        }
        // The original is intact and nothing else is visible or left over.
        assert_same_data(&batch, &read_table(&b.engine, &t).await);
        assert_eq!(
            b.raw_listing(&t).await,
            vec![first.files[0].path.clone()],
            "{label}"
        );

        // Replacing takes an explicit overwrite.
        b.engine
            .write_batch(&t, replacement.clone(), options.with_overwrite(true))
            .await
            .unwrap();
        assert_same_data(&replacement, &read_table(&b.engine, &t).await);
        assert_eq!(
            b.raw_listing(&t).await,
            vec![first.files[0].path.clone()],
            "{label}"
        );
    }
}

async fn large_file_streams_in_parts(b: &Backend) {
    let t = table("large");
    let batch = noise(LARGE_ROWS, 7);
    // Watch the parts go by: one in flight at a time, so at most one part's bytes.
    let watcher = Arc::new(FaultyStore::new(b.store(), 0));
    let engine = b.engine_over(|_| Arc::clone(&watcher) as _);
    let options = large_file_options().with_upload_concurrency(1);
    let receipt = engine
        .write_batch(&t, batch.clone(), options)
        .await
        .unwrap();
    let part = parquet_storage::MIN_UPLOAD_PART_SIZE;
    assert!(receipt.bytes > 2 * part as u64, "{receipt:?}");
    assert_eq!(watcher.parts(), (receipt.bytes as usize).div_ceil(part));
    assert!(
        watcher.max_part_bytes_in_flight() <= part,
        "{} bytes of parts in flight",
        watcher.max_part_bytes_in_flight()
    );
    // Only the published file remains: the staging key is gone.
    assert_eq!(b.raw_listing(&t).await, vec![receipt.files[0].path.clone()]);
    let meta = b
        .engine
        .file_metadata(&receipt.files[0].path)
        .await
        .unwrap();
    assert_eq!((meta.rows, meta.row_groups), (LARGE_ROWS as u64, 8));
    assert_same_data(&batch, &read_table(&b.engine, &t).await);
}

// ---------------------------------------------------------------------------------------
// partitioning

async fn partitioned_writes_lay_out_hive_directories(b: &Backend) {
    let t = table("hive");
    let batch = hostile_rows(400, 1);
    let options = WriteOptions::default().with_partition_by([
        PartitionField::day("day", "ts").in_zone(Zone::hours(8).unwrap()),
        PartitionField::column("key"),
    ]);
    let receipt = b
        .engine
        .write_batch(&t, batch.clone(), options)
        .await
        .unwrap();
    let files = b.engine.list_files(&t).await.unwrap();
    assert_eq!(files.len(), receipt.files.len());
    for file in &files {
        // Exactly two directory levels, each key=value, under the table.
        let rel = file.path.strip_prefix("hive/").unwrap();
        assert_eq!(rel.matches('/').count(), 2, "{rel}");
        assert!(rel.starts_with("day=20"), "{rel}");
        assert_eq!(file.partition_values.len(), 2);
        assert_eq!(file.partition_values[1].0, "key");
    }
    let nulls = files
        .iter()
        .filter(|f| f.partition_values[1].1.is_none())
        .count();
    let empties = files
        .iter()
        .filter(|f| f.partition_values[1].1.as_deref() == Some(""))
        .count();
    let literal = files
        .iter()
        .filter(|f| f.partition_values[1].1.as_deref() == Some("__HIVE_DEFAULT_PARTITION__"))
        .count();
    assert!(
        nulls > 0 && empties > 0 && literal > 0,
        "{nulls} {empties} {literal}"
    );

    // Everything comes back, with typed partition columns; the key column left the files.
    let read = concat(
        &b.engine.read_all(&t, ScanOptions::default()).await.unwrap(),
        &b.engine
            .scan(&t, ScanOptions::default())
            .await
            .unwrap()
            .schema(),
    );
    let schema = read.schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["id", "n", "ts", "v", "day", "key"]);
    assert_eq!(read.schema().field(4).data_type(), &DataType::Date32);
    let read = by_id(&read);
    let expected = batch.project(&[0, 2, 3, 4, 1]).unwrap();
    for (i, name) in ["id", "n", "ts", "v", "key"].iter().enumerate() {
        assert_eq!(
            expected.column(i).as_ref(),
            read.column_by_name(name).unwrap().as_ref(),
            "{name}"
        );
    }
}

/// The bound is the engine's own accounting, the same on every backend, so ten
/// thousand files are written once, in memory, to keep the suite quick.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ten_thousand_partitions_stay_within_the_memory_budget() {
    let b = &Backend::start(Kind::Memory).await;
    let t = table("many_partitions");
    let rows = 30_000usize;
    let keys: Vec<i64> = (0..rows as i64).map(|i| i % 10_000).collect();
    let batch = RecordBatch::try_from_iter([
        ("key", Arc::new(Int64Array::from(keys)) as ArrayRef),
        (
            "v",
            Arc::new(Float64Array::from(
                (0..rows).map(|i| i as f64).collect::<Vec<_>>(),
            )) as _,
        ),
    ])
    .unwrap();
    let budget = 2 * 1024 * 1024;
    let options = WriteOptions::default()
        .with_partition_by([PartitionField::column("key")])
        .with_max_open_files(64)
        .with_max_buffered_bytes(budget);
    // Three batches, each touching every partition: files roll as writers are closed.
    let stream = RecordBatchStream::from_batches(
        batch.schema(),
        (0..3).map(|i| batch.slice(i * 10_000, 10_000)).collect(),
    );
    let receipt = b.engine.write_stream(&t, stream, options).await.unwrap();
    assert_eq!(receipt.rows, rows as u64);
    assert!(
        receipt.files.len() >= 10_000,
        "{} files",
        receipt.files.len()
    );
    // The stated bound: the budget, plus what one partition's slice adds before the
    // writer that pushed it over is closed.
    let one_slice = 64 * 1024; // one row of one partition, encoded, with writer overhead
    assert!(
        receipt.peak_buffered_bytes <= (budget + one_slice) as u64,
        "peak {} bytes over the {budget}-byte budget",
        receipt.peak_buffered_bytes
    );
    assert!(receipt.peak_buffered_bytes > 0);
    let some = b
        .engine
        .read_all(&t, ScanOptions::default().with_filter(col("key").eq(1234)))
        .await
        .unwrap();
    let v: Vec<f64> = some
        .iter()
        .flat_map(|b| {
            b.column_by_name("v")
                .unwrap()
                .as_any()
                .downcast_ref::<Float64Array>()
                .unwrap()
                .values()
                .to_vec()
        })
        .collect();
    let mut v = v;
    v.sort_by(f64::total_cmp);
    assert_eq!(v, vec![1234.0, 11234.0, 21234.0]);
}

// ---------------------------------------------------------------------------------------
// property: arbitrary batches round-trip

#[derive(Debug, Clone, Copy)]
enum Kind2 {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    Utf8,
    LargeUtf8,
    Binary,
    Date32,
    TsMillisUtc,
    TsMicros,
    TsNanosUtc,
    Decimal,
    ListI64,
    ListUtf8,
    ListListI32,
}

const KINDS: [Kind2; 22] = [
    Kind2::Bool,
    Kind2::I8,
    Kind2::I16,
    Kind2::I32,
    Kind2::I64,
    Kind2::U8,
    Kind2::U16,
    Kind2::U32,
    Kind2::U64,
    Kind2::F32,
    Kind2::F64,
    Kind2::Utf8,
    Kind2::LargeUtf8,
    Kind2::Binary,
    Kind2::Date32,
    Kind2::TsMillisUtc,
    Kind2::TsMicros,
    Kind2::TsNanosUtc,
    Kind2::Decimal,
    Kind2::ListI64,
    Kind2::ListUtf8,
    Kind2::ListListI32,
];

fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), "[a-zé😀 /=%\\\\]{0,12}"]
}

fn column(kind: Kind2, nullable: bool, rows: usize) -> BoxedStrategy<ArrayRef> {
    macro_rules! prim {
        ($values:expr, $array:ty) => {
            cells($values, nullable, rows)
                .prop_map(|v| Arc::new(<$array>::from(v)) as ArrayRef)
                .boxed()
        };
    }
    match kind {
        Kind2::Bool => prim!(any::<bool>(), BooleanArray),
        Kind2::I8 => prim!(any::<i8>(), Int8Array),
        Kind2::I16 => prim!(any::<i16>(), Int16Array),
        Kind2::I32 => prim!(any::<i32>(), Int32Array),
        Kind2::I64 => prim!(any::<i64>(), Int64Array),
        Kind2::U8 => prim!(any::<u8>(), UInt8Array),
        Kind2::U16 => prim!(any::<u16>(), UInt16Array),
        Kind2::U32 => prim!(any::<u32>(), UInt32Array),
        Kind2::U64 => prim!(any::<u64>(), UInt64Array),
        Kind2::F32 => prim!(any::<f32>(), Float32Array),
        Kind2::F64 => prim!(any::<f64>(), Float64Array),
        Kind2::Utf8 => prim!(text(), StringArray),
        Kind2::LargeUtf8 => prim!(text(), LargeStringArray),
        Kind2::Binary => cells(
            proptest::collection::vec(any::<u8>(), 0..16),
            nullable,
            rows,
        )
        .prop_map(|v| Arc::new(BinaryArray::from_iter(v.iter().map(|x| x.as_deref()))) as ArrayRef)
        .boxed(),
        Kind2::Date32 => prim!(-1_000_000i32..1_000_000, Date32Array),
        Kind2::TsMillisUtc => cells(any::<i64>(), nullable, rows)
            .prop_map(|v| {
                Arc::new(TimestampMillisecondArray::from(v).with_timezone("UTC")) as ArrayRef
            })
            .boxed(),
        Kind2::TsMicros => prim!(any::<i64>(), TimestampMicrosecondArray),
        Kind2::TsNanosUtc => cells(any::<i64>(), nullable, rows)
            .prop_map(|v| {
                Arc::new(TimestampNanosecondArray::from(v).with_timezone("UTC")) as ArrayRef
            })
            .boxed(),
        Kind2::Decimal => cells(-9_999_999_999i128..=9_999_999_999, nullable, rows)
            .prop_map(|v| {
                Arc::new(
                    Decimal128Array::from(v)
                        .with_precision_and_scale(10, 2)
                        .unwrap(),
                ) as ArrayRef
            })
            .boxed(),
        Kind2::ListI64 => cells(
            proptest::collection::vec(proptest::option::of(any::<i64>()), 0..5),
            nullable,
            rows,
        )
        .prop_map(|v| Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(v)) as ArrayRef)
        .boxed(),
        Kind2::ListUtf8 => cells(
            proptest::collection::vec(proptest::option::of(text()), 0..4),
            nullable,
            rows,
        )
        .prop_map(|v| {
            let mut builder = ListBuilder::new(StringBuilder::new());
            for row in v {
                match row {
                    Some(items) => {
                        for item in items {
                            builder.values().append_option(item);
                        }
                        builder.append(true);
                    }
                    None => builder.append(false),
                }
            }
            Arc::new(builder.finish()) as ArrayRef
        })
        .boxed(),
        Kind2::ListListI32 => cells(
            proptest::collection::vec(
                proptest::option::of(proptest::collection::vec(
                    proptest::option::of(any::<i32>()),
                    0..3,
                )),
                0..3,
            ),
            nullable,
            rows,
        )
        .prop_map(|v| {
            let mut builder = ListBuilder::new(ListBuilder::new(Int32Builder::new()));
            for row in v {
                match row {
                    Some(lists) => {
                        for list in lists {
                            match list {
                                Some(items) => {
                                    for item in items {
                                        builder.values().values().append_option(item);
                                    }
                                    builder.values().append(true);
                                }
                                None => builder.values().append(false),
                            }
                        }
                        builder.append(true);
                    }
                    None => builder.append(false),
                }
            }
            Arc::new(builder.finish()) as ArrayRef
        })
        .boxed(),
    }
}

fn data_type(kind: Kind2) -> DataType {
    let item = |t: DataType| Arc::new(Field::new("item", t, true));
    match kind {
        Kind2::Bool => DataType::Boolean,
        Kind2::I8 => DataType::Int8,
        Kind2::I16 => DataType::Int16,
        Kind2::I32 => DataType::Int32,
        Kind2::I64 => DataType::Int64,
        Kind2::U8 => DataType::UInt8,
        Kind2::U16 => DataType::UInt16,
        Kind2::U32 => DataType::UInt32,
        Kind2::U64 => DataType::UInt64,
        Kind2::F32 => DataType::Float32,
        Kind2::F64 => DataType::Float64,
        Kind2::Utf8 => DataType::Utf8,
        Kind2::LargeUtf8 => DataType::LargeUtf8,
        Kind2::Binary => DataType::Binary,
        Kind2::Date32 => DataType::Date32,
        Kind2::TsMillisUtc => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        Kind2::TsMicros => DataType::Timestamp(TimeUnit::Microsecond, None),
        Kind2::TsNanosUtc => DataType::Timestamp(TimeUnit::Nanosecond, Some("UTC".into())),
        Kind2::Decimal => DataType::Decimal128(10, 2),
        Kind2::ListI64 => DataType::List(item(DataType::Int64)),
        Kind2::ListUtf8 => DataType::List(item(DataType::Utf8)),
        Kind2::ListListI32 => DataType::List(item(DataType::List(item(DataType::Int32)))),
    }
}

/// A random schema (1–6 columns) and 0–3 batches of 0–40 rows each.
fn arbitrary_batches() -> impl Strategy<Value = (SchemaRef, Vec<RecordBatch>)> {
    let columns = proptest::collection::vec(
        (
            proptest::sample::select(KINDS.to_vec()),
            any::<bool>(),
            "[a-zA-Zü€😀 _]{1,5}",
        ),
        1..=6,
    );
    let batch_rows = proptest::collection::vec(0usize..40, 0..=3);
    (columns, batch_rows).prop_flat_map(|(columns, batch_rows)| {
        let batches: Vec<_> = batch_rows
            .iter()
            .map(|&rows| {
                columns
                    .iter()
                    .map(|&(kind, nullable, _)| column(kind, nullable, rows))
                    .collect::<Vec<_>>()
            })
            .collect();
        let columns = columns.clone();
        batches.prop_map(move |arrays| {
            let fields: Vec<Field> = columns
                .iter()
                .enumerate()
                .map(|(i, (kind, nullable, name))| {
                    Field::new(format!("{name}{i}"), data_type(*kind), *nullable)
                })
                .collect();
            let schema = Arc::new(Schema::new(fields));
            let batches = arrays
                .into_iter()
                .map(|columns| RecordBatch::try_new(Arc::clone(&schema), columns).unwrap())
                .collect();
            (schema, batches)
        })
    })
}

async fn arbitrary_batches_round_trip(b: &Backend) {
    let cases = if b.capabilities.remote { 48 } else { 96 };
    let counter = AtomicUsize::new(0);
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    let outcome = tokio::task::block_in_place(|| {
        runner.run(&arbitrary_batches(), |(schema, batches)| {
            handle.block_on(async {
                let t = table(&format!(
                    "prop/case{}",
                    counter.fetch_add(1, Ordering::SeqCst)
                ));
                let stream = RecordBatchStream::from_batches(Arc::clone(&schema), batches.clone());
                let receipt = b
                    .engine
                    .write_stream(&t, stream, WriteOptions::default())
                    .await
                    .map_err(|e| TestCaseError::fail(format!("write: {e:?}")))?;
                let expected = concat(&batches, &schema);
                prop_assert_eq!(receipt.rows, expected.num_rows() as u64);
                if expected.num_rows() == 0 {
                    prop_assert!(receipt.files.is_empty());
                    let scanned = b.engine.scan(&t, ScanOptions::default()).await;
                    let not_found = matches!(scanned, Err(Error::TableNotFound { .. }));
                    prop_assert!(not_found, "scan of an empty write: {:?}", scanned.map(drop));
                    return Ok(());
                }
                let read = read_table(&b.engine, &t).await;
                prop_assert_eq!(read.schema().fields().len(), schema.fields().len());
                for (e, f) in schema.fields().iter().zip(read.schema().fields()) {
                    prop_assert_eq!(
                        (e.name(), e.data_type(), e.is_nullable()),
                        (f.name(), f.data_type(), f.is_nullable())
                    );
                }
                for i in 0..expected.num_columns() {
                    prop_assert_eq!(expected.column(i).as_ref(), read.column(i).as_ref());
                }
                Ok(())
            })
        })
    });
    if let Err(e) = outcome {
        panic!("{}: {e}", b.engine);
    }
}

// ---------------------------------------------------------------------------------------
// engines and sorted writes

#[test]
fn engines_come_from_urls() {
    let dir = tempfile::tempdir().unwrap();
    let plain = ObjectStoreEngine::from_url(dir.path().join("plain").to_str().unwrap()).unwrap();
    assert!(dir.path().join("plain").is_dir());
    assert!(plain.to_string().starts_with("file:///"), "{plain}");
    let url = url::Url::from_directory_path(dir.path().join("url")).unwrap();
    let from_file_url = ObjectStoreEngine::from_url(url.as_str()).unwrap();
    assert!(dir.path().join("url").is_dir());
    assert!(
        from_file_url.to_string().ends_with("/url"),
        "{from_file_url}"
    );
    assert_eq!(
        ObjectStoreEngine::from_url("memory://")
            .unwrap()
            .to_string(),
        "memory://"
    );
    let s3 = ObjectStoreEngine::from_url("s3://bucket-x/some/prefix").unwrap();
    assert_eq!(s3.to_string(), "s3://bucket-x/some/prefix");
    for bad in ["ftp://x", "memory://x", "s3://", "file://relative"] {
        let err = ObjectStoreEngine::from_url(bad).unwrap_err();
        assert!(matches!(err, Error::InvalidUrl { .. }), "{bad}: {err:?}");
    }
}

/// Rows held for sorting count against the memory budget and, once over it, go out as
/// smaller row groups: the budget cuts row groups, never files, so each partition
/// still ends in one file, every row group sorted. Held rows also do not count at
/// their Arrow size towards the target file size, which rolled files far too early.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorted_writes_keep_the_budget_with_row_groups_not_files() {
    use arrow_array::cast::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let b = &Backend::start(Kind::Memory).await;
    let partitions = 4i64;
    let rows_per_batch = 5_000i64;
    let batches: Vec<RecordBatch> = (0..40i64)
        .map(|n| {
            let first = n * rows_per_batch;
            let rows = first..first + rows_per_batch;
            RecordBatch::try_from_iter([
                (
                    "key",
                    Arc::new(Int64Array::from_iter_values(
                        rows.clone().map(|r| r % partitions),
                    )) as ArrayRef,
                ),
                // Descending, so every row group has to be sorted.
                (
                    "s",
                    Arc::new(Int64Array::from_iter_values(rows.clone().map(|r| -r))) as _,
                ),
                (
                    "v",
                    Arc::new(Float64Array::from_iter_values(rows.map(|r| (r % 7) as f64))) as _,
                ),
            ])
            .unwrap()
        })
        .collect();
    let total = 40 * rows_per_batch as u64;
    let arrow_bytes: usize = batches.iter().map(RecordBatch::get_array_memory_size).sum();
    let budget = 1024 * 1024;
    let cases = [
        // The budget is far below one row group per partition.
        (
            "budget",
            WriteOptions::default()
                .with_max_row_group_rows(1_000_000)
                .with_max_buffered_bytes(budget),
        ),
        // The held rows' Arrow size passes the target size; their encoded size does not.
        (
            "target",
            WriteOptions::default()
                .with_max_row_group_rows(40_000)
                .with_target_file_size(Some((arrow_bytes / 8) as u64)),
        ),
    ];
    for (name, options) in cases {
        let t = table(name);
        let options = options
            .with_partition_by([PartitionField::column("key")])
            .with_sort_by(["s"]);
        let stream = RecordBatchStream::from_batches(batches[0].schema(), batches.clone());
        let receipt = b.engine.write_stream(&t, stream, options).await.unwrap();
        assert_eq!(receipt.rows, total, "{name}");
        assert_eq!(
            receipt.files.len(),
            partitions as usize,
            "{name}: {:?}",
            receipt.files
        );
        if name == "budget" {
            let slack = 2 * batches[0].get_array_memory_size();
            assert!(
                receipt.peak_buffered_bytes <= (budget + slack) as u64,
                "peak {} over the budget",
                receipt.peak_buffered_bytes
            );
        }
        let mut row_groups = 0;
        for file in &receipt.files {
            let bytes = stored_bytes(b, &file.path).await;
            let groups = ParquetRecordBatchReaderBuilder::try_new(bytes.clone())
                .unwrap()
                .metadata()
                .num_row_groups();
            for g in 0..groups {
                row_groups += 1;
                let keys: Vec<i64> = row_group(&bytes, g)
                    .into_iter()
                    .flat_map(|batch| {
                        batch
                            .column_by_name("s")
                            .unwrap()
                            .as_primitive::<Int64Type>()
                            .values()
                            .to_vec()
                    })
                    .collect();
                assert!(
                    keys.is_sorted(),
                    "{name}: row group {g} of {} is not sorted",
                    file.path
                );
            }
        }
        if name == "budget" {
            assert!(
                row_groups > 2 * partitions as usize,
                "{row_groups} row groups"
            );
        }
        let all = b.engine.read_all(&t, ScanOptions::default()).await.unwrap();
        assert_eq!(
            all.iter().map(RecordBatch::num_rows).sum::<usize>() as u64,
            total
        );
    }
}

/// Batches rarely end on a row group's boundary: the sorted rows short of a whole row
/// group stay held and are sorted with the next batches, so every row group of a
/// sorted write but the file's last is whole (before, each full row group left a
/// small one behind it), each is sorted, and no row is lost or repeated.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sorted_writes_make_whole_row_groups() {
    use arrow_array::cast::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let b = &Backend::start(Kind::Memory).await;
    // 23 batches of 70 rows, keys descending and repeating across batches.
    let batches: Vec<RecordBatch> = (0..23i64)
        .map(|n| {
            let rows = n * 70..(n + 1) * 70;
            RecordBatch::try_from_iter([
                (
                    "s",
                    Arc::new(Int64Array::from_iter_values(
                        rows.clone().map(|r| (r * 37) % 1009),
                    )) as ArrayRef,
                ),
                ("id", Arc::new(Int64Array::from_iter_values(rows)) as _),
            ])
            .unwrap()
        })
        .collect();
    let t = table("whole_groups");
    let options = WriteOptions::default()
        .with_max_row_group_rows(100)
        .with_sort_by(["s"]);
    let stream = RecordBatchStream::from_batches(batches[0].schema(), batches.clone());
    let receipt = b.engine.write_stream(&t, stream, options).await.unwrap();
    assert_eq!((receipt.rows, receipt.files.len()), (1610, 1));
    let bytes = stored_bytes(b, &receipt.files[0].path).await;
    let reader = ParquetRecordBatchReaderBuilder::try_new(bytes.clone()).unwrap();
    let sizes: Vec<i64> = (reader.metadata().row_groups().iter())
        .map(|g| g.num_rows())
        .collect();
    assert_eq!(sizes, [vec![100; 16], vec![10]].concat());
    let mut ids = Vec::new();
    for g in 0..sizes.len() {
        let groups = row_group(&bytes, g);
        let keys: Vec<i64> = (groups.iter())
            .flat_map(|b| {
                b.column_by_name("s")
                    .unwrap()
                    .as_primitive::<Int64Type>()
                    .values()
                    .to_vec()
            })
            .collect();
        assert!(keys.is_sorted(), "row group {g} is not sorted: {keys:?}");
        ids.extend(groups.iter().flat_map(|b| {
            b.column_by_name("id")
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        }));
    }
    ids.sort_unstable();
    assert_eq!(ids, (0..1610).collect::<Vec<_>>());
}

/// Sorted writes, whatever the batches: every row group is sorted by the keys, rows
/// with equal keys keep the order they came in (the sort is stable), every row group
/// but the last is whole, and each row is written once. Batches are runs (one key, or
/// keys in order, as one source file's rows), which reach the encoder as slices of
/// the held batches, or keys at random, which are gathered row by row.
#[test]
fn sorted_writes_are_stable_and_complete() {
    use arrow_array::cast::AsArray;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let b = runtime.block_on(Backend::start(Kind::Memory));
    let counter = AtomicUsize::new(0);
    // A batch: its length and how its keys run (0: one key, 1: in order, 2: at random).
    let batches = proptest::collection::vec((1usize..700, 0u8..3, any::<u64>()), 1..12);
    let mut runner = TestRunner::new(Config {
        cases: 48,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&(batches, 50usize..600), |(shapes, group_rows)| {
            let mut seq = 0i64;
            let batches: Vec<RecordBatch> = shapes
                .iter()
                .map(|&(rows, shape, seed)| {
                    let mut state = seed;
                    let mut next = move || {
                        state = state
                            .wrapping_mul(6364136223846793005)
                            .wrapping_add(1442695040888963407);
                        state >> 33
                    };
                    let unit = next() % 4;
                    let keys: Vec<(String, i64)> = (0..rows as u64)
                        .map(|r| match shape {
                            0 => (format!("u{unit}"), (next() % 3) as i64),
                            1 => (format!("u{unit}"), (r / 3) as i64),
                            _ => (format!("u{}", next() % 4), (next() % 5) as i64),
                        })
                        .collect();
                    let seqs = seq..seq + rows as i64;
                    seq += rows as i64;
                    RecordBatch::try_from_iter([
                        (
                            "unit",
                            Arc::new(StringArray::from_iter_values(keys.iter().map(|k| &k.0)))
                                as ArrayRef,
                        ),
                        (
                            "t",
                            Arc::new(Int64Array::from_iter_values(keys.iter().map(|k| k.1))) as _,
                        ),
                        ("seq", Arc::new(Int64Array::from_iter_values(seqs)) as _),
                    ])
                    .unwrap()
                })
                .collect();
            let t = table(&format!(
                "stable/case{}",
                counter.fetch_add(1, Ordering::SeqCst)
            ));
            let options = WriteOptions::default()
                .with_max_row_group_rows(group_rows)
                .with_sort_by(["unit", "t"]);
            let stream = RecordBatchStream::from_batches(batches[0].schema(), batches);
            let receipt = runtime
                .block_on(b.engine.write_stream(&t, stream, options))
                .unwrap();
            prop_assert_eq!(receipt.files.len(), 1);
            let bytes = runtime.block_on(stored_bytes(&b, &receipt.files[0].path));
            let reader = ParquetRecordBatchReaderBuilder::try_new(bytes.clone()).unwrap();
            let sizes: Vec<usize> = (reader.metadata().row_groups().iter())
                .map(|g| g.num_rows() as usize)
                .collect();
            let (last, whole) = sizes.split_last().unwrap();
            prop_assert!(whole.iter().all(|&n| n == group_rows), "{:?}", sizes);
            prop_assert!(*last <= group_rows && *last > 0, "{:?}", sizes);
            let mut seen = Vec::new();
            for g in 0..sizes.len() {
                let group = row_group(&bytes, g);
                let rows: Vec<(String, i64, i64)> = group
                    .iter()
                    .flat_map(|batch| {
                        let unit = batch.column(0).as_string::<i32>().clone();
                        let t = batch.column(1).as_primitive::<Int64Type>().clone();
                        let seq = batch.column(2).as_primitive::<Int64Type>().clone();
                        (0..batch.num_rows())
                            .map(move |i| (unit.value(i).to_string(), t.value(i), seq.value(i)))
                    })
                    .collect();
                // Sorted by the keys, and by arrival among equal keys: strictly increasing.
                prop_assert!(
                    rows.windows(2).all(|w| w[0] < w[1]),
                    "row group {} is not sorted stably: {:?}",
                    g,
                    rows
                );
                seen.extend(rows.into_iter().map(|r| r.2));
            }
            seen.sort_unstable();
            prop_assert_eq!(seen, (0..seq).collect::<Vec<_>>());
            Ok(())
        })
        .unwrap();
}

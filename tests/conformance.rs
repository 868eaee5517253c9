//! The conformance suite: every engine-level check is written once, below, and run
//! against each backend: memory, local disk (a temporary directory) and S3 (a real S3
//! server on 127.0.0.1: s3s-fs in-process, or the server named by
//! `PARQUET_STORAGE_TEST_S3_ENDPOINT`, which CI points at moto for a second run).

mod support;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::builder::{Int32Builder, ListBuilder, StringBuilder};
use arrow_array::types::Int64Type;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Date32Array, Decimal128Array, Float32Array,
    Float64Array, Int8Array, Int16Array, Int32Array, Int64Array, LargeStringArray, ListArray,
    RecordBatch, StringArray, TimestampMicrosecondArray, TimestampMillisecondArray,
    TimestampNanosecondArray, UInt8Array, UInt16Array, UInt32Array, UInt64Array,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef, TimeUnit};
use futures::{StreamExt, TryStreamExt};
use object_store::{ObjectStoreExt, PutPayload};
use parquet_storage::filter::{Filter, Value, col};
use parquet_storage::partition::{PartitionField, Zone};
use parquet_storage::schema::{ColumnDef, SchemaRegistry, TableDef, TableSchema};
use parquet_storage::{
    Compression, Error, FileName, ObjectStoreEngine, RecordBatchStream, ScanOptions,
    StatisticsLevel, StorageEngine, StorageEngineExt, TablePath, WriteOptions, WriteReceipt,
};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use support::faulty::FaultyStore;
use support::{Backend, Kind, cells, table};

per_backend!(
    write_then_scan_round_trips,
    projection_reads_columns_in_requested_order,
    several_batches_make_one_file,
    empty_write_writes_nothing,
    batch_with_other_schema_is_rejected,
    write_options_are_applied,
    invalid_options_are_rejected,
    concurrent_writers_make_distinct_files,
    second_create_of_a_name_fails,
    large_file_streams_in_parts,
    failing_store_leaves_nothing_visible,
    failing_input_leaves_nothing_visible,
    unreadable_files_are_named,
    hidden_objects_are_not_data,
    conflicting_files_are_named,
    arbitrary_batches_round_trip,
    invalid_batch_leaves_no_file,
    older_files_read_under_a_newer_schema,
    partitioned_writes_lay_out_hive_directories,
    partitioned_reads_match_an_in_memory_filter,
    one_day_of_ninety_reads_only_that_day,
    page_index_skips_pages_and_keeps_nan,
    string_filters_on_dictionary_and_plain_pages,
    files_with_an_added_column_read_together,
);

// ---------------------------------------------------------------------------------------
// data

fn telemetry_schema() -> SchemaRef {
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
fn telemetry(first: usize, rows: usize) -> RecordBatch {
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
fn noise(rows: usize, seed: u64) -> RecordBatch {
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
fn large_file_options() -> WriteOptions {
    WriteOptions::default()
        .with_compression(Compression::None)
        .with_dictionary(false)
        .with_max_row_group_rows(200_000)
        .with_upload_part_size(parquet_storage::MIN_UPLOAD_PART_SIZE)
}

const LARGE_ROWS: usize = 1_600_000; // ~12.8 MB: three parts

fn concat(batches: &[RecordBatch], schema: &SchemaRef) -> RecordBatch {
    arrow_select::concat::concat_batches(schema, batches).unwrap()
}

/// Asserts that two batches hold the same columns: names, types, nullability and values.
fn assert_same_data(expected: &RecordBatch, found: &RecordBatch) {
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
async fn write(engine: &dyn StorageEngine, table: &TablePath, batch: RecordBatch) -> WriteReceipt {
    engine
        .write_batch(table, batch, WriteOptions::default())
        .await
        .unwrap()
}

/// The paths `list_files` returns.
async fn listed(engine: &dyn StorageEngine, table: &TablePath) -> Vec<String> {
    let files = engine.list_files(table).await.unwrap();
    files.into_iter().map(|f| f.path).collect()
}

/// Scans and collects, with the error of either step.
async fn try_scan(
    engine: &dyn StorageEngine,
    table: &TablePath,
    options: ScanOptions,
) -> parquet_storage::Result<Vec<RecordBatch>> {
    engine.scan(table, options).await?.try_collect().await
}

/// The bytes of the stored file at `path`, read past the engine.
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

async fn stored_bytes(b: &Backend, path: &str) -> bytes::Bytes {
    (b.store().get(&object_store::path::Path::from(path)).await)
        .unwrap()
        .bytes()
        .await
        .unwrap()
}

async fn read_table(engine: &dyn StorageEngine, table: &TablePath) -> RecordBatch {
    let stream = engine.scan(table, ScanOptions::default()).await.unwrap();
    let schema = stream.schema();
    let batches: Vec<RecordBatch> = stream.try_collect().await.unwrap();
    concat(&batches, &schema)
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

async fn projection_reads_columns_in_requested_order(b: &Backend) {
    let t = table("proj");
    let batch = telemetry(0, 100);
    write(&b.engine, &t, batch.clone()).await;
    let options = ScanOptions::default().with_projection(["voltage", "battery_id"]);
    let read = b.engine.read_all(&t, options).await.unwrap();
    let schema = read[0].schema();
    let names: Vec<&str> = schema.fields().iter().map(|f| f.name().as_str()).collect();
    assert_eq!(names, ["voltage", "battery_id"]);
    assert_eq!(read[0].column(0).as_ref(), batch.column(2).as_ref());
    assert_eq!(read[0].column(1).as_ref(), batch.column(0).as_ref());

    let missing = b
        .engine
        .scan(&t, ScanOptions::default().with_projection(["nope"]))
        .await
        .unwrap_err();
    match &missing {
        Error::ColumnNotFound {
            column,
            path,
            table,
            ..
        } => {
            assert_eq!((column.as_str(), table.as_str()), ("nope", "proj"));
            assert!(path.starts_with("proj/proj_"), "{path}");
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(missing.to_string().contains("nope"));
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

async fn batch_with_other_schema_is_rejected(b: &Backend) {
    let t = table("mismatch");
    let other =
        RecordBatch::try_from_iter([("x", Arc::new(Int32Array::from(vec![1])) as ArrayRef)])
            .unwrap();
    let stream = RecordBatchStream::new(
        telemetry_schema(),
        futures::stream::iter(vec![Ok(telemetry(0, 10)), Ok(other)]),
    );
    let err = b
        .engine
        .write_stream(&t, stream, WriteOptions::default())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::BatchSchemaMismatch { table, batch: 1, .. } if table == "mismatch"),
        "{err:?}"
    );
    assert!(b.raw_listing(&t).await.is_empty());
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

async fn concurrent_writers_make_distinct_files(b: &Backend) {
    let t = table("concurrent");
    let engine: Arc<dyn StorageEngine> = Arc::new(b.engine.clone());
    let writers = (0..16).map(|w| {
        let (engine, t) = (Arc::clone(&engine), t.clone());
        tokio::spawn(async move {
            engine
                .write_batch(&t, telemetry(w * 100, 100), WriteOptions::default())
                .await
                .unwrap()
        })
    });
    let receipts = futures::future::try_join_all(writers).await.unwrap();
    let names: BTreeSet<String> = receipts.iter().map(|r| r.files[0].path.clone()).collect();
    assert_eq!(names.len(), 16);
    let listed: BTreeSet<String> = listed(engine.as_ref(), &t).await.into_iter().collect();
    assert_eq!(listed, names);
    let all = read_table(engine.as_ref(), &t).await;
    let cycles = all.column(4).as_any().downcast_ref::<Int64Array>().unwrap();
    let mut seen: Vec<i64> = cycles.values().to_vec();
    seen.sort_unstable();
    assert_eq!(seen, (0..1600).collect::<Vec<i64>>());
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

async fn failing_store_leaves_nothing_visible(b: &Backend) {
    for (label, batch, options) in [
        ("small", telemetry(0, 1000), WriteOptions::default()),
        ("large", noise(LARGE_ROWS, 3), large_file_options()),
    ] {
        let mut failures = 0;
        for fail_at in 1.. {
            let t = table(&format!("faulty_{label}_{fail_at}"));
            let faulty = Arc::new(FaultyStore::new(b.store(), fail_at));
            let engine = b.engine_over(|_| Arc::clone(&faulty) as _);
            let outcome = engine.write_batch(&t, batch.clone(), options.clone()).await;
            if faulty.requests() < fail_at {
                // The write finished before the failure point: every step has been tried.
                let receipt = outcome.unwrap();
                assert_eq!(b.engine.list_files(&t).await.unwrap().len(), 1);
                assert_eq!(receipt.rows, batch.num_rows() as u64);
                break;
            }
            let err = outcome.expect_err("the injected failure must surface");
            failures += 1;
            assert!(
                format!("{err:?}").contains("injected failure"),
                "{label} at {fail_at}: {err:?}"
            );
            assert!(
                b.engine.list_files(&t).await.unwrap().is_empty(),
                "{label}: a failure at request {fail_at} left a visible file"
            );
            assert!(matches!(
                b.engine.scan(&t, ScanOptions::default()).await,
                Err(Error::TableNotFound { .. })
            ));
        }
        let expected_steps = if label == "small" { 1 } else { 5 };
        assert!(
            failures >= expected_steps,
            "{label}: only {failures} failure points"
        );
    }
}

async fn failing_input_leaves_nothing_visible(b: &Backend) {
    for (label, good) in [
        ("small", vec![telemetry(0, 100), telemetry(100, 100)]),
        (
            "large",
            vec![noise(LARGE_ROWS, 4), noise(LARGE_ROWS / 2, 5)],
        ),
    ] {
        let t = table(&format!("bad_input_{label}"));
        let schema = good[0].schema();
        let items: Vec<parquet_storage::Result<RecordBatch>> = good
            .into_iter()
            .map(Ok)
            .chain([Err(Error::TableNotFound {
                backend: "upstream".into(),
                table: "source-of-the-failure".into(),
            })])
            .collect();
        let stream = RecordBatchStream::new(schema, futures::stream::iter(items));
        let err = b
            .engine
            .write_stream(&t, stream, large_file_options())
            .await
            .unwrap_err();
        assert!(
            matches!(&err, Error::TableNotFound { table, .. } if table == "source-of-the-failure"),
            "{label}: {err:?}"
        );
        assert!(
            b.raw_listing(&t).await.is_empty(),
            "{label}: {:?}",
            b.raw_listing(&t).await
        );
    }
}

async fn unreadable_files_are_named(b: &Backend) {
    let store = b.store();
    let valid = {
        let t = table("source");
        let receipt = write(&b.engine, &t, telemetry(0, 100)).await;
        stored_bytes(b, &receipt.files[0].path).await
    };
    let mut flipped = valid.to_vec();
    let middle = flipped.len() / 2;
    flipped[middle - 40..middle + 40]
        .iter_mut()
        .for_each(|b| *b = !*b);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("zero.parquet", vec![]),
        ("tiny.parquet", b"PAR1".to_vec()),
        ("truncated.parquet", valid[..valid.len() - 100].to_vec()),
        ("headless.parquet", valid[100..].to_vec()),
        (
            "notes.txt",
            b"these are not the rows you are looking for\n".repeat(10),
        ),
        ("corrupt_footer.parquet", {
            let mut v = valid.to_vec();
            let n = v.len();
            v[n - 30..n - 8].iter_mut().for_each(|b| *b = 0xFF);
            v
        }),
        ("corrupt_pages.parquet", flipped),
    ];
    for (name, bytes) in cases {
        let t = table(&format!("bad_{}", name.replace('.', "_")));
        let path = format!("{t}/{name}");
        store
            .put(
                &object_store::path::Path::from(path.as_str()),
                PutPayload::from(bytes),
            )
            .await
            .unwrap();
        let scanned = try_scan(&b.engine, &t, ScanOptions::default()).await;
        let err = scanned.expect_err(name);
        assert!(err.to_string().contains(&path), "{name}: {err}");
        assert!(
            matches!(err, Error::InvalidParquet { .. }),
            "{name}: {err:?}"
        );
        // A file whose footer is intact still has readable metadata.
        if !matches!(name, "corrupt_pages.parquet" | "headless.parquet") {
            let err = b.engine.file_metadata(&path).await.unwrap_err();
            assert!(err.to_string().contains(&path), "{name}: {err}");
        }
    }
    let err = b
        .engine
        .file_metadata("source/missing.parquet")
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::NotFound { path, .. } if path == "source/missing.parquet"),
        "{err:?}"
    );
}

async fn hidden_objects_are_not_data(b: &Backend) {
    let t = table("hidden");
    let receipt = write(&b.engine, &t, telemetry(0, 10)).await;
    let store = b.store();
    for hidden in [
        "hidden/_SUCCESS",
        "hidden/.crc",
        "hidden/_staging/x.parquet",
        "hidden/.tmp/y.parquet",
    ] {
        store
            .put(
                &object_store::path::Path::from(hidden),
                PutPayload::from_static(b"junk"),
            )
            .await
            .unwrap();
    }
    // A neighbouring table whose name extends this one's is not part of it.
    b.engine
        .write_batch(&table("hidden2"), telemetry(0, 3), WriteOptions::default())
        .await
        .unwrap();
    let files = listed(&b.engine, &t).await;
    assert_eq!(files, vec![receipt.files[0].path.clone()]);
    assert_eq!(read_table(&b.engine, &t).await.num_rows(), 10);
}

async fn conflicting_files_are_named(b: &Backend) {
    let t = table("conflict");
    let first = write(&b.engine, &t, telemetry(0, 10)).await;
    let other = RecordBatch::try_from_iter([(
        "battery_id",
        Arc::new(Int32Array::from(vec![1, 2])) as ArrayRef,
    )])
    .unwrap();
    let second = write(&b.engine, &t, other).await;
    let result = try_scan(&b.engine, &t, ScanOptions::default()).await;
    match result.unwrap_err() {
        Error::SchemaConflict {
            first_path, path, ..
        } => {
            assert_eq!(first_path, first.files[0].path);
            assert_eq!(path, second.files[0].path);
        }
        other => panic!("unexpected {other:?}"),
    }
    // A scan that does not need the conflicting column reads both files: the second
    // lacks "voltage", so its rows read it as nulls.
    let read = try_scan(
        &b.engine,
        &t,
        ScanOptions::default().with_projection(["voltage"]),
    )
    .await
    .unwrap();
    let voltage = concat(&read, &read[0].schema());
    assert_eq!(voltage.num_rows(), 12);
    assert_eq!(voltage.column(0).null_count(), 2 + 1); // the second file's rows, and row 0
}

async fn files_with_an_added_column_read_together(b: &Backend) {
    let t = table("added");
    let old = telemetry(0, 5);
    let newer = {
        let extra =
            Arc::new(StringArray::from(vec![Some("north"), None, Some("south")])) as ArrayRef;
        let base = telemetry(5, 3);
        let mut columns = base.columns().to_vec();
        columns.push(extra);
        let mut fields: Vec<Field> = base
            .schema()
            .fields()
            .iter()
            .map(|f| f.as_ref().clone())
            .collect();
        fields.push(Field::new("site", DataType::Utf8, true));
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
    };
    write(&b.engine, &t, old.clone()).await;
    write(&b.engine, &t, newer.clone()).await;
    let read = try_scan(&b.engine, &t, ScanOptions::default())
        .await
        .unwrap();
    let read = concat(&read, &read[0].schema());
    assert_eq!(read.num_rows(), 8);
    let site = read
        .column_by_name("site")
        .unwrap()
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    let sites: Vec<Option<&str>> = site.iter().collect();
    assert_eq!(
        sites,
        vec![
            None,
            None,
            None,
            None,
            None,
            Some("north"),
            None,
            Some("south")
        ]
    );
    assert_same_data(
        &concat(
            &[old.clone(), newer.project(&[0, 1, 2, 3, 4]).unwrap()],
            &telemetry_schema(),
        ),
        &read.project(&[0, 1, 2, 3, 4]).unwrap(),
    );
}

fn battery_schema(version: u32) -> Arc<TableSchema> {
    let mut def = TableDef::new("battery", version)
        .with_column(ColumnDef::new("battery_id", "uuid").unwrap().not_null())
        .with_column(ColumnDef::new("voltage", "real").unwrap())
        .with_column(
            ColumnDef::new("cycles", if version == 1 { "integer" } else { "bigint" }).unwrap(),
        );
    if version > 1 {
        def = def.with_column(ColumnDef::new("site", "varchar(20)").unwrap());
    }
    SchemaRegistry::default().register(def).unwrap()
}

fn battery_v1(ids: &[&str]) -> RecordBatch {
    RecordBatch::try_from_iter([
        (
            "battery_id",
            Arc::new(StringArray::from(ids.to_vec())) as ArrayRef,
        ),
        (
            "voltage",
            Arc::new(Float32Array::from(vec![13.5; ids.len()])) as _,
        ),
        (
            "cycles",
            Arc::new(Int32Array::from((0..ids.len() as i32).collect::<Vec<_>>())) as _,
        ),
    ])
    .unwrap()
}

const ID_A: &str = "0190a5a0-0000-7000-8000-00000000000a";
const ID_B: &str = "0190a5a0-0000-7000-8000-00000000000b";

async fn invalid_batch_leaves_no_file(b: &Backend) {
    let t = table("validated");
    let options = WriteOptions::default().with_schema(battery_schema(1));
    let err = b
        .engine
        .write_batch(&t, battery_v1(&[ID_A, "not-a-uuid"]), options.clone())
        .await
        .unwrap_err();
    match &err {
        Error::Validation { report } => {
            assert_eq!(report.problems.len(), 1);
            assert_eq!(report.problems[0].column, "battery_id");
            assert_eq!(report.problems[0].first_row, Some(1));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(b.raw_listing(&t).await.is_empty());
    // A stream whose third batch is invalid writes nothing either; rows count on.
    let batches = vec![
        Ok(battery_v1(&[ID_A, ID_B])),
        Ok(battery_v1(&[ID_B])),
        Ok(battery_v1(&[
            ID_A,
            ID_B,
            "{0190a5a0-0000-7000-8000-00000000000a}",
        ])),
    ];
    let stream = RecordBatchStream::new(battery_v1(&[]).schema(), futures::stream::iter(batches));
    let err = b
        .engine
        .write_stream(&t, stream, options.clone())
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Validation { report } if report.problems[0].first_row == Some(5)),
        "{err:?}"
    );
    assert!(b.raw_listing(&t).await.is_empty());
    // A valid one is written, with the schema's name and version in the file.
    let receipt = write_with(&b.engine, &t, battery_v1(&[ID_A]), options).await;
    let meta = b
        .engine
        .file_metadata(&receipt.files[0].path)
        .await
        .unwrap();
    assert_eq!(
        meta.key_value
            .get("parquet_storage.schema")
            .map(String::as_str),
        Some("battery")
    );
    assert_eq!(
        meta.key_value
            .get("parquet_storage.schema_version")
            .map(String::as_str),
        Some("1")
    );
}

async fn older_files_read_under_a_newer_schema(b: &Backend) {
    let t = table("evolving");
    let (v1, v2) = (battery_schema(1), battery_schema(2));
    assert!(parquet_storage::schema::evolution::compare(v1.def(), v2.def()).is_compatible());
    write_with(
        &b.engine,
        &t,
        battery_v1(&[ID_A, ID_B]),
        WriteOptions::default().with_schema(v1),
    )
    .await;
    let newer = RecordBatch::try_from_iter([
        (
            "battery_id",
            Arc::new(StringArray::from(vec![ID_A])) as ArrayRef,
        ),
        ("voltage", Arc::new(Float32Array::from(vec![12.0])) as _),
        (
            "cycles",
            Arc::new(Int64Array::from(vec![5_000_000_000])) as _,
        ),
        ("site", Arc::new(StringArray::from(vec!["north"])) as _),
    ])
    .unwrap();
    write_with(
        &b.engine,
        &t,
        newer,
        WriteOptions::default().with_schema(Arc::clone(&v2)),
    )
    .await;

    let options = ScanOptions::default().with_schema(Arc::clone(&v2));
    let read = concat(
        &b.engine.read_all(&t, options).await.unwrap(),
        &v2.arrow_schema(),
    );
    assert_eq!(read.schema(), v2.arrow_schema());
    let cycles = read
        .column(2)
        .as_any()
        .downcast_ref::<Int64Array>()
        .unwrap();
    assert_eq!(cycles.values().to_vec(), vec![0, 1, 5_000_000_000]);
    let site = read
        .column(3)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(
        site.iter().collect::<Vec<_>>(),
        vec![None, None, Some("north")]
    );
    // Projection works across versions too.
    let options = ScanOptions::default()
        .with_schema(Arc::clone(&v2))
        .with_projection(["site", "battery_id"]);
    let read = b.engine.read_all(&t, options).await.unwrap();
    assert_eq!(read.iter().map(RecordBatch::num_rows).sum::<usize>(), 3);

    // A file whose column has an unrelated type is a conflict naming file and column.
    let clash = RecordBatch::try_from_iter([
        (
            "battery_id",
            Arc::new(StringArray::from(vec![ID_B])) as ArrayRef,
        ),
        ("cycles", Arc::new(StringArray::from(vec!["many"])) as _),
    ])
    .unwrap();
    let clash = write(&b.engine, &t, clash).await;
    let err = try_scan(&b.engine, &t, ScanOptions::default().with_schema(v2))
        .await
        .unwrap_err();
    match err {
        Error::SchemaConflict { path, detail, .. } => {
            assert_eq!(path, clash.files[0].path);
            assert!(detail.contains("\"cycles\""), "{detail}");
        }
        other => panic!("unexpected {other:?}"),
    }
}

async fn write_with(
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
const HOSTILE: [&str; 14] = [
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

fn hostile_rows(rows: usize, seed: u64) -> RecordBatch {
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
fn by_id(batch: &RecordBatch) -> RecordBatch {
    let ids = batch.column_by_name("id").unwrap();
    let order = arrow_ord::sort::sort_to_indices(ids, None, None).unwrap();
    arrow_select::take::take_record_batch(batch, &order).unwrap()
}

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

/// A selective filter on a sorted column reads only the pages that can match (the page
/// index), and floats' NaN, which statistics leave out, is still found.
async fn page_index_skips_pages_and_keeps_nan(b: &Backend) {
    let t = table("paged");
    let rows = 20_000i64;
    let ids: Vec<i64> = (0..rows).collect();
    // v follows id, except that every 1000th value is NaN.
    let v: Vec<f64> = ids
        .iter()
        .map(|&i| if i % 1000 == 999 { f64::NAN } else { i as f64 })
        .collect();
    let noise: Vec<String> = ids
        .iter()
        .map(|i| format!("{:x}", i * 2_654_435_761))
        .collect();
    let batch = RecordBatch::try_from_iter([
        ("id", Arc::new(Int64Array::from(ids)) as ArrayRef),
        ("v", Arc::new(Float64Array::from(v)) as _),
        ("noise", Arc::new(StringArray::from(noise)) as _),
    ])
    .unwrap();
    let options = WriteOptions::default()
        .with_data_page_rows(500)
        .with_dictionary(false);
    write_with(&b.engine, &t, batch, options).await;

    let counting = Arc::new(FaultyStore::new(b.store(), 0));
    let engine = b.engine_over(|_| Arc::clone(&counting) as _);
    let (engine, counting, t) = (&engine, &counting, &t);
    let read = |filter: Filter| async move {
        let before = counting.bytes_read();
        let batches = engine
            .read_all(t, ScanOptions::default().with_filter(filter))
            .await
            .unwrap();
        let ids: Vec<i64> = batches
            .iter()
            .flat_map(|b| typed::<Int64Array>(b, "id").values().to_vec())
            .collect();
        (ids, counting.bytes_read() - before)
    };
    let (all, all_bytes) = read(col("id").gt_eq(0)).await;
    assert_eq!(all.len(), rows as usize);
    let (some, some_bytes) = read(col("id").between(5_000, 5_099)).await;
    assert_eq!(some, (5_000..5_100).collect::<Vec<_>>());
    // The footer and page index alone: the row group's statistics rule out `id < 0`.
    let (none, footer_bytes) = read(col("id").lt(0)).await;
    assert!(none.is_empty());
    // Data pages: one page of 500 rows of each of three columns, against forty.
    let (some_data, all_data) = (some_bytes - footer_bytes, all_bytes - footer_bytes);
    assert!(
        some_data * 10 < all_data,
        "read {some_data} bytes of pages for 100 rows, {all_data} for all"
    );
    // Statistics say the largest v is 19998, but NaN sorts above every number.
    let (above, _) = read(col("v").gt(19_990.0)).await;
    let mut expected: Vec<i64> = (0..rows).filter(|i| i % 1000 == 999).collect();
    expected.extend([
        19_991, 19_992, 19_993, 19_994, 19_995, 19_996, 19_997, 19_998,
    ]);
    expected.sort_unstable();
    let mut above = above;
    above.sort_unstable();
    assert_eq!(above, expected);
    let (nan, _) = read(col("v").eq(f64::NAN)).await;
    assert_eq!(nan.len(), 20);
}

/// String filters read their column as a dictionary; a column whose dictionary
/// overflowed into plain pages halfway still filters exactly, and comes back as text.
async fn string_filters_on_dictionary_and_plain_pages(b: &Backend) {
    let t = table("dict_fallback");
    let rows = 120_000usize;
    // Distinct 24-byte strings: the dictionary outgrows its 1 MiB page and the writer
    // falls back to plain pages; a few repeated values and nulls besides.
    let s: Vec<Option<String>> = (0..rows)
        .map(|i| match i % 50 {
            0 => None,
            1 => Some("repeated".to_string()),
            _ => Some(format!(
                "{:016x}{i:08x}",
                (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
            )),
        })
        .collect();
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(Int64Array::from_iter_values(0..rows as i64)) as ArrayRef,
        ),
        ("s", Arc::new(StringArray::from(s.clone())) as _),
    ])
    .unwrap();
    // Row groups of 7,000 rows: the file is decoded in parts, which must come back in
    // order.
    let options = WriteOptions::default().with_max_row_group_rows(7_000);
    write_with(&b.engine, &t, batch, options).await;
    for filter in [
        col("s").starts_with("ab"),
        col("s").eq("repeated"),
        col("s").is_null().or(col("s").gt("f")),
    ] {
        let read = b
            .engine
            .read_all(&t, ScanOptions::default().with_filter(filter.clone()))
            .await
            .unwrap();
        let found: Vec<(i64, Option<String>)> = read
            .iter()
            .flat_map(|batch| {
                assert_eq!(
                    batch.column_by_name("s").unwrap().data_type(),
                    &DataType::Utf8
                );
                let ids = typed::<Int64Array>(batch, "id");
                let text = typed::<StringArray>(batch, "s");
                (0..batch.num_rows())
                    .map(|r| {
                        (
                            ids.value(r),
                            text.is_valid(r).then(|| text.value(r).to_string()),
                        )
                    })
                    .collect::<Vec<_>>()
            })
            .collect();
        let expected: Vec<(i64, Option<String>)> = s
            .iter()
            .enumerate()
            .filter(|(_, v)| match v.as_deref() {
                None => filter.to_string().contains("IS NULL"),
                Some(v) if filter.to_string().contains("STARTS") => v.starts_with("ab"),
                Some(v) if filter.to_string().contains("repeated") => v == "repeated",
                Some(v) => v > "f",
            })
            .map(|(i, v)| (i as i64, v.clone()))
            .collect();
        assert!(!expected.is_empty());
        assert_eq!(found, expected, "{filter}");
    }
}

async fn one_day_of_ninety_reads_only_that_day(b: &Backend) {
    let t = table("ninety");
    let day = 86_400_000_000i64;
    let start = 1_727_740_800_000_000i64; // 2024-10-01T00:00Z
    let ts: Vec<i64> = (0..90 * 24).map(|h| start + h * day / 24).collect();
    let batch = RecordBatch::try_from_iter([
        (
            "ts",
            Arc::new(TimestampMicrosecondArray::from(ts.clone()).with_timezone("UTC")) as ArrayRef,
        ),
        (
            "v",
            Arc::new(Float64Array::from(
                (0..ts.len()).map(|i| i as f64).collect::<Vec<_>>(),
            )) as _,
        ),
    ])
    .unwrap();
    let options = WriteOptions::default().with_partition_by([PartitionField::day("day", "ts")]);
    let receipt = b.engine.write_batch(&t, batch, options).await.unwrap();
    assert_eq!(receipt.files.len(), 90);

    let counting = Arc::new(FaultyStore::new(b.store(), 0));
    let engine = b.engine_over(|_| Arc::clone(&counting) as _);
    let wanted = chrono::NaiveDate::from_ymd_opt(2024, 11, 15).unwrap();
    let options = ScanOptions::default().with_filter(col("day").eq(wanted));
    let read = engine.read_all(&t, options).await.unwrap();
    assert_eq!(read.iter().map(RecordBatch::num_rows).sum::<usize>(), 24);
    let touched = counting.reads();
    let files: Vec<&String> = touched.iter().filter(|r| !r.starts_with("list:")).collect();
    assert!(!files.is_empty());
    assert!(
        files
            .iter()
            .all(|f| f.starts_with("ninety/day=2024-11-15/")),
        "{files:?}"
    );
    let listed: Vec<&String> = touched.iter().filter(|r| r.starts_with("list:")).collect();
    assert_eq!(
        listed,
        // The day's directory, and, after it, the pending changes (none here).
        vec![
            "list:ninety",
            "list:ninety/day=2024-11-15",
            "list:_parquet_storage/tables/ninety/_txn"
        ],
        "{listed:?}"
    );
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

#[derive(Debug, Clone)]
enum Layout {
    Column(&'static str),
    Day(Zone),
    Hour,
}

fn partitionings() -> impl Strategy<Value = Vec<Layout>> {
    let zones = proptest::sample::select(vec![
        Zone::Utc,
        Zone::hours(8).unwrap(),
        Zone::parse("America/New_York").unwrap(),
    ]);
    let layout = prop_oneof![
        Just(Layout::Column("key")),
        Just(Layout::Column("n")),
        zones.prop_map(Layout::Day),
        Just(Layout::Hour),
    ];
    proptest::collection::vec(layout, 0..=3).prop_map(|mut v| {
        // One field per source: a name can be a directory level once.
        let mut seen = Vec::new();
        v.retain(|l| {
            let key = format!("{l:?}").chars().take(4).collect::<String>();
            let fresh = !seen.contains(&key);
            seen.push(key);
            fresh
        });
        v
    })
}

fn filters() -> impl Strategy<Value = Filter> {
    let key = proptest::sample::select(HOSTILE.to_vec());
    let leaf = prop_oneof![
        key.clone().prop_map(|k| col("key").eq(k)),
        key.clone().prop_map(|k| col("key").not_eq(k)),
        proptest::collection::vec(key.clone(), 1..3).prop_map(|ks| col("key").in_list(ks)),
        key.prop_map(|k| col("key").starts_with(k.chars().take(1).collect::<String>())),
        Just(col("key").is_null()),
        Just(col("n").is_not_null()),
        (0i64..4).prop_map(|n| col("n").lt_eq(n)),
        (0i64..4).prop_map(|n| col("n").eq(n)),
        (0.0f64..100.0).prop_map(|v| col("v").gt(v)),
        (0.0f64..100.0).prop_map(|v| col("v").lt_eq(v)),
        Just(col("v").eq(f64::NAN)),
        (0.0f64..50.0, 0.0f64..50.0).prop_map(|(a, b)| col("v").between(a, a + b)),
        (0i64..400).prop_map(|i| col("id").lt(i)),
    ];
    leaf.prop_recursive(2, 8, 3, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 2..3).prop_map(Filter::And),
            proptest::collection::vec(inner.clone(), 2..3).prop_map(Filter::Or),
            inner.prop_map(|f| !f),
        ]
    })
}

async fn partitioned_reads_match_an_in_memory_filter(b: &Backend) {
    let cases = if b.kind == Kind::S3 { 24 } else { 48 };
    let counter = AtomicUsize::new(0);
    let handle = tokio::runtime::Handle::current();
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    // Page layouts: one page per row group, or pages of a few rows (so the page
    // index has something to skip), with or without a sort.
    let pages = (
        proptest::option::of(1usize..40),
        proptest::option::of(proptest::sample::select(vec!["id", "key", "n", "v", "ts"])),
        proptest::option::of(16usize..200),
    );
    let strategy = (partitionings(), filters(), any::<u64>(), 0usize..400, pages);
    let outcome = tokio::task::block_in_place(|| {
        runner
            .run(
                &strategy,
                |(layout, filter, seed, rows, (page_rows, sort, group_rows))| {
                    handle.block_on(async {
                        let t = table(&format!(
                            "pf/case{}",
                            counter.fetch_add(1, Ordering::SeqCst)
                        ));
                        let batch = hostile_rows(rows, seed);
                        let fields: Vec<PartitionField> = layout
                            .iter()
                            .map(|l| match l {
                                Layout::Column(c) => PartitionField::column(*c),
                                Layout::Day(zone) => PartitionField::day("d", "ts").in_zone(*zone),
                                Layout::Hour => PartitionField::hour("h", "ts"),
                            })
                            .collect();
                        let mut options = WriteOptions::default()
                            .with_partition_by(fields)
                            .with_max_open_files(4);
                        if let Some(rows) = page_rows {
                            options = options.with_data_page_rows(rows);
                        }
                        // A partition column is constant within a file: no sort by it.
                        let sort = sort.filter(|c| {
                            !layout
                                .iter()
                                .any(|l| matches!(l, Layout::Column(p) if p == c))
                        });
                        if let Some(column) = sort {
                            options = options.with_sort_by([column]);
                        }
                        if let Some(rows) = group_rows {
                            options = options.with_max_row_group_rows(rows);
                        }
                        b.engine
                            .write_batch(&t, batch.clone(), options)
                            .await
                            .unwrap();
                        let expected = arrow_select::filter::filter_record_batch(
                            &batch,
                            &filter_mask(&filter, &batch),
                        )
                        .unwrap();
                        let scan = ScanOptions::default()
                            .with_filter(filter.clone())
                            .with_projection(["id", "key", "n", "ts", "v"]);
                        let read = match b.engine.scan(&t, scan).await {
                            Ok(stream) => {
                                let schema = stream.schema();
                                concat(&stream.try_collect::<Vec<_>>().await.unwrap(), &schema)
                            }
                            Err(Error::TableNotFound { .. }) if rows == 0 => return Ok(()),
                            Err(e) => return Err(TestCaseError::fail(format!("{e:?}"))),
                        };
                        let read = by_id(&read);
                        prop_assert_eq!(read.num_rows(), expected.num_rows(), "filter {}", filter);
                        for name in ["id", "key", "n", "ts", "v"] {
                            prop_assert_eq!(
                                expected.column_by_name(name).unwrap().as_ref(),
                                read.column_by_name(name).unwrap().as_ref(),
                                "column {} under filter {}",
                                name,
                                filter
                            );
                        }
                        Ok(())
                    })
                },
            )
            .map_err(|e| e.to_string())
    });
    if let Err(e) = outcome {
        panic!("{}: {e}", b.engine);
    }
}

/// Column `name` of `batch` as its concrete array type.
fn typed<'a, T: 'static>(batch: &'a RecordBatch, name: &str) -> &'a T {
    batch
        .column_by_name(name)
        .unwrap()
        .as_any()
        .downcast_ref::<T>()
        .unwrap()
}

/// The in-memory answer: SQL semantics (null is not true).
fn filter_mask(filter: &Filter, batch: &RecordBatch) -> arrow_array::BooleanArray {
    use parquet_storage::filter::Op;
    // An independent evaluator, row by row, so the engine's kernels are checked against
    // something else.
    fn eval(f: &Filter, batch: &RecordBatch, row: usize) -> Option<bool> {
        let key: &StringArray = typed(batch, "key");
        let n: &Int32Array = typed(batch, "n");
        let v: &Float64Array = typed(batch, "v");
        let id: &Int64Array = typed(batch, "id");
        let text = |c: &str| -> Option<String> {
            match c {
                "key" => key.is_valid(row).then(|| key.value(row).to_string()),
                _ => None,
            }
        };
        let number = |c: &str| -> Option<f64> {
            match c {
                "n" => n.is_valid(row).then(|| f64::from(n.value(row))),
                "v" => v.is_valid(row).then(|| v.value(row)),
                "id" => Some(id.value(row) as f64),
                _ => None,
            }
        };
        let lit = |value: &Value| -> (Option<String>, Option<f64>) {
            match value {
                Value::Str(s) => (Some(s.clone()), None),
                Value::Int(i) => (None, Some(*i as f64)),
                Value::Float(x) => (None, Some(*x)),
                other => panic!("{other:?}"),
            }
        };
        let compare = |c: &str, op: Op, value: &Value| -> Option<bool> {
            let ord = match lit(value) {
                (Some(s), _) => text(c)?.as_str().cmp(s.as_str()),
                // SQL's order for floats: NaN above every number, equal to itself.
                (_, Some(x)) => number(c)?.total_cmp(&x),
                _ => return None,
            };
            Some(match op {
                Op::Eq => ord.is_eq(),
                Op::NotEq => ord.is_ne(),
                Op::Lt => ord.is_lt(),
                Op::LtEq => ord.is_le(),
                Op::Gt => ord.is_gt(),
                Op::GtEq => ord.is_ge(),
                _ => unreachable!(),
            })
        };
        match f {
            Filter::Compare { column, op, value } => compare(column, *op, value),
            Filter::Between { column, low, high } => {
                let a = compare(column, Op::GtEq, low);
                let b = compare(column, Op::LtEq, high);
                match (a, b) {
                    (Some(false), _) | (_, Some(false)) => Some(false),
                    (Some(true), Some(true)) => Some(true),
                    _ => None,
                }
            }
            Filter::In { column, values } => {
                let results: Vec<Option<bool>> =
                    values.iter().map(|x| compare(column, Op::Eq, x)).collect();
                if results.contains(&Some(true)) {
                    Some(true)
                } else if results.contains(&None) {
                    None
                } else {
                    Some(false)
                }
            }
            Filter::StartsWith { column, prefix } => {
                text(column).map(|t| t.starts_with(prefix.as_str()))
            }
            Filter::IsNull(c) => Some(if c == "key" {
                key.is_null(row)
            } else {
                number(c).is_none()
            }),
            Filter::IsNotNull(c) => Some(if c == "key" {
                key.is_valid(row)
            } else {
                number(c).is_some()
            }),
            Filter::And(all) => {
                let r: Vec<Option<bool>> = all.iter().map(|f| eval(f, batch, row)).collect();
                if r.contains(&Some(false)) {
                    Some(false)
                } else if r.contains(&None) {
                    None
                } else {
                    Some(true)
                }
            }
            Filter::Or(any) => {
                let r: Vec<Option<bool>> = any.iter().map(|f| eval(f, batch, row)).collect();
                if r.contains(&Some(true)) {
                    Some(true)
                } else if r.contains(&None) {
                    None
                } else {
                    Some(false)
                }
            }
            Filter::Not(inner) => eval(inner, batch, row).map(|b| !b),
            Filter::Const(b) => Some(*b),
            other => panic!("{other:?}"),
        }
    }
    (0..batch.num_rows())
        .map(|row| Some(eval(filter, batch, row) == Some(true)))
        .collect()
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
    let cases = if b.kind == Kind::S3 { 48 } else { 96 };
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
// S3 only: errors that name the bucket or the credentials

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn s3_rejected_credentials_and_missing_bucket_are_named() {
    let server = support::s3::TestS3::start().await;
    let t = table("t");
    if server.checks_signatures {
        let engine = server
            .builder("creds")
            .with_credentials(support::s3::ACCESS_KEY, "wrong-secret")
            .build()
            .unwrap();
        let err = engine
            .write_batch(&t, telemetry(0, 5), WriteOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::AccessDenied { .. }), "{err:?}");
        assert!(
            err.to_string()
                .contains(&format!("s3://{}/creds", server.bucket)),
            "{err}"
        );
        let err = engine.list_files(&t).await.unwrap_err();
        assert!(matches!(err, Error::AccessDenied { .. }), "{err:?}");
    }
    let engine = server
        .builder("")
        .with_bucket("no-such-bucket-here")
        .build()
        .unwrap();
    let err = engine.list_files(&t).await.unwrap_err();
    match &err {
        Error::BucketNotFound { bucket, .. } => assert_eq!(bucket, "no-such-bucket-here"),
        other => panic!("unexpected {other:?}"),
    }
    if server.rejects_missing_bucket {
        let err = engine
            .write_batch(&t, telemetry(0, 5), WriteOptions::default())
            .await
            .unwrap_err();
        assert!(matches!(err, Error::BucketNotFound { .. }), "{err:?}");
    }
}

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

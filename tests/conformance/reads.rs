//! Reads: projection, filters, partition pruning and partition columns, the page index
//! and dictionary-encoded strings.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use arrow_array::{
    Array, ArrayRef, Float64Array, Int32Array, Int64Array, RecordBatch, StringArray,
    TimestampMicrosecondArray,
};
use arrow_schema::DataType;
use futures::TryStreamExt;
use parquet_storage::filter::{Filter, Value, col};
use parquet_storage::partition::{PartitionField, Zone};
use parquet_storage::{Error, ScanOptions, StorageEngine, StorageEngineExt, WriteOptions};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use crate::common::{HOSTILE, by_id, concat, hostile_rows, telemetry, write, write_with};
use crate::per_backend;
use crate::support::faulty::FaultyStore;
use crate::support::{Backend, Kind, table};

per_backend!(
    projection_reads_columns_in_requested_order,
    partitioned_reads_match_an_in_memory_filter,
    one_day_of_ninety_reads_only_that_day,
    page_index_skips_pages_and_keeps_nan,
    string_filters_on_dictionary_and_plain_pages,
);

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

// ---------------------------------------------------------------------------------------
// partitioning and filters

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
            "list:ninety/_txn"
        ],
        "{listed:?}"
    );
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
    let cases = if b.capabilities.remote { 24 } else { 48 };
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

//! The compactor's value rules (docs/compaction.md, "Values no column holds as they
//! are"): no value is changed in silence. Each case is stored exactly, or is a reject
//! that keeps the raw text and says why, and is counted. The rules do not depend on the
//! backend, so these run on memory.

mod support;

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{Decimal128Type, Float64Type, Int64Type};
use arrow_array::{Array, RecordBatch};
use arrow_schema::DataType;
use object_store::path::Path;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use parquet_storage::compact::{BigIntegers, Compaction, CompactionSummary, DuplicateKeys};
use parquet_storage::schema::{ColumnDef, SchemaRegistry, TableDef, TableSchema};
use parquet_storage::{ObjectStoreEngine, ScanOptions, StorageEngineExt, TablePath};

struct Run {
    summary: CompactionSummary,
    batch: Option<RecordBatch>,
    rejects: Vec<serde_json::Value>,
}

/// Compacts `sources` (name and bytes) into a new table with `configure` applied.
async fn compact(
    sources: &[(&str, &[u8])],
    configure: impl FnOnce(Compaction) -> Compaction,
) -> Run {
    let engine = ObjectStoreEngine::memory();
    let store: Arc<dyn ObjectStore> = Arc::clone(engine.object_store());
    for (name, bytes) in sources {
        let path = Path::from(format!("src/{name}"));
        store
            .put(&path, PutPayload::from(bytes.to_vec()))
            .await
            .unwrap();
    }
    let table = TablePath::new("t").unwrap();
    let summary = configure(Compaction::ndjson(Arc::clone(&store), "src"))
        .run(&engine, &table)
        .await
        .unwrap();
    let batches = engine
        .read_all(&table, ScanOptions::default())
        .await
        .unwrap();
    let batch = (!batches.is_empty())
        .then(|| arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap());
    let rejects = support::reject_records(store.as_ref(), summary.rejects_path.as_deref()).await;
    Run {
        summary,
        batch,
        rejects,
    }
}

/// A registry schema of nullable `columns` (name, PostgreSQL type).
fn schema_of(columns: &[(&str, &str)]) -> Arc<TableSchema> {
    let mut registry = SchemaRegistry::new(Default::default());
    let mut def = TableDef::new("t", 1);
    for (name, ty) in columns {
        def = def.with_column(ColumnDef::new(*name, ty).unwrap());
    }
    registry.register(def).unwrap()
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> &'a dyn Array {
    batch
        .column_by_name(name)
        .unwrap_or_else(|| panic!("no column {name:?} in {:?}", batch.schema()))
        .as_ref()
}

fn ints(batch: &RecordBatch, name: &str) -> Vec<Option<i64>> {
    column(batch, name)
        .as_primitive::<Int64Type>()
        .iter()
        .collect()
}

/// The rejects of one column, as (line, value, reason).
fn rejected(run: &Run, name: &str) -> Vec<(u64, String, String)> {
    run.rejects
        .iter()
        .filter(|r| r["column"] == name)
        .map(|r| {
            (
                r["line"].as_u64().unwrap(),
                r["value"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn a_repeated_key_nulls_the_column_and_keeps_every_value_in_the_rejects() {
    let text = b"{\"id\":52,\"v\":1,\"id\":53}\n{\"id\":7,\"v\":2}\n";
    let run = compact(&[("a.ndjson", text)], |c| c).await;
    let batch = run.batch.as_ref().unwrap();
    assert_eq!(ints(batch, "id"), [None, Some(7)]);
    assert_eq!(ints(batch, "v"), [Some(1), Some(2)]);
    let got = rejected(&run, "id");
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0, got[0].1.as_str()), (1, "52"));
    assert_eq!((got[1].0, got[1].1.as_str()), (1, "53"));
    assert!(got[0].2.contains("appears 2 times"), "{}", got[0].2);
    assert_eq!(run.summary.duplicate_keys.get("id"), Some(&1));
    assert_eq!(run.summary.values_rejected.get("id"), Some(&1));
    assert_eq!(run.summary.rows_out, 2);
}

#[tokio::test]
async fn first_wins_keeps_the_first_value_and_rejects_the_later_ones() {
    let text = b"{\"id\":52,\"id\":53,\"id\":54}\n";
    let run = compact(&[("a.ndjson", text)], |c| {
        c.with_duplicate_keys(DuplicateKeys::FirstWins)
    })
    .await;
    assert_eq!(ints(run.batch.as_ref().unwrap(), "id"), [Some(52)]);
    let values: Vec<String> = rejected(&run, "id").into_iter().map(|r| r.1).collect();
    assert_eq!(values, ["53", "54"]);
    assert_eq!(run.summary.duplicate_keys.get("id"), Some(&1));
    assert_eq!(run.summary.values_rejected.get("id"), None);
}

#[tokio::test]
async fn a_repeated_key_is_decided_the_same_with_a_schema_and_when_spilling() {
    let text = b"{\"id\":52,\"id\":53}\n{\"id\":7}\n";
    let schema = schema_of(&[("id", "bigint")]);
    let spill = tempfile::tempdir().unwrap();
    let typed = compact(&[("a.ndjson", text)], |c| c.with_schema(schema)).await;
    let spilled = compact(&[("a.ndjson", text)], |c| c.with_spill_dir(spill.path())).await;
    for run in [typed, spilled] {
        assert_eq!(ints(run.batch.as_ref().unwrap(), "id"), [None, Some(7)]);
        assert_eq!(rejected(&run, "id").len(), 2);
        assert_eq!(run.summary.duplicate_keys.get("id"), Some(&1));
    }
}

#[tokio::test]
async fn integers_beyond_i64_become_an_exact_decimal_or_text() {
    let text = b"{\"n\":-9223372036854775809}\n{\"n\":9223372036854775807}\n{\"n\":9223372036854775808}\n{\"n\":1}\n";
    let run = compact(&[("a.ndjson", text)], |c| c).await;
    let batch = run.batch.as_ref().unwrap();
    assert_eq!(column(batch, "n").data_type(), &DataType::Decimal128(38, 0));
    let got: Vec<Option<i128>> = column(batch, "n")
        .as_primitive::<Decimal128Type>()
        .iter()
        .collect();
    assert_eq!(
        got,
        [
            Some(-9223372036854775809),
            Some(9223372036854775807),
            Some(9223372036854775808),
            Some(1)
        ]
    );
    assert!(run.rejects.is_empty(), "{:?}", run.rejects);

    let run = compact(&[("a.ndjson", text)], |c| {
        c.with_big_integers(BigIntegers::Text)
    })
    .await;
    let batch = run.batch.as_ref().unwrap();
    let got: Vec<Option<&str>> = column(batch, "n").as_string::<i32>().iter().collect();
    assert_eq!(
        got,
        [
            Some("-9223372036854775809"),
            Some("9223372036854775807"),
            Some("9223372036854775808"),
            Some("1")
        ]
    );
}

#[tokio::test]
async fn integers_a_float_cannot_hold_keep_a_column_of_floats_from_rounding_them() {
    // 2^53 + 1 has no f64; beside a float, the column is text holding both as written.
    let text = b"{\"n\":9007199254740993}\n{\"n\":0.5}\n{\"m\":9007199254740992}\n{\"m\":0.5}\n";
    let run = compact(&[("a.ndjson", text)], |c| c).await;
    let batch = run.batch.as_ref().unwrap();
    let n: Vec<Option<&str>> = column(batch, "n").as_string::<i32>().iter().collect();
    assert_eq!(n, [Some("9007199254740993"), Some("0.5"), None, None]);
    let m: Vec<Option<f64>> = column(batch, "m")
        .as_primitive::<Float64Type>()
        .iter()
        .collect();
    assert_eq!(m, [None, None, Some(9007199254740992.0), Some(0.5)]);
    // i64::MAX stays an exact Int64 on its own.
    let run = compact(
        &[("a.ndjson", b"{\"n\":9223372036854775807}\n{\"n\":-1}\n")],
        |c| c,
    )
    .await;
    assert_eq!(
        ints(run.batch.as_ref().unwrap(), "n"),
        [Some(i64::MAX), Some(-1)]
    );
}

#[tokio::test]
async fn numbers_a_declared_column_cannot_hold_are_out_of_range_rejects() {
    let schema = schema_of(&[("i", "bigint"), ("f", "double precision"), ("r", "real")]);
    let text = b"{\"i\":9223372036854775808,\"f\":1e400,\"r\":1e39}\n{\"i\":\"x\",\"f\":9007199254740993,\"r\":1.5}\n";
    let run = compact(&[("a.ndjson", text)], |c| c.with_schema(schema)).await;
    let reasons =
        |name: &str| -> Vec<String> { rejected(&run, name).into_iter().map(|r| r.2).collect() };
    assert_eq!(reasons("i"), ["out of range for Int64", "not an integer"]);
    assert_eq!(
        reasons("f"),
        ["out of range for Float64", "out of range for Float64"]
    );
    assert_eq!(reasons("r"), ["out of range for Float32"]);
    assert_eq!(run.summary.rows_out, 2);
}

#[tokio::test]
async fn non_finite_tokens_are_value_rejects_and_the_line_is_kept() {
    let text = b"{\"x\":NaN,\"y\":1}\n{\"x\":Infinity,\"y\":2}\n{\"x\":-Infinity,\"y\":3}\n{\"x\":1.5,\"y\":4}\n";
    let run = compact(&[("a.ndjson", text)], |c| c).await;
    let batch = run.batch.as_ref().unwrap();
    assert_eq!(ints(batch, "y"), [Some(1), Some(2), Some(3), Some(4)]);
    let x: Vec<Option<f64>> = column(batch, "x")
        .as_primitive::<Float64Type>()
        .iter()
        .collect();
    assert_eq!(x, [None, None, None, Some(1.5)]);
    let values: Vec<String> = rejected(&run, "x").into_iter().map(|r| r.1).collect();
    assert_eq!(values, ["NaN", "Infinity", "-Infinity"]);
    assert_eq!(run.summary.rows_rejected, 0);
    assert_eq!(run.summary.values_rejected.get("x"), Some(&3));
}

#[tokio::test]
async fn a_byte_order_mark_is_skipped_and_counted_as_read() {
    let text = b"\xEF\xBB\xBF{\"a\":1}\n{\"a\":2}\n";
    let gzipped = {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(text).unwrap();
        e.finish().unwrap()
    };
    let run = compact(&[("a.ndjson", text), ("b.ndjson.gz", &gzipped)], |c| c).await;
    assert_eq!(
        ints(run.batch.as_ref().unwrap(), "a"),
        [Some(1), Some(2), Some(1), Some(2)]
    );
    assert!(run.rejects.is_empty(), "{:?}", run.rejects);
    assert_eq!(run.summary.bytes_json, 2 * text.len() as u64);
}

#[tokio::test]
async fn a_line_that_is_not_utf8_is_kept_byte_for_byte_in_base64() {
    use base64::Engine;
    let bad = b"{\"a\":\"caf\xe9\"}";
    let mut text = bad.to_vec();
    text.extend_from_slice(b"\n{\"a\":\"ok\"}\n");
    let run = compact(&[("a.ndjson", &text)], |c| c).await;
    let line = run
        .rejects
        .iter()
        .find(|r| r["column"].is_null())
        .expect("a line reject");
    assert_eq!(line["encoding"], "base64");
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(line["value"].as_str().unwrap())
        .unwrap();
    assert_eq!(decoded, bad);
    assert_eq!(run.summary.rows_out, 1);
}

#[tokio::test]
async fn a_gzip_cut_short_counts_the_rows_and_bytes_it_gave() {
    use std::io::Write;
    let text = b"{\"id\": 8}\n{\"id\": 9}\n";
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    e.write_all(text).unwrap();
    let mut cut = e.finish().unwrap();
    // The trailer (CRC and size) is cut, after the last line's bytes.
    cut.truncate(cut.len() - 6);
    let run = compact(&[("d.gz", &cut)], |c| c).await;
    let report = &run.summary.sources[0];
    assert_eq!((report.rows_in, report.rows_out), (2, 2));
    assert_eq!(report.bytes_json, text.len() as u64, "{report:?}");
    assert!(report.error.is_some());
    assert_eq!(run.summary.files_failed, 1);
}

//! Compaction of NDJSON / NDJSON.gz sources, run against memory, local disk and the
//! in-process S3 server of the conformance suite: sources are put into the backend,
//! compacted into a table on the same backend, and read back with the crate's scan.

mod support;

use std::io::Write;
use std::sync::{Arc, Mutex};

use arrow_array::RecordBatch;
use arrow_array::cast::AsArray;
use arrow_array::types::{Date32Type, Float64Type, Int64Type};
use arrow_schema::DataType;
use futures::StreamExt;
use object_store::path::Path;
use object_store::{ObjectStoreExt, PutPayload};
use parquet_storage::compact::{Compaction, CompactionSummary, Enrichment, Phase, Progress};
use parquet_storage::partition::PartitionField;
use parquet_storage::schema::{ColumnDef, SchemaRegistry, TableDef};
use parquet_storage::{ScanOptions, StorageEngine, StorageEngineExt, WriteOptions};
use support::faulty::FaultyStore;
use support::{Backend, Kind, hidden_listing, short_lease, table};

per_backend!(
    fields_appearing_vanishing_and_moving_unify_by_name,
    type_flips_widen_to_float_or_text,
    registry_schema_rejects_misfits_with_raw_text,
    malformed_and_truncated_lines_are_rejected_with_exact_line_numbers,
    empty_zero_byte_and_wrong_gzip_files_do_not_stop_the_run,
    enrichment_and_default_partition_layout,
    rows_are_sorted_within_a_file,
    partitions_roll_at_the_target_size,
    progress_reaches_done_with_every_file,
    spilling_or_reading_twice_gives_the_same_table,
    a_spill_that_cannot_be_made_fails_the_run_and_leaves_nothing,
    rerun_over_the_same_sources_adds_nothing,
    ingest_killed_at_every_step_then_rerun_is_exact,
    in_place_compaction_killed_at_every_step_keeps_rows_exact,
    two_compactions_at_once_change_the_table_once,
    a_live_run_is_never_rolled_back,
    vacuum_removes_what_dead_runs_left,
);

// ---------------------------------------------------------------------------------------
// helpers

fn gz(text: &str) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(text.as_bytes()).unwrap();
    encoder.finish().unwrap()
}

async fn put(backend: &Backend, path: &str, bytes: impl Into<Vec<u8>>) {
    backend
        .store()
        .put(&Path::from(path), PutPayload::from(bytes.into()))
        .await
        .unwrap();
}

/// The whole table as one batch, partition columns included.
async fn read_back(backend: &Backend, name: &str) -> RecordBatch {
    let batches = backend
        .engine
        .read_all(&table(name), ScanOptions::default())
        .await
        .unwrap();
    arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap()
}

/// The reject records of a run.
async fn rejects(backend: &Backend, summary: &CompactionSummary) -> Vec<serde_json::Value> {
    support::reject_records(backend.store().as_ref(), summary.rejects_path.as_deref()).await
}

fn accounted(summary: &CompactionSummary) {
    assert_eq!(
        summary.rows_in,
        summary.rows_out + summary.rows_rejected,
        "rows in = rows out + rejected: {summary:?}"
    );
    assert_eq!(
        summary.output.iter().map(|f| f.rows).sum::<u64>(),
        summary.rows_out
    );
}

fn strings(batch: &RecordBatch, column: &str) -> Vec<Option<String>> {
    let array = batch.column_by_name(column).unwrap();
    let text = arrow_cast::cast(array, &DataType::Utf8).unwrap();
    text.as_string::<i32>()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

fn ints(batch: &RecordBatch, column: &str) -> Vec<Option<i64>> {
    let array = batch.column_by_name(column).unwrap();
    array.as_primitive::<Int64Type>().iter().collect()
}

// ---------------------------------------------------------------------------------------
// checks

async fn fields_appearing_vanishing_and_moving_unify_by_name(backend: &Backend) {
    put(
        backend,
        "src/a.ndjson",
        "{\"id\": 1, \"x\": 10}\n{\"id\": 2, \"x\": 20}\n",
    )
    .await;
    // `x` vanishes and moves behind a new key; `y` appears.
    put(
        backend,
        "src/b.ndjson.gz",
        gz("{\"y\": \"new\", \"id\": 3}\n"),
    )
    .await;
    put(
        backend,
        "src/c.json",
        "{\"x\": 40, \"y\": \"z\", \"id\": 4}",
    )
    .await;
    let summary = Compaction::ndjson(backend.store(), "src")
        .run(&backend.engine, &table("t"))
        .await
        .unwrap();
    accounted(&summary);
    let names: Vec<&str> = summary
        .schema
        .fields()
        .iter()
        .map(|f| f.name().as_str())
        .collect();
    assert_eq!(names, ["id", "x", "y"]);
    assert_eq!(
        (summary.files, summary.rows_out, summary.rejects),
        (3, 4, 0)
    );
    let batch = read_back(backend, "t").await;
    assert_eq!(ints(&batch, "id"), [Some(1), Some(2), Some(3), Some(4)]);
    assert_eq!(ints(&batch, "x"), [Some(10), Some(20), None, Some(40)]);
    assert_eq!(
        strings(&batch, "y"),
        [None, None, Some("new".into()), Some("z".into())]
    );
}

async fn type_flips_widen_to_float_or_text(backend: &Backend) {
    put(
        backend,
        "src/1.ndjson",
        "{\"n\": 1, \"f\": 1, \"o\": {\"k\": [1, 2]}}\n{\"n\": \"N/A\", \"f\": 2.5, \"o\": null}\n",
    )
    .await;
    put(
        backend,
        "src/2.ndjson",
        "{\"n\": \"12\", \"f\": -3, \"o\": [true]}\n",
    )
    .await;
    let summary = Compaction::ndjson(backend.store(), "src/*.ndjson")
        .run(&backend.engine, &table("t"))
        .await
        .unwrap();
    accounted(&summary);
    let ty = |n: &str| {
        summary
            .schema
            .field_with_name(n)
            .unwrap()
            .data_type()
            .clone()
    };
    assert_eq!(
        (ty("n"), ty("f"), ty("o")),
        (DataType::Utf8, DataType::Float64, DataType::Utf8)
    );
    assert!(summary.values_rejected.is_empty());
    let batch = read_back(backend, "t").await;
    // Numbers keep their text, strings their content, objects and arrays their JSON.
    assert_eq!(
        strings(&batch, "n"),
        [Some("1".into()), Some("N/A".into()), Some("12".into())]
    );
    let f: Vec<_> = batch
        .column_by_name("f")
        .unwrap()
        .as_primitive::<Float64Type>()
        .iter()
        .collect();
    assert_eq!(f, [Some(1.0), Some(2.5), Some(-3.0)]);
    assert_eq!(
        strings(&batch, "o"),
        [Some("{\"k\": [1, 2]}".into()), None, Some("[true]".into())]
    );
}

async fn registry_schema_rejects_misfits_with_raw_text(backend: &Backend) {
    let mut registry = SchemaRegistry::new(Default::default());
    let schema = registry
        .register(
            TableDef::new("counts", 1)
                .with_column(ColumnDef::new("unit", "text").unwrap().not_null())
                .with_column(ColumnDef::new("n", "bigint").unwrap())
                .with_column(ColumnDef::new("v", "double precision").unwrap()),
        )
        .unwrap();
    let lines = [
        r#"{"unit": "a", "n": 1, "v": 0.5}"#,
        r#"{"unit": "b", "n": "N/A", "v": 1}"#,
        r#"{"unit": "c", "n": "12", "extra": true}"#,
        r#"{"n": 3}"#,
        r#"{"unit": "e", "n": 1.5, "v": "x"}"#,
    ];
    put(backend, "src/f.ndjson.gz", gz(&lines.join("\n"))).await;
    let summary = Compaction::ndjson(backend.store(), "src")
        .with_schema(schema)
        .run(&backend.engine, &table("t"))
        .await
        .unwrap();
    accounted(&summary);
    assert!(!summary.inferred);
    assert_eq!(
        (summary.rows_in, summary.rows_out, summary.rows_rejected),
        (5, 4, 1)
    );
    assert_eq!(summary.values_rejected.get("n"), Some(&2));
    assert_eq!(summary.values_rejected.get("v"), Some(&1));
    assert_eq!(summary.unknown_keys.get("extra"), Some(&1));
    let batch = read_back(backend, "t").await;
    assert_eq!(ints(&batch, "n"), [Some(1), None, Some(12), None]);
    let got: Vec<_> = rejects(backend, &summary)
        .await
        .into_iter()
        .map(|r| {
            assert_eq!(r["source_file"], "src/f.ndjson.gz");
            assert_eq!(r["run_id"], summary.run_id.as_str());
            (r["line"].as_u64(), r["column"].clone(), r["value"].clone())
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(2), "n".into(), "\"N/A\"".into()),
            (Some(4), serde_json::Value::Null, r#"{"n": 3}"#.into()),
            (Some(5), "n".into(), "1.5".into()),
            (Some(5), "v".into(), "\"x\"".into()),
        ]
    );
}

async fn malformed_and_truncated_lines_are_rejected_with_exact_line_numbers(backend: &Backend) {
    let text = [
        r#"{"k": 1, "s": "a"}"#,
        r#"{"k": 2, "s": "tru"#,
        "",
        r#"{"k": 4 "s": "b"}"#,
        "[1, 2]",
        r#"{"k": 6, "s": "c"}"#,
        r#"{"k": 7, "#,
    ]
    .join("\r\n");
    put(backend, "src/x.txt.gz", gz(&text)).await;
    let summary = Compaction::ndjson(backend.store(), "src")
        .run(&backend.engine, &table("t"))
        .await
        .unwrap();
    accounted(&summary);
    assert_eq!(
        (summary.rows_in, summary.rows_out, summary.rows_rejected),
        (6, 2, 4)
    );
    let batch = read_back(backend, "t").await;
    assert_eq!(ints(&batch, "k"), [Some(1), Some(6)]);
    let records = rejects(backend, &summary).await;
    let lines: Vec<_> = records
        .iter()
        .map(|r| r["line"].as_u64().unwrap())
        .collect();
    assert_eq!(lines, [2, 4, 5, 7]);
    assert!(
        records[0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("truncated")
    );
    assert!(
        records[1]["reason"]
            .as_str()
            .unwrap()
            .starts_with("malformed")
    );
    assert!(
        records[2]["reason"]
            .as_str()
            .unwrap()
            .starts_with("not a JSON object")
    );
    assert_eq!(records[3]["value"], r#"{"k": 7, "#);
    assert!(records.iter().all(|r| r["column"].is_null()));
}

async fn empty_zero_byte_and_wrong_gzip_files_do_not_stop_the_run(backend: &Backend) {
    put(backend, "src/0-empty.gz", Vec::new()).await;
    put(backend, "src/1-blank.ndjson", "\n  \n").await;
    let mut broken = vec![0x1f, 0x8b];
    broken.extend_from_slice(b"definitely not deflate data");
    put(backend, "src/2-wrong-header.gz", broken).await;
    let mut cut = gz("{\"a\": 1}\n{\"a\": 2}\n");
    cut.truncate(cut.len() - 6); // the trailer and a bit of the data are missing
    put(backend, "src/3-cut.gz", cut).await;
    put(backend, "src/4-good.gz", gz("{\"a\": 3}\n")).await;
    let summary = Compaction::ndjson(backend.store(), "src")
        .run(&backend.engine, &table("t"))
        .await
        .unwrap();
    accounted(&summary);
    assert_eq!(summary.files, 5);
    assert_eq!((summary.files_empty, summary.files_failed), (2, 2));
    let batch = read_back(backend, "t").await;
    assert!(ints(&batch, "a").contains(&Some(3)));
    let by_file: Vec<(String, bool)> = rejects(backend, &summary)
        .await
        .iter()
        .map(|r| {
            (
                r["source_file"].as_str().unwrap().to_string(),
                r["reason"].as_str().unwrap().is_empty(),
            )
        })
        .collect();
    let names: Vec<&str> = by_file.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "src/0-empty.gz",
            "src/1-blank.ndjson",
            "src/2-wrong-header.gz",
            "src/3-cut.gz"
        ]
    );
    assert!(by_file.iter().all(|(_, empty_reason)| !empty_reason));
    let reports = &summary.sources;
    assert!(reports[2].error.as_deref().unwrap().contains("line 1"));
    assert!(reports[4].error.is_none() && reports[4].rows_out == 1);
}

/// unitno, dstrct_code, hiveperiod (days), source_file.
type EnrichedRow = (Option<String>, Option<String>, i32, Option<String>);

async fn enrichment_and_default_partition_layout(backend: &Backend) {
    // 2024-11-04T15:59:59Z is 23:59:59 at UTC+8; a second later is the 5th there.
    put(
        backend,
        "fleet/BRCB/dev1/2024110415/2024110415.txt.gz",
        gz("{\"unitno\": \"HT1\", \"heartbeat\": 1730735999}\n{\"unitno\": \"HT1\", \"heartbeat\": 1730736000}\n"),
    )
    .await;
    put(
        backend,
        "fleet/BRCG/dev2/2024110415/2024110415.txt.gz",
        gz("{\"heartbeat\": 1730736001, \"unitno\": \"HT2\"}\n"),
    )
    .await;
    put(backend, "fleet/manifest.json", "{}").await;
    let summary = Compaction::ndjson(backend.store(), "fleet/*/*/*/*.txt.gz")
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
        ])
        .run(&backend.engine, &table("out"))
        .await
        .unwrap();
    accounted(&summary);
    assert_eq!(summary.files, 2, "the manifest does not match the glob");
    let mut dirs: Vec<String> = summary
        .output
        .iter()
        .map(|f| {
            let rest = f.path.strip_prefix("out/").unwrap();
            rest[..rest.rfind('/').unwrap()].to_string()
        })
        .collect();
    dirs.sort();
    assert_eq!(
        dirs,
        [
            "hiveperiod=2024-11-04/district=BRCB",
            "hiveperiod=2024-11-05/district=BRCB",
            "hiveperiod=2024-11-05/district=BRCG"
        ]
    );
    let batch = read_back(backend, "out").await;
    let mut rows: Vec<EnrichedRow> = (0..batch.num_rows())
        .map(|i| {
            (
                strings(&batch, "unitno")[i].clone(),
                strings(&batch, "dstrct_code")[i].clone(),
                batch
                    .column_by_name("hiveperiod")
                    .unwrap()
                    .as_primitive::<Date32Type>()
                    .value(i),
                strings(&batch, "source_file")[i].clone(),
            )
        })
        .collect();
    rows.sort();
    let file1 = Some("BRCB/dev1/2024110415/2024110415.txt.gz".to_string());
    let file2 = Some("BRCG/dev2/2024110415/2024110415.txt.gz".to_string());
    assert_eq!(
        rows,
        [
            (
                Some("HT1".into()),
                Some("BRCB".into()),
                20031,
                file1.clone()
            ),
            (Some("HT1".into()), Some("BRCB".into()), 20032, file1),
            (Some("HT2".into()), Some("BRCG".into()), 20032, file2),
        ]
    );
}

async fn rows_are_sorted_within_a_file(backend: &Backend) {
    let lines: Vec<String> = (0..200)
        .map(|i| {
            let unit = ["c", "a", "b"][i % 3];
            format!("{{\"unitno\": \"{unit}\", \"heartbeat\": {}}}", 1000 - i)
        })
        .collect();
    put(backend, "src/1.ndjson", lines[..100].join("\n")).await;
    put(backend, "src/2.ndjson", lines[100..].join("\n")).await;
    let summary = Compaction::ndjson(backend.store(), "src")
        .with_sort_by(["unitno", "heartbeat"])
        .with_batch_rows(16)
        .run(&backend.engine, &table("t"))
        .await
        .unwrap();
    accounted(&summary);
    assert_eq!(summary.output.len(), 1);
    let batch = read_back(backend, "t").await;
    let keys: Vec<(String, i64)> = strings(&batch, "unitno")
        .into_iter()
        .zip(ints(&batch, "heartbeat"))
        .map(|(u, h)| (u.unwrap(), h.unwrap()))
        .collect();
    let mut sorted = keys.clone();
    sorted.sort();
    assert_eq!(keys.len(), 200);
    assert_eq!(keys, sorted);
}

async fn partitions_roll_at_the_target_size(backend: &Backend) {
    let lines: Vec<String> = (0..1000)
        .map(|i| format!("{{\"part\": \"p{}\", \"i\": {i}}}", i % 2))
        .collect();
    put(backend, "src/1.ndjson", lines.join("\n")).await;
    let summary = Compaction::ndjson(backend.store(), "src")
        .with_write_options(WriteOptions::default().with_max_row_group_rows(100))
        .with_partition_by([PartitionField::column("part")])
        .with_batch_rows(100)
        .with_target_file_size(Some(1))
        .run(&backend.engine, &table("t"))
        .await
        .unwrap();
    accounted(&summary);
    // A file is closed once it passes the target, which here is after every part of a
    // batch: 10 batches of 100 rows, 50 per partition each.
    assert_eq!(summary.output.len(), 20);
    assert!(summary.output.iter().all(|f| f.rows == 50));
    let info = backend.engine.table_info(&table("t"), None).await.unwrap();
    assert_eq!(
        (info.files, info.rows, info.partitions.len()),
        (20, 1000, 2)
    );
}

async fn progress_reaches_done_with_every_file(backend: &Backend) {
    for i in 0..3 {
        put(
            backend,
            &format!("src/{i}.ndjson"),
            "{\"a\": 1}\n{\"a\": 2}\n",
        )
        .await;
    }
    // Spilling: files are read once, then written; without a spill (the default), read
    // to infer, then read and written.
    for (spill, first) in [(true, Phase::Compact), (false, Phase::Infer)] {
        let seen: Arc<Mutex<Vec<Progress>>> = Arc::default();
        let mut compaction = Compaction::ndjson(backend.store(), "src").on_progress({
            let seen = Arc::clone(&seen);
            move |p| seen.lock().unwrap().push(p.clone())
        });
        if spill {
            compaction = compaction.with_spill_dir(std::env::temp_dir());
        }
        let name = format!("t{spill}");
        let summary = compaction
            .run(&backend.engine, &table(&name))
            .await
            .unwrap();
        let seen = seen.lock().unwrap();
        let phases: Vec<Phase> = seen.iter().map(|p| p.phase).collect();
        let second = if spill { Phase::Write } else { Phase::Compact };
        let expected: Vec<Phase> = [[first; 3], [second; 3]].concat();
        assert_eq!(phases[..6], expected, "spill {spill}");
        let files: Vec<usize> = seen[..6].iter().map(|p| p.files_done).collect();
        assert_eq!(files, [1, 2, 3, 1, 2, 3]);
        let rows: Vec<u64> = seen[..6].iter().map(|p| p.rows).collect();
        assert_eq!(rows, [2, 4, 6, 2, 4, 6]);
        let last = seen.last().unwrap();
        assert_eq!(
            (last.phase, last.files_done, last.files_total, seen.len()),
            (Phase::Done, 3, 3, 7)
        );
        assert_eq!(last.bytes_out, summary.bytes_out);
        assert!(summary.bytes_out > 0 && summary.infer_duration.is_some());
        assert_eq!(summary.bytes_json, 3 * 18);
        assert_eq!(summary.bytes_spilled > 0, spill);
        assert_eq!(summary.rows_out, 6);
    }
}

/// Every kind of dirt at once, over three files and two sites.
async fn put_dirty_sources(backend: &Backend) {
    put(
        backend,
        "dirty/s1/a.ndjson",
        concat!(
            "{\"id\": 1, \"n\": 1, \"f\": 1, \"o\": {\"k\": [1, \"\\\"q\\\"\"]}, \"s\": \"\\\"x\\\"\"}\n",
            "{\"id\": 2, \"n\": \"N/A\", \"f\": 2.5, \"b\": true, \"id\": 3}\n",
            "{\"id\": 4, \"n\": \n",
            "\n",
            "[1, 2]\n",
            "{\"id\": 5, \"late\": null, \"neg\": -0}",
        ),
    )
    .await;
    put(
        backend,
        "dirty/s2/b.ndjson.gz",
        gz(concat!(
            "{\"new\": \"only here\", \"id\": 6, \"f\": -3, \"neg\": \"t\"}\n",
            "{\"id\": 7, \"b\": \"yes\", \"n\": 12, \"late\": 1e400}\n",
        )),
    )
    .await;
    put(backend, "dirty/s2/c.gz", Vec::new()).await;
    let mut cut = gz("{\"id\": 8}\n{\"id\": 9}\n");
    cut.truncate(cut.len() - 6);
    put(backend, "dirty/s2/d.gz", cut).await;
}

async fn spilling_or_reading_twice_gives_the_same_table(backend: &Backend) {
    put_dirty_sources(backend).await;
    let run = |spill: bool, name: &'static str| {
        let mut compaction = Compaction::ndjson(backend.store(), "dirty/*/*")
            .with_enrichment(Enrichment::path_segment("site", 0))
            .with_enrichment(Enrichment::source_file("source"))
            .with_batch_rows(2);
        if spill {
            compaction = compaction.with_spill_dir(std::env::temp_dir());
        }
        async move { compaction.run(&backend.engine, &table(name)).await.unwrap() }
    };
    let (once, twice) = (run(true, "once").await, run(false, "twice").await);
    accounted(&once);
    assert!(once.bytes_spilled > 0 && twice.bytes_spilled == 0);
    let numbers = |s: &CompactionSummary| {
        (
            s.files,
            s.files_failed,
            s.files_empty,
            s.rows_in,
            s.rows_out,
            s.rows_rejected,
            s.rejects,
            s.values_rejected.clone(),
        )
    };
    assert_eq!(numbers(&once), numbers(&twice));
    // The cut gzip still gives both its lines (only its trailer is short).
    assert_eq!(
        (once.rows_out, once.rows_rejected, once.files_failed),
        (7, 2, 1)
    );
    assert_eq!(once.schema, twice.schema);
    assert_eq!(once.sources, twice.sources);
    // The same rejects; a spilling run finds the values its schema refuses when it
    // types the spilled batches, after every file's line and file rejects.
    let reasons = |r: Vec<serde_json::Value>| -> Vec<String> {
        let mut all: Vec<String> = r
            .iter()
            .map(|r| {
                format!(
                    "{} {} {} {}",
                    r["source_file"], r["line"], r["value"], r["reason"]
                )
            })
            .collect();
        all.sort();
        all
    };
    assert_eq!(
        reasons(rejects(backend, &once).await),
        reasons(rejects(backend, &twice).await)
    );
    assert_eq!(
        read_back(backend, "once").await,
        read_back(backend, "twice").await
    );
    let batch = read_back(backend, "once").await;
    assert_eq!(
        strings(&batch, "s"),
        [Some("\"x\"".into()), None, None, None, None, None, None]
    );
    assert_eq!(
        strings(&batch, "neg")[2..4],
        [Some("-0".into()), Some("t".into())]
    );
}

async fn a_spill_that_cannot_be_made_fails_the_run_and_leaves_nothing(backend: &Backend) {
    put_dirty_sources(backend).await;
    let err = Compaction::ndjson(backend.store(), "dirty/*/*")
        .with_spill_dir("/nonexistent/spill-here")
        .run(&backend.engine, &table("t"))
        .await
        .unwrap_err();
    assert!(
        matches!(err, parquet_storage::Error::Spill { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("/nonexistent/spill-here"), "{err}");
    // The released lease record stays (its generation orders the next run's); nothing else.
    let left: Vec<String> = backend
        .store()
        .list(Some(&Path::from("t")))
        .map(|meta| meta.unwrap().location.to_string())
        .filter(|path| std::future::ready(!path.starts_with("t/_lease/")))
        .collect()
        .await;
    assert!(left.is_empty(), "{left:?}");
}

// ---------------------------------------------------------------------------------------
// idempotency and crash safety

/// Four sources of ten rows, two jobsites, ids 0..40.
async fn put_fleet(backend: &Backend, root: &str) {
    for (file, site) in ["BRCB", "BRCB", "BRCG", "BRCG"].iter().enumerate() {
        let lines: String = (0..10)
            .map(|i| {
                let id = file * 10 + i;
                format!("{{\"id\": {id}, \"heartbeat\": {}}}\n", 1_730_735_990 + id)
            })
            .collect();
        put(
            backend,
            &format!("{root}/{site}/dev{file}/2024110415/2024110415.txt.gz"),
            gz(&lines),
        )
        .await;
    }
}

/// Partitioned by district only, and the tables below have short names: the in-process
/// S3 server keeps each object's metadata in a file named after the base64 of its key,
/// which must fit 255 bytes, and staged paths are long (real S3 allows 1,024).
fn fleet_compaction(backend: &Backend, root: &str) -> Compaction {
    Compaction::ndjson(backend.store(), format!("{root}/*/*/*/*.txt.gz"))
        .with_enrichment(Enrichment::path_segment("district", 0))
        .with_partition_by([PartitionField::column("district")])
}

/// The sorted `id`s a reader sees in `name` (none when there is no table yet).
async fn ids(engine: &dyn StorageEngine, name: &str) -> Vec<i64> {
    let batches = match engine.read_all(&table(name), ScanOptions::default()).await {
        Ok(batches) => batches,
        Err(parquet_storage::Error::TableNotFound { .. }) => return Vec::new(),
        Err(e) => panic!("reading {name}: {e}"),
    };
    let mut ids: Vec<i64> = batches
        .iter()
        .flat_map(|b| {
            b.column_by_name("id")
                .unwrap()
                .as_primitive::<Int64Type>()
                .values()
                .to_vec()
        })
        .collect();
    ids.sort_unstable();
    ids
}

async fn rerun_over_the_same_sources_adds_nothing(backend: &Backend) {
    put_fleet(backend, "again").await;
    let first = fleet_compaction(backend, "again")
        .run(&backend.engine, &table("ag"))
        .await
        .unwrap();
    assert_eq!(
        (first.files, first.files_skipped, first.rows_out),
        (4, 0, 40)
    );
    let second = fleet_compaction(backend, "again")
        .run(&backend.engine, &table("ag"))
        .await
        .unwrap();
    assert_eq!(
        (second.files, second.files_skipped, second.rows_out),
        (0, 4, 0)
    );
    assert_eq!(
        ids(&backend.engine, "ag").await,
        (0..40).collect::<Vec<_>>()
    );
    // A new source is picked up, and only it.
    put(
        backend,
        "again/BRCG/dev9/2024110416/2024110416.txt.gz",
        gz("{\"id\": 40, \"heartbeat\": 1730736100}\n"),
    )
    .await;
    let third = fleet_compaction(backend, "again")
        .run(&backend.engine, &table("ag"))
        .await
        .unwrap();
    assert_eq!(
        (third.files, third.files_skipped, third.rows_out),
        (1, 4, 1)
    );
    assert_eq!(
        ids(&backend.engine, "ag").await,
        (0..41).collect::<Vec<_>>()
    );
}

/// Kills an ingest run at every mutating request in turn. Meanwhile a reader sees all
/// of the run's rows or none; a re-run then leaves exactly the source rows.
async fn ingest_killed_at_every_step_then_rerun_is_exact(backend: &Backend) {
    put_fleet(backend, "kill").await;
    // Reading the sources twice (the default) and once, spilling.
    for spill in [false, true] {
        killed_at_every_step(backend, spill).await;
    }
}

async fn killed_at_every_step(backend: &Backend, spill: bool) {
    let all: Vec<i64> = (0..40).collect();
    let fleet = || {
        let compaction = fleet_compaction(backend, "kill");
        match spill {
            true => compaction.with_spill_dir(std::env::temp_dir()),
            false => compaction,
        }
    };
    // How many mutating requests a whole run makes.
    let counting = Arc::new(FaultyStore::new(backend.store(), 0));
    let engine = backend.engine_over(|_| Arc::clone(&counting) as _);
    fleet()
        .run(&engine, &table(&format!("kc{spill}")))
        .await
        .unwrap();
    let steps = counting.requests();
    assert!(
        steps >= 6,
        "staged files, rejects, commit, publish, finish: {steps}"
    );
    for step in 1..=steps {
        let name = format!("k{spill}{step}");
        let dying = short_lease(
            backend.engine_over(|inner| Arc::new(FaultyStore::dying(inner, step)) as _),
        );
        let died = fleet().run(&dying, &table(&name)).await;
        let seen = ids(&backend.engine, &name).await;
        // Dying while giving the lease up leaves the run's work done.
        assert!(
            died.is_err() || seen == all,
            "the run survived its death at step {step} without finishing"
        );
        assert!(
            seen.is_empty() || seen == all,
            "killed at step {step} of {steps}, a reader sees {} of 40 rows",
            seen.len()
        );
        let patient = short_lease(backend.engine.clone());
        let rerun = fleet().run(&patient, &table(&name)).await.unwrap();
        assert_eq!(
            rerun.files_skipped + rerun.files,
            4,
            "step {step}: every source either compacted before or now"
        );
        assert_eq!(
            ids(&backend.engine, &name).await,
            all,
            "killed at step {step}"
        );
        let listing = hidden_listing(backend, &table(&name)).await;
        assert!(
            !listing
                .iter()
                .any(|p| p.contains("/_pending/") || p.contains("/_txn/")),
            "step {step}: leftovers {listing:?}"
        );
    }
}

/// Kills an in-place compaction at every mutating request in turn: a reader sees the
/// original rows exactly, before and after `recover`, and a later compaction finishes.
async fn in_place_compaction_killed_at_every_step_keeps_rows_exact(backend: &Backend) {
    use parquet_storage::compact::compact_in_place;
    let appends = |name: String| async move {
        // Six appends of five rows over two partitions: three small files each.
        for append in 0..6i64 {
            let ids: Vec<i64> = (append * 5..append * 5 + 5).collect();
            let sites: Vec<&str> = ids
                .iter()
                .map(|_| if append % 2 == 0 { "BRCB" } else { "BRCG" })
                .collect();
            let batch = RecordBatch::try_from_iter([
                ("id", Arc::new(arrow_array::Int64Array::from(ids)) as _),
                ("site", Arc::new(arrow_array::StringArray::from(sites)) as _),
            ])
            .unwrap();
            let options =
                WriteOptions::default().with_partition_by([PartitionField::column("site")]);
            backend
                .engine
                .write_batch(&table(&name), batch, options)
                .await
                .unwrap();
        }
    };
    let all: Vec<i64> = (0..30).collect();
    appends("ic".into()).await;
    let counting = Arc::new(FaultyStore::new(backend.store(), 0));
    let engine = backend.engine_over(|_| Arc::clone(&counting) as _);
    let done = compact_in_place(&engine, &table("ic"), None, WriteOptions::default())
        .await
        .unwrap();
    assert_eq!(
        (done.partitions, done.files_before, done.files_after),
        (2, 6, 2)
    );
    assert_eq!(ids(&backend.engine, "ic").await, all);
    let steps = counting.requests();
    for step in 1..=steps {
        let name = format!("i{step}");
        appends(name.clone()).await;
        let dying = short_lease(
            backend.engine_over(|inner| Arc::new(FaultyStore::dying(inner, step)) as _),
        );
        let died = compact_in_place(&dying, &table(&name), None, WriteOptions::default()).await;
        let files = backend.engine.list_files(&table(&name)).await.unwrap();
        assert!(
            died.is_err() || files.len() == 2,
            "the compaction survived its death at step {step} without finishing"
        );
        assert_eq!(
            ids(&backend.engine, &name).await,
            all,
            "killed at step {step}, before recover"
        );
        backend.engine.recover(&table(&name)).await.unwrap();
        assert_eq!(
            ids(&backend.engine, &name).await,
            all,
            "killed at step {step}, after recover"
        );
        let files = backend
            .engine
            .list_files(&table(&name))
            .await
            .unwrap()
            .len();
        assert!(files == 6 || files == 2, "step {step}: {files} files");
        compact_in_place(
            &short_lease(backend.engine.clone()),
            &table(&name),
            None,
            WriteOptions::default(),
        )
        .await
        .unwrap();
        assert_eq!(
            ids(&backend.engine, &name).await,
            all,
            "step {step}, compacted again"
        );
        assert_eq!(
            backend
                .engine
                .list_files(&table(&name))
                .await
                .unwrap()
                .len(),
            2
        );
    }
}

// ---------------------------------------------------------------------------------------
// One run at a time per table, and what dead runs leave

/// Whether `path` is a change record being committed: where a gated run waits.
fn is_commit(path: &Path) -> bool {
    path.as_ref().contains("/_txn/")
}

/// A second compaction of a table another one is changing is refused with a clear,
/// retryable error, or waits for it when told to; either way each row lands once.
async fn two_compactions_at_once_change_the_table_once(backend: &Backend) {
    put_fleet(backend, "twice").await;
    let all: Vec<i64> = (0..40).collect();
    let gated = Arc::new(FaultyStore::gated(backend.store(), is_commit));
    let first_engine = backend.engine_over(|_| Arc::clone(&gated) as _);
    let first = tokio::spawn({
        let compaction = fleet_compaction(backend, "twice");
        async move { compaction.run(&first_engine, &table("tw")).await }
    });
    gated.gate_reached().await;
    let refused = fleet_compaction(backend, "twice")
        .run(&backend.engine, &table("tw"))
        .await
        .unwrap_err();
    assert!(
        matches!(&refused, parquet_storage::Error::LeaseHeld { table, .. } if table == "tw"),
        "{refused:?}"
    );
    assert_eq!(refused.kind(), parquet_storage::ErrorKind::Busy);
    assert!(refused.is_retryable());
    assert!(refused.to_string().contains("try again later"), "{refused}");
    // A second run that may wait starts once the first is done, and finds nothing new.
    let waiting = tokio::spawn({
        let compaction = fleet_compaction(backend, "twice");
        let engine = short_lease(backend.engine.clone());
        async move { compaction.run(&engine, &table("tw")).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(!waiting.is_finished(), "the waiting run did not wait");
    gated.open_gate();
    let first = first.await.unwrap().unwrap();
    let second = waiting.await.unwrap().unwrap();
    assert_eq!((first.files, first.rows_out), (4, 40));
    assert_eq!(
        (second.files, second.files_skipped, second.rows_out),
        (0, 4, 0)
    );
    assert_eq!(ids(&backend.engine, "tw").await, all);
}

/// Neither `recover` nor `vacuum` rolls back the change of a run that is alive (it
/// holds the table's lease), however old its files: the run then commits as usual.
async fn a_live_run_is_never_rolled_back(backend: &Backend) {
    put_fleet(backend, "live").await;
    let gated = Arc::new(FaultyStore::gated(backend.store(), is_commit));
    let engine = backend.engine_over(|_| Arc::clone(&gated) as _);
    let run = tokio::spawn({
        let compaction = fleet_compaction(backend, "live");
        async move { compaction.run(&engine, &table("lv")).await }
    });
    gated.gate_reached().await;
    let pending_before = hidden_listing(backend, &table("lv")).await;
    assert!(pending_before.iter().any(|p| p.contains("/_pending/")));
    let recovered = backend.engine.recover(&table("lv")).await.unwrap();
    assert_eq!(recovered.live.len(), 1, "{recovered:?}");
    assert!(recovered.rolled_back.is_empty());
    let vacuumed = backend
        .engine
        .vacuum(std::time::Duration::ZERO)
        .await
        .unwrap();
    assert!(
        vacuumed
            .tables
            .iter()
            .all(|(_, r)| r.rolled_back.is_empty()),
        "{vacuumed:?}"
    );
    let pending_now: Vec<String> = hidden_listing(backend, &table("lv"))
        .await
        .into_iter()
        .filter(|p| p.contains("/_pending/"))
        .collect();
    let pending_then: Vec<String> = pending_before
        .into_iter()
        .filter(|p| p.contains("/_pending/"))
        .collect();
    assert_eq!(pending_now, pending_then);
    gated.open_gate();
    assert_eq!(run.await.unwrap().unwrap().rows_out, 40);
    assert_eq!(
        ids(&backend.engine, "lv").await,
        (0..40).collect::<Vec<_>>()
    );
}

/// What runs that died at any step left in the hidden area: `vacuum` leaves it while it
/// is younger than asked, then removes it all, and no reader ever sees a difference.
async fn vacuum_removes_what_dead_runs_left(backend: &Backend) {
    put_fleet(backend, "dead").await;
    let counting = Arc::new(FaultyStore::new(backend.store(), 0));
    let engine = backend.engine_over(|_| Arc::clone(&counting) as _);
    fleet_compaction(backend, "dead")
        .run(&engine, &table("dc"))
        .await
        .unwrap();
    let steps = counting.requests();
    for step in 1..=steps {
        let name = format!("d{step}");
        let dying = short_lease(
            backend.engine_over(|inner| Arc::new(FaultyStore::dying(inner, step)) as _),
        );
        let _ = fleet_compaction(backend, "dead")
            .run(&dying, &table(&name))
            .await;
        // A write that dies with a multipart upload half done.
        let big = noise(4, 400_000);
        let _ = dying
            .write_batch(
                &table(&format!("{name}w")),
                big,
                WriteOptions::default().with_compression(parquet_storage::Compression::None),
            )
            .await;
    }
    let mut seen_before = Vec::new();
    for step in 1..=steps {
        seen_before.push(ids(&backend.engine, &format!("d{step}")).await);
    }
    let kept = backend
        .engine
        .vacuum(std::time::Duration::from_secs(3600))
        .await
        .unwrap();
    assert_eq!(kept.staged_deleted, 0, "{kept:?}");
    assert!(
        kept.tables.iter().all(|(_, r)| r.rolled_back.is_empty()),
        "{kept:?}"
    );
    let left = hidden_root_listing(backend).await;
    assert!(
        left.iter().any(|p| p.contains("/_pending/")),
        "dead runs left no pending files to sweep: {left:?}"
    );
    if backend.capabilities.lists_incomplete_uploads {
        assert!(
            left.iter().any(|p| p.contains("/staging/")),
            "dead writes left no staged upload to sweep: {left:?}"
        );
    }
    tokio::time::sleep(std::time::Duration::from_millis(500)).await; // the leases expire
    let swept = backend
        .engine
        .vacuum(std::time::Duration::ZERO)
        .await
        .unwrap();
    let staged = support::staged_uploads(&backend.store()).await;
    assert!(
        staged.is_empty(),
        "left after vacuum ({swept:?}): {staged:?}"
    );
    let hidden = hidden_root_listing(backend).await;
    assert!(
        hidden.iter().all(|p| {
            p.contains("/staging/") || p.contains("/_manifest/") || p.contains("/_lease/")
        }),
        "left after vacuum ({swept:?}): {hidden:?}"
    );
    for (step, before) in (1..=steps).zip(seen_before) {
        assert_eq!(
            ids(&backend.engine, &format!("d{step}")).await,
            before,
            "vacuum changed what a reader sees of d{step}"
        );
    }
}

/// Every object of the hidden area, relative to the root.
async fn hidden_root_listing(backend: &Backend) -> Vec<String> {
    support::listing(&backend.store(), parquet_storage::HIDDEN_ROOT).await
}

/// A batch of `columns` random Float64 columns of `rows` rows: incompressible, so its
/// file is large.
fn noise(columns: usize, rows: usize) -> RecordBatch {
    let mut state = 0x9E37_79B9_7F4A_7C15u64;
    let fields = (0..columns).map(|c| {
        let values: Vec<f64> = (0..rows)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                f64::from_bits(state >> 2)
            })
            .collect();
        (
            format!("c{c}"),
            Arc::new(arrow_array::Float64Array::from(values)) as arrow_array::ArrayRef,
        )
    });
    RecordBatch::try_from_iter(fields).unwrap()
}

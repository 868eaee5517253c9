//! Registry schemas: validated writes, reads under a schema, and evolution.

use std::sync::Arc;

use arrow_array::{
    Array, ArrayRef, Float32Array, Int32Array, Int64Array, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use parquet_storage::schema::{ColumnDef, SchemaRegistry, TableDef, TableSchema};
use parquet_storage::{
    Error, RecordBatchStream, ScanOptions, StorageEngine, StorageEngineExt, WriteOptions,
};

use crate::common::{
    assert_same_data, concat, telemetry, telemetry_schema, try_scan, write, write_with,
};
use crate::per_backend;
use crate::support::{Backend, Kind, table};

per_backend!(
    files_with_an_added_column_read_together,
    invalid_batch_leaves_no_file,
    older_files_read_under_a_newer_schema,
);

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

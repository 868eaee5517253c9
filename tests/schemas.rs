//! The schema registry: the crate's schema files, the DDL they come from, and property
//! tests of validation, coercion and round trips through the engine.

use std::collections::BTreeMap;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::types::IntervalMonthDayNano;
use arrow_array::{
    Array, ArrayRef, BinaryArray, BooleanArray, Decimal128Array, FixedSizeBinaryArray,
    Float32Array, Float64Array, Int16Array, Int32Array, Int64Array, IntervalMonthDayNanoArray,
    ListArray, RecordBatch, StringArray,
};
use arrow_schema::{DataType, Field, Schema};
use parquet_storage::schema::evolution::{Change, compare};
use parquet_storage::schema::{
    ColumnDef, PgType, ProblemKind, RegistryOptions, SchemaRegistry, TableDef, TableSchema, ddl,
};
use parquet_storage::{
    Error, ObjectStoreEngine, ScanOptions, StorageEngine, StorageEngineExt, TablePath, WriteOptions,
};
use proptest::prelude::*;
use support::cells;

mod support;
use proptest::test_runner::{Config, TestRunner};

const GEOTECH_DUMP: &str = "schemas/geotech/geotech.sql";
/// CI loads `schemas/geotech/source.sql` into a real PostgreSQL, dumps it with
/// `pg_dump --schema-only` and names the fresh dump here; otherwise the checked-in dump
/// is used.
const FRESH_DUMP_VAR: &str = "PARQUET_STORAGE_TEST_PG_DUMP";

fn by_name(defs: impl IntoIterator<Item = TableDef>) -> BTreeMap<String, TableDef> {
    defs.into_iter().map(|d| (d.name.clone(), d)).collect()
}

/// The geotechnical schema files, loaded from the directory as a service loads its own.
fn geotech() -> SchemaRegistry {
    let mut registry = SchemaRegistry::default();
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/geotech");
    assert_eq!(registry.load_dir(dir).unwrap(), 29);
    registry
}

#[test]
fn every_schema_file_loads_and_round_trips() {
    let mut from_dir = SchemaRegistry::default();
    let loaded = from_dir.load_dir("schemas").unwrap();
    assert!(loaded >= 29, "only {loaded} schema files");
    for schema in from_dir.tables() {
        let def = schema.def();
        assert_eq!(
            &TableDef::from_toml(&def.to_toml().unwrap(), "round trip").unwrap(),
            def
        );
    }
}

/// The default build embeds no schema; each feature embeds exactly its set's files.
#[test]
fn the_builtin_registry_holds_the_enabled_sets_only() {
    let builtin = SchemaRegistry::builtin().unwrap();
    let mut expected = SchemaRegistry::default();
    for set in SchemaRegistry::builtin_sets() {
        expected.load_dir(format!("schemas/{set}")).unwrap();
    }
    let names = |r: &SchemaRegistry| r.tables().map(|t| t.def().clone()).collect::<Vec<_>>();
    assert_eq!(names(&builtin), names(&expected));
    assert_eq!(
        SchemaRegistry::builtin_sets().contains(&"geotech"),
        cfg!(feature = "geotech")
    );
}

#[test]
fn geotech_ddl_and_schema_files_agree() {
    let path = std::env::var(FRESH_DUMP_VAR).unwrap_or_else(|_| GEOTECH_DUMP.to_string());
    let sql = std::fs::read_to_string(&path).unwrap();
    let imported = by_name(ddl::import(&sql).unwrap());
    let registry = geotech();
    let files = by_name(registry.tables().map(|t| t.def().clone()));
    assert_eq!(imported.len(), 29, "{path}");
    for required in [
        "customers",
        "organisations",
        "users",
        "contacts",
        "projects",
        "structure",
        "sub_structures",
        "borehole",
        "borelog_details",
        "borelog_versions",
        "stratum_layers",
        "stratum_sample_points",
        "unified_lab_reports",
        "lab_report_versions",
        "soil_test_samples",
        "pending_csv_uploads",
        "substructure_assignments",
    ] {
        assert!(
            imported.contains_key(required),
            "{required} missing from {path}"
        );
    }
    for (name, def) in &imported {
        assert_eq!(
            files.get(name),
            Some(def),
            "table {name}: {path} and schemas/geotech/{name}.toml differ"
        );
    }
    // The set covers every type the mapping knows.
    let types: Vec<String> = imported
        .values()
        .flat_map(|d| d.columns.iter().map(|c| c.pg_type.to_string()))
        .collect();
    for expected in [
        "uuid",
        "json",
        "jsonb",
        "text",
        "varchar(",
        "char(",
        "smallint",
        "integer",
        "bigint",
        "real",
        "double precision",
        "numeric(",
        "numeric",
        "boolean",
        "date",
        "time",
        "timestamp",
        "timestamptz",
        "timestamp(3)",
        "timestamptz(3)",
        "interval",
        "bytea",
        "text[]",
        "integer[]",
        "geography(point,4326)",
        "geometry(point,4326)",
    ] {
        assert!(
            types.iter().any(|t| t.starts_with(expected)),
            "no {expected} column"
        );
    }
}

// ---------------------------------------------------------------------------------------
// conforming batches for any registry schema

/// The PostgreSQL types random schemas are drawn from.
fn pg_types() -> Vec<PgType> {
    [
        "uuid",
        "json",
        "jsonb",
        "text",
        "varchar(8)",
        "char(3)",
        "smallint",
        "integer",
        "bigint",
        "real",
        "double precision",
        "numeric(10,3)",
        "numeric",
        "boolean",
        "date",
        "time",
        "time(3)",
        "timestamp",
        "timestamp(3)",
        "timestamptz",
        "timestamptz(0)",
        "interval",
        "bytea",
        "text[]",
        "integer[]",
        "geography(point,4326)",
        "geometry(point,4326)",
    ]
    .iter()
    .map(|t| t.parse().unwrap())
    .collect()
}

fn json_text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        "[a-zé😀 ]{0,6}".prop_map(|s| serde_json::json!({ "name": s, "n": [1, 2] }).to_string()),
        Just("null".to_string()),
        Just("[]".to_string()),
    ]
}

/// Values for one Arrow field of a registry schema: built as a simple array, then
/// given the field's exact type (temporal types reinterpret their integers).
fn field_values(pg_type: &PgType, field: &Field, rows: usize) -> BoxedStrategy<ArrayRef> {
    let nullable = field.is_nullable();
    let target = field.data_type().clone();
    let typed = move |array: ArrayRef| arrow_cast::cast(&array, &target).unwrap();
    macro_rules! simple {
        ($values:expr, $array:ty) => {
            cells($values, nullable, rows)
                .prop_map(move |v| typed(Arc::new(<$array>::from(v))))
                .boxed()
        };
    }
    let is_lat = field.name().ends_with("_lat");
    match (pg_type, field.data_type()) {
        (PgType::Uuid, DataType::Utf8) => {
            simple!(
                any::<u128>().prop_map(|u| uuid::Uuid::from_u128(u).hyphenated().to_string()),
                StringArray
            )
        }
        (PgType::Uuid, _) => cells(any::<[u8; 16]>(), nullable, rows)
            .prop_map(|v| {
                Arc::new(
                    FixedSizeBinaryArray::try_from_sparse_iter_with_size(v.into_iter(), 16)
                        .unwrap(),
                ) as ArrayRef
            })
            .boxed(),
        (PgType::Json | PgType::Jsonb, _) => simple!(json_text(), StringArray),
        (PgType::Varchar(Some(n)) | PgType::Char(n), _) => {
            simple!(
                proptest::string::string_regex(&format!("[a-zß😀 '\"]{{0,{n}}}")).unwrap(),
                StringArray
            )
        }
        (PgType::Text | PgType::Varchar(None), _) => simple!(any::<String>(), StringArray),
        (PgType::SmallInt, _) => simple!(any::<i16>(), Int16Array),
        (PgType::Integer, _) => simple!(any::<i32>(), Int32Array),
        (PgType::BigInt, _) => simple!(any::<i64>(), Int64Array),
        (PgType::Real, _) => simple!(any::<f32>(), Float32Array),
        (PgType::Double, _) => simple!(any::<f64>(), Float64Array),
        (PgType::Numeric(_), DataType::Decimal128(p, s)) => {
            let (p, s) = (*p, *s);
            let max = 10i128.pow(u32::from(p)) - 1;
            cells(-max..=max, nullable, rows)
                .prop_map(move |v| {
                    Arc::new(
                        Decimal128Array::from(v)
                            .with_precision_and_scale(p, s)
                            .unwrap(),
                    ) as ArrayRef
                })
                .boxed()
        }
        (PgType::Boolean, _) => simple!(any::<bool>(), BooleanArray),
        (PgType::Date, _) => simple!(-100_000i32..100_000, Int32Array),
        (PgType::Time(_), DataType::Time32(_)) => simple!(0i32..86_400_000, Int32Array),
        (PgType::Time(_), _) => simple!(0i64..86_400_000_000, Int64Array),
        (PgType::Timestamp(_) | PgType::Timestamptz(_), _) => {
            simple!(-10_000_000_000_000i64..10_000_000_000_000, Int64Array)
        }
        (PgType::Interval, _) => cells((any::<i32>(), any::<i32>(), any::<i64>()), nullable, rows)
            .prop_map(|v| {
                // Built as Arrow intervals and coerced, as a caller would.
                let values = v.into_iter().map(|x| {
                    x.map(|(m, d, us)| {
                        IntervalMonthDayNano::new(m, d, us.saturating_mul(1000) / 1000 * 1000)
                    })
                });
                let intervals = Arc::new(IntervalMonthDayNanoArray::from_iter(values)) as ArrayRef;
                let batch = RecordBatch::try_from_iter([("i", intervals)]).unwrap();
                let schema = SchemaRegistry::default()
                    .register(
                        TableDef::new("i", 1).with_column(ColumnDef::new("i", "interval").unwrap()),
                    )
                    .unwrap();
                Arc::clone(schema.coerce(&batch).unwrap().column(0))
            })
            .boxed(),
        (PgType::Bytea, _) => cells(
            proptest::collection::vec(any::<u8>(), 0..12),
            nullable,
            rows,
        )
        .prop_map(|v| Arc::new(BinaryArray::from_iter(v.iter().map(|x| x.as_deref()))) as ArrayRef)
        .boxed(),
        (PgType::Array(element), _) if **element == PgType::Integer => cells(
            proptest::collection::vec(proptest::option::of(any::<i32>()), 0..4),
            nullable,
            rows,
        )
        .prop_map(|v| {
            Arc::new(ListArray::from_iter_primitive::<
                arrow_array::types::Int32Type,
                _,
                _,
            >(v)) as ArrayRef
        })
        .boxed(),
        (PgType::Array(_), _) => cells(
            proptest::collection::vec(proptest::option::of("[a-z😀]{0,5}"), 0..4),
            nullable,
            rows,
        )
        .prop_map(|v| {
            let mut builder = ListBuilder::new(StringBuilder::new());
            for row in v {
                match row {
                    Some(items) => {
                        items
                            .into_iter()
                            .for_each(|i| builder.values().append_option(i));
                        builder.append(true);
                    }
                    None => builder.append(false),
                }
            }
            Arc::new(builder.finish()) as ArrayRef
        })
        .boxed(),
        (PgType::GeographyPoint(_) | PgType::GeometryPoint(_), _) if is_lat => {
            simple!(-90.0f64..=90.0, Float64Array)
        }
        (PgType::GeographyPoint(_) | PgType::GeometryPoint(_), _) => {
            simple!(-180.0f64..=180.0, Float64Array)
        }
        (other, t) => panic!("no generator for {other} as {t}"),
    }
}

/// A conforming batch of `rows` rows for `schema`.
fn conforming_batch(schema: &TableSchema, rows: usize) -> BoxedStrategy<RecordBatch> {
    let arrow = schema.arrow_schema();
    let columns: Vec<BoxedStrategy<ArrayRef>> = arrow
        .fields()
        .iter()
        .map(|field| {
            let base = field
                .name()
                .trim_end_matches("_lat")
                .trim_end_matches("_lon");
            let column = schema
                .def()
                .column(field.name())
                .or_else(|| schema.def().column(base))
                .expect("every field comes from a column");
            field_values(&column.pg_type, field, rows)
        })
        .collect();
    columns
        .prop_map(move |columns| RecordBatch::try_new(Arc::clone(&arrow), columns).unwrap())
        .boxed()
}

/// A random table definition: 1–8 columns of random types and nullability.
fn table_defs() -> impl Strategy<Value = TableDef> {
    let column = (proptest::sample::select(pg_types()), any::<bool>());
    proptest::collection::vec(column, 1..=8).prop_map(|columns| {
        columns.into_iter().enumerate().fold(
            TableDef::new("random", 1),
            |def, (i, (t, nullable))| {
                let column = ColumnDef::of_type(format!("c{i}"), t);
                def.with_column(if nullable { column } else { column.not_null() })
            },
        )
    })
}

fn registry_options() -> impl Strategy<Value = RegistryOptions> {
    (any::<bool>(), any::<bool>()).prop_map(|(binary, millis)| {
        RegistryOptions::default()
            .with_uuid_as_binary(binary)
            .with_timestamps_in_millis(millis)
    })
}

/// A registered random schema and a conforming batch of 0–30 rows.
fn schema_and_batch() -> impl Strategy<Value = (Arc<TableSchema>, RecordBatch)> {
    (table_defs(), registry_options(), 0usize..30).prop_flat_map(|(def, options, rows)| {
        let schema = SchemaRegistry::new(options).register(def).unwrap();
        conforming_batch(&schema, rows).prop_map(move |batch| (Arc::clone(&schema), batch))
    })
}

fn runner(cases: u32) -> TestRunner {
    TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    })
}

#[test]
fn conforming_batches_validate_and_round_trip() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let engine = ObjectStoreEngine::memory();
    let counter = std::sync::atomic::AtomicUsize::new(0);
    runner(128)
        .run(&schema_and_batch(), |(schema, batch)| {
            let validated = schema
                .validate(&batch)
                .map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&validated, &batch);
            let n = counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let table = TablePath::new(&format!("random{n}")).unwrap();
            runtime.block_on(async {
                let options = WriteOptions::default().with_schema(Arc::clone(&schema));
                let receipt = engine
                    .write_batch(&table, batch.clone(), options)
                    .await
                    .unwrap();
                prop_assert_eq!(receipt.rows, batch.num_rows() as u64);
                if batch.num_rows() == 0 {
                    return Ok(());
                }
                let meta = engine.file_metadata(&receipt.files[0].path).await.unwrap();
                prop_assert_eq!(
                    meta.key_value
                        .get("parquet_storage.schema")
                        .map(String::as_str),
                    Some("random")
                );
                let read = engine
                    .read_all(
                        &table,
                        ScanOptions::default().with_schema(Arc::clone(&schema)),
                    )
                    .await
                    .unwrap();
                let read =
                    arrow_select::concat::concat_batches(&schema.arrow_schema(), &read).unwrap();
                for i in 0..batch.num_columns() {
                    prop_assert_eq!(
                        batch.column(i).as_ref(),
                        read.column(i).as_ref(),
                        "column {}",
                        i
                    );
                }
                Ok(())
            })
        })
        .unwrap();
}

#[derive(Debug, Clone, Copy)]
enum Mutation {
    DropColumn,
    ChangeType,
    InjectNull,
    CorruptUuid,
    CorruptJson,
}

/// Replaces row `row` of a string column with `value`.
fn replace_string(array: &ArrayRef, row: usize, value: &str) -> ArrayRef {
    let strings = array.as_any().downcast_ref::<StringArray>().unwrap();
    let replaced: StringArray = strings
        .iter()
        .enumerate()
        .map(|(i, v)| if i == row { Some(value) } else { v })
        .collect();
    Arc::new(replaced)
}

#[test]
fn single_mutations_are_reported_at_the_right_column_and_row() {
    let mutations = proptest::sample::select(vec![
        Mutation::DropColumn,
        Mutation::ChangeType,
        Mutation::InjectNull,
        Mutation::CorruptUuid,
        Mutation::CorruptJson,
    ]);
    let strategy = (
        schema_and_batch(),
        mutations,
        any::<prop::sample::Index>(),
        any::<prop::sample::Index>(),
    );
    runner(512)
        .run(
            &strategy,
            |((schema, batch), mutation, pick_column, pick_row)| {
                let fields = schema.arrow_schema().fields().clone();
                // The columns the mutation applies to.
                let candidates: Vec<usize> = (0..fields.len())
                    .filter(|&i| {
                        let f = &fields[i];
                        let base = f.name().trim_end_matches("_lat").trim_end_matches("_lon");
                        let pg = &schema
                            .def()
                            .column(f.name())
                            .or_else(|| schema.def().column(base))
                            .unwrap()
                            .pg_type;
                        match mutation {
                            Mutation::DropColumn | Mutation::ChangeType => true,
                            Mutation::InjectNull => !f.is_nullable() && batch.num_rows() > 0,
                            Mutation::CorruptUuid => {
                                *pg == PgType::Uuid
                                    && *f.data_type() == DataType::Utf8
                                    && batch.num_rows() > 0
                            }
                            Mutation::CorruptJson => {
                                matches!(pg, PgType::Json | PgType::Jsonb) && batch.num_rows() > 0
                            }
                        }
                    })
                    .collect();
                prop_assume!(!candidates.is_empty());
                let target = candidates[pick_column.index(candidates.len())];
                let name = fields[target].name().clone();
                let row = if batch.num_rows() > 0 {
                    pick_row.index(batch.num_rows())
                } else {
                    0
                };
                let mut columns: Vec<ArrayRef> = batch.columns().to_vec();
                let mut new_fields: Vec<Field> =
                    fields.iter().map(|f| f.as_ref().clone()).collect();
                let (expected_kind, expected_row) = match mutation {
                    Mutation::DropColumn => {
                        columns.remove(target);
                        new_fields.remove(target);
                        (ProblemKind::MissingColumn, None)
                    }
                    Mutation::ChangeType => {
                        let other: ArrayRef = if *fields[target].data_type() == DataType::Boolean {
                            Arc::new(Int32Array::from(vec![0; batch.num_rows()]))
                        } else {
                            Arc::new(BooleanArray::from(vec![false; batch.num_rows()]))
                        };
                        new_fields[target] = Field::new(&name, other.data_type().clone(), true);
                        columns[target] = other;
                        (ProblemKind::WrongType, None)
                    }
                    Mutation::InjectNull => {
                        let mask = BooleanArray::from(
                            (0..batch.num_rows()).map(|i| i == row).collect::<Vec<_>>(),
                        );
                        columns[target] =
                            arrow_select::nullif::nullif(&columns[target], &mask).unwrap();
                        new_fields[target] = new_fields[target].clone().with_nullable(true);
                        (ProblemKind::NullInNonNullable, Some(row as u64))
                    }
                    Mutation::CorruptUuid => {
                        columns[target] =
                            replace_string(&columns[target], row, "0190A5A0-not-a-uuid");
                        (ProblemKind::MalformedUuid, Some(row as u64))
                    }
                    Mutation::CorruptJson => {
                        columns[target] =
                            replace_string(&columns[target], row, "{\"unterminated\": ");
                        (ProblemKind::MalformedJson, Some(row as u64))
                    }
                };
                let rows =
                    arrow_array::RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
                let mutated = RecordBatch::try_new_with_options(
                    Arc::new(Schema::new(new_fields)),
                    columns,
                    &rows,
                )
                .unwrap();
                let report = schema.report(&mutated);
                prop_assert_eq!(report.problems.len(), 1, "{}", report);
                let problem = &report.problems[0];
                prop_assert_eq!(&problem.column, &name);
                prop_assert_eq!(problem.kind, expected_kind);
                prop_assert_eq!(problem.first_row, expected_row);
                let err = schema.validate(&mutated).unwrap_err();
                let text = err.to_string();
                prop_assert!(
                    text.contains("random") && text.contains(&format!("{name:?}")),
                    "{}",
                    text
                );
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn every_problem_is_reported_at_once() {
    let mut registry = SchemaRegistry::default();
    let schema = registry
        .register(
            TableDef::new("borehole", 3)
                .with_column(ColumnDef::new("id", "uuid").unwrap().not_null())
                .with_column(ColumnDef::new("code", "varchar(4)").unwrap())
                .with_column(ColumnDef::new("location", "geography(point,4326)").unwrap())
                .with_column(ColumnDef::new("depth", "numeric(6,2)").unwrap().not_null())
                .with_column(ColumnDef::new("notes", "jsonb").unwrap()),
        )
        .unwrap();
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(StringArray::from(vec![
                Some("0190a5a0-0000-7000-8000-00000000000f"),
                None,
                Some("nope"),
            ])) as ArrayRef,
        ),
        (
            "code",
            Arc::new(StringArray::from(vec!["BH01", "BH0002", "BH03x"])) as _,
        ),
        (
            "location_lat",
            Arc::new(Float64Array::from(vec![51.5, 91.0, -95.0])) as _,
        ),
        (
            "location_lon",
            Arc::new(Float64Array::from(vec![-0.1, 0.0, 181.0])) as _,
        ),
        (
            "notes",
            Arc::new(StringArray::from(vec!["{}", "{", "[1]"])) as _,
        ),
        ("extra", Arc::new(Int32Array::from(vec![1, 2, 3])) as _),
    ])
    .unwrap();
    let report = schema.report(&batch);
    let found: Vec<(&str, ProblemKind, Option<u64>, u64)> = report
        .problems
        .iter()
        .map(|p| (p.column.as_str(), p.kind, p.first_row, p.bad_rows))
        .collect();
    assert_eq!(
        found,
        vec![
            ("id", ProblemKind::NullInNonNullable, Some(1), 1),
            ("id", ProblemKind::MalformedUuid, Some(2), 1),
            ("code", ProblemKind::TooLong, Some(1), 2),
            ("location_lat", ProblemKind::LatitudeOutOfRange, Some(1), 2),
            ("location_lon", ProblemKind::LongitudeOutOfRange, Some(2), 1),
            ("depth", ProblemKind::MissingColumn, None, 0),
            ("notes", ProblemKind::MalformedJson, Some(1), 1),
            ("extra", ProblemKind::UnexpectedColumn, None, 0),
        ]
    );
    let text = Error::Validation {
        report: Box::new(report),
    }
    .to_string();
    assert!(
        text.contains("table borehole (schema version 3): 8 problems"),
        "{text}"
    );
    assert!(text.contains("column \"code\": text too long: expected at most 4 characters (varchar(4)), found 6 characters: \"BH0002\" (first at row 1, 2 bad rows)"), "{text}");
}

#[test]
fn unexpected_column_policies() {
    let def = TableDef::new("t", 1).with_column(ColumnDef::new("a", "integer").unwrap());
    let batch = RecordBatch::try_from_iter([
        ("extra", Arc::new(StringArray::from(vec!["x"])) as ArrayRef),
        ("a", Arc::new(Int32Array::from(vec![1])) as _),
    ])
    .unwrap();
    for (policy, expected) in [
        (parquet_storage::schema::UnexpectedColumns::Drop, vec!["a"]),
        (
            parquet_storage::schema::UnexpectedColumns::Keep,
            vec!["a", "extra"],
        ),
    ] {
        let mut registry =
            SchemaRegistry::new(RegistryOptions::default().with_unexpected_columns(policy));
        let schema = registry.register(def.clone()).unwrap();
        let valid = schema.validate(&batch).unwrap();
        let names: Vec<String> = valid
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(names, expected);
    }
    let schema = SchemaRegistry::default().register(def).unwrap();
    assert!(matches!(
        schema.validate(&batch),
        Err(Error::Validation { .. })
    ));
}

// ---------------------------------------------------------------------------------------
// coercion

fn registered(columns: &[(&str, &str)], options: RegistryOptions) -> Arc<TableSchema> {
    let def = columns
        .iter()
        .fold(TableDef::new("coerced", 1), |def, (name, ty)| {
            def.with_column(ColumnDef::new(*name, ty).unwrap())
        });
    SchemaRegistry::new(options).register(def).unwrap()
}

proptest! {
    #[test]
    fn integers_and_floats_widen_exactly(ints in proptest::collection::vec(proptest::option::of(any::<i32>()), 0..20),
                                         floats in proptest::collection::vec(proptest::option::of(any::<f32>()), 0..20)) {
        let schema = registered(&[("i", "bigint"), ("f", "double precision")], RegistryOptions::default());
        let n = ints.len().min(floats.len());
        let batch = RecordBatch::try_from_iter([
            ("i", Arc::new(Int32Array::from(ints[..n].to_vec())) as ArrayRef),
            ("f", Arc::new(Float32Array::from(floats[..n].to_vec())) as _),
        ]).unwrap();
        let coerced = schema.validate(&schema.coerce(&batch).unwrap()).unwrap();
        let i = coerced.column(0).as_any().downcast_ref::<Int64Array>().unwrap();
        let f = coerced.column(1).as_any().downcast_ref::<Float64Array>().unwrap();
        for row in 0..n {
            prop_assert_eq!(i.is_valid(row).then(|| i.value(row)), ints[row].map(i64::from));
            prop_assert_eq!(f.is_valid(row).then(|| f.value(row).to_bits()), floats[row].map(|x| f64::from(x).to_bits()));
        }
    }

    #[test]
    fn narrowing_integers_fails_at_the_first_value_that_does_not_fit(values in proptest::collection::vec(any::<i64>(), 1..30)) {
        let schema = registered(&[("n", "smallint")], RegistryOptions::default());
        let batch = RecordBatch::try_from_iter([("n", Arc::new(Int64Array::from(values.clone())) as ArrayRef)]).unwrap();
        let first_bad = values.iter().position(|v| i16::try_from(*v).is_err());
        match (schema.coerce(&batch), first_bad) {
            (Ok(coerced), None) => {
                let n = coerced.column(0).as_any().downcast_ref::<Int16Array>().unwrap();
                prop_assert_eq!(n.values().iter().map(|v| i64::from(*v)).collect::<Vec<_>>(), values);
            }
            (Err(Error::Coercion(failure)), Some(row)) => {
                prop_assert_eq!(&failure.column, "n");
                prop_assert_eq!(failure.first_row, row as u64);
            }
            (other, expected) => prop_assert!(false, "{:?} for first bad row {:?}", other.map(drop), expected),
        }
    }

    #[test]
    fn timestamps_become_milliseconds_only_when_nothing_is_lost(micros in proptest::collection::vec(-1_000_000_000_000_000i64..1_000_000_000_000_000, 1..20),
                                                                truncate in any::<bool>()) {
        let schema = registered(&[("t", "timestamptz")], RegistryOptions::default().with_timestamps_in_millis(true));
        let values: Vec<i64> = if truncate { micros.iter().map(|v| v - v.rem_euclid(1000)).collect() } else { micros.clone() };
        let input = arrow_array::TimestampMicrosecondArray::from(values.clone());
        let batch = RecordBatch::try_from_iter([("t", Arc::new(input) as ArrayRef)]).unwrap();
        let first_bad = values.iter().position(|v| v % 1000 != 0);
        match (schema.coerce(&batch), first_bad) {
            (Ok(coerced), None) => {
                let coerced = schema.validate(&coerced).unwrap();
                let t = coerced.column(0).as_any().downcast_ref::<arrow_array::TimestampMillisecondArray>().unwrap();
                prop_assert_eq!(t.values().iter().map(|v| v * 1000).collect::<Vec<_>>(), values);
            }
            (Err(Error::Coercion(failure)), Some(row)) => prop_assert_eq!(failure.first_row, row as u64),
            (other, expected) => prop_assert!(false, "{:?} for first bad row {:?}", other.map(drop), expected),
        }
    }

    #[test]
    fn iso_text_round_trips_to_timestamps(micros in proptest::collection::vec(-5_000_000_000_000_000i64..5_000_000_000_000_000, 1..20),
                                          offset_minutes in -720i32..=720) {
        let schema = registered(&[("t", "timestamptz")], RegistryOptions::default());
        let offset = chrono::FixedOffset::east_opt(offset_minutes * 60).unwrap();
        let text: Vec<String> = micros
            .iter()
            .map(|us| chrono::DateTime::from_timestamp_micros(*us).unwrap().with_timezone(&offset).to_rfc3339())
            .collect();
        let batch = RecordBatch::try_from_iter([("t", Arc::new(StringArray::from(text)) as ArrayRef)]).unwrap();
        let coerced = schema.validate(&schema.coerce(&batch).unwrap()).unwrap();
        let t = coerced.column(0).as_any().downcast_ref::<arrow_array::TimestampMicrosecondArray>().unwrap();
        prop_assert_eq!(t.values().to_vec(), micros);
    }

    #[test]
    fn uuid_text_in_any_form_becomes_canonical(ids in proptest::collection::vec(any::<u128>(), 1..10), form in 0u8..4, binary in any::<bool>()) {
        let schema = registered(&[("id", "uuid")], RegistryOptions::default().with_uuid_as_binary(binary));
        let text: Vec<String> = ids.iter().map(|u| {
            let u = uuid::Uuid::from_u128(*u);
            match form {
                0 => u.hyphenated().to_string().to_uppercase(),
                1 => u.simple().to_string(),
                2 => u.braced().to_string(),
                _ => u.urn().to_string(),
            }
        }).collect();
        let batch = RecordBatch::try_from_iter([("id", Arc::new(StringArray::from(text)) as ArrayRef)]).unwrap();
        let coerced = schema.validate(&schema.coerce(&batch).unwrap()).unwrap();
        for (row, id) in ids.iter().enumerate() {
            let u = uuid::Uuid::from_u128(*id);
            if binary {
                let b = coerced.column(0).as_any().downcast_ref::<FixedSizeBinaryArray>().unwrap();
                prop_assert_eq!(b.value(row), u.as_bytes());
            } else {
                let s = coerced.column(0).as_any().downcast_ref::<StringArray>().unwrap();
                prop_assert_eq!(s.value(row), u.hyphenated().to_string());
            }
        }
    }
}

#[test]
fn malformed_text_is_refused_with_its_row() {
    let schema = registered(
        &[("id", "uuid"), ("t", "timestamp")],
        RegistryOptions::default(),
    );
    let batch = RecordBatch::try_from_iter([
        (
            "id",
            Arc::new(StringArray::from(vec![
                Some("0190a5a0-0000-7000-8000-00000000000f"),
                None,
                Some("x-y"),
            ])) as ArrayRef,
        ),
        (
            "t",
            Arc::new(StringArray::from(vec![
                "2024-01-01T00:00:00",
                "2024-01-01",
                "2024-01-01T00:00:00",
            ])) as _,
        ),
    ])
    .unwrap();
    match schema.coerce(&batch).unwrap_err() {
        Error::Coercion(f) => {
            assert_eq!(
                (f.column.as_str(), f.first_row, f.value.as_str()),
                ("id", 2, "x-y")
            );
        }
        other => panic!("{other:?}"),
    }
    let batch = RecordBatch::try_from_iter([(
        "t",
        Arc::new(StringArray::from(vec!["2024-01-01T00:00:00", "yesterday"])) as ArrayRef,
    )])
    .unwrap();
    let err = schema.coerce(&batch).unwrap_err();
    assert!(
        matches!(&err, Error::Coercion(f) if f.first_row == 1 && f.value == "yesterday"),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------------------
// evolution

#[test]
fn changes_are_classified() {
    let v1 = TableDef::new("t", 1)
        .with_column(ColumnDef::new("id", "uuid").unwrap().not_null())
        .with_column(ColumnDef::new("n", "integer").unwrap())
        .with_column(ColumnDef::new("code", "varchar(10)").unwrap())
        .with_column(ColumnDef::new("old_name", "text").unwrap())
        .with_column(ColumnDef::new("gone", "date").unwrap())
        .with_column(ColumnDef::new("strict", "text").unwrap());
    let v2 = TableDef::new("t", 2)
        .with_column(ColumnDef::new("id", "uuid").unwrap())
        .with_column(ColumnDef::new("n", "bigint").unwrap())
        .with_column(ColumnDef::new("code", "varchar(5)").unwrap())
        .with_column(ColumnDef::new("new_name", "text").unwrap())
        .with_column(ColumnDef::new("added", "jsonb").unwrap())
        .with_column(ColumnDef::new("strict", "text").unwrap().not_null())
        .with_column(ColumnDef::new("required", "integer").unwrap().not_null());
    let evolution = compare(&v1, &v2);
    let s = |x: &str| x.to_string();
    assert_eq!(
        evolution.changes,
        vec![
            Change::NullabilityRelaxed { column: s("id") },
            Change::Widened {
                column: s("n"),
                from: PgType::Integer,
                to: PgType::BigInt
            },
            Change::Narrowed {
                column: s("code"),
                from: PgType::Varchar(Some(10)),
                to: PgType::Varchar(Some(5))
            },
            Change::NullabilityTightened {
                column: s("strict")
            },
            Change::Renamed {
                from: s("old_name"),
                to: s("new_name")
            },
            Change::AddedNullable { column: s("added") },
            Change::AddedRequired {
                column: s("required")
            },
            Change::Removed { column: s("gone") },
        ]
    );
    assert!(!evolution.is_compatible());
    assert_eq!(evolution.incompatible().count(), 5);
    assert!(compare(&v1, &v1).changes.is_empty());
}

#[test]
fn uuid_and_json_columns_carry_parquet_logical_types() {
    use parquet::basic::LogicalType;
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let engine = ObjectStoreEngine::memory();
    for binary in [false, true] {
        let schema = registered(
            &[("id", "uuid"), ("doc", "jsonb")],
            RegistryOptions::default().with_uuid_as_binary(binary),
        );
        let batch = RecordBatch::try_from_iter([
            (
                "id",
                Arc::new(StringArray::from(vec![
                    "0190a5a0-0000-7000-8000-00000000000f",
                ])) as ArrayRef,
            ),
            (
                "doc",
                Arc::new(StringArray::from(vec![r#"{"depth": 12.5}"#])) as _,
            ),
        ])
        .unwrap();
        let batch = schema.coerce(&batch).unwrap();
        let table = TablePath::new(&format!("logical{binary}")).unwrap();
        let options = WriteOptions::default().with_schema(Arc::clone(&schema));
        let receipt = runtime
            .block_on(engine.write_batch(&table, batch, options))
            .unwrap();
        let path = object_store::path::Path::from(receipt.files[0].path.as_str());
        let bytes = runtime
            .block_on(async {
                use object_store::ObjectStoreExt;
                engine
                    .object_store()
                    .get(&path)
                    .await
                    .unwrap()
                    .bytes()
                    .await
            })
            .unwrap();
        let meta = parquet::file::metadata::ParquetMetaDataReader::new()
            .parse_and_finish(&bytes)
            .unwrap();
        let columns = meta.file_metadata().schema_descr();
        let expected_id = if binary {
            Some(LogicalType::Uuid)
        } else {
            Some(LogicalType::String)
        };
        assert_eq!(columns.column(0).logical_type_ref().cloned(), expected_id);
        assert_eq!(
            columns.column(1).logical_type_ref().cloned(),
            Some(LogicalType::Json)
        );
    }
}

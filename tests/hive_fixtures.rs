//! Hive datasets written by pyarrow, DuckDB and polars (tests/fixtures/hive, made by
//! its generate.py) read back exactly as each tool reads them: nulls, empty strings and
//! percent-encoded partition values included.

use std::sync::Arc;

use arrow_array::{Array, ArrayRef, RecordBatch};
use arrow_schema::DataType;
use parquet_storage::filter::col;
use parquet_storage::{ObjectStoreEngine, ScanOptions, StorageEngineExt, TablePath};
use serde_json::Value;

/// Column `name` of `batch` as JSON values (dates as ISO text).
fn json_column(batch: &RecordBatch, name: &str) -> Vec<Value> {
    let array = batch.column_by_name(name).unwrap();
    let text: ArrayRef = match array.data_type() {
        DataType::Int64 | DataType::Float64 => Arc::clone(array),
        _ => arrow_cast::cast(array, &DataType::Utf8).unwrap(),
    };
    (0..batch.num_rows())
        .map(|row| {
            if text.is_null(row) {
                return Value::Null;
            }
            match text.data_type() {
                DataType::Int64 => {
                    let a = text
                        .as_any()
                        .downcast_ref::<arrow_array::Int64Array>()
                        .unwrap();
                    Value::from(a.value(row))
                }
                DataType::Float64 => {
                    let a = text
                        .as_any()
                        .downcast_ref::<arrow_array::Float64Array>()
                        .unwrap();
                    Value::from(a.value(row))
                }
                _ => {
                    let a = text
                        .as_any()
                        .downcast_ref::<arrow_array::StringArray>()
                        .unwrap();
                    Value::from(a.value(row))
                }
            }
        })
        .collect()
}

async fn read(tool: &str, options: ScanOptions) -> RecordBatch {
    let engine = ObjectStoreEngine::local("tests/fixtures/hive").unwrap();
    let table = TablePath::new(tool).unwrap();
    let options = options.with_projection(["id", "value", "name", "day", "site"]);
    let batches = engine.read_all(&table, options).await.unwrap();
    let batch = arrow_select::concat::concat_batches(&batches[0].schema(), &batches).unwrap();
    let order = arrow_ord::sort::sort_to_indices(batch.column(0), None, None).unwrap();
    arrow_select::take::take_record_batch(&batch, &order).unwrap()
}

fn expected(tool: &str) -> Vec<serde_json::Map<String, Value>> {
    let text =
        std::fs::read_to_string(format!("tests/fixtures/hive/{tool}.expected.json")).unwrap();
    serde_json::from_str(&text).unwrap()
}

#[tokio::test]
async fn datasets_of_other_tools_read_exactly() {
    for tool in ["pyarrow", "duckdb", "polars"] {
        let batch = read(tool, ScanOptions::default()).await;
        let rows = expected(tool);
        assert_eq!(batch.num_rows(), rows.len(), "{tool}");
        assert_eq!(
            batch.schema().field_with_name("day").unwrap().data_type(),
            &DataType::Date32,
            "{tool}"
        );
        for name in ["id", "value", "name", "day", "site"] {
            let found = json_column(&batch, name);
            let wanted: Vec<Value> = rows
                .iter()
                .map(|r| r.get(name).cloned().unwrap_or(Value::Null))
                .collect();
            assert_eq!(found, wanted, "{tool}: column {name}");
        }
    }
}

#[tokio::test]
async fn filters_on_their_partition_values() {
    for tool in ["pyarrow", "duckdb", "polars"] {
        let rows = expected(tool);
        for (filter, keep) in [
            (
                col("site").eq("a/b"),
                Box::new(|r: &serde_json::Map<String, Value>| r["site"] == "a/b")
                    as Box<dyn Fn(&_) -> bool>,
            ),
            (
                col("site").eq(""),
                Box::new(|r: &serde_json::Map<String, Value>| r["site"] == ""),
            ),
            (
                col("site").is_null(),
                Box::new(|r: &serde_json::Map<String, Value>| r["site"].is_null()),
            ),
            (
                col("day").is_null(),
                Box::new(|r: &serde_json::Map<String, Value>| r["day"].is_null()),
            ),
            (
                col("day").eq(chrono::NaiveDate::from_ymd_opt(2024, 11, 4).unwrap()),
                Box::new(|r: &serde_json::Map<String, Value>| r["day"] == "2024-11-04"),
            ),
        ] {
            let batch = read(tool, ScanOptions::default().with_filter(filter.clone())).await;
            let wanted: Vec<Value> = rows
                .iter()
                .filter(|r| keep(r))
                .map(|r| r["id"].clone())
                .collect();
            assert_eq!(json_column(&batch, "id"), wanted, "{tool}: {filter}");
        }
    }
}

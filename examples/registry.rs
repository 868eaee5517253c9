//! Validating and writing a frame with a registry schema: the `borehole` table of the
//! geotechnical schema files in `schemas/geotech/`, loaded as a service loads its own.
//!
//! ```sh
//! cargo run --example registry            # writes to ./data; or pass a URL
//! ```
//!
//! The frame arrives the way exports usually do: UUIDs in upper case, depths as floats
//! in text, timestamps as ISO-8601 text. `coerce` turns it into the schema's types where
//! nothing is lost; the write validates it and refuses a bad frame without writing.

use std::sync::Arc;

use arrow_array::{ArrayRef, Decimal128Array, Float64Array, RecordBatch, StringArray};
use parquet_storage::schema::{RegistryOptions, SchemaRegistry};
use parquet_storage::{
    Error, ObjectStoreEngine, ScanOptions, StorageEngine, StorageEngineExt, TablePath, WriteOptions,
};

fn frame(first_status: &str) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let text = |v: Vec<&str>| Arc::new(StringArray::from(v)) as ArrayRef;
    RecordBatch::try_from_iter([
        (
            "id",
            text(vec![
                "0190A5A0-0000-7000-8000-000000000001",
                "0190a5a0-0000-7000-8000-000000000002",
            ]),
        ),
        (
            "project_id",
            text(vec!["{0190a5a0-0000-7000-8000-0000000000aa}"; 2]),
        ),
        ("borehole_number", text(vec!["BH01", "BH02"])),
        (
            "location_lat",
            Arc::new(Float64Array::from(vec![51.5072, 51.5080])) as _,
        ),
        (
            "location_lon",
            Arc::new(Float64Array::from(vec![-0.1276, -0.1290])) as _,
        ),
        (
            "final_depth_m",
            Arc::new(Decimal128Array::from(vec![15_250, 20_000]).with_precision_and_scale(8, 3)?)
                as _,
        ),
        ("status", text(vec![first_status, "logged"])),
        (
            "created_at",
            text(vec!["2024-11-03T09:15:00Z", "2024-11-03T10:40:00+01:00"]),
        ),
    ])
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let url = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "./data".to_string());
    let engine: Arc<dyn StorageEngine> = Arc::new(ObjectStoreEngine::from_url(&url)?);
    // Columns a frame leaves out are written as nulls where the schema allows it.
    let options = RegistryOptions::default().with_fill_missing_nullable(true);
    // A service loads its schema files; these are the geotechnical set of this repository.
    let mut registry = SchemaRegistry::new(options);
    registry.load_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/schemas/geotech"))?;
    let borehole = registry.get("borehole")?;
    println!(
        "schema {} v{}: {} columns -> {} Arrow fields",
        borehole.name(),
        borehole.version(),
        borehole.def().columns.len(),
        borehole.arrow_schema().fields().len()
    );

    let table = TablePath::new("registry_example/borehole")?;
    let options = WriteOptions::default().with_schema(Arc::clone(&borehole));

    // Coerce (explicit, lossless), then write: the write validates every batch.
    let batch = borehole.coerce(&frame("drilling")?)?;
    let receipt = engine.write_batch(&table, batch, options.clone()).await?;
    println!("wrote {} rows to {}", receipt.rows, receipt.files[0].path);

    // A bad frame: every problem is reported at once, and nothing is written.
    let bad = borehole.coerce(&frame("a status far longer than twenty characters")?)?;
    let bad = bad.project(&[0, 2, 3, 4, 6, 7])?; // project_id (NOT NULL) left out
    match engine.write_batch(&table, bad, options).await {
        Err(Error::Validation { report }) => println!("refused:\n{report}"),
        other => println!("unexpected: {other:?}"),
    }

    let read = engine
        .read_all(&table, ScanOptions::default().with_schema(borehole))
        .await?;
    let rows: usize = read.iter().map(RecordBatch::num_rows).sum();
    println!("table {table} holds {rows} rows");
    Ok(())
}

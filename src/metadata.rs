//! The key-value metadata this crate writes into the footer of every Parquet file, and
//! reads back. Pure: the write path sets these entries, the read path and the registry
//! read them, and neither needs the other for it.

use arrow_schema::DataType;

/// Key of the entry that names the writing crate.
pub const METADATA_WRITER_KEY: &str = "parquet_storage.writer";
/// Key of the entry that holds the writing crate's version.
pub const METADATA_VERSION_KEY: &str = "parquet_storage.version";
/// Key of the entry that records the partition columns and their types, as JSON:
/// `[{"name": "day", "type": "Date32"}, …]`.
pub const METADATA_PARTITIONING_KEY: &str = "parquet_storage.partitioning";
/// Key of the entry that names the registry schema of a file.
pub const METADATA_SCHEMA_KEY: &str = "parquet_storage.schema";
/// Key of the entry that holds the registry schema's version.
pub const METADATA_SCHEMA_VERSION_KEY: &str = "parquet_storage.schema_version";

/// The partition column types a writer records, and so a reader trusts.
const RECORDABLE_TYPES: [DataType; 11] = [
    DataType::Date32,
    DataType::Boolean,
    DataType::Utf8,
    DataType::Int8,
    DataType::Int16,
    DataType::Int32,
    DataType::Int64,
    DataType::UInt8,
    DataType::UInt16,
    DataType::UInt32,
    DataType::UInt64,
];

/// The value of [`METADATA_PARTITIONING_KEY`] for these partition columns.
pub(crate) fn encode_partitioning<'a>(
    columns: impl IntoIterator<Item = (&'a str, DataType)>,
) -> String {
    let columns: Vec<serde_json::Value> = columns
        .into_iter()
        .map(|(name, ty)| serde_json::json!({ "name": name, "type": ty.to_string() }))
        .collect();
    serde_json::Value::Array(columns).to_string()
}

/// The partition columns recorded in a [`METADATA_PARTITIONING_KEY`] value, with the
/// types this crate records. The entry is a hint for typing partition values, so an
/// entry another tool wrote differently, or a type outside [`RECORDABLE_TYPES`], is
/// left out (the values are then typed by inference) rather than trusted.
pub(crate) fn decode_partitioning(text: &str) -> Vec<(String, DataType)> {
    let Ok(entries) = serde_json::from_str::<Vec<serde_json::Value>>(text) else {
        return Vec::new();
    };
    entries
        .iter()
        .filter_map(|entry| {
            let name = entry.get("name")?.as_str()?;
            let ty = entry.get("type")?.as_str()?;
            let ty = RECORDABLE_TYPES.iter().find(|t| t.to_string() == ty)?;
            Some((name.to_string(), ty.clone()))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitioning_round_trips_and_ignores_what_it_does_not_know() {
        let text = encode_partitioning([("day", DataType::Date32), ("site", DataType::Utf8)]);
        assert_eq!(
            decode_partitioning(&text),
            vec![
                ("day".to_string(), DataType::Date32),
                ("site".to_string(), DataType::Utf8)
            ]
        );
        assert!(decode_partitioning("not json").is_empty());
        assert_eq!(
            decode_partitioning(r#"[{"name":"x","type":"Float64"},{"name":"y","type":"Int32"}]"#),
            vec![("y".to_string(), DataType::Int32)]
        );
    }
}

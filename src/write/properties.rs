//! [`WriteOptions`] as Parquet writer properties, and the key-value metadata every file
//! carries ([`crate::metadata`]).

use arrow_schema::{DataType, Schema};
use parquet::basic::{GzipLevel, ZstdLevel};
use parquet::errors::ParquetError;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use crate::engine::{Compression, StatisticsLevel, WriteOptions};
use crate::error::{Error, Result};
use crate::metadata::{
    METADATA_PARTITIONING_KEY, METADATA_SCHEMA_KEY, METADATA_SCHEMA_VERSION_KEY,
    METADATA_VERSION_KEY, METADATA_WRITER_KEY, encode_partitioning,
};
use crate::partition::{PartitionField, PartitionSource, TimePart};

/// Parquet writer properties for a write with `options` of data with `schema`.
pub(super) fn writer_properties(
    options: &WriteOptions,
    schema: &Schema,
) -> Result<WriterProperties> {
    let statistics = match options.statistics {
        StatisticsLevel::None => EnabledStatistics::None,
        StatisticsLevel::Chunk => EnabledStatistics::Chunk,
        StatisticsLevel::Page => EnabledStatistics::Page,
    };
    let builder = WriterProperties::builder()
        .set_compression(parquet_compression(options.compression)?)
        .set_max_row_group_row_count(Some(options.max_row_group_rows))
        .set_max_row_group_bytes(Some(options.max_row_group_bytes))
        .set_data_page_size_limit(options.data_page_size)
        .set_dictionary_enabled(options.dictionary)
        .set_statistics_enabled(statistics)
        .set_key_value_metadata(Some(key_value_metadata(options, schema)));
    let mut builder = builder;
    if let Some(rows) = options.data_page_rows {
        // The page limit is checked once per write batch: make batches no larger.
        builder = builder
            .set_data_page_row_count_limit(rows)
            .set_write_batch_size(rows.min(1024));
    }
    for column in &options.bloom_filters {
        builder = builder.set_column_bloom_filter_enabled(ColumnPath::from(column.as_str()), true);
    }
    for (column, enabled) in &options.column_dictionary {
        builder =
            builder.set_column_dictionary_enabled(ColumnPath::from(column.as_str()), *enabled);
    }
    Ok(builder.build())
}

/// The crate's name and version, the registry schema's name and version, and the
/// partition columns with their types.
fn key_value_metadata(options: &WriteOptions, schema: &Schema) -> Vec<KeyValue> {
    let mut entries = vec![
        KeyValue::new(
            METADATA_WRITER_KEY.into(),
            env!("CARGO_PKG_NAME").to_string(),
        ),
        KeyValue::new(
            METADATA_VERSION_KEY.into(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
    ];
    if let Some(registered) = &options.schema {
        entries.push(KeyValue::new(
            METADATA_SCHEMA_KEY.into(),
            registered.name().to_string(),
        ));
        entries.push(KeyValue::new(
            METADATA_SCHEMA_VERSION_KEY.into(),
            registered.version().to_string(),
        ));
    }
    if !options.partition_by.is_empty() {
        let columns = (options.partition_by.iter())
            .map(|field| (field.name(), partition_type(field, schema)));
        entries.push(KeyValue::new(
            METADATA_PARTITIONING_KEY.into(),
            encode_partitioning(columns),
        ));
    }
    entries
}

/// The Parquet codec of `compression`; a level out of range is a configuration error.
fn parquet_compression(compression: Compression) -> Result<parquet::basic::Compression> {
    use parquet::basic::Compression as P;
    let bad_level = |source: ParquetError| Error::Config {
        message: format!("compression {compression:?}: level out of range"),
        source: Some(Box::new(source)),
    };
    Ok(match compression {
        Compression::Zstd(level) => P::ZSTD(ZstdLevel::try_new(level).map_err(bad_level)?),
        Compression::Snappy => P::SNAPPY,
        Compression::Gzip(level) => P::GZIP(GzipLevel::try_new(level).map_err(bad_level)?),
        Compression::Lz4 => P::LZ4_RAW,
        Compression::None => P::UNCOMPRESSED,
    })
}

/// The type a partition column reads back as: the column's own (strings, integers of
/// booleans, dates), a date for days, an integer for years, text for months and hours.
fn partition_type(field: &PartitionField, schema: &Schema) -> DataType {
    match field.source() {
        PartitionSource::Column => {
            match schema.field_with_name(field.name()).map(|f| f.data_type()) {
                Ok(DataType::Date32 | DataType::Date64) => DataType::Date32,
                Ok(DataType::Boolean) => DataType::Boolean,
                Ok(t) if t.is_integer() => t.clone(),
                _ => DataType::Utf8,
            }
        }
        PartitionSource::Time {
            part: TimePart::Day,
            ..
        } => DataType::Date32,
        PartitionSource::Time {
            part: TimePart::Year,
            ..
        } => DataType::Int64,
        PartitionSource::Time { .. } => DataType::Utf8,
    }
}
